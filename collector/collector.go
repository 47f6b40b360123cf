// Package collector is mfa_exporter's Prometheus collector. Its sources each read one part of an
// Entra ID tenant from Microsoft Graph in the background, on their own interval, and fold the
// pages into counts as they arrive; the result is a snapshot, swapped in atomically. A scrape
// never calls Graph: it renders the last good snapshot of every source of every tenant as const
// metrics, with health metrics that say how fresh each snapshot is. This departs on purpose from
// Prometheus's fetch-on-scrape default, because Graph is slow, rate-limited and its reports lag
// by hours.
//
// The layers, each a folder: internal/graph is the Graph client (pacing, retries, errors, List);
// a source (users.go, credentials.go, signins.go, policies.go) folds Graph's pages into a
// snapshot; the Exporter runs a runner per tenant and source (tenants.go: the tenants of the
// command line, the demo or internal/config's file, reloaded in place) and renders their
// snapshots, cached per tenant (render.go); persist.go keeps their state in internal/storage
// across restarts. internal/fakegraph is the fake Graph that the tests and the demo read.
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/storage"
)

const namespace = "mfa_exporter"

// Options configure an Exporter.
type Options struct {
	// TenantID is the Entra ID tenant to read without ConfigFile: its GUID or a verified domain
	// such as contoso.onmicrosoft.com.
	TenantID string
	// Cloud is the Microsoft cloud, one of Clouds(): it picks Graph's endpoint and the authority.
	// A tenant of ConfigFile may name another.
	Cloud string
	// Endpoint, when set, is Graph's base URL instead of the cloud's (e.g. a proxy), for every tenant.
	Endpoint string
	// RequestTimeout bounds one Graph HTTP request, its retries included.
	RequestTimeout time.Duration
	// ConfigFile, when set, lists the tenants to read with their credentials (--config.file);
	// Reload reads it again.
	ConfigFile string
	// Shard, I/N, keeps only the tenants whose id hashes to shard I of N (--tenants.shard).
	Shard string
	// StoragePath, when set, keeps each tenant's and source's state there across restarts.
	StoragePath string
	// MaxConcurrentRefreshes bounds the refreshes running at once, over all tenants and sources.
	MaxConcurrentRefreshes int
	// Demo, when set, is read instead of Azure; TenantID, Cloud, Endpoint and ConfigFile are then unused.
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

// New builds the Exporter for the tenants and sources the command line and the configuration
// file enable. With one tenant from the command line it builds the Azure credential and gets one
// token with it, so that a credential that cannot work stops the exporter at start; a tenant of
// the configuration file whose credential fails is reported by its refreshes instead, so that one
// tenant does not stop the others. Nothing else talks to Graph until Start.
func New(ctx context.Context, o Options) (*Exporter, error) {
	if o.RequestTimeout <= 0 {
		return nil, fmt.Errorf("--graph.request-timeout must be positive")
	}
	if o.MaxConcurrentRefreshes < 1 {
		return nil, fmt.Errorf("--graph.max-concurrent-refreshes must be at least 1, got %d", o.MaxConcurrentRefreshes)
	}
	sources, err := sourcesFromFlags()
	if err != nil {
		return nil, err
	}
	shard, err := config.ParseShard(o.Shard)
	if err != nil {
		return nil, err
	}
	cfg := exporterConfig{logger: o.Logger, sources: sources, maxConcurrent: o.MaxConcurrentRefreshes, shard: shard}
	if o.StoragePath != "" {
		if cfg.store, err = storage.Open(o.StoragePath); err != nil {
			return nil, err
		}
	}
	switch {
	case o.Demo != nil:
		cfg.tenants = o.Demo.tenants(sources)
	case o.ConfigFile != "":
		t := newTenantsFile(o, sources)
		if cfg.tenants, err = t.load(); err != nil {
			return nil, err
		}
		cfg.load = t.load
	default:
		spec := tenantSpec{id: o.TenantID, fingerprint: o.TenantID, sources: sources}
		if spec.graph, err = azureGraphOptions(ctx, o); err != nil {
			return nil, err
		}
		cfg.tenants = []tenantSpec{spec}
	}
	for i := range cfg.tenants {
		cfg.tenants[i].graph.MaxRetries, cfg.tenants[i].graph.RequestTimeout = maxRetries, o.RequestTimeout
	}
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
		return graph.Options{}, fmt.Errorf("no tenant id: set AZURE_TENANT_ID or --graph.tenant-id, or list tenants in --config.file (or try --demo)")
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
	// tenants are the tenants to read. Tests may leave it empty and set tenantID, graph and
	// sources: one tenant.
	tenants  []tenantSpec
	tenantID string
	graph    graph.Options
	sources  map[string]sourceSettings
	// load reads the tenants again, for Reload; nil when there is nothing to read again.
	load  func() ([]tenantSpec, error)
	shard config.Shard
	// store keeps the sources' state across restarts; nil keeps it in memory only.
	store *storage.Store
	// maxConcurrent bounds the refreshes running at once; 0 does not.
	maxConcurrent int
	logger        *slog.Logger
	now           func() time.Time // the sources' clock; nil means time.Now
}

// Exporter runs the sources of every tenant and is the prometheus.Collector that renders their
// snapshots.
type Exporter struct {
	logger *slog.Logger
	now    func() time.Time
	load   func() ([]tenantSpec, error)
	shard  config.Shard
	store  *storage.Store
	// slots hold a token per refresh running, --graph.max-concurrent-refreshes of them; nil: no bound.
	slots chan struct{}
	// apps pace the tenants that share an app registration together, by app key.
	apps map[string]*graph.AppPacer

	// tenants, sorted by id, are replaced as a whole (never changed in place) under mu, so that
	// Collect reads them without a lock while a reload builds the next set.
	tenants atomic.Pointer[[]*tenant]
	mu      sync.Mutex      // held by Start and Reload
	ctx     context.Context // Start's; nil before Start
	ready   atomic.Bool     // once every first refresh has ended; a reload does not undo it

	reloadOK      prometheus.Gauge
	reloadTime    prometheus.Gauge
	storeFailures prometheus.Counter
}

// runner runs one source of one tenant: a refresh at a time, and the last good snapshot and
// health it left.
type runner struct {
	tenant     *tenant
	tenantID   string
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
	healthLabels = []string{"tenant_id", "source"}
	upDesc       = prometheus.NewDesc(namespace+"_source_up",
		"1 if the source's last background refresh from Graph worked, 0 if it failed (its last good snapshot is still served) or its first refresh has not ended.",
		healthLabels, nil)
	lastSuccessDesc = prometheus.NewDesc(namespace+"_source_last_success_timestamp_seconds",
		"When the source last refreshed from Graph successfully (kept across restarts with --storage.path), 0 if it has not yet; its metrics are that old, since scrapes serve the cached snapshot.",
		healthLabels, nil)
	durationDesc = prometheus.NewDesc(namespace+"_source_refresh_duration_seconds",
		"How long the source's last background refresh from Graph took, throttling waits included; 0 until the first one ends.",
		healthLabels, nil)
	tenantInfoDesc = prometheus.NewDesc(namespace+"_tenant_info",
		"A tenant this exporter reads, with its name from --config.file (its id when it has none); always 1.",
		[]string{"tenant_id", "name"}, nil)
	tenantStartDesc = prometheus.NewDesc(namespace+"_tenant_start_time_seconds",
		"When the exporter began reading the tenant: when it started, or when the reload that added the tenant did; a source's first refresh is timed from here.",
		[]string{"tenant_id"}, nil)
)

func newExporter(cfg exporterConfig) (*Exporter, error) {
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if len(cfg.tenants) == 0 {
		cfg.tenants = []tenantSpec{{id: cfg.tenantID, fingerprint: cfg.tenantID, graph: cfg.graph, sources: cfg.sources}}
	}
	e := &Exporter{
		logger: cfg.logger, now: cfg.now, load: cfg.load, shard: cfg.shard, store: cfg.store, apps: map[string]*graph.AppPacer{},
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_successful",
			Help: "1 if the last load of --config.file (at start, on SIGHUP or POST /-/reload) worked, 0 if it failed and the configuration loaded before still runs.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "When the configuration running was loaded.",
		}),
		storeFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "storage_write_failures_total",
			Help: "Writes of a source's state under --storage.path that failed; the exporter goes on from memory.",
		}),
	}
	if cfg.maxConcurrent > 0 {
		e.slots = make(chan struct{}, cfg.maxConcurrent)
	}
	var tenants []*tenant
	for _, spec := range cfg.tenants {
		if !cfg.shard.Owns(spec.id) {
			continue
		}
		t, err := e.newTenant(spec, nil)
		if err != nil {
			return nil, err
		}
		tenants = append(tenants, t)
	}
	sortTenants(tenants)
	e.tenants.Store(&tenants)
	e.reloadOK.Set(1)
	e.reloadTime.Set(float64(e.now().UnixNano()) / 1e9)
	e.logStoredTenantsNotRead(tenants)
	return e, nil
}

// Start refreshes every source of every tenant now (or, for a source restored from storage,
// when its interval since the stored refresh has passed) and then on its interval, in the
// background, until ctx ends.
func (e *Exporter) Start(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ctx = ctx
	for _, t := range *e.tenants.Load() {
		e.startTenant(t)
	}
}

// run refreshes r whenever it is due, until ctx ends. The next refresh is due an interval after
// the last one started (once it had a slot), so that refreshes held back by the slots spread out.
func (e *Exporter) run(ctx context.Context, r *runner) {
	due := e.now()
	if h := r.health.Load(); h != nil && !h.lastSuccess.IsZero() {
		due = h.lastSuccess.Add(r.settings.interval) // restored from storage
	}
	for {
		timer := time.NewTimer(time.Until(due))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		started, ok := e.refresh(ctx, r)
		if !ok && ctx.Err() != nil {
			return
		}
		due = started.Add(r.settings.interval)
	}
}

// Wait waits until the refreshes that Start started have stopped, after its context ended.
func (e *Exporter) Wait() {
	for _, t := range *e.tenants.Load() {
		t.stopped.Wait()
	}
}

// Ready says whether every source of every tenant has finished its first refresh, in success or
// failure, or was restored from storage: until then a scrape would miss the source's metrics.
// Once ready it stays so: a tenant that a reload adds later must not take the others out of
// service (a Kubernetes readiness probe would take the pod out of its Service's endpoints).
func (e *Exporter) Ready() bool {
	if e.ready.Load() {
		return true
	}
	for _, t := range *e.tenants.Load() {
		for _, r := range t.runners {
			if !r.refreshed.Load() {
				return false
			}
		}
	}
	e.ready.Store(true)
	return true
}

// refreshAll refreshes every source of every tenant once, now, and waits for them all.
func (e *Exporter) refreshAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range *e.tenants.Load() {
		for _, r := range t.runners {
			wg.Go(func() { e.refresh(ctx, r) })
		}
	}
	wg.Wait()
}

// refresh runs one refresh of r once a slot is free, and says when it started; ok is false when
// it did not run (one was running, or ctx ended waiting for a slot).
func (e *Exporter) refresh(ctx context.Context, r *runner) (started time.Time, ok bool) {
	if !r.running.TryLock() {
		e.logger.Warn("refresh skipped: the previous one is still running", "tenant_id", r.tenantID, "source", r.name)
		return e.now(), false
	}
	defer r.running.Unlock()
	if e.slots != nil {
		select {
		case e.slots <- struct{}{}:
			defer func() { <-e.slots }()
		case <-ctx.Done():
			return e.now(), false
		}
	}
	started = e.now()
	rctx, cancel := context.WithTimeout(graph.WithSource(ctx, r.name), r.settings.timeout)
	defer cancel()
	start := time.Now()
	snap, err := e.refreshSource(rctx, r)
	if err != nil && ctx.Err() != nil {
		// A shutdown (or the tenant's removal), not a Graph failure: nothing to count or warn about.
		e.logger.Debug("refresh stopped: shutting down", "tenant_id", r.tenantID, "source", r.name, "err", err)
		return started, false
	}
	defer r.refreshed.Store(true)
	h := &health{duration: time.Since(start)}
	if prev := r.health.Load(); prev != nil {
		h.lastSuccess = prev.lastSuccess
	}
	if err != nil {
		e.failed(rctx, r, h, err)
		e.save(r)
		return started, true
	}
	if r.lastFailure != "" {
		e.logger.Info("refresh works again", "tenant_id", r.tenantID, "source", r.name)
		r.lastFailure = ""
	}
	h.up = true
	h.lastSuccess = time.Now()
	r.snapshot.Store(&snap)
	r.health.Store(h)
	r.tenant.changed()
	e.logger.Debug("refresh done", "tenant_id", r.tenantID, "source", r.name, "duration", h.duration)
	e.save(r)
	return started, true
}

// refreshSource runs one refresh of the source. A panic, from an answer of Graph that nothing
// checked for breaking the SDK or a source, fails the refresh as malformed instead of ending the
// process; the stack goes to the debug log.
func (e *Exporter) refreshSource(ctx context.Context, r *runner) (snap snapshot, err error) {
	defer func() {
		if p := recover(); p != nil {
			e.logger.Debug("refresh panicked", "tenant_id", r.tenantID, "source", r.name, "panic", p, "stack", string(debug.Stack()))
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
	r.tenant.errors.WithLabelValues(r.name, gerr.Reason).Inc()
	r.health.Store(h)
	r.tenant.changed()
	// The kind, not the text: a timeout's or network error's text names the page's URL.
	failure := fmt.Sprintf("%s %d %s", gerr.Reason, gerr.Status, gerr.Code)
	level := slog.LevelError
	if failure == r.lastFailure {
		level = slog.LevelDebug
	}
	r.lastFailure = failure
	hint := graph.Hint(gerr.Reason, graph.HintContext{Source: r.name, Permission: r.permission, Timeout: r.settings.timeout})
	e.logger.Log(ctx, level, "refresh failed; serving the last good snapshot", "tenant_id", r.tenantID, "source", r.name,
		"reason", gerr.Reason, "status", gerr.Status, "code", gerr.Code, "message", gerr.Message,
		"hint", hint, "duration", h.duration)
}

// Describe sends nothing: the snapshots' label sets vary, so the Exporter is an unchecked collector.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect renders the cached snapshots; it never calls Graph. /metrics is served by Handler,
// which renders the same from a cache per tenant.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, t := range *e.tenants.Load() {
		t.Collect(ch)
	}
	e.collectOwn(ch)
}

// collectOwn sends the exporter's metrics that belong to no tenant.
func (e *Exporter) collectOwn(ch chan<- prometheus.Metric) {
	e.reloadOK.Collect(ch)
	e.reloadTime.Collect(ch)
	if e.store != nil {
		e.storeFailures.Collect(ch)
	}
}
