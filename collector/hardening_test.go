package collector

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// What is JSON but not a page was served as an empty tenant (source_up 1, every count 0), or,
// for a null record, panicked in the refresh goroutine and ended the exporter. Each fails the
// refresh as malformed, and the last good snapshot stays served.
func TestWhatIsNotAPageFailsTheRefreshAndKeepsTheSnapshot(t *testing.T) {
	for _, body := range []string{`null`, `{"value":[null]}`, `[]`, `{"value":null}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			tenant := testTenant(100)
			fake := testsupport.StartFake(t, tenant)
			e := newTestExporter(t, testConfig(fake, nil, usersOnly(time.Minute)))
			refresh(e)

			fake.Inject(fakegraph.Fault{Path: reportPath, Body: body})
			refresh(e)
			if up, _ := sourceUp(t, e); up != 0 {
				t.Errorf("source_up = %v after Graph sent %s, want 0", up, body)
			}
			if got := errorsWithReason(e, graph.ReasonMalformed); got != 1 {
				t.Errorf(`source_errors_total{reason="malformed"} = %v, want 1`, got)
			}
			compareSamples(t, e, userTruthText(tenant), userFamilies...)
		})
	}
}

// panickingSource stands for a bug no check foresaw: its refresh panics.
type panickingSource struct{}

func (panickingSource) Refresh(context.Context) (snapshot, error) {
	var record map[string]*bool
	return nil, map[bool]error{}[*record["isAdmin"]] // a nil dereference, as a nil record makes
}

func TestAPanicInARefreshIsAMalformedFailure(t *testing.T) {
	fake := testsupport.StartFake(t, testTenant(10))
	logs := &testsupport.LogBuffer{}
	sources := map[string]sourceSettings{"users": {interval: time.Hour, timeout: time.Minute,
		new: func(sourceConfig) (source, error) { return panickingSource{}, nil }}}
	e := newTestExporter(t, testConfig(fake, logs, sources))
	refresh(e) // would end the test binary without the recover

	if up, ok := sourceUp(t, e); !ok || up != 0 {
		t.Errorf("source_up = %v (served: %t) after a panic, want 0", up, ok)
	}
	if got := errorsWithReason(e, graph.ReasonMalformed); got != 1 {
		t.Errorf(`source_errors_total{reason="malformed"} = %v, want 1`, got)
	}
	if !e.Ready() {
		t.Error("a source whose refresh panicked is not counted as refreshed")
	}
	out := logs.String()
	for _, want := range []string{"level=ERROR", "reason=malformed", "panicked", "level=DEBUG", "hardening_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs do not say %q (the failure, and the stack at debug level):\n%s", want, out)
		}
	}
	if n := strings.Count(out, "[running]"); n != 1 {
		t.Errorf("the stack was logged %d times, want once", n)
	}
}

// startsSignal tells, once, that a Graph request has been sent.
type startsSignal struct {
	next    http.RoundTripper
	started chan struct{}
}

func (s startsSignal) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case s.started <- struct{}{}:
	default:
	}
	return s.next.RoundTrip(r)
}

// A shutdown during a refresh is not a Graph failure: nothing counted, nothing logged above
// debug (the first release logged an ERROR naming DNS, proxy and firewall, and counted it as
// reason="network").
func TestShutdownDuringARefreshIsNoFailure(t *testing.T) {
	fake := testsupport.StartFake(t, testTenant(10))
	fake.Inject(fakegraph.Fault{Path: reportPath, Delay: time.Minute})
	logs := &testsupport.LogBuffer{}
	cfg := testConfig(fake, logs, usersOnly(time.Minute))
	started := make(chan struct{}, 1)
	cfg.graph.Transport = startsSignal{next: fake.Transport(), started: started}
	e := newTestExporter(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	e.Start(ctx)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh sent no request")
	}
	cancel()
	stopped := make(chan struct{})
	go func() { e.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh did not stop within 10s of the shutdown")
	}

	for _, reason := range graph.Reasons() {
		if got := errorsWithReason(e, reason); got != 0 {
			t.Errorf(`source_errors_total{reason=%q} = %v after a shutdown, want 0`, reason, got)
		}
	}
	if up, _ := sourceUp(t, e); up != 0 || e.Ready() {
		t.Errorf("source_up = %v, ready %t: the interrupted refresh was taken as a result", up, e.Ready())
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") || strings.Contains(out, "DNS") {
		t.Errorf("a shutdown was logged as a failure:\n%s", out)
	}
	if !strings.Contains(out, "shutting down") {
		t.Errorf("the interrupted refresh was not logged at debug level:\n%s", out)
	}
}

// Ready is what /-/ready answers: true once every source has refreshed once, in success or
// failure.
func TestReadyOnceEverySourceHasRefreshed(t *testing.T) {
	fake := testsupport.StartFake(t, credentialsTenant(5, 5))
	fake.Inject(fakegraph.Fault{Path: "/servicePrincipals", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."})
	sources, gate := gatedUsers()
	sources["credentials"] = sourceSettings{interval: time.Hour, timeout: time.Minute, new: sourceSpecs["credentials"].new}
	e := newTestExporter(t, testConfig(fake, nil, sources))
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); e.Wait() }()
	if e.Ready() {
		t.Fatal("ready before any refresh")
	}
	e.Start(ctx)
	<-gate.started
	time.Sleep(500 * time.Millisecond) // credentials fails meanwhile; users is held
	if e.Ready() {
		t.Error("ready while the users source has not finished its first refresh")
	}
	close(gate.release)
	for deadline := time.Now().Add(30 * time.Second); !e.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready 30s after every source had refreshed (one failed)")
		}
	}
}
