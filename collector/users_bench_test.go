//go:build unix

package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// BenchmarkUsersRefresh refreshes the users source of tenants of growing size from the fake
// Graph, with its throttling and the client's pacing off, and reports per refresh: the Graph
// requests (asserted to be ceil(N/999)), the heap in use after it and at its peak, the process
// CPU time per 1,000 users (the in-process fake's page generation included) and the time of a
// scrape. The heap and the scrape time must not grow with N.
//
//	go test -run '^$' -bench BenchmarkUsersRefresh$ -benchtime=1x ./collector/
func BenchmarkUsersRefresh(b *testing.B) {
	heap := map[int]float64{}
	scrapes := map[int]float64{}
	for _, users := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			fake := testsupport.StartFake(b, testTenant(users))
			fake.KeepRequests(false)
			e := newTestExporter(b, testConfig(fake, nil, usersOnly(time.Hour)))
			stopPeak := samplePeakHeap()

			cpu := cpuTime()
			for b.Loop() {
				refresh(e)
			}
			cpu = cpuTime() - cpu
			peak := stopPeak()

			wantRequests := (users + reportPageSize - 1) / reportPageSize
			if got := requestsWithCode(e, 200); got != float64(wantRequests*b.N) || requestsWithCode(e, 429) != 0 {
				b.Fatalf("%d refreshes made %v requests answered 200 (and %v throttled), want %d each: ceil(%d/%d)",
					b.N, got, requestsWithCode(e, 429), wantRequests, users, reportPageSize)
			}
			if up, _ := sourceUp(b, e); up != 1 {
				b.Fatal("the refresh failed")
			}
			b.ReportMetric(float64(wantRequests), "requests/op")
			b.ReportMetric(cpu.Seconds()*1000/float64(b.N)/(float64(users)/1000), "cpu-ms/1k-users")
			b.ReportMetric(peak/(1<<20), "peak-heap-MiB")

			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			heap[users] = float64(m.HeapInuse)
			b.ReportMetric(heap[users]/(1<<20), "heap-inuse-MiB")

			reg := prometheus.NewRegistry()
			reg.MustRegister(e)
			const rounds = 100
			start := time.Now()
			for range rounds {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
			scrapes[users] = float64(time.Since(start).Microseconds()) / rounds
			b.ReportMetric(scrapes[users], "scrape-µs")
			runtime.KeepAlive(e)
		})
	}
	small, large := heap[10_000], heap[1_000_000]
	if small > 0 && large > small*1.5+8<<20 {
		b.Errorf("heap in use after a refresh grows with the tenant: %.1f MiB at 10k users, %.1f MiB at 1M", small/(1<<20), large/(1<<20))
	}
	if s, l := scrapes[10_000], scrapes[1_000_000]; s > 0 && l > 3*s+1000 {
		b.Errorf("a scrape takes %.0fµs at 10k users and %.0fµs at 1M: it should not depend on the tenant's size", s, l)
	}
}

// BenchmarkUsersRefreshUnderReportsBudget refreshes 20 pages against a fake enforcing the
// reports budget time-scaled (5 requests / 200 ms, and 5 / 1 s) with the client pacing to it,
// and reports how far above the budget's minimum time the refresh finished; a throttled
// request fails it. Pages are read one after the other, so no client can beat the budget's
// minimum plus the latency of the last window's pages: that bound is reported too, with the
// page latency measured by an unpaced refresh of the same tenant.
//
//	go test -run '^$' -bench BenchmarkUsersRefreshUnderReportsBudget -benchtime=1x ./collector/
func BenchmarkUsersRefreshUnderReportsBudget(b *testing.B) {
	const pages = 20
	for _, limit := range []time.Duration{200 * time.Millisecond, time.Second} {
		b.Run(fmt.Sprintf("per=%s", limit), func(b *testing.B) {
			budget := scaledReportsLimit
			budget.Per = limit
			fake := testsupport.StartFake(b, testTenant(pages*reportPageSize))
			fake.KeepRequests(false)
			unpaced, _ := pacedRefresh(b, fake, graph.Limit{})
			lastWindow := (pages-1)%budget.Requests + 1
			serialMin := budgetMinimum(pages, budget) + unpaced*time.Duration(lastWindow)/pages
			var total time.Duration
			for b.Loop() {
				elapsed, _ := pacedRefresh(b, fake, budget) // a new client each time: no tokens carried over
				total += elapsed
			}
			if n := fake.Throttled(); n != 0 {
				b.Fatalf("the fake Graph throttled %d requests, want 0", n)
			}
			min := budgetMinimum(pages, budget)
			mean := total / time.Duration(b.N)
			b.ReportMetric(min.Seconds(), "budget-min-s")
			b.ReportMetric(mean.Seconds(), "refresh-s")
			b.ReportMetric(100*(mean-min).Seconds()/min.Seconds(), "%-over-min")
			b.ReportMetric(100*(mean-serialMin).Seconds()/serialMin.Seconds(), "%-over-serial-min")
		})
	}
}

// BenchmarkFakeReportPages reads the report's pages with a plain HTTP client and no parsing:
// the fake Graph's share of BenchmarkUsersRefresh's CPU time.
//
//	go test -run '^$' -bench BenchmarkFakeReportPages -benchtime=1x ./collector/
func BenchmarkFakeReportPages(b *testing.B) {
	const users = 100_000
	fake := testsupport.StartFake(b, testTenant(users))
	fake.KeepRequests(false)
	client := fake.Client()
	cpu := cpuTime()
	for b.Loop() {
		next := fake.URL + "/v1.0" + reportPath + "?$top=999&$select=" + strings.Join(userRegistrationFields, ",")
		for next != "" {
			req, _ := http.NewRequest(http.MethodGet, next, nil)
			req.Header.Set("Authorization", "Bearer "+fakegraph.StaticToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page struct {
				NextLink string `json:"@odata.nextLink"`
			}
			err = errors.Join(json.NewDecoder(resp.Body).Decode(&page), resp.Body.Close())
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("reading a page: HTTP %d, %v", resp.StatusCode, err)
			}
			next = page.NextLink
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(cpu.Seconds()*1000/float64(b.N)/(users/1000), "cpu-ms/1k-users")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// samplePeakHeap samples the bytes in live and not yet swept heap objects until stopped, and
// returns the highest value seen.
func samplePeakHeap() (stop func() float64) {
	done, result := make(chan struct{}), make(chan float64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		peak := 0.0
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, float64(s[0].Value.Uint64()))
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		return <-result
	}
}
