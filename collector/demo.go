package collector

import (
	"fmt"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// Demo is a simulated tenant served by an in-process fake Graph on 127.0.0.1, for trying the
// exporter without Azure credentials.
type Demo struct {
	fake *fakegraph.Server
}

// StartDemo serves a simulated tenant of the given number of users until Close.
func StartDemo(users int) (*Demo, error) {
	if users < 0 {
		return nil, fmt.Errorf("--demo.users must not be negative, got %d", users)
	}
	fake := fakegraph.Start(fakegraph.NewDemoTenant(users))
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

// TenantID is the simulated tenant's id.
func (d *Demo) TenantID() string { return d.fake.Tenant.ID }

// graphOptions read the fake with its static token. The fake Graph is in-process: a reports
// budget 10 times Graph's keeps the demo's first read short.
func (d *Demo) graphOptions() graph.Options {
	limits := graph.GraphLimits()
	limits[graph.FamilyReports] = graph.Limit{Requests: 5, Per: time.Second}
	return graph.Options{BaseURL: d.fake.URL, Scope: "https://graph.microsoft.com/.default",
		Credential: d.fake.Credential(), Transport: d.fake.Transport(), Limits: limits}
}
