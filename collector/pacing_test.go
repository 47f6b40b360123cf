package collector

import (
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// scaledReportsLimit is Graph's reports budget (5 requests / 10 s) time-scaled 50 times.
var scaledReportsLimit = graph.Limit{Requests: 5, Per: 200 * time.Millisecond}

// budgetMinimum is the least time in which pages requests can be made, one after the other,
// when Graph admits at most limit.Requests of them in any window of limit.Per.
func budgetMinimum(pages int, limit graph.Limit) time.Duration {
	return time.Duration((pages-1)/limit.Requests) * limit.Per
}

// pacedRefresh refreshes the users of tenant once against a fake that enforces limit, with the
// client pacing to the same limit, and returns how long it took.
func pacedRefresh(t testing.TB, fake *fakegraph.Server, limit graph.Limit) (time.Duration, *Exporter) {
	t.Helper()
	fake.EnforceReportsLimit(limit.Requests, limit.Per)
	o := testConfig(fake, nil, usersOnly(time.Minute))
	o.graph.Limits = map[graph.Family]graph.Limit{graph.FamilyReports: limit}
	e := newTestExporter(t, o)
	start := time.Now()
	refresh(e)
	return time.Since(start), e
}

// The client keeps to Graph's reports budget by itself: no request is throttled, and the
// refresh is not faster than the budget allows. Figures against the minimum time are in
// BenchmarkUsersRefreshUnderReportsBudget.
func TestUsersRefreshKeepsToTheReportsBudget(t *testing.T) {
	const pages = 20
	tenant := testTenant(pages * reportPageSize)
	fake := testsupport.StartFake(t, tenant)

	elapsed, e := pacedRefresh(t, fake, scaledReportsLimit)

	if n := fake.Throttled(); n != 0 {
		t.Errorf("the fake Graph throttled %d requests, want 0: the client does not pace to the budget", n)
	}
	if got := requestsWithCode(e, 429); got != 0 {
		t.Errorf(`graph_requests_total{code="429"} = %v, want 0`, got)
	}
	if got := requestsWithCode(e, 200); got != pages {
		t.Errorf(`graph_requests_total{code="200"} = %v, want %d`, got, pages)
	}
	if min := budgetMinimum(pages, scaledReportsLimit); elapsed < min {
		t.Errorf("%d pages took %v, less than the budget's minimum %v", pages, elapsed, min)
	}
	compareSamples(t, e, userTruthText(tenant), userFamilies...)
}
