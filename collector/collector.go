// Package collector holds mfa_exporter's sources. Each source reads one part of the Entra ID
// tenant from Microsoft Graph in the background, on its own interval, and folds the pages into
// counts as they arrive; the result is a snapshot, swapped in atomically. A scrape never calls
// Graph: Collect renders the last good snapshot of every source as const metrics, with health
// metrics that say how fresh each snapshot is. This departs on purpose from Prometheus's
// fetch-on-scrape default, because Graph is slow, rate-limited and its reports lag by hours.
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/graph"
)

const namespace = "mfa_exporter"

// Snapshot is what one successful refresh of a source read; it renders itself as metrics.
type Snapshot interface {
	Collect(ch chan<- prometheus.Metric)
}

// Source reads one part of the tenant from Graph.
type Source interface {
	// Refresh reads Graph and returns a complete snapshot, or an error and no snapshot:
	// a failed refresh never yields a half-counted one.
	Refresh(ctx context.Context) (Snapshot, error)
}

// Config is what every source is built with.
type Config struct {
	Graph    *graph.Client
	TenantID string
	Logger   *slog.Logger
	Now      func() time.Time
}

// SourceSettings say how one source runs.
type SourceSettings struct {
	Interval time.Duration
	Timeout  time.Duration
	New      func(Config) (Source, error)
}

type registration struct {
	name       string
	permission string
	enabled    *bool
	interval   *model.Duration
	timeout    *model.Duration
	factory    func(Config) (Source, error)
}

var registry = map[string]*registration{}

// registerSource declares a source and its --[no-]collector.NAME, refresh-interval and
// refresh-timeout flags. permission is what the tenant must grant for it, named in failure logs.
func registerSource(name, permission string, interval time.Duration, factory func(Config) (Source, error)) {
	r := &registration{name: name, permission: permission, factory: factory}
	r.enabled = kingpin.Flag("collector."+name, fmt.Sprintf("Enable the %s source (requires %s).", name, permission)).Default("true").Bool()
	r.interval = DurationFlag("collector."+name+".refresh-interval",
		fmt.Sprintf("How often the %s source reads Graph in the background; scrapes are served from its last good read.", name),
		model.Duration(interval))
	r.timeout = DurationFlag("collector."+name+".refresh-timeout",
		fmt.Sprintf("How long one refresh of the %s source may take, Graph's throttling waits included.", name),
		model.Duration(interval))
	registry[name] = r
}

// DurationFlag declares a flag that takes Prometheus durations (30s, 15m, 1h, 30d). The value
// holds the default even before the flags are parsed (tests build sources without parsing).
func DurationFlag(name, help string, def model.Duration) *model.Duration {
	d := &def
	kingpin.Flag(name, help).Default(def.String()).SetValue(d)
	return d
}

// SourcesFromFlags returns the sources that the command line enables.
func SourcesFromFlags() (map[string]SourceSettings, error) {
	out := map[string]SourceSettings{}
	for name, r := range registry {
		if !*r.enabled {
			continue
		}
		if *r.interval <= 0 || *r.timeout <= 0 {
			return nil, fmt.Errorf("--collector.%s.refresh-interval and --collector.%s.refresh-timeout must be positive", name, name)
		}
		out[name] = SourceSettings{Interval: time.Duration(*r.interval), Timeout: time.Duration(*r.timeout), New: r.factory}
	}
	return out, nil
}

// Options configure an Exporter.
type Options struct {
	TenantID string
	Graph    graph.Options
	Logger   *slog.Logger
	// Now is the sources' clock; nil means time.Now.
	Now     func() time.Time
	Sources map[string]SourceSettings
}

// Exporter runs the sources and is the prometheus.Collector that renders their snapshots.
type Exporter struct {
	logger   *slog.Logger
	runners  []*runner
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
}

type runner struct {
	name       string
	permission string
	source     Source
	settings   SourceSettings

	snapshot atomic.Pointer[Snapshot]
	health   atomic.Pointer[health]

	running     sync.Mutex // held for a refresh; a refresh due while one runs is skipped
	lastFailure string     // guarded by running; a failure is logged once, until its kind changes
}

type health struct {
	up          bool
	lastSuccess time.Time
	duration    time.Duration
}

var (
	upDesc = prometheus.NewDesc(namespace+"_source_up",
		"1 if the source's last background refresh from Graph worked, 0 if it failed (its last good snapshot is still served).",
		[]string{"source"}, nil)
	lastSuccessDesc = prometheus.NewDesc(namespace+"_source_last_success_timestamp_seconds",
		"When the source last refreshed from Graph successfully; its metrics are that old, since scrapes serve the cached snapshot.",
		[]string{"source"}, nil)
	durationDesc = prometheus.NewDesc(namespace+"_source_refresh_duration_seconds",
		"How long the source's last background refresh from Graph took, throttling waits included.",
		[]string{"source"}, nil)
)

// New builds the Graph client and the sources. Nothing talks to Graph until Start or Refresh.
func New(o Options) (*Exporter, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Exporter{
		logger: o.Logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graph_requests_total",
			Help: "HTTP requests the background refreshes sent to Microsoft Graph, by source and response status code, retries and 429s included.",
		}, []string{"source", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "source_errors_total",
			Help: "Background refreshes of a source that failed, by reason.",
		}, []string{"source", "reason"}),
	}
	gopts := o.Graph
	gopts.OnResponse = func(source string, code int) {
		e.requests.WithLabelValues(source, strconv.Itoa(code)).Inc()
	}
	client, err := graph.New(gopts)
	if err != nil {
		return nil, err
	}
	cfg := Config{Graph: client, TenantID: o.TenantID, Logger: o.Logger, Now: o.Now}
	names := make([]string, 0, len(o.Sources))
	for name := range o.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := o.Sources[name]
		src, err := s.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		r := &runner{name: name, source: src, settings: s}
		if reg := registry[name]; reg != nil {
			r.permission = reg.permission
		}
		for _, reason := range graph.Reasons {
			e.errors.WithLabelValues(name, reason)
		}
		e.runners = append(e.runners, r)
	}
	return e, nil
}

// Start refreshes every source now and then on its interval, in the background, until ctx ends.
func (e *Exporter) Start(ctx context.Context) {
	for _, r := range e.runners {
		go func() {
			t := time.NewTicker(r.settings.Interval)
			defer t.Stop()
			for {
				e.refresh(ctx, r)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
}

// Refresh refreshes every source once, now, and waits for them all.
func (e *Exporter) Refresh(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range e.runners {
		wg.Go(func() { e.refresh(ctx, r) })
	}
	wg.Wait()
}

func (e *Exporter) refresh(ctx context.Context, r *runner) {
	if !r.running.TryLock() {
		e.logger.Warn("refresh skipped: the previous one is still running", "source", r.name)
		return
	}
	defer r.running.Unlock()
	ctx, cancel := context.WithTimeout(graph.WithSource(ctx, r.name), r.settings.Timeout)
	defer cancel()
	start := time.Now()
	snap, err := r.source.Refresh(ctx)
	h := &health{duration: time.Since(start)}
	if prev := r.health.Load(); prev != nil {
		h.lastSuccess = prev.lastSuccess
	}
	if err != nil {
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
		e.logger.Log(ctx, level, "refresh failed; serving the last good snapshot", "source", r.name,
			"reason", gerr.Reason, "status", gerr.Status, "code", gerr.Code, "message", gerr.Message,
			"hint", hint(gerr.Reason, r), "duration", h.duration)
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

// hint says what an operator can do about a failure.
func hint(reason string, r *runner) string {
	switch reason {
	case graph.ReasonForbidden:
		return fmt.Sprintf("grant the app the Microsoft Graph application permission %s with admin consent, or disable the source with --no-collector.%s", r.permission, r.name)
	case graph.ReasonUnlicensed:
		return fmt.Sprintf("this Graph report needs a Microsoft Entra ID P1 or P2 licence in the tenant; without one, disable the source with --no-collector.%s", r.name)
	case graph.ReasonUnauthorized:
		return "the token was refused: check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate (expired?)"
	case graph.ReasonThrottled:
		return fmt.Sprintf("Graph kept throttling after the retries; raise --collector.%s.refresh-interval or look for other apps using the same budget", r.name)
	case graph.ReasonTimeout:
		return fmt.Sprintf("the refresh did not finish in %s; raise --collector.%s.refresh-timeout (large tenants need time under Graph's throttling budget)", r.settings.Timeout, r.name)
	case graph.ReasonServerError:
		return "Graph failed on its side; the next refresh will try again"
	case graph.ReasonNetwork:
		return "Graph could not be reached: check DNS, proxy (HTTPS_PROXY) and firewall"
	default:
		return "Graph answered with something the exporter could not read; the next refresh will try again"
	}
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
		if h == nil {
			continue // the first refresh has not finished yet
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, boolValue(h.up), r.name)
		ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, h.duration.Seconds(), r.name)
		if !h.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(h.lastSuccess.UnixNano())/1e9, r.name)
		}
	}
	e.requests.Collect(ch)
	e.errors.Collect(ch)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
