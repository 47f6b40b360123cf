package collector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/storage"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// storedSources are the sources whose snapshot alone is stored, with an hour's interval.
func storedSources() map[string]sourceSettings {
	out := map[string]sourceSettings{}
	for _, name := range []string{"users", "credentials", "policies"} {
		out[name] = sourceSettings{interval: time.Hour, timeout: time.Minute, new: sourceSpecs[name].new}
	}
	return out
}

func storedTenant() *fakegraph.Tenant {
	t := testTenant(1500)
	t.Credentials = fakegraph.CredentialMix{ServicePrincipals: 120, Applications: 30}
	t.Policies = fakegraph.DemoPolicies()
	return t
}

// exporterWithStore builds an exporter of fake's tenant that stores its state in dir.
func exporterWithStore(t *testing.T, fake *fakegraph.Server, logs *testsupport.LogBuffer, dir string) *Exporter {
	t.Helper()
	store, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(fake, logs, storedSources())
	cfg.store = store
	return newTestExporter(t, cfg)
}

// entraText is what the exporter serves of the tenant's data and health, sorted, without HELP.
func entraText(t *testing.T, e *Exporter) string {
	t.Helper()
	var keep []string
	for _, l := range strings.Split(withoutHelp(scrape(t, e)), "\n") {
		name := strings.TrimPrefix(l, "# TYPE ")
		if strings.HasPrefix(name, "entra_") || strings.HasPrefix(name, "mfa_exporter_source_up") ||
			strings.HasPrefix(name, "mfa_exporter_source_last_success") || strings.HasPrefix(name, "mfa_exporter_source_refresh_duration") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// A restarted exporter serves every source's stored snapshot at once, with its real last success,
// and reads Graph again only when the interval since that success has passed.
func TestStoredSnapshotsAreServedAtStart(t *testing.T) {
	fake := testsupport.StartFake(t, storedTenant())
	dir := t.TempDir()
	first := exporterWithStore(t, fake, nil, dir)
	refresh(first)
	served := entraText(t, first)
	if !strings.Contains(served, "entra_mfa_registered_users") || !strings.Contains(served, "entra_service_principals") {
		t.Fatalf("the first exporter serves no data:\n%s", served)
	}

	fake.ResetRequests()
	logs := &testsupport.LogBuffer{}
	second := exporterWithStore(t, fake, logs, dir)
	if got := entraText(t, second); got != served {
		t.Errorf("the restarted exporter serves\n%s\nwhere the first served\n%s", got, served)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second.Start(ctx)
	time.Sleep(500 * time.Millisecond)
	if reqs := fake.Requests(); len(reqs) != 0 {
		t.Errorf("the restarted exporter read Graph %d times (first %s) although every stored snapshot is an hour from due", len(reqs), reqs[0].Path)
	}
	if n := strings.Count(logs.String(), "stored state restored"); n != 3 {
		t.Errorf("%d sources said they were restored, want 3:\n%s", n, logs)
	}
}

// A stored record that cannot be used (corrupt, truncated, another format version) is ignored with
// one log line and the source reads Graph afresh; a stored tenant that is not configured is
// ignored with one log line too.
func TestUnusableStoredStateIsIgnored(t *testing.T) {
	tenant := storedTenant()
	fake := testsupport.StartFake(t, tenant)
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":     func(b []byte) []byte { return b[:len(b)/3] },
		"garbage":       func([]byte) []byte { return []byte("\x00\x01 not json") },
		"other version": func(b []byte) []byte { return []byte(strings.Replace(string(b), `"format":1`, `"format":7`, 1)) },
		"bad snapshot": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `entra_mfa_registered_users{`, `entra_mfa_registered_users{{`, 1))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			refresh(exporterWithStore(t, fake, nil, dir))
			path := filepath.Join(dir, tenant.ID, "users.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, path, string(damage(data)))
			if err := os.MkdirAll(filepath.Join(dir, "99999999-0000-4000-8000-000000000009"), 0o700); err != nil {
				t.Fatal(err)
			}
			logs := &testsupport.LogBuffer{}
			e := exporterWithStore(t, fake, logs, dir)
			if served := scrape(t, e, userFamilies...); served != "" {
				t.Errorf("a damaged record was served:\n%s", served)
			}
			if last, _ := sample(t, e, "mfa_exporter_source_last_success_timestamp_seconds", map[string]string{"source": "users"}); last != 0 {
				t.Errorf("a damaged record's last success %v was served", last)
			}
			if n := strings.Count(logs.String(), "stored state ignored; the source reads Graph afresh"); n != 1 || !strings.Contains(logs.String(), "source=users") {
				t.Errorf("%d log lines about the damaged record, want one naming the source:\n%s", n, logs)
			}
			if n := strings.Count(logs.String(), "the tenant is not read by this exporter"); n != 1 {
				t.Errorf("%d log lines about the unknown tenant, want 1:\n%s", n, logs)
			}
			refresh(e)
			compareSamples(t, e, userTruthText(tenant), userFamilies...)
		})
	}
}

// A write that fails is logged and counted, and the exporter goes on serving from memory.
func TestStorageWriteFailureIsCountedAndServedFromMemory(t *testing.T) {
	tenant := storedTenant()
	fake := testsupport.StartFake(t, tenant)
	dir := t.TempDir()
	testsupport.MakeReadOnly(t, dir)
	logs := &testsupport.LogBuffer{}
	e := exporterWithStore(t, fake, logs, dir)
	refresh(e)
	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	if got, _ := sample(t, e, "mfa_exporter_storage_write_failures_total", nil); got != 3 {
		t.Errorf("storage_write_failures_total = %v after three refreshes into a read-only directory, want 3", got)
	}
	if !strings.Contains(logs.String(), "storing the source's state failed; serving from memory") || !strings.Contains(logs.String(), dir) {
		t.Errorf("the failed write is not logged with the directory:\n%s", logs)
	}
}
