package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// The credentials source reads its records with encoding/json rather than the SDK's models, and
// keeps the models' rules: what the SDK's parse nodes refuse (a keyId or appOwnerOrganizationId
// that is not a GUID, a customKeyIdentifier that is not base64, an endDateTime that is not RFC
// 3339) makes the refresh fail as malformed, naming the record; a GUID in capitals is the same
// GUID, labelled in lower case.
func TestCredentialRecordsKeepTheModelsRules(t *testing.T) {
	end := credentialsNow().Add(10 * 24 * time.Hour)
	for _, tc := range []struct {
		name, page string
		malformed  bool
	}{
		{"keyId not a GUID", credentialsPage("applications", "", []string{keyCredential("not-a-guid", "", "AsymmetricX509Cert", "Verify", end)}, nil), true},
		{"customKeyIdentifier not base64", credentialsPage("applications", "", []string{keyCredential("", "%%%", "AsymmetricX509Cert", "Verify", end)}, nil), true},
		{"endDateTime not RFC 3339", strings.Replace(credentialsPage("applications", "", nil, []string{passwordCredential("5e5e5e5e-0000-4000-8000-000000000001", "", end)}),
			end.Format(time.RFC3339), "next tuesday", 1), true},
		{"appOwnerOrganizationId not a GUID", strings.Replace(credentialsPage("servicePrincipals", "Application", nil, nil),
			`"appOwnerOrganizationId":null`, `"appOwnerOrganizationId":"microsoft"`, 1), true},
		{"keyId in capitals", credentialsPage("applications", "", nil, []string{passwordCredential("5E5E5E5E-0000-4000-8000-00000000ABCD", "", end)}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := credentialsTenant(0, 0)
			fake := testsupport.StartFake(t, tenant)
			object := "/applications"
			if strings.Contains(tc.page, "$metadata#servicePrincipals") {
				object = "/servicePrincipals"
			}
			fake.Inject(fakegraph.Fault{Path: object, Times: 1, Body: tc.page})
			logs := &testsupport.LogBuffer{}
			e := credentialsExporter(t, fake, logs, defaultCredentialsOptions, nil)
			refresh(e)
			malformed, _ := sample(t, e, "mfa_exporter_source_errors_total", map[string]string{"source": "credentials", "reason": graph.ReasonMalformed})
			switch {
			case tc.malformed && (malformed != 1 || !strings.Contains(logs.String(), "0f0e0d0c-0000-4000-8000-000000000001")):
				t.Errorf("malformed failures %v, want 1 and a log naming the record:\n%s", malformed, logs)
			case !tc.malformed && malformed != 0:
				t.Errorf("the refresh failed:\n%s", logs)
			case !tc.malformed && !strings.Contains(scrape(t, e, "entra_app_credential_expiry_timestamp_seconds"), `key_id="5e5e5e5e-0000-4000-8000-00000000abcd"`):
				t.Errorf("the key id is not labelled in lower case:\n%s", scrape(t, e, "entra_app_credential_expiry_timestamp_seconds"))
			}
		})
	}
}
