package e2e

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestSoak runs the built demo with a fifth of its Graph answers faulted (429, 503, garbage, at
// random) and the sources refreshing every 10 seconds, under 20 concurrent scrapers, for
// $MFA_SOAK (at least 2m; unset: skipped). It fails on a crash or a failed scrape, and when the
// last minute's memory or goroutines are not flat against the first minute's:
//
//	MFA_SOAK=10m go test -count=1 -timeout 20m -run TestSoak -v ./collector/internal/e2e/
func TestSoak(t *testing.T) {
	length, err := time.ParseDuration(os.Getenv("MFA_SOAK"))
	if err != nil {
		t.Skip("set MFA_SOAK to a duration (e.g. 10m) to run the soak test")
	}
	if length < 2*time.Minute {
		t.Fatalf("MFA_SOAK=%v: want at least 2m, to compare a first and a last minute", length)
	}
	const scrapers = 20
	e := startExporter(t, cleanEnv(), "--demo", "--demo.faults=0.2",
		"--collector.users.refresh-interval=10s", "--collector.credentials.refresh-interval=10s", "--collector.signins.refresh-interval=10s")
	url := "http://" + e.addr + "/metrics"
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()

	var scrapes, failed atomic.Int64
	var mu sync.Mutex
	var samples []soakSample
	var wg sync.WaitGroup
	for i := range scrapers {
		wg.Go(func() {
			for time.Since(start) < length {
				families, err := scrapeOnce(client, url)
				scrapes.Add(1)
				if err != nil {
					if failed.Add(1) <= 5 {
						t.Errorf("scrape failed after %v: %v", time.Since(start).Round(time.Second), err)
					}
					time.Sleep(time.Second)
					continue
				}
				if i == 0 { // one scraper samples the process
					mu.Lock()
					samples = append(samples, soakSample{time.Since(start), gaugeValue(families, "process_resident_memory_bytes"), gaugeValue(families, "go_goroutines"), families})
					mu.Unlock()
				}
				time.Sleep(250 * time.Millisecond)
			}
		})
	}
	wg.Wait()

	select {
	case <-e.exited:
		t.Fatalf("the exporter crashed (exit %d); logs:\n%s", e.cmd.ProcessState.ExitCode(), tail(e.logs.String(), 40))
	default:
	}
	first, last := window(samples, 0, time.Minute), window(samples, length-time.Minute, length)
	if len(first) == 0 || len(last) == 0 {
		t.Fatalf("too few samples: %d", len(samples))
	}
	rssFirst, rssLast := median(first, func(s soakSample) float64 { return s.rss }), median(last, func(s soakSample) float64 { return s.rss })
	gFirst, gLast := median(first, func(s soakSample) float64 { return s.goroutines }), median(last, func(s soakSample) float64 { return s.goroutines })
	t.Logf("soak of %v, %d scrapers, --demo.faults=0.2: 0 crashes, %d scrapes, %d failed", length, scrapers, scrapes.Load(), failed.Load())
	t.Logf("RSS median: first minute %.1f MiB, last minute %.1f MiB (max over the run %.1f MiB)", rssFirst/(1<<20), rssLast/(1<<20), maxOf(samples, func(s soakSample) float64 { return s.rss })/(1<<20))
	t.Logf("goroutines median: first minute %.0f, last minute %.0f (max %.0f)", gFirst, gLast, maxOf(samples, func(s soakSample) float64 { return s.goroutines }))
	t.Logf("at the end: %s", soakCounters(samples[len(samples)-1].families))
	if rssLast > 1.25*rssFirst {
		t.Errorf("RSS grew from %.1f MiB in the first minute to %.1f MiB in the last", rssFirst/(1<<20), rssLast/(1<<20))
	}
	if gLast > gFirst+20 {
		t.Errorf("goroutines grew from %.0f in the first minute to %.0f in the last", gFirst, gLast)
	}
}

type soakSample struct {
	at              time.Duration
	rss, goroutines float64
	families        map[string]*dto.MetricFamily
}

func scrapeOnce(client *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

func gaugeValue(families map[string]*dto.MetricFamily, name string) float64 {
	if mf := families[name]; mf != nil && len(mf.Metric) == 1 {
		return mf.Metric[0].GetGauge().GetValue()
	}
	return 0
}

// soakCounters sums the health counters by label: what the faults did to the refreshes.
func soakCounters(families map[string]*dto.MetricFamily) string {
	var parts []string
	for _, c := range []struct{ family, label string }{{"mfa_exporter_graph_requests_total", "code"}, {"mfa_exporter_source_errors_total", "reason"}} {
		sums := map[string]float64{}
		for _, m := range families[c.family].GetMetric() {
			sums[labelsOf(m)[c.label]] += m.GetCounter().GetValue()
		}
		keys := make([]string, 0, len(sums))
		for k := range sums {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if sums[k] > 0 {
				parts = append(parts, fmt.Sprintf("%s{%s=%q} %.0f", c.family, c.label, k, sums[k]))
			}
		}
	}
	return strings.Join(parts, ", ")
}

func window(samples []soakSample, from, to time.Duration) []soakSample {
	var out []soakSample
	for _, s := range samples {
		if s.at >= from && s.at < to {
			out = append(out, s)
		}
	}
	return out
}

func median(samples []soakSample, value func(soakSample) float64) float64 {
	values := make([]float64, len(samples))
	for i, s := range samples {
		values[i] = value(s)
	}
	sort.Float64s(values)
	return values[len(values)/2]
}

func maxOf(samples []soakSample, value func(soakSample) float64) float64 {
	m := 0.0
	for _, s := range samples {
		m = max(m, value(s))
	}
	return m
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
