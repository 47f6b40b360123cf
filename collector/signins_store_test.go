package collector

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/storage"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// signInsWithStore is an exporter of the signins source that stores its state in dir, as a
// process started on it would be.
func signInsWithStore(t *testing.T, fake *fakegraph.Server, clock *testClock, logs *testsupport.LogBuffer, o signInsOptions,
	transport http.RoundTripper, dir string) *Exporter {
	t.Helper()
	store, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := signInsExporterOptions(fake, clock, logs, o, transport)
	cfg.store = store
	return newTestExporter(t, cfg)
}

// A restarted exporter serves the stored sign-in counts at once and its next refresh reads only
// what is new since the stored one, less the overlap, as the process before it would have.
func TestSignInsResumeAfterARestart(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 24000, Late: 0.2, MaxDelay: 4 * time.Minute})
	fake := testsupport.StartFake(t, tenant)
	dir := t.TempDir()
	first := signInsWithStore(t, fake, clock, nil, defaultSignInsOptions, nil, dir)
	refresh(first)
	read := clock.Now()
	served := scrape(t, first, signInFamilies...)

	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	second := signInsWithStore(t, fake, clock, nil, defaultSignInsOptions, nil, dir)
	if got := scrape(t, second, signInFamilies...); got != served {
		t.Errorf("the restarted exporter serves\n%s\nwhere the first served\n%s", got, served)
	}
	refresh(second)
	now := clock.Now()
	compareSamples(t, second, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	filters, _ := signInQueries(t, fake)
	wantFilters(t, filters, filterFor(read.Add(-10*time.Minute), now, "interactiveUser"), filterFor(read.Add(-10*time.Minute), now, "nonInteractiveUser"))
}

// A first read cut short, then a restart: the restarted exporter reads the gap below what the
// first counted, then what is new, and nothing it counted before.
func TestSignInsInterruptedReadResumesAfterARestart(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 24000})
	fake := testsupport.StartFake(t, tenant)
	dir := t.TempDir()
	transport := &failingTransport{next: fake.Transport(), fail: failAt(4)} // page 4 of the interactive read
	refresh(signInsWithStore(t, fake, clock, nil, defaultSignInsOptions, transport, dir))
	first := clock.Now()

	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	second := signInsWithStore(t, fake, clock, nil, defaultSignInsOptions, nil, dir)
	refresh(second)
	now := clock.Now()
	compareSamples(t, second, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	filters, _ := signInQueries(t, fake)
	if len(filters) != 3 {
		t.Fatalf("after an interrupted first read and a restart Graph saw the queries\n%s\nwant the gap, the interactive sign-ins since, the non-interactive ones", strings.Join(filters, "\n"))
	}
	gapTo, err := time.Parse(time.RFC3339, strings.Fields(filters[0])[6])
	if err != nil || !gapTo.Before(first.Add(-time.Hour)) {
		t.Errorf("the gap query %q should end where the interrupted read stopped, hours below %s", filters[0], first.Format(time.RFC3339))
	}
	gapFrom := windowStart(now, 24*time.Hour)
	wantFilters(t, filters[1:], filterFor(first.Add(-10*time.Minute), now, "interactiveUser"), filterFor(gapFrom, now, "nonInteractiveUser"))
}

// A state counted with other settings (here another overlap) would count some sign-ins twice or
// never: it is ignored with one log line and the window is read again.
func TestSignInsStateOfOtherSettingsIsNotRestored(t *testing.T) {
	clock := newTestClock()
	tenant := signInTenant(clock, fakegraph.SignInMix{PerDay: 5000})
	fake := testsupport.StartFake(t, tenant)
	dir := t.TempDir()
	refresh(signInsWithStore(t, fake, clock, nil, defaultSignInsOptions, nil, dir))

	clock.Advance(15 * time.Minute)
	fake.ResetRequests()
	longer := defaultSignInsOptions
	longer.overlap = 2 * time.Hour
	logs := &testsupport.LogBuffer{}
	second := signInsWithStore(t, fake, clock, logs, longer, nil, dir)
	if !strings.Contains(logs.String(), "stored state ignored") || !strings.Contains(logs.String(), "overlap=2h0m0s") {
		t.Errorf("the state of other settings was not refused with a log line naming them:\n%s", logs)
	}
	refresh(second)
	now := clock.Now()
	compareSamples(t, second, signInTruthText(tenant, now, 24*time.Hour), signInFamilies...)
	filters, _ := signInQueries(t, fake)
	start := windowStart(now, 24*time.Hour)
	wantFilters(t, filters, filterFor(start, now, "interactiveUser"), filterFor(start, now, "nonInteractiveUser"))
}
