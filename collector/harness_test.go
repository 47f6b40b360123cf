package collector

import (
	"bytes"
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/mfa-exporter/mfa_exporter/collector/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/graph"
)

// testTenant is a small generated tenant; pageSize users make one page in the tests.
func testTenant(users int) *fakegraph.Tenant {
	return &fakegraph.Tenant{ID: "11111111-2222-4333-8444-555555555555", Seed: 7, Users: users, UnregisteredAdmins: 1, Domain: "contoso.test"}
}

// startFake runs a fake Graph for the test's lifetime.
func startFake(t testing.TB, tenant *fakegraph.Tenant) *fakegraph.Server {
	t.Helper()
	fake := fakegraph.Start(tenant)
	t.Cleanup(fake.Close)
	return fake
}

// testLogs collects what the exporter logs, for assertions on it.
type testLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// exporterOptions are the test defaults: the static token, no pacing, one retry with short waits.
func exporterOptions(fake *fakegraph.Server, logs *testLogs, sources map[string]SourceSettings) Options {
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return Options{
		TenantID: fake.Tenant.ID,
		Logger:   logger,
		Graph: graph.Options{BaseURL: fake.URL, Scope: "https://graph.microsoft.com/.default",
			Credential: fake.Credential(), Transport: fake.Transport(), MaxRetries: 2},
		Sources: sources,
	}
}

// source returns the settings that run one registered source with its flag defaults.
func source(name string, timeout time.Duration) map[string]SourceSettings {
	return map[string]SourceSettings{name: {Interval: time.Hour, Timeout: timeout, New: registry[name].factory}}
}

func newTestExporter(t testing.TB, o Options) *Exporter {
	t.Helper()
	e, err := New(o)
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

func refresh(e *Exporter) { e.Refresh(context.Background()) }
