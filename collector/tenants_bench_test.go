package collector

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// benchTenants are n tenants of 2,000 users each, with the demo tenant's mix of app
// registrations, service principals and sign-ins in proportion, each its own id and seed.
func benchTenants(n int) []*fakegraph.Tenant {
	var out []*fakegraph.Tenant
	for i := range n {
		t := fakegraph.NewDemoTenant(2000)
		t.ID, t.Seed, t.Domain = fmt.Sprintf("%08x-0000-4000-8000-%012d", 0xb0000000+i, i), uint64(1000+i), fmt.Sprintf("t%d.example", i)
		t.Credentials = fakegraph.CredentialMix{ServicePrincipals: 1200, Applications: 160}
		t.SignIns.PerDay = 3200
		out = append(out, t)
	}
	return out
}

// allSources are the sources the binary runs by default (every flag at its default), with an
// hour's interval.
func allSources(t testing.TB) map[string]sourceSettings {
	t.Helper()
	if _, err := kingpin.CommandLine.Parse(nil); err != nil {
		t.Fatalf("parsing the default flags: %v", err)
	}
	sources, err := sourcesFromFlags()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range sources {
		s.interval, s.timeout = time.Hour, time.Hour
		sources[name] = s
	}
	return sources
}

// BenchmarkScrapeTenants serves /metrics for 1, 50 and 500 tenants of 2,000 users with every
// source on (read once from the fake Graph, unpaced), and reports the series, the bytes and the
// time of a scrape, plain and gzipped (as Prometheus asks for it): through the exporter's Handler
// (what main serves, from a rendering cached per tenant), and through a registry and promhttp,
// the path it replaced. The caches are filled by the first scrape, as by a first scrape after
// the refreshes.
//
//	go test -run '^$' -bench BenchmarkScrapeTenants -benchtime=20x ./collector/
func BenchmarkScrapeTenants(b *testing.B) {
	for _, n := range []int{1, 50, 500} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			fake := fakegraph.Start(benchTenants(n)...)
			b.Cleanup(fake.Close)
			fake.KeepRequests(false)
			cfg := multiTenantConfig(fake, nil, allSources(b))
			cfg.now = func() time.Time { return time.Now() }
			e := newTestExporter(b, cfg)
			refresh(e)
			for _, t := range *e.tenants.Load() {
				for _, r := range t.runners {
					if h := r.health.Load(); h == nil || !h.up {
						b.Fatalf("tenant %s source %s did not refresh", t.spec.id, r.name)
					}
				}
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(e)
			process := prometheus.NewRegistry()
			process.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			handlers := map[string]http.Handler{
				// what main serves: the exporter's Handler, from its caches
				"cached": e.Handler(process),
				// the registry path it replaced, for comparison
				"registry": promhttp.HandlerFor(prometheus.Gatherers{reg, process}, promhttp.HandlerOpts{}),
			}
			// "changed": every tenant changed since the last scrape (the first scrape, or one after
			// a round of refreshes of them all), so every tenant's text is rendered again.
			for _, path := range []string{"cached", "changed", "registry"} {
				for _, encoding := range []string{"identity", "gzip"} {
					b.Run("path="+path+"/encoding="+encoding, func(b *testing.B) {
						var size int
						handler := handlers[path]
						if path == "changed" {
							handler = handlers["cached"]
						}
						handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil)) // fill the caches
						for b.Loop() {
							if path == "changed" {
								for _, t := range *e.tenants.Load() {
									t.changed()
								}
							}
							req := httptest.NewRequest("GET", "/metrics", nil)
							req.Header.Set("Accept-Encoding", encoding)
							rec := httptest.NewRecorder()
							handler.ServeHTTP(rec, req)
							size = rec.Body.Len()
							if encoding == "gzip" {
								if _, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes())); err != nil {
									b.Fatal(err)
								}
							}
						}
						b.ReportMetric(float64(size)/1024, "KiB")
					})
				}
			}
			mfs, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			series := 0
			for _, mf := range mfs {
				series += len(mf.GetMetric())
			}
			b.ReportMetric(float64(series), "series")
			b.ReportMetric(float64(series)/float64(n), "series/tenant")
		})
	}
}
