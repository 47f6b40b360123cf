package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// Go native fuzzing of each source's page-folding path: a body, served by the fake Graph as
// every page of the source's queries, goes through the real client (HTTPS, the SDK, List's
// checks) into the source's fold. Whatever the body, the refresh must not panic; it either
// fails as malformed, or yields a snapshot that renders cleanly, and then the body was a page.
// The seed corpus runs with every `go test`; .ci/run fuzzes each target for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzUsersPages$' -fuzztime 30s ./collector/
//
// A crash the fuzzer finds is written to testdata/fuzz/<target>/ and from then on runs as a
// regular test case.

// fuzzNow is the sources' clock while fuzzing, so that the seeds' sign-ins are in the window.
var fuzzNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// notPages are what broke the first release: they panicked in the SDK or were read as an
// empty tenant.
var notPages = []string{`null`, `{"value":[null]}`, `[]`, `{"value":null}`, `{}`, `"value"`, `{"value":[1]}`,
	`{"value":{}}`, `{"value":[{}],"@odata.nextLink":5}`, `{"value":[],"@odata.nextLink":"https://example.invalid/v1.0/x"}`}

func FuzzUsersPages(f *testing.F) {
	fuzzSource(f, "users", []string{reportPath}, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails","value":[`+
		`{"id":"0cb1f119-6302-418a-bde7-fcaf8b118581","userType":"member","isAdmin":true,"isMfaRegistered":true,"isMfaCapable":true,"isPasswordlessCapable":false,"isSsprRegistered":true,"methodsRegistered":["microsoftAuthenticatorPush","fido2"],"userPreferredMethodForSecondaryAuthentication":"push"},`+
		`{"id":"1e9ae001-abc1-412d-984b-9730cc06bf4a","userType":"guest","isAdmin":false,"isMfaRegistered":false,"isMfaCapable":null,"methodsRegistered":[],"userPreferredMethodForSecondaryAuthentication":""}]}`,
		`{"value":[{"id":"x","userType":"futureType","isAdmin":false,"isMfaRegistered":true,"methodsRegistered":["newMethod",null,"newMethod"],"userPreferredMethodForSecondaryAuthentication":"somethingNew"}]}`,
		`{"value":[{"id":"x","isAdmin":"yes","isMfaRegistered":true}]}`)
}

func FuzzCredentialsPages(f *testing.F) {
	fuzzSource(f, "credentials", []string{"/v1.0/servicePrincipals", "/v1.0/applications"}, `{"value":[`+
		`{"id":"fac2e69a-c97b-450e-8aec-de44370a411d","appId":"42c65e43-80a4-46a9-8403-4a4b1c9b98c6","displayName":"Partner app","servicePrincipalType":"Application","appOwnerOrganizationId":"f8cdef31-a31e-4b4a-93e4-5f571e91255a",`+
		`"passwordCredentials":[{"customKeyIdentifier":null,"displayName":"secret","endDateTime":"2026-06-15T00:00:00Z","keyId":"166cb9ab-689b-480a-a639-17edbfbd9f9a"}],`+
		`"keyCredentials":[{"customKeyIdentifier":"NDkwNTBiZmNlOTU5NGExMjkzZGY=","displayName":"CN=app","endDateTime":"2299-12-31T00:00:00Z","keyId":"49050bfc-e959-4a12-93df-4c2ec2368026","type":"AsymmetricX509Cert","usage":"Verify"}],`+
		`"federatedIdentityCredentials":[{"id":"fic","name":"fic-0","issuer":"https://token.actions.githubusercontent.com","subject":"repo:contoso/app:environment:prod","audiences":["api://AzureADTokenExchange"]}]},`+
		`{"id":"3e964828-4093-401b-9e94-4554dcacdba2","appId":"910f104d-793b-41f5-a47d-2b07106d2adb","displayName":"Identity","servicePrincipalType":"ManagedIdentity","passwordCredentials":[],"keyCredentials":[]}]}`,
		`{"value":[{"id":"a","appId":"b","displayName":null,"servicePrincipalType":"SocialIdp","passwordCredentials":[{"keyId":null,"endDateTime":null}],"keyCredentials":[{"keyId":"k","type":"Symmetric","usage":"Sign","endDateTime":"2026-05-01T00:00:00Z"}]}]}`)
}

func FuzzSignInsPages(f *testing.F) {
	fuzzSource(f, "signins", []string{"/beta/auditLogs/signIns"}, `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`+
		`{"id":"089017ca-fc8a-4949-9bea-c4ab8376fb9a","createdDateTime":"2026-06-01T11:59:00Z","userType":"member","appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","signInEventTypes":["interactiveUser"],"authenticationRequirement":"multiFactorAuthentication","status":{"errorCode":0,"failureReason":null}},`+
		`{"id":"f36bc991-803b-4577-9698-562376943516","createdDateTime":"2026-06-01T11:00:00Z","userType":"guest","appId":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","signInEventTypes":["interactiveUser","nonInteractiveUser"],"authenticationRequirement":"singleFactorAuthentication","status":{"errorCode":50126}}]}`,
		`{"value":[{"id":"s","createdDateTime":"2026-06-01T11:00:00Z","userType":"newType","appId":"x","signInEventTypes":["interactiveUser","nonInteractiveUser"],"authenticationRequirement":"somethingNew","status":{"errorCode":null}}]}`)
}

// The policies source reads two objects and one collection; the Conditional Access policies are
// its page-folding path, and the fake serves the two objects as documented.
func FuzzPoliciesPages(f *testing.F) {
	fuzzSource(f, "policies", []string{"/v1.0/identity/conditionalAccess/policies"}, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies","value":[`+
		`{"id":"1a6b3c8d-4e2f-4b7a-9c51-2d8e6f0a4b71","displayName":"Require multifactor authentication for admins","state":"enabled",`+
		`"conditions":{"clientAppTypes":["all"],"applications":{"includeApplications":["All"],"excludeApplications":[]},`+
		`"users":{"includeUsers":[],"excludeUsers":["0b1c6f4e-2a7d-4e59-9c38-5d1e7a2b9f01"],"includeGroups":[],"excludeGroups":[],"includeRoles":["62e90394-69f5-4237-9190-012177145e10"],"excludeRoles":[]}},`+
		`"grantControls":{"operator":"OR","builtInControls":["mfa"],"customAuthenticationFactors":[],"termsOfUse":[],"authenticationStrength":null}},`+
		`{"id":"2b7c4d9e-5f3a-4c8b-8d62-3e9f7a1b5c82","displayName":"Azure management","state":"enabledForReportingButNotEnforced",`+
		`"conditions":{"clientAppTypes":["all"],"applications":{"includeApplications":["797f4846-ba00-4fd7-ba43-dac1f8f63013"],"excludeApplications":[]},`+
		`"users":{"includeUsers":["All"],"excludeUsers":[],"includeGroups":[],"excludeGroups":["g1"],"includeRoles":[],"excludeRoles":[]}},`+
		`"grantControls":{"operator":"AND","builtInControls":["somethingNew"],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004","allowedCombinations":["fido2"]}}}]}`)
}

// fuzzSource fuzzes the named source with bodies served, once each, for every path it reads
// (both sign-in queries read the same body: a record valid for both is an interactive one).
func fuzzSource(f *testing.F, name string, paths []string, seeds ...string) {
	for _, s := range append(notPages, seeds...) {
		f.Add([]byte(s))
	}
	// Parsing no arguments gives every flag its default, as the binary starts: the sources read
	// their settings from the flags.
	if _, err := kingpin.CommandLine.Parse(nil); err != nil {
		f.Fatalf("parsing the default flags: %v", err)
	}
	fake := fakegraph.Start(&fakegraph.Tenant{ID: "11111111-2222-4333-8444-555555555555", Seed: 5, Users: 3, Domain: "contoso.test", Policies: fakegraph.DemoPolicies()})
	f.Cleanup(fake.Close)
	fake.KeepRequests(false)
	client, err := graph.New(graph.Options{BaseURL: fake.URL, Scope: "https://graph.microsoft.com/.default",
		Credential: fake.Credential(), Transport: fake.Transport(), MaxRetries: 1})
	if err != nil {
		f.Fatal(err)
	}
	cfg := sourceConfig{graph: client, tenantID: fake.Tenant.ID, logger: slog.New(slog.DiscardHandler), now: func() time.Time { return fuzzNow },
		skipped: prometheus.NewCounterVec(recordsSkippedOpts, []string{"source", "reason"})}

	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) == 0 {
			t.Skip("the fake serves its own page for an empty fault body")
		}
		fake.ClearFaults()
		for _, p := range paths {
			fake.Inject(fakegraph.Fault{Path: p, Times: 1, Body: string(body)})
		}
		src, err := sourceSpecs[name].new(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		snap, err := src.Refresh(ctx)
		if err != nil {
			if reason := graph.Classify(err).Reason; reason != graph.ReasonMalformed {
				t.Fatalf("a 200 answer failed the refresh as %s, not malformed: %v", reason, err)
			}
			return
		}
		if !isPage(body) {
			t.Fatalf("a body that is not a page gave a snapshot: %q", body)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(snapshotCollector{snap})
		if _, err := reg.Gather(); err != nil {
			t.Fatalf("the snapshot does not render: %v", err)
		}
	})
}

// isPage says, independently of the exporter's checkPage, whether body is a JSON object whose
// value is an array of objects.
func isPage(body []byte) bool {
	var page map[string]json.RawMessage
	if json.Unmarshal(body, &page) != nil || page == nil {
		return false
	}
	var items []json.RawMessage
	if json.Unmarshal(page["value"], &items) != nil || items == nil {
		return false
	}
	for _, item := range items {
		if !bytes.HasPrefix(bytes.TrimSpace(item), []byte("{")) {
			return false
		}
	}
	return true
}
