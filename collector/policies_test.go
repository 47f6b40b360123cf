package collector

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

var policyFamilies = []string{"entra_security_defaults_enabled", "entra_conditional_access_available",
	"entra_conditional_access_policies", "entra_mfa_enforced", "entra_mfa_enforcement_exclusions",
	"entra_phishing_resistant_enforced", "entra_auth_method_enabled", "entra_auth_methods_policy_migration_state"}

// policiesOnly returns the settings that run the policies source alone.
func policiesOnly() map[string]sourceSettings {
	return map[string]sourceSettings{"policies": {interval: time.Hour, timeout: time.Minute, new: sourceSpecs["policies"].new}}
}

func policyTenant(ps *fakegraph.PolicySet) *fakegraph.Tenant {
	tenant := testTenant(0)
	tenant.Policies = ps
	return tenant
}

// policyTruthText renders the fake tenant's own ground truth in the exposition format.
func policyTruthText(tenant *fakegraph.Tenant) string {
	truth := tenant.PolicyTruth()
	families := map[string][]string{}
	add := func(family string, v float64, labels ...string) {
		pairs := []string{fmt.Sprintf("tenant_id=%q", tenant.ID)}
		for i := 0; i < len(labels); i += 2 {
			pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
		sort.Strings(pairs)
		families[family] = append(families[family], fmt.Sprintf("%s{%s} %v", family, strings.Join(pairs, ","), v))
	}
	add("entra_security_defaults_enabled", boolValue(truth.SecurityDefaults))
	add("entra_conditional_access_available", boolValue(truth.ConditionalAccessAvailable))
	if truth.ConditionalAccessAvailable {
		for _, state := range []string{"enabled", "report_only", "disabled"} {
			for _, grant := range []string{"block", "authentication_strength", "mfa", "other"} {
				add("entra_conditional_access_policies", float64(truth.Policies[fakegraph.StateGrant{State: state, Grant: grant}]), "grant", grant, "state", state)
			}
		}
	}
	for k, n := range truth.Enforced {
		add("entra_mfa_enforced", float64(n), "apps", k.Apps, "state", k.State, "users", k.Users)
	}
	for k, n := range truth.Exclusions {
		add("entra_mfa_enforcement_exclusions", float64(n), "apps", k.Apps, "kind", k.Kind, "users", k.Users)
	}
	for k, n := range truth.PhishingResistant {
		add("entra_phishing_resistant_enforced", float64(n), "apps", k.Apps, "users", k.Users)
	}
	for method, on := range truth.MethodsEnabled {
		add("entra_auth_method_enabled", boolValue(on), "method", method)
	}
	for _, state := range []string{"pre_migration", "migration_in_progress", "migration_complete", "unknown"} {
		add("entra_auth_methods_policy_migration_state", boolValue(state == truth.MigrationState), "state", state)
	}
	var b strings.Builder
	for _, family := range policyFamilies {
		if lines := families[family]; len(lines) > 0 {
			fmt.Fprintf(&b, "# TYPE %s gauge\n%s\n", family, strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

func withPolicies(ps *fakegraph.PolicySet, change func(*fakegraph.PolicySet)) *fakegraph.PolicySet {
	change(ps)
	return ps
}

// Every family of the policies source against the fake's ground truth, on tenants that between
// them hold every case of the rules.
func TestPoliciesMatchGroundTruth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policies *fakegraph.PolicySet
		requests int // Graph requests a refresh makes
	}{
		{"variety of policies", fakegraph.VarietyPolicies(), 3},
		{"variety over pages of 4", withPolicies(fakegraph.VarietyPolicies(), func(ps *fakegraph.PolicySet) { ps.PageSize = 4 }), 2 + 7},
		{"demo tenant", fakegraph.DemoPolicies(), 3},
		{"no P1", withPolicies(fakegraph.VarietyPolicies(), func(ps *fakegraph.PolicySet) { ps.NoP1 = true }), 3},
		{"security defaults on", &fakegraph.PolicySet{SecurityDefaults: true, Methods: fakegraph.DemoPolicies().Methods}, 3},
		{"nothing configured", nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := policyTenant(tc.policies)
			fake := testsupport.StartFake(t, tenant)
			e := newTestExporter(t, testConfig(fake, nil, policiesOnly()))
			refresh(e)
			if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"source": "policies"}); up != 1 {
				t.Fatalf("the policies source failed its refresh")
			}
			compareSamples(t, e, policyTruthText(tenant), policyFamilies...)
			if got := len(fake.Requests()); got != tc.requests {
				t.Errorf("a refresh made %d Graph requests, want %d", got, tc.requests)
			}
			for _, r := range fake.Requests() {
				if r.Header.Get("Prefer") != "" {
					t.Errorf("%s was sent with Prefer: %s; include-unknown-enum-members would make Graph send enum members the SDK does not know", r.Path, r.Header.Get("Prefer"))
				}
			}
		})
	}
}

// Each rule on a tenant with one policy: the exporter agrees with the fake's ground truth, and
// the ground truth says what issue 10's rules (as the docs force them) say.
func TestPolicyRules(t *testing.T) {
	type want struct {
		users, apps, state string
		n                  float64
	}
	for _, tc := range []struct {
		policy string // a VarietyPolicies display name
		want   []want
	}{
		{"Require multifactor authentication for admins", []want{{"admins", "all", "enabled", 1}, {"all", "all", "enabled", 0}}},
		{"Require multifactor authentication for Azure management", []want{{"all", "azure_management", "report_only", 1}, {"all", "azure_management", "enabled", 0}}},
		{"MFA outside trusted locations", []want{{"all", "all", "conditional", 1}, {"all", "all", "enabled", 0}}},
		{"Admin portals: MFA and a compliant device", []want{{"all", "admin_portals", "enabled", 1}, {"all", "azure_management", "enabled", 0}}},
		{"Azure management: MFA or a compliant device", []want{{"all", "azure_management", "enabled", 0}}},
		{"Phishing-resistant MFA for admins", []want{{"admins", "all", "enabled", 1}}},
		{"Guests: MFA everywhere", []want{{"guests", "all", "enabled", 1}, {"all", "all", "enabled", 0}}},
		{"Partner guests: MFA", []want{{"guests", "all", "enabled", 0}}},
		{"Members: MFA on everything but Office 365", []want{{"admins", "azure_management", "enabled", 1}, {"all", "azure_management", "enabled", 0}, {"admins", "all", "enabled", 0}}},
		{"Everyone: MFA on all apps but Azure management", []want{{"all", "admin_portals", "report_only", 1}, {"all", "azure_management", "report_only", 0}}},
		{"Admin portals: passwordless for everyone", []want{{"admins", "admin_portals", "enabled", 1}, {"guests", "admin_portals", "enabled", 0}}},
		{"Guests: federated sign-in", []want{{"guests", "all", "enabled", 0}}},
		{"High user risk: remediate", []want{{"all", "all", "conditional", 1}}},
		{"Block device code flow", []want{{"all", "all", "conditional", 1}}},
		{"Browser sessions: MFA", []want{{"all", "all", "conditional", 1}}},
		{"Tagged apps excluded: MFA", []want{{"all", "all", "conditional", 1}}},
		{"Insider risk: block", []want{{"all", "all", "conditional", 1}}},
		{"Admins: MFA and terms of use, either", []want{{"admins", "all", "enabled", 0}}},
		{"Sign-in frequency for all apps", []want{{"all", "all", "enabled", 0}}},
		{"Admins: MFA everywhere (old)", []want{{"admins", "all", "enabled", 0}}},
		{"Contractors group: MFA", []want{{"all", "all", "enabled", 0}}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			variety := fakegraph.VarietyPolicies()
			i := slices.IndexFunc(variety.ConditionalAccess, func(p fakegraph.CAPolicy) bool { return p.DisplayName == tc.policy })
			if i < 0 {
				t.Fatalf("no policy %q in VarietyPolicies", tc.policy)
			}
			tenant := policyTenant(&fakegraph.PolicySet{ConditionalAccess: variety.ConditionalAccess[i : i+1]})
			fake := testsupport.StartFake(t, tenant)
			e := newTestExporter(t, testConfig(fake, nil, policiesOnly()))
			refresh(e)
			compareSamples(t, e, policyTruthText(tenant), policyFamilies...)
			truth := tenant.PolicyTruth()
			for _, w := range tc.want {
				if got := truth.Enforced[fakegraph.EnforcedKey{Users: w.users, Apps: w.apps, State: w.state}]; float64(got) != w.n {
					t.Errorf("the fake's ground truth has %d for users=%s apps=%s state=%s, the rule says %v", got, w.users, w.apps, w.state, w.n)
				}
				got, _ := sample(t, e, "entra_mfa_enforced", map[string]string{"users": w.users, "apps": w.apps, "state": w.state})
				if got != w.n {
					t.Errorf("entra_mfa_enforced{users=%q,apps=%q,state=%q} = %v, want %v", w.users, w.apps, w.state, got, w.n)
				}
			}
		})
	}
}

// unknownControlPolicy is a policy for everyone on every app whose only grant control is a
// member Graph does not document (yet): what Microsoft adds later arrives like this.
const unknownControlPolicy = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies","value":[
 {"id":"d1e2f3a4-0000-4000-8000-000000000001","templateId":null,"displayName":"Future control","createdDateTime":null,"modifiedDateTime":null,
  "state":"enabled","sessionControls":null,
  "conditions":{"userRiskLevels":[],"signInRiskLevels":[],"clientAppTypes":["all"],"servicePrincipalRiskLevels":[],"insiderRiskLevels":null,
   "platforms":null,"locations":null,"devices":null,"clientApplications":null,"authenticationFlows":null,
   "applications":{"includeApplications":["All"],"excludeApplications":[],"includeUserActions":[],"includeAuthenticationContextClassReferences":[],"applicationFilter":null},
   "users":{"includeUsers":["All"],"excludeUsers":[],"includeGroups":[],"excludeGroups":[],"includeRoles":[],"excludeRoles":[],
    "includeGuestsOrExternalUsers":null,"excludeGuestsOrExternalUsers":null}},
  "grantControls":{"operator":"OR","builtInControls":["someFutureControl"],"customAuthenticationFactors":[],"termsOfUse":[],"authenticationStrength":null}}]}`

// The SDK decodes an unknown grant control as "block" (GRAPH-FACTS section 0); the exporter reads
// the JSON, so the policy enforces nothing, its grant is other, and the value is logged once.
func TestUnknownGrantControlIsNotEnforcement(t *testing.T) {
	node, err := jsonserialization.NewJsonParseNode([]byte(unknownControlPolicy))
	if err != nil {
		t.Fatal(err)
	}
	page, err := node.GetObjectValue(models.CreateConditionalAccessPolicyCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	sdk := page.(models.ConditionalAccessPolicyCollectionResponseable).GetValue()[0].GetGrantControls().GetBuiltInControls()
	if len(sdk) != 1 || sdk[0] != models.BLOCK_CONDITIONALACCESSGRANTCONTROL {
		t.Logf("the SDK now decodes the unknown control as %v, not block: the pitfall this test guards against is gone", sdk)
	}

	tenant := policyTenant(nil)
	fake := testsupport.StartFake(t, tenant)
	fake.Inject(fakegraph.Fault{Path: "/conditionalAccess/policies", Body: unknownControlPolicy})
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, policiesOnly()))
	refresh(e)
	refresh(e)
	for _, users := range userScopeLabels {
		for _, apps := range appScopeLabels {
			if got, ok := sample(t, e, "entra_mfa_enforced", map[string]string{"users": users, "apps": apps, "state": "enabled"}); !ok || got != 0 {
				t.Errorf("entra_mfa_enforced{users=%q,apps=%q,state=\"enabled\"} = %v (served %t), want 0: an unknown control is no enforcement", users, apps, got, ok)
			}
		}
	}
	if got, _ := sample(t, e, "entra_conditional_access_policies", map[string]string{"state": "enabled", "grant": "other"}); got != 1 {
		t.Errorf("the policy counts under grant=%q %v times, want once", "other", got)
	}
	if n := strings.Count(logs.String(), `example="\"someFutureControl\""`); n != 2 {
		t.Errorf("the unknown control is logged %d times over two refreshes, want once each:\n%s", n, logs)
	}
}

// A tenant without P1: security defaults and the methods policy are served, CA is unavailable
// (a metric and one log line, however many refreshes), not "0 policies".
func TestNoP1SaysConditionalAccessIsUnavailable(t *testing.T) {
	tenant := policyTenant(withPolicies(fakegraph.DemoPolicies(), func(ps *fakegraph.PolicySet) { ps.NoP1 = true }))
	fake := testsupport.StartFake(t, tenant)
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, policiesOnly()))
	for range 3 {
		refresh(e)
	}
	if got, _ := sample(t, e, "entra_conditional_access_available", nil); got != 0 {
		t.Errorf("entra_conditional_access_available = %v, want 0", got)
	}
	if text := scrape(t, e, "entra_conditional_access_policies"); text != "" {
		t.Errorf("entra_conditional_access_policies is served for a tenant whose policies Graph refused:\n%s", text)
	}
	if n := strings.Count(logs.String(), "Conditional Access is unavailable"); n != 1 {
		t.Errorf("%d log lines say CA is unavailable over 3 refreshes, want 1:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "refresh failed") {
		t.Errorf("a tenant without P1 fails the refresh:\n%s", logs)
	}
	if got, _ := sample(t, e, "entra_auth_method_enabled", map[string]string{"method": "sms"}); got != 1 {
		t.Errorf("entra_auth_method_enabled{method=\"sms\"} = %v, want 1: the methods policy is read without P1", got)
	}
}

// A response Graph should not send fails the refresh as malformed and names what was wrong.
func TestPoliciesRefuseMalformedResponses(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"policy without conditions", "/conditionalAccess/policies", `{"value":[{"id":"p-1","state":"enabled","conditions":null,"grantControls":null}]}`, `policy \"p-1\" has no conditions`},
		{"includeUsers not a list", "/conditionalAccess/policies", `{"value":[{"id":"p-2","state":"enabled","conditions":{"users":{"includeUsers":"All"}}}]}`, `item 0 (id \"p-2\") does not have the documented shape`},
		{"security defaults without isEnabled", "/identitySecurityDefaultsEnforcementPolicy", `{"id":"00000000-0000-0000-0000-000000000005"}`, "no isEnabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := testsupport.StartFake(t, policyTenant(fakegraph.DemoPolicies()))
			fake.Inject(fakegraph.Fault{Path: tc.path, Body: tc.body})
			logs := &testsupport.LogBuffer{}
			e := newTestExporter(t, testConfig(fake, logs, policiesOnly()))
			refresh(e)
			if got, _ := sample(t, e, "mfa_exporter_source_errors_total", map[string]string{"source": "policies", "reason": "malformed"}); got != 1 {
				t.Errorf("malformed failures = %v, want 1; logs:\n%s", got, logs)
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("the log does not say %q:\n%s", tc.want, logs)
			}
			if text := scrape(t, e, policyFamilies...); text != "" {
				t.Errorf("a failed first refresh serves policy metrics:\n%s", text)
			}
		})
	}
}
