package collector

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// userTruthText renders the fake tenant's own ground truth in the exposition format.
func userTruthText(tenant *fakegraph.Tenant) string {
	truth := tenant.UserTruth()
	var b strings.Builder
	gauge := func(name string, lines []string) {
		sort.Strings(lines)
		fmt.Fprintf(&b, "# TYPE %s gauge\n%s", name, strings.Join(lines, ""))
	}
	groups := map[string][]string{}
	served := map[fakegraph.UserGroup]fakegraph.UserCounts{} // the four documented groups always, 0 when empty
	for _, ut := range []string{"member", "guest"} {
		for _, admin := range []string{"false", "true"} {
			served[fakegraph.UserGroup{UserType: ut, Admin: admin}] = fakegraph.UserCounts{}
		}
	}
	for g, c := range truth.Groups {
		served[g] = c
	}
	for g, c := range served {
		labels := fmt.Sprintf(`{admin="%s",tenant_id="%s",user_type="%s"}`, g.Admin, tenant.ID, g.UserType)
		groups["entra_mfa_registered_users"] = append(groups["entra_mfa_registered_users"], fmt.Sprintf("entra_mfa_registered_users%s %d\n", labels, c.Registered))
		groups["entra_mfa_unregistered_users"] = append(groups["entra_mfa_unregistered_users"], fmt.Sprintf("entra_mfa_unregistered_users%s %d\n", labels, c.Unregistered))
		groups["entra_mfa_capable_users"] = append(groups["entra_mfa_capable_users"], fmt.Sprintf("entra_mfa_capable_users%s %d\n", labels, c.Capable))
		groups["entra_passwordless_capable_users"] = append(groups["entra_passwordless_capable_users"], fmt.Sprintf("entra_passwordless_capable_users%s %d\n", labels, c.Passwordless))
		groups["entra_sspr_registered_users"] = append(groups["entra_sspr_registered_users"], fmt.Sprintf("entra_sspr_registered_users%s %d\n", labels, c.SsprRegistered))
	}
	for k, n := range truth.Methods {
		groups["entra_auth_method_registered_users"] = append(groups["entra_auth_method_registered_users"],
			fmt.Sprintf("entra_auth_method_registered_users{method=\"%s\",tenant_id=\"%s\",user_type=\"%s\"} %d\n", k.Value, tenant.ID, k.UserType, n))
	}
	for k, n := range truth.Preferred {
		groups["entra_default_mfa_method_users"] = append(groups["entra_default_mfa_method_users"],
			fmt.Sprintf("entra_default_mfa_method_users{method=\"%s\",tenant_id=\"%s\",user_type=\"%s\"} %d\n", k.Value, tenant.ID, k.UserType, n))
	}
	for _, name := range userFamilies {
		gauge(name, groups[name])
	}
	return b.String()
}

var userFamilies = []string{"entra_mfa_registered_users", "entra_mfa_unregistered_users", "entra_mfa_capable_users",
	"entra_passwordless_capable_users", "entra_sspr_registered_users", "entra_auth_method_registered_users", "entra_default_mfa_method_users"}

func TestUsersMatchGroundTruthAcrossPages(t *testing.T) {
	tenant := testTenant(2500) // 999 a page: three pages
	fake := testsupport.StartFake(t, tenant)
	e := newTestExporter(t, testConfig(fake, nil, usersOnly(time.Minute)))
	refresh(e)

	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	pages := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, "/userRegistrationDetails") {
			pages++
			if got := r.Header.Get("Accept"); !strings.Contains(got, "application/json") {
				t.Errorf("page %d: Accept header %q, want application/json on every page (the SDK's page iterator drops it)", pages, got)
			}
		}
	}
	if pages != 3 {
		t.Errorf("Graph saw %d report pages, want 3", pages)
	}
}

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

// Records that depart from the documented shape (a missing isAdmin or isMfaRegistered, an
// undocumented userType, method or second factor, no id), 5% of them, spread over three pages:
// the source stays up and every count is exact, with unknown and other where the fake's own
// truth puts them; the records without an id are counted as skipped. The old code failed the
// whole refresh on the first record without isAdmin.
func TestUsersOddRecordsAreCountedWithWhatTheyHave(t *testing.T) {
	tenant := testTenant(2500)
	tenant.Odd = 0.05
	fake := testsupport.StartFake(t, tenant)
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, usersOnly(time.Minute)))
	refresh(e)

	if up, _ := sourceUp(t, e); up != 1 {
		t.Fatalf("source_up = %v, want 1; logs:\n%s", up, logs.String())
	}
	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	truth := tenant.UserTruth()
	if got, _ := sample(t, e, "mfa_exporter_records_skipped_total", map[string]string{"source": "users", "reason": skipNoID}); got != float64(truth.WithoutID) || got == 0 {
		t.Errorf(`records_skipped_total{reason="no_id"} = %v, want %d (and some)`, got, truth.WithoutID)
	}
	odd := map[string]bool{}
	for i := range tenant.Users {
		odd[tenant.User(i).Odd] = true
	}
	// Once per field and what it counted as: an undocumented method is the method label other and
	// the strength none.
	for field, want := range map[string]int{"userType": 1, "isAdmin": 1, "isMfaRegistered": 1, "methodsRegistered": 2,
		"userPreferredMethodForSecondaryAuthentication": 1, "systemPreferredAuthenticationMethods": 1} {
		if n := strings.Count(logs.String(), "field="+field+" "); n != want {
			t.Errorf("the undocumented %s values were logged %d times, want %d per refresh:\n%s", field, n, want, logs.String())
		}
	}
	if len(odd) < 8 {
		t.Errorf("the tenant has %d kinds of odd record, want all 7 and documented ones", len(odd))
	}
}

// Graph documents only $filter for the report. When it refuses $select and $top, the source
// reads on without them, remembers it (the next refresh sends neither) and logs it once per
// option; the counts stay exact. The old code failed every refresh on the 400.
func TestReportQueryOptionsRefusedAreDropped(t *testing.T) {
	tenant := testTenant(1500)
	fake := testsupport.StartFake(t, tenant)
	fake.RefuseQueryOptions(reportPath, "$select", "$top")
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, testConfig(fake, logs, usersOnly(time.Minute)))
	refresh(e)
	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	if up, _ := sourceUp(t, e); up != 1 {
		t.Fatalf("source_up = %v, want 1", up)
	}
	var statuses []int
	for _, r := range fake.Requests() {
		statuses = append(statuses, r.Status)
	}
	// $select and $top refused one after the other, then the pages of 100 (the report's default).
	if want := []int{400, 400, 200}; len(statuses) < 3 || !slices.Equal(statuses[:3], want) || slices.Contains(statuses[2:], 400) {
		t.Errorf("Graph answered %v, want 400 ($select), 400 ($top), then only 200s", statuses)
	}

	fake.ResetRequests()
	refresh(e)
	for _, r := range fake.Requests() {
		if r.Query.Has("$select") || r.Query.Has("$top") || r.Status != 200 {
			t.Errorf("the second refresh sent %v and got %d; it should remember what Graph refused", r.Query, r.Status)
		}
	}
	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	for _, option := range []string{"$select", "$top"} {
		if n := strings.Count(logs.String(), "option="+option); n != 1 {
			t.Errorf("Graph's refusal of %s was logged %d times, want once:\n%s", option, n, logs.String())
		}
	}
}
