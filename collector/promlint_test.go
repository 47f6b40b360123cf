package collector

import (
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// Everything /metrics serves, with every registered source on and refreshed from the demo
// tenant, passes promlint.
func TestServedMetricsPassPromlint(t *testing.T) {
	// Parsing no arguments gives every flag its default, as the binary starts: all sources on.
	if _, err := kingpin.CommandLine.Parse(nil); err != nil {
		t.Fatalf("parsing the default flags: %v", err)
	}
	sources, err := sourcesFromFlags()
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) != len(sourceSpecs) {
		t.Fatalf("%d of the %d registered sources are on by default", len(sources), len(sourceSpecs))
	}
	fake := testsupport.StartFake(t, fakegraph.NewDemoTenant(3000))
	e := newTestExporter(t, testConfig(fake, nil, sources))
	refresh(e)
	for name := range sources {
		if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"source": name}); up != 1 {
			t.Errorf("source %s did not refresh from the demo tenant, so its metrics are not linted", name)
		}
	}

	// The same collectors main.go registers.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e, versioncollector.NewCollector("mfa_exporter"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	served := map[string]bool{}
	for _, mf := range mfs {
		served[mf.GetName()] = true
	}
	for _, name := range append(userFamilies, "mfa_exporter_source_up", "mfa_exporter_graph_requests_total", "mfa_exporter_build_info") {
		if !served[name] {
			t.Errorf("%s is not served", name)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatalf("linting: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
