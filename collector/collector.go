// Package collector is mfa_exporter's Prometheus collector. Its sources each read one part of an
// Entra ID tenant from Microsoft Graph in the background, on their own interval, and fold the
// pages into counts as they arrive; the result is a snapshot, swapped in atomically. A scrape
// never calls Graph: Collect renders the last good snapshot of every source as const metrics,
// with health metrics that say how fresh each snapshot is. This departs on purpose from
// Prometheus's fetch-on-scrape default, because Graph is slow, rate-limited and its reports lag
// by hours.
//
// The layers, each a folder: internal/graph is the Graph client (pacing, retries, errors, List);
// a source (users.go, credentials.go, signins.go) folds Graph's pages into a snapshot; the
// Exporter runs the sources and renders their snapshots. internal/fakegraph is the fake Graph
// that the tests and the demo read.
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

const namespace = "mfa_exporter"

// Options configure an Exporter.
type Options struct {
	// TenantID is the Entra ID tenant to read: its GUID or a verified domain such as
	// contoso.onmicrosoft.com.
	TenantID string
	// Cloud is the Microsoft cloud, one of Clouds(): it picks Graph's endpoint and the authority.
	Cloud string
	// Endpoint, when set, is Graph's base URL instead of the cloud's (e.g. a proxy).
	Endpoint string
	// RequestTimeout bounds one Graph HTTP request, its retries included.
	RequestTimeout time.Duration
	// Demo, when set, is read instead of Azure; TenantID, Cloud and Endpoint are then unused.
	Demo   *Demo
	Logger *slog.Logger
}

// Clouds are the names Options.Cloud accepts.
func Clouds() []string { return graph.CloudNames() }

// maxRetries is how often a 429, 503 or 504 is retried before a refresh fails.
const maxRetries = 5

// DefaultRequestTimeout is --graph.request-timeout's default: ten minutes. Microsoft documents no
// latency for a Graph request; users report pages of sign-ins outlasting 300 s, where Microsoft's
// own Graph PowerShell SDK gives up (msgraph-sdk-powershell issues 2941 and 3146,
// microsoft/zerotrustassessment issue 1104). A page that needs longer than the timeout never
// arrives, however often it is resumed, so the default is twice that, which also leaves room for
// kiota's retry waits (at most 180 s).
const DefaultRequestTimeout = 10 * time.Minute

// New builds the Exporter for the sources the command line enables. Outside the demo it builds
// the Azure credential and gets one token with it, so that a credential that cannot work stops
// the exporter at start; nothing else talks to Graph until Start.
func New(ctx context.Context, o Options) (*Exporter, error) {
	if o.RequestTimeout <= 0 {
		return nil, fmt.Errorf("--graph.request-timeout must be positive")
	}
	sources, err := sourcesFromFlags()
	if err != nil {
		return nil, err
	}
	cfg := exporterConfig{logger: o.Logger, sources: sources}
	if o.Demo != nil {
		cfg.tenantID, cfg.graph = o.Demo.TenantID(), o.Demo.graphOptions()
	} else {
		cfg.tenantID = o.TenantID
		if cfg.graph, err = azureGraphOptions(ctx, o); err != nil {
			return nil, err
		}
	}
	cfg.graph.MaxRetries, cfg.graph.RequestTimeout = maxRetries, o.RequestTimeout
	return newExporter(cfg)
}

// azureGraphOptions are the options of a client of the real Graph in o's cloud.
func azureGraphOptions(ctx context.Context, o Options) (graph.Options, error) {
	cloud, err := graph.LookupCloud(o.Cloud)
	if err != nil {
		return graph.Options{}, fmt.Errorf("--graph.cloud: %w", err)
	}
	g := graph.Options{BaseURL: cloud.GraphURL, Scope: graph.Scope(cloud), Limits: graph.GraphLimits()}
	if o.Endpoint != "" {
		if g.BaseURL, err = graph.ParseBaseURL(o.Endpoint); err != nil {
			return graph.Options{}, fmt.Errorf("--graph.endpoint: %w", err)
		}
	}
	if o.TenantID == "" {
		return graph.Options{}, fmt.Errorf("no tenant id: set AZURE_TENANT_ID or --graph.tenant-id (or try --demo)")
	}
	if g.Credential, err = graph.NewCredential(cloud, o.TenantID); err != nil {
		return graph.Options{}, err
	}
	if err := graph.CheckCredential(ctx, g.Credential, g.Scope); err != nil {
		return graph.Options{}, err
	}
	return g, nil
}

// exporterConfig is what an Exporter is built from; tests build it directly around a fake Graph.
type exporterConfig struct {
	tenantID string
	graph    graph.Options
	logger   *slog.Logger
	now      func() time.Time // the sources' clock; nil means time.Now
	sources  map[string]sourceSettings
}

// Exporter runs the sources and is the prometheus.Collector that renders their snapshots.
type Exporter struct {
	logger   *slog.Logger
	runners  []*runner
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	capped   *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	stopped  sync.WaitGroup // the runners Start started
}

// runner runs one source: a refresh at a time, and the last good snapshot and health it left.
type runner struct {
	name       string
	permission string
	source     source
	settings   sourceSettings

	snapshot atomic.Pointer[snapshot]
	health   atomic.Pointer[health]

	running     sync.Mutex  // held for a refresh; a refresh due while one runs is skipped
	lastFailure string      // guarded by running; a failure is logged once, until its kind changes
	refreshed   atomic.Bool // a refresh has ended, in success or failure (Ready)
}

// health is a source's state as its health series show it; the zero health is a source whose
// first refresh has not ended: down, never succeeded (timestamp 0), no duration yet.
type health struct {
	up          bool
	lastSuccess time.Time
	duration    time.Duration
}

var (
	upDesc = prometheus.NewDesc(namespace+"_source_up",
		"1 if the source's last background refresh from Graph worked, 0 if it failed (its last good snapshot is still served) or its first refresh has not ended.",
		[]string{"source"}, nil)
	lastSuccessDesc = prometheus.NewDesc(namespace+"_source_last_success_timestamp_seconds",
		"When the source last refreshed from Graph successfully, 0 if it has not yet since the exporter started; its metrics are that old, since scrapes serve the cached snapshot.",
		[]string{"source"}, nil)
	durationDesc = prometheus.NewDesc(namespace+"_source_refresh_duration_seconds",
		"How long the source's last background refresh from Graph took, throttling waits included; 0 until the first one ends.",
		[]string{"source"}, nil)
)

func newExporter(cfg exporterConfig) (*Exporter, error) {
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	e := &Exporter{
		logger: cfg.logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graph_requests_total",
			Help: "HTTP requests the background refreshes sent to Microsoft Graph, by source and response status code, retries and 429s included.",
		}, []string{"source", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "source_errors_total",
			Help: "Background refreshes of a source that failed, by reason.",
		}, []string{"source", "reason"}),
		capped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graph_retry_after_capped_total",
			Help: fmt.Sprintf("Graph responses whose Retry-After asked for a wait longer than %s, which was waited instead, by source.", graph.MaxRetryAfter),
		}, []string{"source"}),
		skipped: prometheus.NewCounterVec(recordsSkippedOpts, []string{"source", "reason"}),
	}
	gopts := cfg.graph
	gopts.Logger = cfg.logger
	gopts.OnResponse = func(source string, code int) {
		e.requests.WithLabelValues(source, strconv.Itoa(code)).Inc()
	}
	gopts.OnRetryAfterCapped = func(source string) { e.capped.WithLabelValues(source).Inc() }
	client, err := graph.New(gopts)
	if err != nil {
		return nil, err
	}
	sc := sourceConfig{graph: client, tenantID: cfg.tenantID, logger: cfg.logger, now: cfg.now, skipped: e.skipped}
	names := make([]string, 0, len(cfg.sources))
	for name := range cfg.sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := cfg.sources[name]
		src, err := s.new(sc)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		r := &runner{name: name, source: src, settings: s}
		if spec := sourceSpecs[name]; spec != nil {
			r.permission = spec.permission
		}
		for _, reason := range graph.Reasons() {
			e.errors.WithLabelValues(name, reason)
		}
		e.capped.WithLabelValues(name)
		if s, ok := src.(skipReasoner); ok {
			for _, reason := range s.skipReasons() {
				e.skipped.WithLabelValues(name, reason)
			}
		}
		r.health.Store(&health{}) // not yet: down, never succeeded, until the first refresh ends
		e.runners = append(e.runners, r)
	}
	return e, nil
}

// Start refreshes every source now and then on its interval, in the background, until ctx ends;
// Wait waits for the refreshes running then to stop.
func (e *Exporter) Start(ctx context.Context) {
	for _, r := range e.runners {
		e.stopped.Go(func() {
			t := time.NewTicker(r.settings.interval)
			defer t.Stop()
			for {
				e.refresh(ctx, r)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
}

// Wait waits until the refreshes that Start started have stopped, after its context ended.
func (e *Exporter) Wait() { e.stopped.Wait() }

// Ready says whether every source has finished its first refresh, in success or failure: until
// then a scrape would miss the source's metrics, or its health.
func (e *Exporter) Ready() bool {
	for _, r := range e.runners {
		if !r.refreshed.Load() {
			return false
		}
	}
	return true
}

// refreshAll refreshes every source once, now, and waits for them all.
func (e *Exporter) refreshAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range e.runners {
		wg.Go(func() { e.refresh(ctx, r) })
	}
	wg.Wait()
}

func (e *Exporter) refresh(parent context.Context, r *runner) {
	if !r.running.TryLock() {
		e.logger.Warn("refresh skipped: the previous one is still running", "source", r.name)
		return
	}
	defer r.running.Unlock()
	ctx, cancel := context.WithTimeout(graph.WithSource(parent, r.name), r.settings.timeout)
	defer cancel()
	start := time.Now()
	snap, err := e.refreshSource(ctx, r)
	if err != nil && parent.Err() != nil {
		// A shutdown, not a Graph failure: nothing to count or to warn about.
		e.logger.Debug("refresh stopped: shutting down", "source", r.name, "err", err)
		return
	}
	defer r.refreshed.Store(true)
	h := &health{duration: time.Since(start)}
	if prev := r.health.Load(); prev != nil {
		h.lastSuccess = prev.lastSuccess
	}
	if err != nil {
		e.failed(ctx, r, h, err)
		return
	}
	if r.lastFailure != "" {
		e.logger.Info("refresh works again", "source", r.name)
		r.lastFailure = ""
	}
	h.up = true
	h.lastSuccess = time.Now()
	r.snapshot.Store(&snap)
	r.health.Store(h)
	e.logger.Debug("refresh done", "source", r.name, "duration", h.duration)
}

// refreshSource runs one refresh of the source. A panic, from an answer of Graph that nothing
// checked for breaking the SDK or a source, fails the refresh as malformed instead of ending the
// process; the stack goes to the debug log.
func (e *Exporter) refreshSource(ctx context.Context, r *runner) (snap snapshot, err error) {
	defer func() {
		if p := recover(); p != nil {
			e.logger.Debug("refresh panicked", "source", r.name, "panic", p, "stack", string(debug.Stack()))
			snap, err = nil, graph.MalformedError("reading Graph's answer panicked: %v", p)
		}
	}()
	return r.source.Refresh(ctx)
}

// failed counts and logs a failed refresh; the last good snapshot stays served.
func (e *Exporter) failed(ctx context.Context, r *runner, h *health, err error) {
	gerr := graph.Classify(err)
	if ctx.Err() == context.DeadlineExceeded {
		gerr.Reason = graph.ReasonTimeout
	}
	e.errors.WithLabelValues(r.name, gerr.Reason).Inc()
	r.health.Store(h)
	// The kind, not the text: a timeout's or network error's text names the page's URL.
	failure := fmt.Sprintf("%s %d %s", gerr.Reason, gerr.Status, gerr.Code)
	level := slog.LevelError
	if failure == r.lastFailure {
		level = slog.LevelDebug
	}
	r.lastFailure = failure
	hint := graph.Hint(gerr.Reason, graph.HintContext{Source: r.name, Permission: r.permission, Timeout: r.settings.timeout})
	e.logger.Log(ctx, level, "refresh failed; serving the last good snapshot", "source", r.name,
		"reason", gerr.Reason, "status", gerr.Status, "code", gerr.Code, "message", gerr.Message,
		"hint", hint, "duration", h.duration)
}

// Describe sends nothing: the snapshots' label sets vary, so the Exporter is an unchecked collector.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect renders the cached snapshots; it never calls Graph.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, r := range e.runners {
		if snap := r.snapshot.Load(); snap != nil {
			(*snap).Collect(ch)
		}
		h := r.health.Load()
		lastSuccess := 0.0 // never
		if !h.lastSuccess.IsZero() {
			lastSuccess = float64(h.lastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, boolValue(h.up), r.name)
		ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, h.duration.Seconds(), r.name)
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, lastSuccess, r.name)
	}
	e.requests.Collect(ch)
	e.errors.Collect(ch)
	e.capped.Collect(ch)
	e.skipped.Collect(ch)
}
