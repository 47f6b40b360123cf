package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// readTenantsTogether reads the report of every tenant of fake at once, one client per tenant,
// each paced to its tenant's budget (3 per window) and, when app is set, to the app's across
// tenants as well; it returns how many requests Graph throttled and how many reads failed.
func readTenantsTogether(t *testing.T, fake *fakegraph.Server, app *graph.AppPacer, window time.Duration) (throttled, failed int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, tenant := range fake.Tenants {
		c := newClient(t, fake, func(o *graph.Options) {
			o.Credential = fake.CredentialFor(tenant.ID)
			o.Limits = map[graph.Family]graph.Limit{graph.FamilyReports: {Requests: 3, Per: window}}
			o.App = app
			o.MaxRetries = 3
		})
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			q := graph.Query{Path: "/v1.0/reports/authenticationMethods/userRegistrationDetails", Top: 2}
			if err := graph.List(ctx, c, q, models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue,
				func(models.UserRegistrationDetailsable) error { return nil }); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return fake.Throttled(), failed
}

// Graph limits an app's report requests across tenants as well as per tenant: clients of
// several tenants that share an AppPacer keep to both budgets; without it they run into the
// budget across tenants.
func TestAppPacerKeepsTenantsWithinTheAppBudget(t *testing.T) {
	const window = 300 * time.Millisecond
	start := func() *fakegraph.Server {
		var tenants []*fakegraph.Tenant
		for i := range 4 {
			tenants = append(tenants, &fakegraph.Tenant{ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), Seed: uint64(i), Users: 12, Domain: "t.example"})
		}
		fake := fakegraph.Start(tenants...)
		t.Cleanup(fake.Close)
		fake.EnforceReportsLimit(3, window)
		fake.EnforceAppReportsLimit(5, window)
		return fake
	}
	if throttled, _ := readTenantsTogether(t, start(), nil, window); throttled == 0 {
		t.Error("without an app pacer, 4 tenants at 3 requests a window each were never throttled by a budget of 5 across them: the test does not test")
	}
	fake := start()
	begin := time.Now()
	throttled, failed := readTenantsTogether(t, fake, graph.NewAppPacer(map[graph.Family]graph.Limit{graph.FamilyReports: {Requests: 5, Per: window}}), window)
	if throttled != 0 || failed != 0 {
		t.Errorf("with the app pacer, Graph throttled %d requests and %d reads failed", throttled, failed)
	}
	// 4 tenants × 6 pages at 5 per window across them: at least 4 windows.
	if took := time.Since(begin); took < 4*window {
		t.Errorf("24 pages took %v, less than 4 windows of the app's budget", took)
	}
}
