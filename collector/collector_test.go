package collector

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

const reportPath = "/reports/authenticationMethods/userRegistrationDetails"

// sample returns the value of the served series of family name whose labels include want.
func sample(t testing.TB, e *Exporter, name string, want map[string]string) (float64, bool) {
	t.Helper()
	for _, mf := range gather(t, e) {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

func sourceUp(t testing.TB, e *Exporter) (float64, bool) {
	t.Helper()
	return sample(t, e, "mfa_exporter_source_up", map[string]string{"source": "users"})
}

func requestsWithCode(e *Exporter, code int) float64 {
	return testutil.ToFloat64(e.requests.WithLabelValues("users", fmt.Sprint(code)))
}

func errorsWithReason(e *Exporter, reason string) float64 {
	return testutil.ToFloat64(e.errors.WithLabelValues("users", reason))
}

// reportPages counts the report requests Graph saw.
func reportPages(fake *fakegraph.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, reportPath) {
			n++
		}
	}
	return n
}

func TestRetriedResponsesStillGiveTheRightValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakegraph.Fault
	}{
		// Graph sends fractional Retry-After values; kiota truncates 0.2 to 0 s, so only the
		// pacer's hold keeps the retry from hammering Graph.
		{"429 with Retry-After", fakegraph.Fault{Path: reportPath, Times: 1, Status: 429, RetryAfter: "0.2",
			Code: "TooManyRequests", Message: "Please retry again later."}},
		{"503", fakegraph.Fault{Path: reportPath, Times: 1, Status: 503, RetryAfter: "1",
			Code: "ServiceUnavailable", Message: "Service is temporarily unavailable."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tenant := testTenant(1500) // two pages
			fake := testsupport.StartFake(t, tenant)
			fake.Inject(tc.fault)
			e := newTestExporter(t, testConfig(fake, nil, usersOnly(time.Minute)))
			refresh(e)

			compareSamples(t, e, userTruthText(tenant), userFamilies...)
			if up, _ := sourceUp(t, e); up != 1 {
				t.Errorf("source_up = %v after a retried success, want 1", up)
			}
			if got := requestsWithCode(e, tc.fault.Status); got != 1 {
				t.Errorf(`graph_requests_total{code="%d"} = %v, want 1`, tc.fault.Status, got)
			}
			if got := requestsWithCode(e, 200); got != 2 {
				t.Errorf(`graph_requests_total{code="200"} = %v, want 2 (two pages)`, got)
			}
			reqs := fake.Requests()
			if len(reqs) != 3 {
				t.Fatalf("Graph saw %d requests, want 3 (the failure, its retry, the second page)", len(reqs))
			}
			if got := reqs[1].Header.Get("Retry-Attempt"); got != "1" {
				t.Errorf("the retry carried Retry-Attempt %q, want 1 (kiota's retry handler)", got)
			}
			wait, _ := time.ParseDuration(tc.fault.RetryAfter + "s")
			if gap := reqs[1].Time.Sub(reqs[0].Time); gap < wait {
				t.Errorf("the retry came %v after the %d, before its Retry-After of %v", gap, tc.fault.Status, wait)
			}
		})
	}
}

// A failed refresh keeps the last good snapshot served, marks the source down, counts the
// reason, logs the failure once with what to do, and logs the recovery.
func TestFailedRefreshServesLastSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   fakegraph.Fault
		timeout time.Duration
		reason  string
		logs    []string // what the failure log must say
	}{
		{"403 missing permission",
			fakegraph.Fault{Path: reportPath, Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."},
			time.Minute, graph.ReasonForbidden,
			[]string{"Authorization_RequestDenied", "Insufficient privileges", "AuditLog.Read.All", "--no-collector.users"}},
		{"403 no P1/P2 licence",
			fakegraph.Fault{Path: reportPath, Status: 403, Code: graph.CodeUnlicensed, Message: "Neither tenant is B2C or tenant doesn't have premium license"},
			time.Minute, graph.ReasonUnlicensed,
			[]string{graph.CodeUnlicensed, "P1 or P2"}},
		{"malformed JSON",
			fakegraph.Fault{Path: reportPath, Malformed: true},
			time.Minute, graph.ReasonMalformed, nil},
		{"slower than the refresh timeout",
			fakegraph.Fault{Path: reportPath, Delay: time.Minute},
			2 * time.Second, graph.ReasonTimeout,
			[]string{"--collector.users.refresh-timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tenant := testTenant(1200)
			fake := testsupport.StartFake(t, tenant)
			logs := &testsupport.LogBuffer{}
			e := newTestExporter(t, testConfig(fake, logs, usersOnly(tc.timeout)))
			refresh(e)
			lastSuccess, ok := sample(t, e, "mfa_exporter_source_last_success_timestamp_seconds", map[string]string{"source": "users"})
			if !ok {
				t.Fatal("no last success timestamp after a good refresh")
			}

			fake.Inject(tc.fault)
			refresh(e)
			compareSamples(t, e, userTruthText(tenant), userFamilies...)
			if up, ok := sourceUp(t, e); !ok || up != 0 {
				t.Errorf("source_up = %v (served: %t) after a failed refresh, want 0", up, ok)
			}
			if got, _ := sample(t, e, "mfa_exporter_source_last_success_timestamp_seconds", map[string]string{"source": "users"}); got != lastSuccess {
				t.Errorf("last success timestamp moved from %v to %v on a failure", lastSuccess, got)
			}
			if _, ok := sample(t, e, "mfa_exporter_source_refresh_duration_seconds", map[string]string{"source": "users"}); !ok {
				t.Error("refresh duration not served after a failure")
			}
			for _, reason := range graph.Reasons() {
				want := 0.0
				if reason == tc.reason {
					want = 1
				}
				if got := errorsWithReason(e, reason); got != want {
					t.Errorf(`source_errors_total{reason=%q} = %v, want %v`, reason, got, want)
				}
			}
			failure := logs.String()
			for _, want := range append(tc.logs, "reason="+tc.reason) {
				if !strings.Contains(failure, want) {
					t.Errorf("the failure log does not say %q:\n%s", want, failure)
				}
			}

			refresh(e) // the same failure again
			if got := errorsWithReason(e, tc.reason); got != 2 {
				t.Errorf(`source_errors_total{reason=%q} = %v after two failures, want 2`, tc.reason, got)
			}
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
				t.Errorf("a repeated identical failure was logged %d times at error level, want once:\n%s", n, logs.String())
			}

			fake.ClearFaults()
			refresh(e)
			if up, _ := sourceUp(t, e); up != 1 {
				t.Errorf("source_up = %v after recovery, want 1", up)
			}
			if !strings.Contains(logs.String(), "refresh works again") {
				t.Errorf("the recovery was not logged:\n%s", logs.String())
			}
		})
	}
}

func TestScrapeMakesNoGraphRequests(t *testing.T) {
	tenant := testTenant(1500)
	fake := testsupport.StartFake(t, tenant)
	e := newTestExporter(t, testConfig(fake, nil, usersOnly(time.Minute)))
	refresh(e)
	before := len(fake.Requests())
	if before == 0 {
		t.Fatal("the refresh sent no Graph request")
	}
	for range 5 {
		if out := scrape(t, e); !strings.Contains(out, "entra_mfa_registered_users") {
			t.Fatalf("the scrape served no user metrics:\n%s", out)
		}
	}
	if after := len(fake.Requests()); after != before {
		t.Errorf("5 scrapes made %d Graph requests, want 0", after-before)
	}
}

// gatedSource wraps a real source so that a test controls when its refresh proceeds.
type gatedSource struct {
	inner   source
	calls   *atomic.Int32
	started chan struct{}
	release chan struct{}
}

func (g gatedSource) Refresh(ctx context.Context) (snapshot, error) {
	g.calls.Add(1)
	g.started <- struct{}{}
	<-g.release
	return g.inner.Refresh(ctx)
}

// gatedUsers is the users source behind a gate; it refreshes on the hour unless started.
func gatedUsers() (map[string]sourceSettings, gatedSource) {
	g := gatedSource{calls: &atomic.Int32{}, started: make(chan struct{}, 1), release: make(chan struct{})}
	settings := map[string]sourceSettings{"users": {interval: time.Hour, timeout: time.Minute, new: func(c sourceConfig) (source, error) {
		inner, err := sourceSpecs["users"].new(c)
		g.inner = inner
		return g, err
	}}}
	return settings, g
}

func TestStartRefreshesAtStartInTheBackground(t *testing.T) {
	tenant := testTenant(500)
	fake := testsupport.StartFake(t, tenant)
	sources, gate := gatedUsers()
	e := newTestExporter(t, testConfig(fake, nil, sources))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	e.Start(ctx) // returns while the refresh is held at the gate
	select {
	case <-gate.started:
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not refresh at start (the interval is an hour)")
	}
	// Health from the first second: the series are there, saying "not yet" (the old code served
	// none until the first refresh ended, so no alert could see a first read that never ends).
	for name, want := range map[string]float64{"mfa_exporter_source_up": 0,
		"mfa_exporter_source_last_success_timestamp_seconds": 0, "mfa_exporter_source_refresh_duration_seconds": 0} {
		if got, ok := sample(t, e, name, map[string]string{"source": "users"}); !ok || got != want {
			t.Errorf("%s = %v (served: %t) before the first refresh ended, want %v", name, got, ok, want)
		}
	}
	close(gate.release)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if up, _ := sourceUp(t, e); up == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background refresh did not succeed within 30s")
		}
	}
	compareSamples(t, e, userTruthText(tenant), userFamilies...)
}

func TestRefreshDueWhileOneRunsIsSkipped(t *testing.T) {
	fake := testsupport.StartFake(t, testTenant(500))
	sources, gate := gatedUsers()
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, sources))

	first := make(chan struct{})
	go func() {
		refresh(e)
		close(first)
	}()
	<-gate.started
	second := make(chan struct{})
	go func() {
		refresh(e)
		close(second)
	}()
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("a refresh due while one runs waited for it instead of being skipped")
	}
	close(gate.release)
	<-first

	if n := gate.calls.Load(); n != 1 {
		t.Errorf("the source was refreshed %d times, want 1", n)
	}
	if n := reportPages(fake); n != 1 {
		t.Errorf("Graph saw %d report requests, want 1", n)
	}
	if !strings.Contains(logs.String(), "refresh skipped") {
		t.Errorf("the skipped refresh was not logged:\n%s", logs.String())
	}
}

// reportRecord is a userRegistrationDetails record as Graph sends it; fields maps a field to
// its JSON value, or to "" to leave the field out.
func reportRecord(id string, fields map[string]string) string {
	values := map[string]string{"userType": `"member"`, "isAdmin": "false", "isMfaRegistered": "true", "isMfaCapable": "true",
		"isPasswordlessCapable": "false", "isSsprRegistered": "false", "methodsRegistered": `["microsoftAuthenticatorPush"]`,
		"userPreferredMethodForSecondaryAuthentication": `"push"`}
	for k, v := range fields {
		values[k] = v
	}
	parts := []string{fmt.Sprintf(`"id":%q`, id)}
	for _, k := range userRegistrationFields {
		if values[k] != "" {
			parts = append(parts, fmt.Sprintf("%q:%s", k, values[k]))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func reportPage(next string, records ...string) string {
	link := ""
	if next != "" {
		link = fmt.Sprintf(`"@odata.nextLink":%q,`, next)
	}
	return `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",` +
		link + `"value":[` + strings.Join(records, ",") + "]}"
}

// A userType newer than the SDK's enum decodes to nil; the exporter counts those users under
// user_type="unknown" rather than dropping them or failing the whole report.
func TestUnknownUserTypeIsCountedApart(t *testing.T) {
	fake := testsupport.StartFake(t, testTenant(0))
	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: reportPage("",
		reportRecord("1", nil),
		reportRecord("2", map[string]string{"userType": `"guest"`, "isMfaRegistered": "false", "methodsRegistered": `[]`, "userPreferredMethodForSecondaryAuthentication": `""`}),
		reportRecord("3", map[string]string{"userType": `"externalMember"`, "isAdmin": "true"}),
	)})
	e := newTestExporter(t, testConfig(fake, nil, usersOnly(time.Minute)))
	refresh(e)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"entra_mfa_registered_users", map[string]string{"user_type": "member", "admin": "false"}, 1},
		{"entra_mfa_unregistered_users", map[string]string{"user_type": "guest", "admin": "false"}, 1},
		{"entra_mfa_registered_users", map[string]string{"user_type": "unknown", "admin": "true"}, 1},
		{"entra_auth_method_registered_users", map[string]string{"user_type": "unknown", "method": "microsoftAuthenticatorPush"}, 1},
		{"entra_default_mfa_method_users", map[string]string{"user_type": "guest", "method": "none"}, 1},
	} {
		if got, ok := sample(t, e, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v (served: %t), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}

// A record without isAdmin, in the middle of a page, is counted with what it has: admin
// "unknown" (the old code failed the whole refresh as malformed, and so on every refresh while
// Graph sent it). The source stays up, the other records count as before, and the odd field is
// logged once.
func TestRecordWithoutIsAdminCountsAsUnknown(t *testing.T) {
	fake := testsupport.StartFake(t, testTenant(0))
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, usersOnly(time.Minute)))
	next := fake.URL + "/v1.0" + reportPath + "?$skiptoken=page2"
	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: reportPage(next, reportRecord("a", nil),
		reportRecord("b", map[string]string{"isAdmin": ""}), reportRecord("c", map[string]string{"isAdmin": ""}), reportRecord("d", nil))})
	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: reportPage("", reportRecord("e", map[string]string{"isAdmin": "true"}))})
	refresh(e)

	if up, _ := sourceUp(t, e); up != 1 {
		t.Errorf("source_up = %v, want 1", up)
	}
	for _, tc := range []struct {
		admin string
		want  float64
	}{{"false", 2}, {"unknown", 2}, {"true", 1}} {
		if got, _ := sample(t, e, "entra_mfa_registered_users", map[string]string{"user_type": "member", "admin": tc.admin}); got != tc.want {
			t.Errorf(`entra_mfa_registered_users{admin=%q} = %v, want %v`, tc.admin, got, tc.want)
		}
	}
	if n := strings.Count(logs.String(), "field=isAdmin"); n != 1 || !strings.Contains(logs.String(), "records=2") {
		t.Errorf("the missing isAdmin should be logged once, for 2 records:\n%s", logs.String())
	}
}

// A refresh that times out is one failure wherever the walk was cut: the error's text names
// the page's URL, which differs, but the log says it once.
func TestTimeoutsAtDifferentPagesAreLoggedOnce(t *testing.T) {
	t.Parallel()
	fake := testsupport.StartFake(t, testTenant(1200))
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, usersOnly(2*time.Second)))
	refresh(e)

	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Delay: time.Minute})
	refresh(e) // cut on the first page
	next := fake.URL + "/v1.0" + reportPath + "?$skiptoken=page2"
	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: reportPage(next, reportRecord("a", nil))})
	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Delay: time.Minute})
	refresh(e) // cut on the second page

	if got := errorsWithReason(e, graph.ReasonTimeout); got != 2 {
		t.Errorf(`source_errors_total{reason="timeout"} = %v, want 2`, got)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("two timeouts were logged %d times at error level, want once:\n%s", n, logs.String())
	}

	fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."})
	refresh(e) // another kind of failure
	if n := strings.Count(logs.String(), "level=ERROR"); n != 2 {
		t.Errorf("a different failure after the timeouts was not logged at error level:\n%s", logs.String())
	}
}
