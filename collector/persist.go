package collector

import (
	"encoding/json"
	"errors"
	"slices"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/storage"
)

// storedSource is a source whose state survives a restart under --storage.path.
type storedSource interface {
	// stored encodes what the source needs to serve and resume after a restart, given the
	// snapshot served (nil before the first success); nil means there is nothing to keep.
	stored(served snapshot) (json.RawMessage, error)
	// restore takes back what stored encoded and returns the snapshot to serve, or nil.
	restore(state json.RawMessage) (snapshot, error)
}

// restore serves a runner's stored state, if there is one, with its real last success. A record
// that cannot be used is ignored with one log line: the source reads Graph as if it had none.
func (e *Exporter) restore(r *runner) {
	src, ok := r.source.(storedSource)
	if e.store == nil || !ok {
		return
	}
	rec, err := e.store.Load(r.tenantID, r.name)
	if errors.Is(err, storage.ErrNotStored) {
		return
	}
	var snap snapshot
	if err == nil {
		snap, err = src.restore(rec.State)
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
	}
	r.tenant.changed()
	e.logger.Info("stored state restored", "tenant_id", r.tenantID, "source", r.name, "last_success", rec.LastSuccess)
}

// save stores a runner's state after a refresh. A write that fails is logged and counted; the
// exporter goes on from memory.
func (e *Exporter) save(r *runner) {
	src, ok := r.source.(storedSource)
	if e.store == nil || !ok {
		return
	}
	var served snapshot
	if p := r.snapshot.Load(); p != nil {
		served = *p
	}
	state, err := src.stored(served)
	if err == nil && state == nil {
		return
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
