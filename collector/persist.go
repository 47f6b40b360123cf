package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/storage"
)

// What is stored for a source (--storage.path): the snapshot it serves, as the text it renders,
// so that any source's snapshot survives a restart without code of its own; and, for a source
// that keeps state between refreshes (storedSource), that state.
type storedState struct {
	Snapshot string          `json:"snapshot,omitempty"`
	Source   json.RawMessage `json:"source,omitempty"`
}

// storedSource is a source whose state between refreshes survives a restart.
type storedSource interface {
	// stored encodes the state; nil means there is none yet.
	stored() (json.RawMessage, error)
	// restore takes back what stored encoded.
	restore(state json.RawMessage) error
}

// restore serves a runner's stored snapshot, if there is one, with its real last success, and
// gives a stateful source its state back. A record that cannot be used is ignored with one log
// line: the source reads Graph as if it had none.
func (e *Exporter) restore(r *runner) {
	if e.store == nil {
		return
	}
	rec, err := e.store.Load(r.tenantID, r.name)
	if errors.Is(err, storage.ErrNotStored) {
		return
	}
	var snap snapshot
	if err == nil {
		snap, err = restoreState(r, rec)
	}
	if err != nil {
		e.logger.Warn("stored state ignored; the source reads Graph afresh", "tenant_id", r.tenantID, "source", r.name, "err", err)
		return
	}
	if snap != nil {
		r.snapshot.Store(&snap)
	}
	if !rec.LastSuccess.IsZero() {
		r.health.Store(&health{up: true, lastSuccess: rec.LastSuccess, duration: rec.Duration})
		r.refreshed.Store(true) // its data is served: ready
	}
	r.tenant.changed()
	e.logger.Info("stored state restored", "tenant_id", r.tenantID, "source", r.name, "last_success", rec.LastSuccess)
}

// restoreState decodes a record; it changes the source only when all of it decodes.
func restoreState(r *runner, rec storage.Record) (snapshot, error) {
	var state storedState
	if err := json.Unmarshal(rec.State, &state); err != nil {
		return nil, fmt.Errorf("the record's state: %w", err)
	}
	var snap snapshot
	if state.Snapshot != "" {
		s, err := parseSnapshot(state.Snapshot)
		if err != nil {
			return nil, err
		}
		snap = s
	}
	if src, ok := r.source.(storedSource); ok && len(state.Source) > 0 {
		if err := src.restore(state.Source); err != nil {
			return nil, fmt.Errorf("the source's state: %w", err)
		}
	}
	return snap, nil
}

// save stores a runner's state after a refresh. A write that fails is logged and counted; the
// exporter goes on from memory.
func (e *Exporter) save(r *runner) {
	if e.store == nil {
		return
	}
	state, err := storedStateOf(r)
	if err == nil && state == nil {
		return // nothing to keep yet
	}
	rec := storage.Record{TenantID: r.tenantID, Source: r.name, State: state}
	if h := r.health.Load(); h != nil {
		rec.LastSuccess, rec.Duration = h.lastSuccess, h.duration
	}
	if err == nil {
		err = e.store.Save(rec)
	}
	if err != nil {
		e.storeFailures.Inc()
		e.logger.Error("storing the source's state failed; serving from memory", "tenant_id", r.tenantID, "source", r.name,
			"dir", e.store.Dir(), "err", err)
	}
}

// storedStateOf encodes what to store of a runner; nil when it has nothing yet.
func storedStateOf(r *runner) (json.RawMessage, error) {
	var state storedState
	if p := r.snapshot.Load(); p != nil {
		families, err := render(snapshotCollector{*p})
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, f := range families {
			b.Write(f.header)
			b.Write(f.samples)
		}
		state.Snapshot = b.String()
	}
	if src, ok := r.source.(storedSource); ok {
		s, err := src.stored()
		if err != nil {
			return nil, err
		}
		state.Source = s
	}
	if state.Snapshot == "" && state.Source == nil {
		return nil, nil
	}
	return json.Marshal(state)
}

// snapshotCollector collects one snapshot.
type snapshotCollector struct{ snapshot }

func (snapshotCollector) Describe(chan<- *prometheus.Desc) {}

// storedSnapshot is a snapshot read back from its text: const metrics, served as they were.
type storedSnapshot []prometheus.Metric

func (s storedSnapshot) Collect(ch chan<- prometheus.Metric) {
	for _, m := range s {
		ch <- m
	}
}

// parseSnapshot reads a snapshot's text back into metrics of the same names, help, labels and
// values. A snapshot renders gauges and counters only; anything else is refused.
func parseSnapshot(text string) (storedSnapshot, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("the stored snapshot: %w", err)
	}
	var out storedSnapshot
	for _, name := range sortedKeys(families) {
		mf := families[name]
		valueType, ok := map[dto.MetricType]prometheus.ValueType{dto.MetricType_GAUGE: prometheus.GaugeValue, dto.MetricType_COUNTER: prometheus.CounterValue}[mf.GetType()]
		if !ok {
			return nil, fmt.Errorf("the stored snapshot's %s is a %s; snapshots hold gauges and counters", name, mf.GetType())
		}
		descs := map[string]*prometheus.Desc{} // by label names
		for _, m := range mf.GetMetric() {
			var names, values []string
			for _, l := range m.GetLabel() {
				names, values = append(names, l.GetName()), append(values, l.GetValue())
			}
			key := strings.Join(names, ",")
			if descs[key] == nil {
				descs[key] = prometheus.NewDesc(name, mf.GetHelp(), names, nil)
			}
			v := m.GetGauge().GetValue()
			if valueType == prometheus.CounterValue {
				v = m.GetCounter().GetValue()
			}
			metric, err := prometheus.NewConstMetric(descs[key], valueType, v, values...)
			if err != nil {
				return nil, fmt.Errorf("the stored snapshot's %s: %w", name, err)
			}
			out = append(out, metric)
		}
	}
	return out, nil
}

// logStoredTenantsNotRead says, once each, which tenants have stored state that is not read: no
// longer configured, or read by another shard.
func (e *Exporter) logStoredTenantsNotRead(tenants []*tenant) {
	if e.store == nil {
		return
	}
	stored, err := e.store.Tenants()
	if err != nil {
		e.logger.Warn("the storage directory cannot be listed", "dir", e.store.Dir(), "err", err)
		return
	}
	for _, id := range stored {
		if !slices.ContainsFunc(tenants, func(t *tenant) bool { return t.spec.id == id }) {
			e.logger.Info("stored state ignored: the tenant is not read by this exporter (not configured, or another shard's)", "tenant_id", id, "dir", e.store.Dir())
		}
	}
}
