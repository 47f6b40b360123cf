package collector

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// testClock is the tenant's and the exporter's clock, moved by the test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	// Not on a minute boundary, so that the window's alignment is exercised.
	return &testClock{now: time.Date(2026, 11, 20, 10, 0, 7, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func signInTenant(clock *testClock, mix fakegraph.SignInMix) *fakegraph.Tenant {
	tenant := testTenant(300)
	tenant.SignIns = mix
	tenant.Now = clock.Now
	return tenant
}

var defaultSignInsOptions = signInsOptions{window: 24 * time.Hour, overlap: 10 * time.Minute, scope: scopeAll}

// signInsExporterOptions runs the signins source with explicit options (flags are not parsed in tests),
// optionally with more sources and a transport between the client and the fake.
func signInsExporterOptions(fake *fakegraph.Server, clock *testClock, logs *testsupport.LogBuffer, o signInsOptions, transport http.RoundTripper) exporterConfig {
	sources := map[string]sourceSettings{"signins": {interval: time.Hour, timeout: time.Minute,
		new: func(c sourceConfig) (source, error) { return newSignInsSource(c, o) }}}
	opts := testConfig(fake, logs, sources)
	opts.now = clock.Now
	if transport != nil {
		opts.graph.Transport = transport
	}
	return opts
}

func signInsExporter(t testing.TB, fake *fakegraph.Server, clock *testClock, o signInsOptions) *Exporter {
	t.Helper()
	return newTestExporter(t, signInsExporterOptions(fake, clock, nil, o, nil))
}

var signInFamilies = []string{"entra_signins", "entra_signins_without_mfa", "entra_signins_window_seconds"}

// windowStart is where the counts of a window ending at now begin: aligned down to the minute.
func windowStart(now time.Time, window time.Duration) time.Time {
	return now.Add(-window).Truncate(time.Minute)
}

// signInTruthText renders the fake tenant's own ground truth for the window ending at now, as
// Graph lists it at now, in the exposition format; with apps, for scope azure_management.
func signInTruthText(tenant *fakegraph.Tenant, now time.Time, window time.Duration, apps ...string) string {
	start := windowStart(now, window)
	truth, _ := tenant.SignInTruth(start, now, now, apps...)
	event := func(interactive bool) string {
		if interactive {
			return "interactive"
		}
		return "non_interactive"
	}
	type noMFA struct{ app, resource, userType, event string }
	withoutMFA := map[noMFA]int{}
	for _, app := range []string{"azure_portal", "azure_cli", "azure_powershell", "azure_mobile_app", "other"} {
		for _, resource := range []string{"azure_resource_manager", "other"} {
			for _, ut := range []string{"member", "guest"} {
				for _, interactive := range []bool{true, false} {
					if app != "other" || resource != "other" {
						withoutMFA[noMFA{app, resource, ut, event(interactive)}] = 0
					}
				}
			}
		}
	}
	var signins, without []string
	for k, n := range truth {
		signins = append(signins, fmt.Sprintf("entra_signins{app=%q,event=%q,mfa=%q,resource=%q,result=%q,tenant_id=%q,user_type=%q} %d\n",
			k.App, event(k.Interactive), k.MFA, k.Resource, k.Result, tenant.ID, k.UserType, n))
		if k.Result == "success" && k.MFA == "false" {
			withoutMFA[noMFA{k.App, k.Resource, k.UserType, event(k.Interactive)}] += n
		}
	}
	for k, n := range withoutMFA {
		without = append(without, fmt.Sprintf("entra_signins_without_mfa{app=%q,event=%q,resource=%q,tenant_id=%q,user_type=%q} %d\n", k.app, k.event, k.resource, tenant.ID, k.userType, n))
	}
	sort.Strings(signins)
	sort.Strings(without)
	return "# TYPE entra_signins gauge\n" + strings.Join(signins, "") +
		"# TYPE entra_signins_without_mfa gauge\n" + strings.Join(without, "") +
		fmt.Sprintf("# TYPE entra_signins_window_seconds gauge\nentra_signins_window_seconds{tenant_id=%q} %g\n", tenant.ID, now.Sub(start).Seconds())
}

// signInQueries returns the $filter of every first page of a sign-in query Graph saw (later
// pages carry a $skiptoken), and how many sign-in requests there were.
func signInQueries(t *testing.T, fake *fakegraph.Server) ([]string, int) {
	t.Helper()
	var filters []string
	n := 0
	for _, r := range fake.Requests() {
		if r.Path != "/beta/auditLogs/signIns" {
			t.Errorf("request to %s, want only /beta/auditLogs/signIns", r.Path)
			continue
		}
		n++
		if r.Query.Get("$skiptoken") == "" {
			filters = append(filters, r.Query.Get("$filter"))
		}
	}
	return filters, n
}

func filterFor(from, to time.Time, eventType string) string {
	return fmt.Sprintf("createdDateTime ge %s and createdDateTime le %s and signInEventTypes/any(t: t eq '%s')",
		from.Format(time.RFC3339), to.Format(time.RFC3339), eventType)
}

func wantFilters(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sign-in queries Graph saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSignInsMatchGroundTruthAcrossPages(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 12000})
	fake := testsupport.StartFake(t, tenant)
	e := signInsExporter(t, fake, clock, defaultSignInsOptions)
	refresh(e)

	now := clock.Now()
	compareSamples(t, e, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	start := windowStart(now, 24*time.Hour)
	filters, requests := signInQueries(t, fake)
	wantFilters(t, filters, filterFor(start, now, "interactiveUser"), filterFor(start, now, "nonInteractiveUser"))
	if requests < 6 {
		t.Errorf("Graph saw %d sign-in requests; the test means to page (12000 a day, 1000 a page)", requests)
	}
	for _, r := range fake.Requests() {
		if r.Query.Get("$top") != "1000" || r.Query.Get("$select") == "" || !strings.Contains(r.Header.Get("Accept"), "application/json") {
			t.Errorf("request %s: $top=%q $select=%q Accept=%q; want $top=1000, a $select and JSON on every page",
				r.Query.Get("$filter"), r.Query.Get("$top"), r.Query.Get("$select"), r.Header.Get("Accept"))
		}
	}

	// The window must hold what the counts have to tell apart, or the comparison proves little.
	var workload, singleFactorManagement, guests, failures int
	for _, s := range tenant.SignInsIn(start, now) {
		switch {
		case !s.IsUser():
			workload++
		case s.AppLabel != "other" && s.AuthenticationRequirement == "singleFactorAuthentication" && s.ErrorCode == 0:
			singleFactorManagement++
		}
		if s.UserType == "guest" {
			guests++
		}
		if s.ErrorCode != 0 {
			failures++
		}
	}
	if workload == 0 || singleFactorManagement == 0 || guests == 0 || failures == 0 {
		t.Errorf("the window holds %d workload sign-ins, %d single-factor management ones, %d by guests, %d failures; want some of each",
			workload, singleFactorManagement, guests, failures)
	}
}

func TestSignInsIncrementalRefreshReadsOnlyWhatIsNew(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 12000})
	fake := testsupport.StartFake(t, tenant)
	e := signInsExporter(t, fake, clock, defaultSignInsOptions)
	refresh(e)
	_, fullRequests := signInQueries(t, fake)
	last := clock.Now()

	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	refresh(e)
	now := clock.Now()
	filters, requests := signInQueries(t, fake)
	from := last.Add(-10 * time.Minute)
	wantFilters(t, filters, filterFor(from, now, "interactiveUser"), filterFor(from, now, "nonInteractiveUser"))
	if requests >= fullRequests {
		t.Errorf("the incremental refresh sent %d requests, the full read %d", requests, fullRequests)
	}
	want := signInTruthText(tenant, now, 24*time.Hour)
	compareSamples(t, e, want, signInFamilies...)

	fresh := signInsExporter(t, fake, clock, defaultSignInsOptions)
	refresh(fresh)
	if a, b := withoutHelp(scrape(t, e, signInFamilies...)), withoutHelp(scrape(t, fresh, signInFamilies...)); a != b {
		t.Errorf("an incremental refresh and a full read differ\n--- incremental\n%s\n--- full\n%s", a, b)
	}
}

func TestSignInsLateRecordsCountOnce(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 20000, Late: 0.3, MaxDelay: 5 * time.Minute})
	fake := testsupport.StartFake(t, tenant)
	o := signInsOptions{window: time.Hour, overlap: 6 * time.Minute, scope: scopeAll}
	e := signInsExporter(t, fake, clock, o)

	lateCounted := 0
	prev := time.Time{}
	for step := range 8 {
		refresh(e)
		now := clock.Now()
		compareSamples(t, e, signInTruthText(tenant, now, o.window), signInFamilies...)
		if t.Failed() {
			t.Fatalf("step %d at %s", step, now)
		}
		if !prev.IsZero() {
			for _, s := range tenant.SignInsIn(prev.Add(-o.overlap), prev) {
				if s.IsUser() && s.Visible.After(prev) && !s.Visible.After(now) {
					lateCounted++ // listed first by this refresh, though created before the last one
				}
			}
		}
		prev = now
		clock.Advance(100 * time.Second)
	}
	if lateCounted == 0 {
		t.Error("no record arrived late between two refreshes; the test proves nothing")
	}
}

func TestSignInsLeaveTheWindow(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 30000})
	fake := testsupport.StartFake(t, tenant)
	o := signInsOptions{window: time.Hour, overlap: 5 * time.Minute, scope: scopeAll}
	e := signInsExporter(t, fake, clock, o)
	refresh(e)
	first := withoutHelp(scrape(t, e, "entra_signins"))

	for _, step := range []time.Duration{25 * time.Minute, 30 * time.Second, 50 * time.Minute, 3 * time.Hour} {
		clock.Advance(step)
		refresh(e)
		compareSamples(t, e, signInTruthText(tenant, clock.Now(), o.window), signInFamilies...)
	}
	if first == withoutHelp(scrape(t, e, "entra_signins")) {
		t.Error("the counts did not change as the window moved")
	}
}

func TestSignInsRestartReadsTheWindowOnce(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 8000})
	fake := testsupport.StartFake(t, tenant)
	before := signInsExporter(t, fake, clock, defaultSignInsOptions)
	refresh(before)
	clock.Advance(15 * time.Minute)
	refresh(before)

	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	after := signInsExporter(t, fake, clock, defaultSignInsOptions) // a restart: a new process, nothing kept
	refresh(after)
	now := clock.Now()
	start := windowStart(now, 24*time.Hour)
	filters, _ := signInQueries(t, fake)
	wantFilters(t, filters, filterFor(start, now, "interactiveUser"), filterFor(start, now, "nonInteractiveUser"))
	compareSamples(t, after, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)

	last := now
	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	refresh(after)
	now = clock.Now()
	filters, _ = signInQueries(t, fake)
	from := last.Add(-10 * time.Minute)
	wantFilters(t, filters, filterFor(from, now, "interactiveUser"), filterFor(from, now, "nonInteractiveUser"))
	compareSamples(t, after, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
}

// failingTransport fails the sign-in requests whose ordinals (counting from 1) are in fail as a
// network error would, after Graph has answered the ones before.
type failingTransport struct {
	next     http.RoundTripper
	fail     map[int64]bool
	requests atomic.Int64
	failures atomic.Int64
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/auditLogs/signIns") && f.fail[f.requests.Add(1)] {
		f.failures.Add(1)
		return nil, errors.New("connection reset by test")
	}
	return f.next.RoundTrip(r)
}

func failAt(ordinals ...int64) map[int64]bool {
	m := map[int64]bool{}
	for _, n := range ordinals {
		m[n] = true
	}
	return m
}

// TestSignInsFailedRefreshKeepsCountsExact fails requests at every position of a sequence of
// refreshes (first read, incremental reads, and with a second failure the read that fills the gap
// the first left): a refresh with a failure serves nothing new, and every later one counts every
// sign-in exactly once.
func TestSignInsFailedRefreshKeepsCountsExact(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 40000, Late: 0.2, MaxDelay: 4 * time.Minute})
	fake := testsupport.StartFake(t, tenant)
	o := signInsOptions{window: 6 * time.Hour, overlap: 5 * time.Minute, scope: scopeAll}
	steps := []time.Duration{0, 7 * time.Minute, 2 * time.Minute, 20 * time.Minute, 7 * time.Minute, time.Minute, time.Minute}
	start := clock.Now()

	// A run without failures says how many requests the sequence takes.
	counting := &failingTransport{next: fake.Transport()}
	e := newTestExporter(t, signInsExporterOptions(fake, clock, nil, o, counting))
	for _, step := range steps {
		clock.Advance(step)
		refresh(e)
	}
	total := counting.requests.Load()
	if total < 15 {
		t.Fatalf("the sequence takes %d requests; the test means several pages a read", total)
	}

	for first := int64(1); first <= total; first++ {
		for _, fail := range []map[int64]bool{failAt(first), failAt(first, first+2)} {
			clock.Set(start)
			transport := &failingTransport{next: fake.Transport(), fail: fail}
			e := newTestExporter(t, signInsExporterOptions(fake, clock, nil, o, transport))
			for i, step := range steps {
				clock.Advance(step)
				before := withoutHelp(scrape(t, e, signInFamilies...))
				failures := transport.failures.Load()
				refresh(e)
				if transport.failures.Load() > failures {
					if after := withoutHelp(scrape(t, e, signInFamilies...)); after != before {
						t.Errorf("failing requests %v: the failed refresh %d changed what is served", fail, i)
					}
					continue
				}
				compareSamples(t, e, signInTruthText(tenant, clock.Now(), o.window), signInFamilies...)
				if t.Failed() {
					t.Fatalf("failing requests %v: refresh %d (at %s) miscounts", fail, i, clock.Now())
				}
			}
			if transport.failures.Load() == 0 {
				t.Fatalf("failing requests %v: no request failed", fail)
			}
		}
	}
}

// TestSignInsInterruptedFirstReadResumes is a first read cut short (as by the refresh timeout in
// a large tenant): the next refresh reads the gap below what was counted, then what is new.
func TestSignInsInterruptedFirstReadResumes(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 24000})
	fake := testsupport.StartFake(t, tenant)
	transport := &failingTransport{next: fake.Transport(), fail: failAt(4)} // page 4 of the interactive read
	e := newTestExporter(t, signInsExporterOptions(fake, clock, nil, defaultSignInsOptions, transport))
	refresh(e)
	first := clock.Now()
	start := windowStart(first, 24*time.Hour)
	if got := scrape(t, e, "entra_signins"); got != "" {
		t.Fatalf("the interrupted first read served counts:\n%s", got)
	}
	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	refresh(e)
	now := clock.Now()
	compareSamples(t, e, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	filters, _ := signInQueries(t, fake)
	if len(filters) != 3 {
		t.Fatalf("after an interrupted first read Graph saw the queries\n%s\nwant the gap, the interactive sign-ins since, the non-interactive ones", strings.Join(filters, "\n"))
	}
	gapFrom := windowStart(now, 24*time.Hour)
	if !strings.HasPrefix(filters[0], "createdDateTime ge "+gapFrom.Format(time.RFC3339)+" and createdDateTime le ") {
		t.Fatalf("the first query %q should read the interactive gap from the window's start (%s)", filters[0], gapFrom.Format(time.RFC3339))
	}
	to := strings.Fields(filters[0])[6]
	gapTo, err := time.Parse(time.RFC3339, to)
	if err != nil || !gapTo.After(start) || !gapTo.Before(first.Add(-time.Hour)) || !strings.Contains(filters[0], "'interactiveUser'") {
		t.Errorf("the gap query %q should end where the interrupted read stopped, hours below %s", filters[0], first.Format(time.RFC3339))
	}
	wantFilters(t, filters[1:], filterFor(first.Add(-10*time.Minute), now, "interactiveUser"), filterFor(gapFrom, now, "nonInteractiveUser"))
}

func TestSignInsUnlicensedTenantLeavesUsersAlone(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 1000})
	fake := testsupport.StartFake(t, tenant)
	fake.Inject(fakegraph.Fault{Path: "/auditLogs/signIns", Status: http.StatusForbidden, Code: graph.CodeUnlicensed,
		Message: "Tenant does not have a SKU required to complete this request"})
	logs := &testsupport.LogBuffer{}
	opts := signInsExporterOptions(fake, clock, logs, defaultSignInsOptions, nil)
	opts.sources["users"] = usersOnly(time.Minute)["users"]
	e := newTestExporter(t, opts)
	refresh(e)

	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	if got := scrape(t, e, signInFamilies...); got != "" {
		t.Errorf("an unlicensed tenant got sign-in counts:\n%s", got)
	}
	served := scrape(t, e, "mfa_exporter_source_up", "mfa_exporter_source_errors_total")
	for _, want := range []string{`mfa_exporter_source_up{source="signins"} 0`, `mfa_exporter_source_up{source="users"} 1`,
		`mfa_exporter_source_errors_total{reason="unlicensed",source="signins"} 1`, `mfa_exporter_source_errors_total{reason="unlicensed",source="users"} 0`} {
		if !strings.Contains(served, want) {
			t.Errorf("served health lacks %s:\n%s", want, served)
		}
	}
	if log := logs.String(); !strings.Contains(log, "P1 or P2") || !strings.Contains(log, graph.CodeUnlicensed) || !strings.Contains(log, "source=signins") {
		t.Errorf("the log should name the signins source, Graph's code and the P1/P2 licence:\n%s", log)
	}
}

// parseSignInJSON decodes one beta signIn with the SDK's own JSON parser, as a page's items are.
func parseSignInJSON(t *testing.T, record string) models.SignInable {
	t.Helper()
	node, err := jsonserialization.NewJsonParseNode([]byte(record))
	if err != nil {
		t.Fatalf("parsing %s: %v", record, err)
	}
	v, err := node.GetObjectValue(models.CreateSignInFromDiscriminatorValue)
	if err != nil {
		t.Fatalf("parsing %s: %v", record, err)
	}
	return v.(models.SignInable)
}

// TestSignInRecords reads one record at a time, as Graph's page items are decoded. A record is
// counted with what it has (the old code failed the whole refresh on each "unknown" case below);
// only one without an id or createdDateTime, or of event types the query excludes, is left out.
func TestSignInRecords(t *testing.T) {
	const base = `"id":"s1","createdDateTime":"2026-11-20T09:00:00Z","userType":"member","signInEventTypes":["interactiveUser"],"status":{"errorCode":0}`
	member := func(app, resource, mfa string) signInKey {
		return signInKey{app: app, resource: resource, userType: "member", mfa: mfa, event: "interactive", result: "success"}
	}
	for _, tc := range []struct {
		name, record string
		event        signInEvent
		want         signInKey
		dup          bool
		skip         string
		odd          string // the field logged as holding an undocumented value
	}{
		{name: "portal to resource manager", record: `"appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","authenticationRequirement":"singleFactorAuthentication"`,
			event: interactiveEvent, want: member("azure_portal", "azure_resource_manager", "false")},
		{name: "cli to graph, app id in capitals", record: `"appId":"04B07795-8DDB-461A-BBEE-02F9E1BF7B46","resourceId":"00000003-0000-0000-c000-000000000000","authenticationRequirement":"multiFactorAuthentication"`,
			event: interactiveEvent, want: member("azure_cli", "other", "true")},
		{name: "powershell", record: `"appId":"1950a258-227b-4e31-a9cf-717495945fc2","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`,
			event: interactiveEvent, want: member("azure_powershell", "other", "true")},
		{name: "mobile app", record: `"appId":"0c1307d4-29d6-4389-a11c-5cbe7f65d7fa","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`,
			event: interactiveEvent, want: member("azure_mobile_app", "other", "true")},
		{name: "another client calling resource manager is app other, resource manager", record: `"appId":"aaaaaaaa-0000-0000-0000-000000000000","resourceId":"797F4846-BA00-4FD7-BA43-DAC1F8F63013","authenticationRequirement":"singleFactorAuthentication"`,
			event: interactiveEvent, want: member("other", "azure_resource_manager", "false")},
		{name: "another app", record: `"appId":"aaaaaaaa-0000-0000-0000-000000000000","resourceId":"00000003-0000-0000-c000-000000000000","authenticationRequirement":"singleFactorAuthentication"`,
			event: interactiveEvent, want: member("other", "other", "false")},
		{name: "non-interactive failure of a guest", record: `"id":"s2","createdDateTime":"2026-11-20T09:00:00Z","userType":"Guest","signInEventTypes":["nonInteractiveUser"],"status":{"errorCode":70044},"appId":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`,
			event: nonInteractiveEvent, want: signInKey{app: "azure_cli", resource: "other", userType: "guest", mfa: "true", event: "non_interactive", result: "failure"}},
		{name: "both event types count as interactive", record: `"id":"s3","createdDateTime":"2026-11-20T09:00:00Z","userType":"member","signInEventTypes":["interactiveUser","nonInteractiveUser"],"status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`,
			event: nonInteractiveEvent, dup: true},
		{name: "no authenticationRequirement: mfa unknown", record: `"appId":"x","resourceId":"x"`, event: interactiveEvent,
			want: member("other", "other", "unknown"), odd: "authenticationRequirement"},
		{name: "an undocumented authenticationRequirement: mfa unknown", record: `"appId":"x","resourceId":"x","authenticationRequirement":"unknownFutureValue"`, event: interactiveEvent,
			want: member("other", "other", "unknown"), odd: "authenticationRequirement"},
		{name: "no appId: app other", record: `"resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","authenticationRequirement":"multiFactorAuthentication"`, event: interactiveEvent,
			want: member("other", "azure_resource_manager", "true"), odd: "appId"},
		{name: "no resourceId: resource other", record: `"appId":"x","authenticationRequirement":"multiFactorAuthentication"`, event: interactiveEvent,
			want: member("other", "other", "true"), odd: "resourceId"},
		{name: "no status: result unknown", record: `"id":"s4","createdDateTime":"2026-11-20T09:00:00Z","userType":"member","signInEventTypes":["interactiveUser"],"appId":"x","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`, event: interactiveEvent,
			want: signInKey{app: "other", resource: "other", userType: "member", mfa: "true", event: "interactive", result: "unknown"}, odd: "status.errorCode"},
		{name: "no userType: user_type unknown", record: `"id":"s5","createdDateTime":"2026-11-20T09:00:00Z","signInEventTypes":["interactiveUser"],"status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`, event: interactiveEvent,
			want: signInKey{app: "other", resource: "other", userType: "unknown", mfa: "true", event: "interactive", result: "success"}, odd: "userType"},
		{name: "an undocumented userType: user_type unknown", record: `"id":"s5","createdDateTime":"2026-11-20T09:00:00Z","userType":"unknownFutureValue","signInEventTypes":["interactiveUser"],"status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`, event: interactiveEvent,
			want: signInKey{app: "other", resource: "other", userType: "unknown", mfa: "true", event: "interactive", result: "success"}, odd: "userType"},
		{name: "no signInEventTypes: the query's event", record: `"id":"s6","createdDateTime":"2026-11-20T09:00:00Z","userType":"member","status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"multiFactorAuthentication"`, event: nonInteractiveEvent,
			want: signInKey{app: "other", resource: "other", userType: "member", mfa: "true", event: "non_interactive", result: "success"}, odd: "signInEventTypes"},
		{name: "a service principal listed for users is left out", record: `"id":"s7","createdDateTime":"2026-11-20T09:00:00Z","signInEventTypes":["servicePrincipal"],"status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"singleFactorAuthentication"`, event: interactiveEvent, skip: skipOutsideQuery},
		{name: "no id is left out", record: `"createdDateTime":"2026-11-20T09:00:00Z","userType":"member","signInEventTypes":["interactiveUser"],"status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"singleFactorAuthentication"`, event: interactiveEvent, skip: skipNoID},
		{name: "no createdDateTime is left out", record: `"id":"s8","userType":"member","signInEventTypes":["interactiveUser"],"status":{"errorCode":0},"appId":"x","resourceId":"x","authenticationRequirement":"singleFactorAuthentication"`, event: interactiveEvent, skip: skipNoCreatedTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			record := "{" + tc.record + "}"
			if !strings.Contains(tc.record, `"id"`) && !strings.Contains(tc.record, `"createdDateTime"`) {
				record = "{" + base + "," + tc.record + "}"
			}
			s := &signInsSource{opts: signInsOptions{apps: appTable(builtinManagementApps)}, notes: newRecordNotes()}
			got, skip := s.parseSignIn(parseSignInJSON(t, record), tc.event)
			if skip != tc.skip || got.dup != tc.dup || (skip == "" && !tc.dup && got.key != tc.want) {
				t.Errorf("got %+v (dup %t, skip %q), want %+v (dup %t, skip %q)", got.key, got.dup, skip, tc.want, tc.dup, tc.skip)
			}
			odd := ""
			for key := range s.notes.odd {
				field, _, _ := strings.Cut(key, "\x00")
				odd += field
			}
			if odd != tc.odd {
				t.Errorf("noted as undocumented: %q, want %q", odd, tc.odd)
			}
		})
	}
}

func TestSignInsOptionsAreChecked(t *testing.T) {
	for _, o := range []signInsOptions{{window: 0, scope: scopeAll}, {window: 31 * 24 * time.Hour, scope: scopeAll},
		{window: time.Hour, overlap: -time.Second, scope: scopeAll}, {window: time.Hour, overlap: time.Hour, scope: scopeAll}, {window: time.Hour, scope: "tenant"}} {
		if _, err := newSignInsSource(sourceConfig{}, o); err == nil || !strings.Contains(err.Error(), "--collector.signins.") {
			t.Errorf("options %+v: got %v, want an error naming the flag", o, err)
		}
	}
}

// BenchmarkSignInsMillionADay reads a day of a tenant with a million sign-ins a day through the
// SDK from the fake (no pacing), then a refresh 15 minutes later, with the default overlap, for
// each scope: all, and azure_management (only the management apps and Resource Manager, asked in
// $filter). Under Graph's budget of 5 requests per 10 seconds a refresh takes about 2 s per
// request.
//
//	go test -run '^$' -bench SignInsMillionADay -benchtime 1x ./collector/
func BenchmarkSignInsMillionADay(b *testing.B) {
	for _, scope := range []string{scopeAll, scopeAzureManagement} {
		b.Run("scope="+scope, func(b *testing.B) {
			for range b.N {
				benchmarkSignInsDay(b, signInsOptions{window: 24 * time.Hour, overlap: defaultSignInsOverlap, scope: scope})
			}
		})
	}
}

func benchmarkSignInsDay(b *testing.B, o signInsOptions) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 1_000_000, Late: 0.05, MaxDelay: 5 * time.Minute})
	fake := testsupport.StartFake(b, tenant)
	fake.KeepRequests(false)
	counting := &failingTransport{next: fake.Transport()}
	opts := signInsExporterOptions(fake, clock, nil, o, counting)
	settings := opts.sources["signins"]
	settings.timeout = 10 * time.Minute // a day's first read on two shared cores, the fake's share included
	opts.sources["signins"] = settings
	e := newTestExporter(b, opts)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	started := time.Now()
	refresh(e)
	full := time.Since(started)
	fullRequests := counting.requests.Load()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if scrape(b, e, "entra_signins") == "" {
		b.Fatal("the full read served nothing")
	}

	clock.Advance(15 * time.Minute)
	started = time.Now()
	refresh(e)
	incremental := time.Since(started)

	b.ReportMetric(float64(fullRequests), "full-requests")
	b.ReportMetric(full.Seconds(), "full-s")
	b.ReportMetric(float64(counting.requests.Load()-fullRequests), "incremental-requests")
	b.ReportMetric(incremental.Seconds(), "incremental-s")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
}
