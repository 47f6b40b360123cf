package collector

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// jsonOrNull is s as a JSON string, or null when empty.
func jsonOrNull(s string) string {
	if s == "" {
		return "null"
	}
	return fmt.Sprintf("%q", s)
}

// keyCredential is a keyCredential as GD api-reference/v1.0/resources/keycredential.md shows it.
func keyCredential(keyID, thumbprint, keyType, usage string, end time.Time) string {
	return fmt.Sprintf(`{"customKeyIdentifier":%s,"displayName":"CN=contoso","endDateTime":%q,"key":null,"keyId":%s,"startDateTime":"2026-01-01T00:00:00Z","type":%q,"usage":%q}`,
		jsonOrNull(thumbprint), end.Format(time.RFC3339), jsonOrNull(keyID), keyType, usage)
}

// passwordCredential is a passwordCredential as GD api-reference/v1.0/resources/passwordcredential.md shows it.
func passwordCredential(keyID, thumbprint string, end time.Time) string {
	return fmt.Sprintf(`{"customKeyIdentifier":%s,"displayName":"secret","endDateTime":%q,"hint":"Abc","keyId":%s,"secretText":null,"startDateTime":"2026-01-01T00:00:00Z"}`,
		jsonOrNull(thumbprint), end.Format(time.RFC3339), jsonOrNull(keyID))
}

// credentialsPage is a page of one servicePrincipal or application with these credentials.
func credentialsPage(object, spType string, keys, passwords []string) string {
	typ := ""
	if object == "servicePrincipals" {
		typ = fmt.Sprintf(`"servicePrincipalType":%q,"appOwnerOrganizationId":null,`, spType)
	}
	return fmt.Sprintf(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#%s","value":[{"id":"0f0e0d0c-0000-4000-8000-000000000001","appId":"0f0e0d0c-0000-4000-8000-0000000000aa","displayName":"contoso-saml",%s"keyCredentials":[%s],"passwordCredentials":[%s]}]}`,
		object, typ, strings.Join(keys, ","), strings.Join(passwords, ","))
}

// credentialShape is a service principal or application with these credentials, and what the
// exporter must count of it.
type credentialShape struct {
	name            string
	object, spType  string
	keys, passwords []string
	certificates    int
	secrets         int
	unknown         int // credentials of an undocumented key type
	credential      string
	keyIDs          []string // of the expiry series, sorted: a credential's is its least keyId
	spTypeLabel     string
	skipped         int
}

// credentialShapes are the documented SAML shape and its kin, each expiring at end.
func credentialShapes(end time.Time) []credentialShape {
	const (
		// From GD api-reference/v1.0/api/serviceprincipal-addtokensigningcertificate.md's example:
		// the Verify key's keyId and the shared customKeyIdentifier.
		verifyKey = "93bc223f-7235-4b9c-beea-d66847531c49"
		thumb     = "2iD8ppbE+D6Kmu1ZvjM2jtQh88E="
		signKey   = "f1b0c2d3-0000-4000-8000-000000000001" // shared by the Sign key and the PFX password
		verify2   = "f1b0c2d3-0000-4000-8000-000000000002"
		sign2     = "a1b0c2d3-0000-4000-8000-000000000003"
		thumb2    = "4bQ0zYQ1c8rK1tLr2n3pQ9w7ZxA="
		secret    = "c0ffee00-0000-4000-8000-000000000004"
	)
	samlTrio := func(sign, verify, thumbprint string) ([]string, []string) {
		return []string{keyCredential(sign, thumbprint, "X509CertAndPassword", "Sign", end), keyCredential(verify, thumbprint, "AsymmetricX509Cert", "Verify", end)},
			[]string{passwordCredential(sign, thumbprint, end)}
	}
	trioKeys, trioPasswords := samlTrio(signKey, verifyKey, thumb)
	rolledKeys, rolledPasswords := samlTrio(sign2, verify2, thumb2)
	return []credentialShape{
		{name: "the documented SAML trio is one certificate", object: "servicePrincipals", spType: "Application",
			keys: trioKeys, passwords: trioPasswords, certificates: 1, credential: "certificate", keyIDs: []string{verifyKey}},
		{name: "a rolled-over pair is two certificates", object: "servicePrincipals", spType: "Application",
			keys: append(slices.Clone(trioKeys), rolledKeys...), passwords: append(slices.Clone(trioPasswords), rolledPasswords...),
			certificates: 2, credential: "certificate", keyIDs: []string{verifyKey, sign2}},
		{name: "the trio and a client secret", object: "servicePrincipals", spType: "Application",
			keys: trioKeys, passwords: append(slices.Clone(trioPasswords), passwordCredential(secret, "", end)),
			certificates: 1, secrets: 1, credential: "both", keyIDs: []string{verifyKey, secret}},
		{name: "a certificate uploaded twice with one thumbprint is one", object: "applications",
			keys:         []string{keyCredential(verifyKey, thumb, "AsymmetricX509Cert", "Verify", end), keyCredential(verify2, thumb, "AsymmetricX509Cert", "Verify", end)},
			certificates: 1, credential: "certificate", keyIDs: []string{verifyKey}},
		{name: "a Symmetric key is a secret", object: "servicePrincipals", spType: "Legacy",
			keys: []string{keyCredential(secret, "", "Symmetric", "Verify", end)}, secrets: 1, credential: "secret", keyIDs: []string{secret}, spTypeLabel: "legacy"},
		{name: "a PFX password without keyId joins its certificate by customKeyIdentifier", object: "servicePrincipals", spType: "Application",
			keys: trioKeys, passwords: []string{passwordCredential("", thumb, end)}, certificates: 1, credential: "certificate", keyIDs: []string{verifyKey}},
		{name: "a key without keyId is its customKeyIdentifier", object: "applications",
			keys:         []string{keyCredential("", thumb, "AsymmetricX509Cert", "Verify", end)},
			certificates: 1, credential: "certificate", keyIDs: []string{"DA20FCA696C4F83E8A9AED59BE33368ED421F3C1"}},
		{name: "an entry with neither keyId nor customKeyIdentifier is left out", object: "applications",
			keys: []string{keyCredential("", "", "AsymmetricX509Cert", "Verify", end)}, passwords: []string{passwordCredential(secret, "", end)},
			secrets: 1, credential: "secret", keyIDs: []string{secret}, skipped: 1},
		{name: "an undocumented key type is kind unknown", object: "applications",
			keys: []string{keyCredential(verifyKey, thumb, "FutureKeyType", "Verify", end)}, unknown: 1, credential: "unknown", keyIDs: []string{verifyKey}},
		{name: "an undocumented servicePrincipalType is sp_type unknown", object: "servicePrincipals", spType: "AgentIdentity",
			keys: trioKeys, passwords: trioPasswords, certificates: 1, credential: "certificate", keyIDs: []string{verifyKey}, spTypeLabel: "unknown"},
	}
}

// The documented SAML shape and its kin, each alone on a page: how many certificates and
// secrets each is, and which key_id its expiry series carries. The first two and the Symmetric
// key fail on the old code, which merged entries by keyId and took every key for a certificate.
func TestCredentialShapes(t *testing.T) {
	for _, tc := range credentialShapes(credentialsClock.Add(10 * 24 * time.Hour)) { // expiring: each has an expiry series
		t.Run(tc.name, func(t *testing.T) {
			fake := testsupport.StartFake(t, credentialsTenant(0, 0))
			fake.Inject(fakegraph.Fault{Path: "/" + tc.object, Times: 1, Body: credentialsPage(tc.object, tc.spType, tc.keys, tc.passwords)})
			e := credentialsExporter(t, fake, nil, defaultCredentialsOptions, nil)
			refresh(e)
			checkCredentialShape(t, e, tc)
		})
	}
}

func checkCredentialShape(t *testing.T, e *Exporter, tc credentialShape) {
	t.Helper()
	if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"source": "credentials"}); up != 1 {
		t.Fatal("the refresh failed")
	}
	object := map[string]string{"servicePrincipals": "service_principal", "applications": "application"}[tc.object]
	for kind, want := range map[string]int{"certificate": tc.certificates, "secret": tc.secrets, "unknown": tc.unknown} {
		got, _ := sample(t, e, "entra_app_credentials", map[string]string{"object": object, "kind": kind, "status": "expiring"})
		if got != float64(want) {
			t.Errorf("entra_app_credentials{object=%q,kind=%q,status=\"expiring\"} = %v, want %d", object, kind, got, want)
		}
	}
	family, labels := "entra_applications", map[string]string{"credential": tc.credential}
	if tc.object == "servicePrincipals" {
		family, labels["sp_type"], labels["owner"] = "entra_service_principals", cmp.Or(tc.spTypeLabel, "application"), "tenant"
	}
	if got, _ := sample(t, e, family, labels); got != 1 {
		t.Errorf("%s%v = %v, want 1", family, labels, got)
	}
	var keyIDs []string
	for _, mf := range gather(t, e) {
		if mf.GetName() == "entra_app_credential_expiry_timestamp_seconds" {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "key_id" {
						keyIDs = append(keyIDs, l.GetValue())
					}
				}
			}
		}
	}
	slices.Sort(keyIDs)
	if !slices.Equal(keyIDs, tc.keyIDs) {
		t.Errorf("expiry series key_ids %v, want %v", keyIDs, tc.keyIDs)
	}
	if got, _ := sample(t, e, "mfa_exporter_records_skipped_total", map[string]string{"source": "credentials", "reason": skipNoKeyID}); got != float64(tc.skipped) {
		t.Errorf(`mfa_exporter_records_skipped_total{reason="no_key_id"} = %v, want %d`, got, tc.skipped)
	}
}
