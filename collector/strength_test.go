package collector

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// strengthTruthText renders users by strongest method from the fake's own classification.
func strengthTruthText(tenantID string, truth map[fakegraph.UserGroup]map[string]int) string {
	var b strings.Builder
	b.WriteString("# TYPE entra_mfa_strongest_method_users gauge\n")
	for _, userType := range []string{"member", "guest"} {
		for _, admin := range []string{"false", "true"} {
			for _, strength := range fakegraph.Strengths {
				fmt.Fprintf(&b, "entra_mfa_strongest_method_users{admin=%q,strength=%q,tenant_id=%q,user_type=%q} %d\n",
					admin, strength, tenantID, userType, truth[fakegraph.UserGroup{UserType: userType, Admin: admin}][strength])
			}
		}
	}
	return b.String()
}

func TestStrongestMethodMatchesGroundTruth(t *testing.T) {
	tenant := testTenant(2500)
	fake := testsupport.StartFake(t, tenant)
	e := newTestExporter(t, testConfig(fake, nil, usersOnly(time.Minute)))
	refresh(e)
	compareSamples(t, e, strengthTruthText(tenant.ID, tenant.StrengthTruth()), "entra_mfa_strongest_method_users")
}

// Values beyond the generated mix, including one no table knows: each user counts by the fake's
// classification, and the unknown value is logged once a refresh however often it comes.
func TestStrongestMethodOfEveryDocumentedValue(t *testing.T) {
	records := [][]string{
		{"passKeyDeviceBound"}, {"passKeySynced", "mobilePhone"}, {"macOsSecureEnclaveKey"}, {"fido2SecurityKey"},
		{"hardwareOneTimePasscode", "alternateMobilePhone"}, {"officePhone"}, {"temporaryAccessPass"},
		{"securityQuestion", "email", "password"}, {"qrCode"}, {"qrCode", "officePhone"}, {},
		{"microsoftAuthenticatorPasswordless", "passKeyDeviceBoundAuthenticator"}, {"passKeyDeviceBoundWindowsHello"},
	}
	truth := map[fakegraph.UserGroup]map[string]int{}
	var values []string
	for i, methods := range records {
		g := fakegraph.UserGroup{UserType: []string{"member", "guest"}[i%2], Admin: fmt.Sprint(i%3 == 0)}
		if truth[g] == nil {
			truth[g] = map[string]int{}
		}
		truth[g][fakegraph.StrongestMethod(methods)]++
		m, err := json.Marshal(methods)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, fmt.Sprintf(`{"id":"u%d","userType":%q,"isAdmin":%s,"isMfaRegistered":true,"methodsRegistered":%s}`, i, g.UserType, g.Admin, m))
	}
	tenant := testTenant(0)
	fake := testsupport.StartFake(t, tenant)
	fake.Inject(fakegraph.Fault{Path: "/userRegistrationDetails", Body: `{"value":[` + strings.Join(values, ",") + `]}`})
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, usersOnly(time.Minute)))
	refresh(e)
	refresh(e)
	compareSamples(t, e, strengthTruthText(tenant.ID, truth), "entra_mfa_strongest_method_users")
	if n := strings.Count(logs.String(), `example="\"qrCode\""`); n != 2 {
		t.Errorf("the unknown method qrCode is logged %d times in two refreshes, want once each:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "temporaryAccessPass") {
		t.Errorf("temporaryAccessPass is a known value, logged as unknown:\n%s", logs)
	}
}
