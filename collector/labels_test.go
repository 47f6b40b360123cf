package collector

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// Graph serving thousands of distinct values where a documented set is expected, and names of
// megabytes: the series stay within the documented sets (each value outside is other or
// unknown), names are cut to 128 characters, the expiry series to their limit, the scrape stays
// small, and each odd field is logged once, not once per record. The old code made a series per
// value: 20,000 methodsRegistered values were 20,000 series, and a 5 MB name a 5 MB label.
func TestLabelValuesFromGraphAreBounded(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{})
	tenant.Users = 0
	fake := testsupport.StartFake(t, tenant)
	serveUnboundedValues(fake, clock.Now())
	logs := &testsupport.LogBuffer{}
	sources := map[string]sourceSettings{"users": usersOnly(time.Minute)["users"],
		"credentials": {interval: time.Hour, timeout: time.Minute, new: func(c sourceConfig) (source, error) {
			return newCredentialsSource(c, defaultCredentialsOptions)
		}},
		"signins": {interval: time.Hour, timeout: time.Minute, new: func(c sourceConfig) (source, error) {
			return newSignInsSource(c, defaultSignInsOptions)
		}}}
	opts := testConfig(fake, logs, sources)
	opts.now = clock.Now
	e := newTestExporter(t, opts)
	refresh(e)

	series := map[string]int{}
	longest := 0
	for _, mf := range gather(t, e) {
		series[mf.GetName()] += len(mf.GetMetric())
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				longest = max(longest, utf8.RuneCountInString(l.GetValue()))
			}
		}
		if strings.HasPrefix(mf.GetName(), "mfa_exporter_source_up") {
			for _, m := range mf.GetMetric() {
				if m.GetGauge().GetValue() != 1 {
					t.Errorf("a source failed: %v\n%s", m.GetLabel(), logs.String())
				}
			}
		}
	}
	userTypes, methods, seconds := 3, len(registeredMethods)+1, len(secondFactorMethods)+1 // and unknown or other
	for family, most := range map[string]int{
		"entra_auth_method_registered_users":            userTypes * methods,
		"entra_default_mfa_method_users":                userTypes * seconds,
		"entra_mfa_registered_users":                    userTypes * 3,
		"entra_service_principals":                      (len(servicePrincipalTypes) + 1) * 5 * 2,
		"entra_app_credentials":                         2 * 3 * 3,
		"entra_app_credential_expiry_timestamp_seconds": defaultCredentialsOptions.SeriesLimit,
		"entra_signins":                                 (len(builtinManagementApps) + 1) * 2 * userTypes * 3 * 2 * 3,
		"entra_signins_without_mfa":                     (len(builtinManagementApps) + 1) * 2 * userTypes * 2,
	} {
		if series[family] == 0 || series[family] > most {
			t.Errorf("%s has %d series, want 1 to %d", family, series[family], most)
		}
	}
	if longest > maxNameLength {
		t.Errorf("a label value has %d characters, want at most %d", longest, maxNameLength)
	}
	if text := scrape(t, e); len(text) > 512<<10 {
		t.Errorf("a scrape is %d KiB, want at most 512", len(text)>>10)
	}
	if lines := strings.Count(logs.String(), "Graph sent values outside the documented sets"); lines == 0 || lines > 20 {
		t.Errorf("the odd values were logged in %d lines, want one per field:\n%.3000s", lines, logs.String())
	}
}

// serveUnboundedValues makes the fake serve, once each: 20,000 users with distinct user types,
// methods (up to 1,000 characters) and second factors; 5,000 service principals with distinct
// types and key types, names of 300 characters and one of 5 MB, each with an expiring key and
// secret; 3,000 sign-ins with distinct user types, apps, resources, requirements and event types.
func serveUnboundedValues(fake *fakegraph.Server, now time.Time) {
	const users, servicePrincipals, signIns = 20000, 5000, 3000
	end := now.Add(24 * time.Hour)       // expiring: each wants an expiry series
	huge := strings.Repeat("é", 5<<20/2) // 5 MB

	var records []string
	for i := range users {
		records = append(records, fmt.Sprintf(`{"id":"u%d","userType":"type%d","isAdmin":false,"isMfaRegistered":true,"methodsRegistered":["method%d","%s"],"isSystemPreferredAuthenticationMethodEnabled":%t,"systemPreferredAuthenticationMethods":["system%d"],"userPreferredMethodForSecondaryAuthentication":"preferred%d"}`,
			i, i, i, strings.Repeat("m", i%1000), i%2 == 0, i, i))
	}
	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: reportPage("", records...)})

	records = records[:0]
	for i := range servicePrincipals {
		name := fmt.Sprintf("app-%d-%s", i, strings.Repeat("x", 300))
		if i == 0 {
			name = huge
		}
		records = append(records, fmt.Sprintf(`{"id":"sp%d","appId":"app%d","displayName":%q,"servicePrincipalType":"Type%d","appOwnerOrganizationId":null,"keyCredentials":[%s],"passwordCredentials":[%s]}`,
			i, i, name, i, keyCredential(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "", fmt.Sprintf("KeyType%d", i), "Verify", end),
			passwordCredential(fmt.Sprintf("10000000-0000-4000-8000-%012d", i), "", end)))
	}
	fake.Inject(fakegraph.Fault{Path: "/servicePrincipals", Times: 1, Body: `{"value":[` + strings.Join(records, ",") + "]}"})

	records = records[:0]
	for i := range signIns {
		created := now.Add(-time.Duration(i+1) * time.Second).Format(time.RFC3339)
		records = append(records, fmt.Sprintf(`{"id":"s%d","createdDateTime":%q,"userType":"type%d","appId":"app%d","resourceId":"resource%d","authenticationRequirement":"requirement%d","signInEventTypes":["interactiveUser","event%d"],"status":{"errorCode":%d}}`,
			i, created, i, i, i, i, i, i))
	}
	fake.Inject(fakegraph.Fault{Path: "/auditLogs/signIns", Times: 1, Body: `{"value":[` + strings.Join(records, ",") + "]}"})

}
