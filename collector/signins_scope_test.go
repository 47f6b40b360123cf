package collector

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// Sign-ins that depart from the documented shape, 5% of them, in the middle of the pages: the
// source stays up and every count is exact, with unknown where the fake's own truth puts it;
// those without an id or a createdDateTime are left out and counted as skipped. The old code
// failed the whole refresh on the first such record, and again on every refresh after.
func TestSignInsOddRecordsAreCountedWithWhatTheyHave(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 12000})
	tenant.Odd = 0.05
	fake := testsupport.StartFake(t, tenant)
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, signInsExporterOptions(fake, clock, logs, defaultSignInsOptions, nil))
	refresh(e)

	now := clock.Now()
	if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"source": "signins"}); up != 1 {
		t.Fatalf("the refresh failed:\n%s", logs.String())
	}
	compareSamples(t, e, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	_, unplaced := tenant.SignInTruth(windowStart(now, 24*time.Hour), now, now)
	skipped := 0.0
	for _, reason := range []string{skipNoID, skipNoCreatedTime} {
		n, _ := sample(t, e, "mfa_exporter_records_skipped_total", map[string]string{"source": "signins", "reason": reason})
		skipped += n
	}
	if skipped != float64(unplaced) || unplaced == 0 {
		t.Errorf("records_skipped_total = %v, want %d (and some)", skipped, unplaced)
	}
	for _, field := range []string{"userType", "authenticationRequirement", "resourceId", "status.errorCode", "signInEventTypes"} {
		if n := strings.Count(logs.String(), "field="+field+" "); n != 1 {
			t.Errorf("the odd %s values were logged %d times, want once:\n%s", field, n, logs.String())
		}
	}
}

// With scope azure_management the queries ask Graph only for the app table's clients and
// Resource Manager, in $filter, and the counts are exactly those sign-ins; fewer requests than
// scope all.
func TestSignInsScopeAzureManagementReadsLess(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 12000})
	fake := testsupport.StartFake(t, tenant)
	all := signInsExporter(t, fake, clock, defaultSignInsOptions)
	refresh(all)
	_, allRequests := signInQueries(t, fake)

	fake.ResetRequests()
	o := defaultSignInsOptions
	o.scope = scopeAzureManagement
	e := signInsExporter(t, fake, clock, o)
	refresh(e)
	now := clock.Now()
	apps := slices.Sorted(maps.Keys(builtinManagementApps))
	compareSamples(t, e, signInTruthText(tenant, now, 24*time.Hour, apps...), signInFamilies...)
	filters, requests := signInQueries(t, fake)
	only := " and (appId eq '04b07795-8ddb-461a-bbee-02f9e1bf7b46' or appId eq '0c1307d4-29d6-4389-a11c-5cbe7f65d7fa' or appId eq '1950a258-227b-4e31-a9cf-717495945fc2' or appId eq 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c' or resourceId eq '797f4846-ba00-4fd7-ba43-dac1f8f63013')"
	start := windowStart(now, 24*time.Hour)
	wantFilters(t, filters, filterFor(start, now, "interactiveUser")+only, filterFor(start, now, "nonInteractiveUser")+only)
	if requests >= allRequests {
		t.Errorf("scope azure_management sent %d requests, scope all %d", requests, allRequests)
	}
	// The other apps' sign-ins are not read, so not counted: the management ones are all there.
	if got := scrape(t, e, "entra_signins"); strings.Contains(got, `app="other",event="interactive",mfa="true",resource="other"`) {
		t.Errorf("scope azure_management counted sign-ins of other apps to other resources:\n%s", got)
	}
}

// --collector.signins.app adds apps to the table and renames its entries: their sign-ins are
// counted under the new names, and entra_signins_without_mfa exports them at 0 when none.
func TestSignInsAppTableFromTheCommandLine(t *testing.T) {
	const office, portal = "d3590ed6-52b3-4102-aeff-aad2292ab01c", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
	apps, err := newAppTable([]string{"office=" + strings.ToUpper(office), "azure_admin_portals=" + portal})
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 12000})
	fake := testsupport.StartFake(t, tenant)
	o := defaultSignInsOptions
	o.apps = apps
	e := signInsExporter(t, fake, clock, o)
	refresh(e)

	now := clock.Now()
	want := map[string]float64{} // successful single-factor sign-ins by app label, from the generator
	for _, s := range tenant.SignInsIn(windowStart(now, 24*time.Hour), now) {
		if !s.IsUser() || s.Visible.After(now) || s.ErrorCode != 0 || s.AuthenticationRequirement != "singleFactorAuthentication" {
			continue
		}
		label := map[string]string{office: "office", portal: "azure_admin_portals"}[s.AppID]
		want[cmp.Or(label, s.AppLabel)]++
	}
	got := map[string]float64{}
	for _, mf := range gather(t, e) {
		if mf.GetName() != "entra_signins_without_mfa" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "app" {
					got[l.GetValue()] += m.GetGauge().GetValue()
				}
			}
		}
	}
	wantApps := []string{"azure_admin_portals", "azure_cli", "azure_mobile_app", "azure_powershell", "office", "other"}
	if apps := slices.Sorted(maps.Keys(got)); !slices.Equal(apps, wantApps) {
		t.Errorf("entra_signins_without_mfa apps %v, want %v", apps, wantApps)
	}
	for app, n := range want {
		if app != "other" && got[app] != n { // other: only its calls to Resource Manager are there
			t.Errorf("entra_signins_without_mfa{app=%q} sums to %v, want %v", app, got[app], n)
		}
	}
	if want["office"] == 0 || want["azure_admin_portals"] == 0 {
		t.Errorf("the window has no single-factor sign-in to the added or renamed app: %v", want)
	}
}

func TestSignInsAppTableRefusesBadValues(t *testing.T) {
	for _, entry := range []string{"office", "=d3590ed6-52b3-4102-aeff-aad2292ab01c", "Office=d3590ed6-52b3-4102-aeff-aad2292ab01c",
		"office app=d3590ed6-52b3-4102-aeff-aad2292ab01c", "other=d3590ed6-52b3-4102-aeff-aad2292ab01c", "unknown=d3590ed6-52b3-4102-aeff-aad2292ab01c",
		"office=d3590ed6", "office=not-a-guid-at-all-not-a-guid-at-all-xx", "office={d3590ed6-52b3-4102-aeff-aad2292ab01c}",
		"office=" + strings.Repeat("d", 200)} {
		if _, err := newAppTable([]string{entry}); err == nil || !strings.Contains(err.Error(), "--collector.signins.app") {
			t.Errorf("--collector.signins.app=%s: got %v, want an error naming the flag", entry, err)
		}
	}
}

// stallingTransport holds the n-th sign-in request until the client gives up on it, as a page
// that takes longer than --graph.request-timeout does.
type stallingTransport struct {
	next     http.RoundTripper
	stall    int64
	requests atomic.Int64
}

func (s *stallingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/auditLogs/signIns") && s.requests.Add(1) == s.stall {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return s.next.RoundTrip(r)
}

// A page that outlasts the request timeout is read again from the last counted record, within
// the same refresh: the refresh succeeds with exact counts, and the query after the timeout
// starts below what was counted, not at the top. The old code failed the refresh.
func TestSignInsPageTimeoutIsResumed(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 24000})
	fake := testsupport.StartFake(t, tenant)
	transport := &stallingTransport{next: fake.Transport(), stall: 3} // page 3 of the interactive read
	opts := signInsExporterOptions(fake, clock, nil, defaultSignInsOptions, transport)
	opts.graph.RequestTimeout = 3 * time.Second // the stalled page waits this long; the others take far less, even under -race
	e := newTestExporter(t, opts)
	e.refreshAll(context.Background())

	now := clock.Now()
	if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"source": "signins"}); up != 1 {
		t.Fatal("the refresh failed on the page that timed out")
	}
	compareSamples(t, e, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	filters, _ := signInQueries(t, fake)
	start := windowStart(now, 24*time.Hour)
	if len(filters) < 3 || filters[0] != filterFor(start, now, "interactiveUser") || !slices.Contains(filters, filterFor(start, now, "nonInteractiveUser")) {
		t.Fatalf("Graph saw the queries\n%s\nwant the interactive read, its resumption, the non-interactive read", strings.Join(filters, "\n"))
	}
	resumedTo, err := time.Parse(time.RFC3339, strings.Fields(filters[1])[6])
	if err != nil || !resumedTo.Before(now.Add(-time.Hour)) || !strings.HasPrefix(filters[1], "createdDateTime ge "+start.Format(time.RFC3339)) {
		t.Errorf("the resumed query %q should end where the counting stopped, below the top", filters[1])
	}
}

// Only options that shape the answer are dropped when Graph refuses them: a refused $filter
// (which says what is counted) fails the refresh, where a refused $select is read on without.
func TestSignInsRefusedFilterFailsRefusedSelectDoesNot(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 4000})
	fake := testsupport.StartFake(t, tenant)
	fake.RefuseQueryOptions("/auditLogs/signIns", "$select")
	e := signInsExporter(t, fake, clock, defaultSignInsOptions)
	refresh(e)
	compareSamples(t, e, signInTruthText(tenant, clock.Now(), 24*time.Hour), signInFamilies...)

	fake.RefuseQueryOptions("/auditLogs/signIns", "$filter")
	clock.Advance(15 * time.Minute)
	refresh(e)
	if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"source": "signins"}); up != 0 {
		t.Error("a refused $filter did not fail the refresh")
	}
}
