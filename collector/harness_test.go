package collector

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// testTenant is a small generated tenant; pageSize users make one page in the tests.
func testTenant(users int) *fakegraph.Tenant {
	return &fakegraph.Tenant{ID: "11111111-2222-4333-8444-555555555555", Seed: 7, Users: users, UnregisteredAdmins: 1, Domain: "contoso.test"}
}

// testConfig is the test defaults: the static token, no pacing, one retry with short waits.
func testConfig(fake *fakegraph.Server, logs *testsupport.LogBuffer, sources map[string]sourceSettings) exporterConfig {
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return exporterConfig{
		tenantID: fake.Tenant.ID,
		logger:   logger,
		graph: graph.Options{BaseURL: fake.URL, Scope: "https://graph.microsoft.com/.default",
			Credential: fake.Credential(), Transport: fake.Transport(), MaxRetries: 2},
		sources: sources,
	}
}

// usersOnly returns the settings that run the users source alone.
func usersOnly(timeout time.Duration) map[string]sourceSettings {
	return map[string]sourceSettings{"users": {interval: time.Hour, timeout: timeout, new: sourceSpecs["users"].new}}
}

func newTestExporter(t testing.TB, cfg exporterConfig) *Exporter {
	t.Helper()
	e, err := newExporter(cfg)
	if err != nil {
		t.Fatalf("building the exporter: %v", err)
	}
	return e
}

// gather collects what the exporter serves through a pedantic registry.
func gather(t testing.TB, e *Exporter) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	return mfs
}

// scrape renders what the exporter serves, in the text format, keeping only the named families
// (all when none are named).
func scrape(t testing.TB, e *Exporter, families ...string) string {
	t.Helper()
	var out strings.Builder
	for _, mf := range gather(t, e) {
		if len(families) > 0 && !contains(families, mf.GetName()) {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&out, mf); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// compareSamples checks that the named families are served exactly as want, a text exposition
// without HELP lines (HELP wording is not what these tests are about).
func compareSamples(t testing.TB, e *Exporter, want string, families ...string) {
	t.Helper()
	got := withoutHelp(scrape(t, e, families...))
	if want = withoutHelp(want); got != want {
		t.Errorf("served metrics differ from the ground truth\n--- want\n%s\n--- got\n%s", want, got)
	}
}

// withoutHelp drops HELP lines and sorts the rest (each sample line names its family).
func withoutHelp(text string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "# HELP ") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func refresh(e *Exporter) { e.refreshAll(context.Background()) }

// onlyTenant is the exporter's one tenant.
func onlyTenant(e *Exporter) *tenant { return (*e.tenants.Load())[0] }
