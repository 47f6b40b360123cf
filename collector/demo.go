package collector

import (
	"fmt"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// Demo is simulated tenants served by an in-process fake Graph on 127.0.0.1, for trying the
// exporter without Azure credentials.
type Demo struct {
	fake *fakegraph.Server
}

// StartDemo serves simulated tenants (the first of the given number of users, the others of
// between half and one and a half times that) until Close.
func StartDemo(tenants, users int) (*Demo, error) {
	if users < 0 {
		return nil, fmt.Errorf("--demo.users must not be negative, got %d", users)
	}
	if tenants < 1 {
		return nil, fmt.Errorf("--demo.tenants must be at least 1, got %d", tenants)
	}
	fake := fakegraph.Start(fakegraph.NewDemoTenants(tenants, users)...)
	fake.KeepRequests(false)
	return &Demo{fake: fake}, nil
}

// FailAtRandom makes the demo's Graph answer a share (0 to 1) of its requests, at random, with
// a 429, a 503 or a body that is not JSON: to watch the exporter cope, and for soak tests.
func (d *Demo) FailAtRandom(share float64) error {
	if !(share >= 0 && share <= 1) {
		return fmt.Errorf("--demo.faults must be from 0 to 1, got %v", share)
	}
	d.fake.FailAtRandom(share)
	return nil
}

// URL is where the demo's fake Graph listens.
func (d *Demo) URL() string { return d.fake.URL }

// Close stops the fake Graph.
func (d *Demo) Close() { d.fake.Close() }

// Tenants is how many simulated tenants the demo serves.
func (d *Demo) Tenants() int { return len(d.fake.Tenants) }

// tenants read the fake with each tenant's static token, all through one app. The fake Graph is
// in-process: reports budgets 10 times Graph's (per tenant and across tenants) keep the demo's
// first read short.
func (d *Demo) tenants(sources map[string]sourceSettings) []tenantSpec {
	limits := graph.GraphLimits()
	limits[graph.FamilyReports] = graph.Limit{Requests: 5, Per: time.Second}
	app := graph.AppLimits()
	app[graph.FamilyReports] = graph.Limit{Requests: app[graph.FamilyReports].Requests, Per: time.Second}
	var specs []tenantSpec
	for i, t := range d.fake.Tenants {
		specs = append(specs, tenantSpec{id: t.ID, name: fmt.Sprintf("Demo tenant %d", i), fingerprint: t.ID, app: "demo", appLimits: app,
			graph: graph.Options{BaseURL: d.fake.URL, Scope: "https://graph.microsoft.com/.default",
				Credential: d.fake.CredentialFor(t.ID), Transport: d.fake.Transport(), Limits: limits},
			sources: sources})
	}
	return specs
}
