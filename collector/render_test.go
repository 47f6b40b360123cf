package collector

import (
	"compress/gzip"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// serve is what Handler answers, decompressed when asked for gzip.
func serve(t *testing.T, e *Exporter, other prometheus.Gatherer, gzipped bool) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if gzipped {
		req.Header.Set("Accept-Encoding", "gzip, deflate")
	}
	rec := httptest.NewRecorder()
	e.Handler(other).ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, content type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	body := io.Reader(rec.Body)
	if gzipped {
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("asked for gzip, got no Content-Encoding: gzip")
		}
		gz, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = gz
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// registryText is what a registry holding the exporter and other serves, the reference the
// handler's rendering from its caches must equal.
func registryText(t *testing.T, e *Exporter, others ...prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(append(others, e)...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// sortedLines is text's lines sorted: the same series in another order compare equal.
func sortedLines(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// The handler serves, from its caches, exactly what the registry path renders: every family
// once (the text parser refuses a family in two places), with the same samples, and it follows
// the changes of a refresh and of the counters.
func TestHandlerServesWhatTheRegistryRenders(t *testing.T) {
	tenants := someTenants(3)
	fake := fakegraph.Start(tenants...)
	t.Cleanup(fake.Close)
	e := newTestExporter(t, multiTenantConfig(fake, nil, usersOnly(time.Minute)))
	build := collectors.NewBuildInfoCollector()
	other := prometheus.NewRegistry()
	other.MustRegister(build)
	check := func(when string) string {
		t.Helper()
		served := serve(t, e, other, false)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		if _, err := parser.TextToMetricFamilies(strings.NewReader(served)); err != nil {
			t.Fatalf("%s: the handler's text does not parse: %v", when, err)
		}
		if got, want := sortedLines(served), sortedLines(registryText(t, e, build)); got != want {
			t.Fatalf("%s: the handler serves\n%s\nthe registry renders\n%s", when, got, want)
		}
		if gz := serve(t, e, other, true); gz != served {
			t.Errorf("%s: gzipped, the handler serves another text", when)
		}
		return served
	}
	before := check("before the first refresh")
	refresh(e)
	after := check("after a refresh")
	if after == before || !strings.Contains(after, "entra_mfa_registered_users") {
		t.Error("the handler did not follow the refresh")
	}
	fake.Inject(fakegraph.Fault{Tenant: tenants[2].ID, Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."})
	refresh(e)
	failed := check("after a failed refresh")
	if !strings.Contains(failed, `mfa_exporter_source_errors_total{reason="forbidden",source="users",tenant_id="`+tenants[2].ID+`"} 1`) {
		t.Errorf("the handler does not serve the failure's count:\n%s", failed)
	}
}
