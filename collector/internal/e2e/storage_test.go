package e2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// storedTenant is a tenant whose sign-in log began 10 hours ago and whose clock stands still, so
// that the ground truth of a day's window does not move while the test runs: every sign-in is
// in the window, and no new one comes.
func storedTenant() *fakegraph.Tenant {
	now := time.Now().UTC().Truncate(time.Second)
	return &fakegraph.Tenant{ID: "5e5e5e5e-0000-4000-8000-00000000beef", Seed: 99, Users: 1500, UnregisteredAdmins: 1, Domain: "kill.example",
		Credentials: fakegraph.CredentialMix{ServicePrincipals: 300, Applications: 40},
		SignIns:     fakegraph.SignInMix{PerDay: 5000, Since: now.Add(-10 * time.Hour)},
		Now:         func() time.Time { return now }}
}

// sumOf sums a family's series of one tenant.
func sumOf(families map[string]*dto.MetricFamily, name, tenantID string) float64 {
	total := 0.0
	for _, m := range families[name].GetMetric() {
		if labelsOf(m)["tenant_id"] == tenantID {
			total += m.GetGauge().GetValue()
		}
	}
	return total
}

// checkServedTruth compares the users, the credentials and the sign-ins served with the tenant's
// ground truth.
func checkServedTruth(t *testing.T, families map[string]*dto.MetricFamily, tenant *fakegraph.Tenant, when string) {
	t.Helper()
	checkUserCountsOf(t, families, tenant)
	if got := sumOf(families, "entra_service_principals", tenant.ID); got != float64(tenant.Credentials.ServicePrincipals) {
		t.Errorf("%s: %v service principals served, want %d", when, got, tenant.Credentials.ServicePrincipals)
	}
	truth, _ := tenant.SignInTruth(tenant.SignIns.Since, tenant.Now(), tenant.Now())
	want := 0
	for _, n := range truth {
		want += n
	}
	if got := sumOf(families, "entra_signins", tenant.ID); got != float64(want) {
		t.Errorf("%s: %v sign-ins served, want the %d of the ground truth", when, got, want)
	}
}

// unfinishedWrites counts the temporary files of writes under dir.
func unfinishedWrites(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && strings.HasPrefix(d.Name(), ".writing-") {
			n++
		}
		return nil
	})
	return n
}

// signInRequests are the sign-in requests Graph saw from index on.
func signInRequests(fake *fakegraph.Server, from int) []fakegraph.Request {
	var out []fakegraph.Request
	for _, r := range fake.Requests()[from:] {
		if strings.HasSuffix(r.Path, "/auditLogs/signIns") {
			out = append(out, r)
		}
	}
	return out
}

// An exporter killed with SIGKILL in the middle of a refresh, and at random moments that fall
// in refreshes and in writes, starts again serving exactly the ground truth from --storage.path
// at once, without reading again what it stored: users and credentials (due in an hour) are not
// read, and the sign-ins are read from where the stored progress ends, not from the window's start.
func TestKilledExporterResumesFromStorage(t *testing.T) {
	tenant := storedTenant()
	m := serveTenants(t, []*fakegraph.Tenant{tenant})
	dir := filepath.Join(t.TempDir(), "state")
	args := []string{"--config.file=" + m.configFile(t, tenantEntry(tenant.ID)), "--graph.endpoint=" + m.fake.URL,
		"--storage.path=" + dir, "--no-collector.policies", "--collector.signins.refresh-interval=5s",
		"--collector.users.refresh-interval=1h", "--collector.credentials.refresh-interval=1h"}
	all := map[string][]string{tenant.ID: {"users", "credentials", "signins"}}

	e := startExporter(t, m.env, args...)
	waitForTenants(t, e, all)
	round := len(m.fake.Requests())
	waitUntilTrue(t, "a sign-in refresh after the first round", func() bool { return len(signInRequests(m.fake, round)) > 0 })
	e.kill() // in the middle of that refresh

	leftovers := 0
	for range 12 {
		e := startExporter(t, m.env, args...)
		time.Sleep(time.Duration(rand.Int64N(int64(3 * time.Second))))
		e.kill()
		if unfinishedWrites(dir) > 0 {
			leftovers++
		}
	}
	t.Logf("%d of 12 kills at random moments left a write unfinished", leftovers)

	restart := len(m.fake.Requests())
	e = startExporter(t, m.env, args...)
	families := scrapeFamilies(t, e)
	checkServedTruth(t, families, tenant, "at once after the restart")
	for _, r := range m.fake.Requests()[restart:] {
		if !strings.HasSuffix(r.Path, "/auditLogs/signIns") {
			t.Errorf("the restarted exporter read %s again, which it had stored", r.Path)
		}
	}
	stored := lastSuccess(families, tenant.ID, "signins")
	if stored == 0 {
		t.Fatal("the restarted exporter serves no last success for the sign-ins")
	}
	waitUntilTrue(t, "the restarted exporter's sign-in refresh", func() bool {
		return lastSuccess(scrapeFamilies(t, e), tenant.ID, "signins") > stored
	})
	windowStart := time.Now().Add(-24 * time.Hour)
	for _, r := range signInRequests(m.fake, restart) {
		if r.Query.Get("$skiptoken") != "" {
			continue
		}
		from, err := time.Parse(time.RFC3339, strings.Fields(r.Query.Get("$filter"))[2])
		if err != nil || from.Before(windowStart.Add(time.Hour)) {
			t.Errorf("the restarted exporter read sign-ins from %s, the window's start: it should resume from its stored progress (%q)", from, r.Query.Get("$filter"))
		}
	}
	checkServedTruth(t, scrapeFamilies(t, e), tenant, "after the resumed refresh")
	if strings.Contains(e.logs.String(), "stored state ignored") {
		t.Errorf("a stored record was unusable after the kills:\n%s", e.logs)
	}
	if n := unfinishedWrites(dir); n != 0 {
		t.Errorf("%d unfinished writes are left after a clean start", n)
	}
}

// lastSuccess is a source's mfa_exporter_source_last_success_timestamp_seconds.
func lastSuccess(families map[string]*dto.MetricFamily, tenantID, source string) float64 {
	for _, m := range families["mfa_exporter_source_last_success_timestamp_seconds"].GetMetric() {
		if l := labelsOf(m); l["tenant_id"] == tenantID && l["source"] == source {
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func waitUntilTrue(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A storage directory the exporter cannot write to (read-only) is no reason to stop: it serves
// from memory, logs the failures and counts them; a stored record that is garbage or truncated is
// ignored with one log line and read afresh.
func TestUnwritableAndDamagedStorage(t *testing.T) {
	readOnly := t.TempDir()
	testsupport.MakeReadOnly(t, readOnly)
	e := startExporter(t, cleanEnv(), "--demo", "--demo.users=300", "--storage.path="+readOnly, "--no-collector.signins", "--no-collector.policies")
	families := waitForTenants(t, e, map[string][]string{fakegraph.DemoTenantID: {"users", "credentials"}})
	if got := families["mfa_exporter_storage_write_failures_total"].GetMetric()[0].GetCounter().GetValue(); got < 2 {
		t.Errorf("storage_write_failures_total = %v after two refreshes into a read-only directory", got)
	}
	if !strings.Contains(e.logs.String(), "storing the source's state failed; serving from memory") {
		t.Errorf("the failed writes are not logged:\n%s", e.logs)
	}

	damaged := t.TempDir()
	if err := os.Mkdir(filepath.Join(damaged, fakegraph.DemoTenantID), 0o700); err != nil {
		t.Fatal(err)
	}
	for source, content := range map[string]string{"users": "\x00\x01garbage", "credentials": `{"format":1,"tenant_id":"` + fakegraph.DemoTenantID + `","sou`} {
		writeFile(t, filepath.Join(damaged, fakegraph.DemoTenantID, source+".json"), content)
	}
	e = startExporter(t, cleanEnv(), "--demo", "--demo.users=300", "--storage.path="+damaged, "--no-collector.signins", "--no-collector.policies")
	waitForTenants(t, e, map[string][]string{fakegraph.DemoTenantID: {"users", "credentials"}})
	if n := strings.Count(e.logs.String(), "stored state ignored; the source reads Graph afresh"); n != 2 {
		t.Errorf("%d log lines for two damaged records, want one each:\n%s", n, e.logs)
	}
}
