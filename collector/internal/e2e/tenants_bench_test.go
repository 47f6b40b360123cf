package e2e

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// benchTenant is a tenant of 2,000 users with the demo tenant's mix of service principals, app
// registrations and sign-ins in proportion (1,200, 160, 3,200 a day).
func benchTenant(i int) *fakegraph.Tenant {
	t := fakegraph.NewDemoTenant(2000)
	t.ID, t.Seed, t.Domain = fmt.Sprintf("%08x-2222-4333-8444-%012d", 0xd0000000+i, i), uint64(7000+i), fmt.Sprintf("b%d.example", i)
	t.Credentials = fakegraph.CredentialMix{ServicePrincipals: 1200, Applications: 160}
	t.SignIns.PerDay = 3200
	return t
}

// processMemory reads a process's peak and current resident memory, in bytes, from /proc.
func processMemory(b *testing.B, pid int) (peak, current float64) {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 3 && (fields[0] == "VmHWM:" || fields[0] == "VmRSS:") {
			kib, _ := strconv.ParseFloat(fields[1], 64)
			if fields[0] == "VmHWM:" {
				peak = kib * 1024
			} else {
				current = kib * 1024
			}
		}
	}
	return peak, current
}

// timedScrape GETs /metrics and returns how long it took and how many bytes came.
func timedScrape(b *testing.B, addr string, gzipped bool) (time.Duration, int) {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if gzipped {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	transport := &http.Transport{DisableCompression: true}
	start := time.Now()
	resp, err := transport.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	if gzipped {
		if _, err := gzip.NewReader(strings.NewReader(string(body))); err != nil {
			b.Fatal(err)
		}
	}
	return took, len(body)
}

// BenchmarkTenants runs the built exporter with a configuration file of 1, 50 and 500 tenants of
// 2,000 users each, every source on, all read with one app's secret from a fake Graph that
// enforces Graph's reports budgets (5 requests per 10 s per tenant, 122 per 10 s for the app
// across tenants), and reports: the wall time of the first full refresh round (until every
// source of every tenant is up), the exporter's peak and current resident memory and its growth
// per tenant over the one-tenant run, Graph requests per tenant and 429s, and the time and size
// of a scrape (the first one after the round, which renders every tenant, then cached ones,
// plain and gzipped, the median of 9). It fails when Graph throttled, when memory grows by more
// than 1 MiB per tenant, or when a cached scrape of 500 tenants takes 100 ms or more.
//
//	go test -run '^$' -bench BenchmarkTenants -benchtime=1x -timeout 60m ./collector/internal/e2e/
//	MFA_BENCH_ARGS=--graph.max-concurrent-refreshes=25 go test -run '^$' -bench 'BenchmarkTenants/tenants=50$' -benchtime=1x ./collector/internal/e2e/
func BenchmarkTenants(b *testing.B) {
	var baseline float64 // the one-tenant run's resident memory
	for _, n := range []int{1, 50, 500} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			for b.Loop() {
				rss := benchTenants(b, n)
				if n == 1 {
					baseline = rss
				} else if baseline > 0 {
					perTenant := (rss - baseline) / float64(n-1)
					b.ReportMetric(perTenant/1024, "rss-growth-KiB/tenant")
					if perTenant > 1<<20 {
						b.Errorf("resident memory grows by %.0f KiB per tenant, more than the 1 MiB target", perTenant/1024)
					}
				}
			}
		})
	}
}

// benchTenants runs one round for n tenants, reports it, and returns the exporter's resident
// memory after it.
func benchTenants(b *testing.B, n int) float64 {
	var tenants []*fakegraph.Tenant
	for i := range n {
		tenants = append(tenants, benchTenant(i))
	}
	m := serveTenants(b, tenants)
	m.fake.EnforceReportsLimit(5, 10*time.Second)
	m.fake.EnforceAppReportsLimit(122, 10*time.Second)
	var entries []string
	for _, t := range tenants {
		entries = append(entries, tenantEntry(t.ID))
	}
	file := m.configFile(b, entries...)
	start := time.Now()
	// MFA_BENCH_ARGS adds flags, e.g. --graph.max-concurrent-refreshes=25.
	e := startExporter(b, m.env, append([]string{"--config.file=" + file, "--graph.endpoint=" + m.fake.URL}, strings.Fields(os.Getenv("MFA_BENCH_ARGS"))...)...)
	want := map[string][]string{}
	for _, t := range tenants {
		want[t.ID] = []string{"users", "credentials", "signins", "policies"}
	}
	waitForTenantsWithin(b, e, want, 30*time.Minute)
	round := time.Since(start)

	first, size := timedScrape(b, e.addr, false)
	// The median of 9 scrapes each way: the machine the benchmark runs on is shared.
	var plain, gzipped []time.Duration
	var gzipSize int
	for range 9 {
		d, _ := timedScrape(b, e.addr, false)
		dz, zs := timedScrape(b, e.addr, true)
		plain, gzipped, gzipSize = append(plain, d), append(gzipped, dz), zs
	}
	slices.Sort(plain)
	slices.Sort(gzipped)
	cached, cachedGzip := plain[len(plain)/2], gzipped[len(gzipped)/2]
	peak, rss := processMemory(b, e.cmd.Process.Pid)
	perTenant := map[string]int{}
	for _, r := range m.fake.Requests() {
		perTenant[r.Tenant]++
	}
	fewest, most := perTenant[tenants[0].ID], 0
	for _, t := range tenants {
		fewest, most = min(fewest, perTenant[t.ID]), max(most, perTenant[t.ID])
	}
	b.ReportMetric(round.Seconds(), "round-s")
	b.ReportMetric(peak/(1<<20), "peak-rss-MiB")
	b.ReportMetric(rss/(1<<20), "rss-MiB")
	b.ReportMetric(float64(len(m.fake.Requests()))/float64(n), "requests/tenant")
	b.ReportMetric(float64(most-fewest), "requests-spread")
	b.ReportMetric(float64(m.fake.Throttled()), "429s")
	b.ReportMetric(float64(first.Milliseconds()), "first-scrape-ms")
	b.ReportMetric(float64(cached.Microseconds())/1000, "scrape-ms")
	b.ReportMetric(float64(cachedGzip.Microseconds())/1000, "scrape-gzip-ms")
	b.ReportMetric(float64(max(plain[len(plain)-1], gzipped[len(gzipped)-1]).Microseconds())/1000, "scrape-max-ms")
	b.ReportMetric(float64(size)/1024, "scrape-KiB")
	b.ReportMetric(float64(gzipSize)/1024, "scrape-gzip-KiB")
	if m.fake.Throttled() != 0 {
		b.Errorf("Graph throttled %d requests", m.fake.Throttled())
	}
	if n >= 500 && (cached >= 100*time.Millisecond || cachedGzip >= 100*time.Millisecond) {
		b.Errorf("a scrape of %d tenants took %v (%v gzipped) at the median, the target is under 100 ms", n, cached, cachedGzip)
	}
	return rss
}

// waitForTenantsWithin is waitForTenants with a deadline of its own.
func waitForTenantsWithin(b *testing.B, e *exporter, want map[string][]string, within time.Duration) {
	b.Helper()
	poll := time.Second
	if len(want) > 50 {
		poll = 5 * time.Second // a scrape of hundreds of tenants is megabytes
	}
	for deadline := time.Now().Add(within); ; time.Sleep(poll) {
		families := scrapeFamilies(b, e)
		up, ready := upByTenant(families), true
		for _, m := range families["mfa_exporter_source_errors_total"].GetMetric() {
			if m.GetCounter().GetValue() > 0 {
				b.Fatalf("a refresh failed: %v; logs:\n%s", labelsOf(m), e.logs)
			}
		}
		for tenant, sources := range want {
			for _, s := range sources {
				if up[[2]string{tenant, s}] != 1 {
					ready = false
				}
			}
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("not every tenant's sources came up within %v", within)
		}
	}
}
