package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// tenantSpec is what a tenant is read with: its Graph client's options and its sources.
type tenantSpec struct {
	id, name string
	// fingerprint changes when anything the tenant is read with changes: a reload keeps a running
	// tenant whose fingerprint is the same, with its snapshots and schedule.
	fingerprint string
	graph       graph.Options
	// app names the app registration the tenant is read with; the tenants of one app are paced
	// together to appLimits (none when nil), Graph's budgets per app across tenants.
	app       string
	appLimits map[graph.Family]graph.Limit
	sources   map[string]sourceSettings
}

// tenant is a running tenant: a runner per source, and its counters.
type tenant struct {
	spec     tenantSpec
	runners  []*runner
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	capped   *prometheus.CounterVec
	stop     context.CancelFunc // ends its runners; nil until started
	stopped  sync.WaitGroup
	// added is when the exporter began reading the tenant: its start, or the reload that added
	// it. A first refresh is late only counted from here.
	added time.Time

	// version changes whenever what the tenant serves may have changed; cache is what it served
	// at a version (render.go).
	version atomic.Uint64
	cache   renderCache
}

// changed says that what the tenant serves may have changed, so that its rendering is redone.
func (t *tenant) changed() { t.version.Add(1) }

// Collect renders the tenant's snapshots, health and counters.
func (t *tenant) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(tenantInfoDesc, prometheus.GaugeValue, 1, t.spec.id, cmp.Or(t.spec.name, t.spec.id))
	ch <- prometheus.MustNewConstMetric(tenantStartDesc, prometheus.GaugeValue, float64(t.added.UnixNano())/1e9, t.spec.id)
	for _, r := range t.runners {
		if snap := r.snapshot.Load(); snap != nil {
			(*snap).Collect(ch)
		}
		h := r.health.Load()
		lastSuccess := 0.0 // never
		if !h.lastSuccess.IsZero() {
			lastSuccess = float64(h.lastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, boolValue(h.up), r.tenantID, r.name)
		ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, h.duration.Seconds(), r.tenantID, r.name)
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, lastSuccess, r.tenantID, r.name)
	}
	t.requests.Collect(ch)
	t.errors.Collect(ch)
	t.skipped.Collect(ch)
	t.capped.Collect(ch)
}

// Describe sends nothing: the tenant is an unchecked collector, as the Exporter is.
func (t *tenant) Describe(chan<- *prometheus.Desc) {}

// newTenant builds a tenant's client and sources. The runners of a tenant the reload replaces
// (previous) hand over their snapshots and health, so that a changed credential, say, does not
// empty the tenant's series; a stored state is restored otherwise.
func (e *Exporter) newTenant(spec tenantSpec, previous *tenant) (*tenant, error) {
	tenantLabel := prometheus.Labels{"tenant_id": spec.id}
	t := &tenant{spec: spec, added: time.Now(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graph_requests_total", ConstLabels: tenantLabel,
			Help: "HTTP requests the background refreshes sent to Microsoft Graph, by tenant, source and response status code, retries and 429s included.",
		}, []string{"source", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "source_errors_total", ConstLabels: tenantLabel,
			Help: "Background refreshes of a source of a tenant that failed, by reason.",
		}, []string{"source", "reason"}),
	}
	skippedOpts := recordsSkippedOpts
	skippedOpts.ConstLabels = tenantLabel
	t.skipped = prometheus.NewCounterVec(skippedOpts, []string{"source", "reason"})
	t.capped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "graph_retry_after_capped_total", ConstLabels: tenantLabel,
		Help: fmt.Sprintf("Graph responses whose Retry-After asked for a wait longer than %s, which was waited instead, by tenant and source.", graph.MaxRetryAfter),
	}, []string{"source"})
	if previous != nil {
		t.added = previous.added // the same tenant, read on with new settings
	}
	logger := e.logger.With("tenant_id", spec.id)
	gopts := spec.graph
	gopts.Logger = logger
	gopts.OnResponse = func(source string, code int) {
		t.requests.WithLabelValues(source, strconv.Itoa(code)).Inc()
		t.changed()
	}
	gopts.OnRetryAfterCapped = func(source string) {
		t.capped.WithLabelValues(source).Inc()
		t.changed()
	}
	if spec.appLimits != nil {
		if e.apps[spec.app] == nil {
			e.apps[spec.app] = graph.NewAppPacer(spec.appLimits)
		}
		gopts.App = e.apps[spec.app]
	}
	client, err := graph.New(gopts)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", spec.id, err)
	}
	sc := sourceConfig{graph: client, tenantID: spec.id, logger: logger, now: e.now, skipped: t.skipped}
	names := make([]string, 0, len(spec.sources))
	for name := range spec.sources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := spec.sources[name]
		src, err := s.new(sc)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		r := &runner{tenant: t, tenantID: spec.id, name: name, source: src, settings: s}
		if declared := sourceSpecs[name]; declared != nil {
			r.permission = declared.permission
		}
		r.health.Store(&health{}) // not yet: down, never succeeded, until the first refresh ends
		e.restore(r)
		if previous != nil {
			if i := slices.IndexFunc(previous.runners, func(p *runner) bool { return p.name == name }); i >= 0 {
				r.snapshot.Store(previous.runners[i].snapshot.Load())
				r.health.Store(previous.runners[i].health.Load())
			}
		}
		for _, reason := range graph.Reasons() {
			t.errors.WithLabelValues(name, reason)
		}
		t.capped.WithLabelValues(name)
		if s, ok := src.(skipReasoner); ok {
			for _, reason := range s.skipReasons() {
				t.skipped.WithLabelValues(name, reason)
			}
		}
		t.runners = append(t.runners, r)
	}
	return t, nil
}

// startTenant starts the tenant's runners under Start's context; e.mu is held.
func (e *Exporter) startTenant(t *tenant) {
	ctx, stop := context.WithCancel(e.ctx)
	t.stop = stop
	for _, r := range t.runners {
		t.stopped.Go(func() { e.run(ctx, r) })
	}
}

// stopTenant ends the tenant's refreshes; once it is no longer among the tenants, its series
// (counters included) are no longer served.
func (e *Exporter) stopTenant(t *tenant) {
	if t.stop != nil {
		t.stop()
		t.stopped.Wait()
	}
}

func sortTenants(ts []*tenant) {
	slices.SortFunc(ts, func(a, b *tenant) int { return strings.Compare(a.spec.id, b.spec.id) })
}

// ErrNoConfigFile is Reload's error when the exporter runs without --config.file.
var ErrNoConfigFile = errors.New("no --config.file to reload: the tenants come from the command line")

// Reload reads --config.file again and applies it: a tenant whose settings did not change keeps
// running untouched (snapshots, refresh schedule, pacing), a new one starts, a removed one stops
// and its series disappear, a changed one restarts with the snapshots it had. A file that does
// not load, or a tenant that cannot be built, changes nothing and sets
// mfa_exporter_config_last_reload_successful to 0.
func (e *Exporter) Reload() error {
	if e.load == nil {
		return ErrNoConfigFile
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	specs, err := e.load()
	if err != nil {
		e.reloadOK.Set(0)
		e.logger.Error("reload failed; the configuration loaded before still runs", "err", err)
		return err
	}
	running := map[string]*tenant{}
	for _, t := range *e.tenants.Load() {
		running[t.spec.id] = t
	}
	var next, started, replaced []*tenant
	for _, spec := range specs {
		if !e.shard.Owns(spec.id) {
			continue
		}
		old := running[spec.id]
		delete(running, spec.id)
		if old != nil && old.spec.fingerprint == spec.fingerprint {
			next = append(next, old)
			continue
		}
		t, err := e.newTenant(spec, old)
		if err != nil {
			e.reloadOK.Set(0)
			e.logger.Error("reload failed; the configuration loaded before still runs", "err", err)
			return err
		}
		next, started = append(next, t), append(started, t)
		if old != nil {
			replaced = append(replaced, old)
		}
	}
	for _, t := range append(replaced, mapValues(running)...) {
		e.stopTenant(t)
	}
	sortTenants(next)
	e.tenants.Store(&next)
	if e.ctx != nil {
		for _, t := range started {
			e.startTenant(t)
		}
	}
	e.reloadOK.Set(1)
	e.reloadTime.Set(float64(e.now().UnixNano()) / 1e9)
	e.logger.Info("configuration reloaded", "tenants", len(next), "started", len(started)-len(replaced),
		"changed", len(replaced), "removed", len(running))
	return nil
}

func mapValues(m map[string]*tenant) []*tenant {
	var out []*tenant
	for _, t := range m {
		out = append(out, t)
	}
	return out
}

// tenantsFile builds the tenants of --config.file.
type tenantsFile struct {
	o           Options
	sources     map[string]sourceSettings
	credentials *graph.Credentials
	// transport sends every tenant's Graph requests.
	transport http.RoundTripper
}

// newTenantsFile reads the tenants of o.ConfigFile. Their Graph clients and credentials share one
// HTTP transport, so that hundreds of tenants share a pool of connections rather than holding
// one or two each.
func newTenantsFile(o Options, sources map[string]sourceSettings) *tenantsFile {
	shared := http.DefaultTransport.(*http.Transport).Clone()
	return &tenantsFile{o: o, sources: sources, transport: shared, credentials: &graph.Credentials{Transport: &http.Client{Transport: shared}}}
}

// load reads the file and builds every tenant's spec; the shard is applied by the Exporter.
func (f *tenantsFile) load() ([]tenantSpec, error) {
	names := make([]string, 0, len(sourceSpecs))
	for name := range sourceSpecs {
		names = append(names, name)
	}
	slices.Sort(names)
	cfg, err := config.Load(f.o.ConfigFile, names, graph.CloudNames())
	if err != nil {
		return nil, fmt.Errorf("--config.file: %w", err)
	}
	var specs []tenantSpec
	for _, t := range cfg.Tenants {
		spec, err := f.spec(t)
		if err != nil {
			return nil, fmt.Errorf("--config.file %s: %w", cfg.File, err)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func (f *tenantsFile) spec(t config.Tenant) (tenantSpec, error) {
	cloud, err := graph.LookupCloud(cmp.Or(t.Cloud, f.o.Cloud))
	if err != nil {
		return tenantSpec{}, fmt.Errorf("--graph.cloud: %w", err)
	}
	spec := tenantSpec{id: t.ID, name: t.Name, fingerprint: t.Fingerprint, app: t.Credential.ClientID, appLimits: graph.AppLimits(),
		graph: graph.Options{BaseURL: cloud.GraphURL, Scope: graph.Scope(cloud), Limits: graph.GraphLimits(),
			MaxRetries: maxRetries, RequestTimeout: f.o.RequestTimeout, Transport: f.transport},
		sources: map[string]sourceSettings{}}
	if f.o.Endpoint != "" {
		if spec.graph.BaseURL, err = graph.ParseBaseURL(f.o.Endpoint); err != nil {
			return tenantSpec{}, fmt.Errorf("--graph.endpoint: %w", err)
		}
	}
	if spec.graph.Credential, err = f.credentials.ForTenant(cloud, t); err != nil {
		return tenantSpec{}, err
	}
	for name, declared := range sourceSpecs {
		s, on := f.sources[name]
		if !on {
			s = sourceSettings{interval: time.Duration(*declared.interval), timeout: time.Duration(*declared.timeout), new: declared.new}
		}
		o := t.Collectors[name]
		if o.Enabled != nil {
			on = *o.Enabled
		}
		if !on {
			continue
		}
		s.interval, s.timeout = cmp.Or(o.RefreshInterval, s.interval), cmp.Or(o.RefreshTimeout, s.timeout)
		if s.interval <= 0 || s.timeout <= 0 {
			return tenantSpec{}, fmt.Errorf("tenant %s enables the %s source: its refresh interval and timeout must be positive", t.ID, name)
		}
		spec.sources[name] = s
	}
	return spec, nil
}

// Tenants is how many tenants the exporter reads.
func (e *Exporter) Tenants() int { return len(*e.tenants.Load()) }
