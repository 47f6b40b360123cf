package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// someTenants are n tenants of different seeds and sizes.
func someTenants(n int) []*fakegraph.Tenant {
	var out []*fakegraph.Tenant
	for i := range n {
		out = append(out, &fakegraph.Tenant{ID: fmt.Sprintf("%08x-0000-4000-8000-%012d", 0xa0000000+i, i), Seed: uint64(100 + i),
			Users: 300 + 700*i, UnregisteredAdmins: i, Domain: fmt.Sprintf("t%d.example", i)})
	}
	return out
}

// multiTenantConfig reads every tenant of fake, each with its static token, with the sources given.
func multiTenantConfig(fake *fakegraph.Server, logs *testsupport.LogBuffer, sources map[string]sourceSettings) exporterConfig {
	cfg := testConfig(fake, logs, sources)
	for _, t := range fake.Tenants {
		g := cfg.graph
		g.Credential = fake.CredentialFor(t.ID)
		cfg.tenants = append(cfg.tenants, tenantSpec{id: t.ID, fingerprint: t.ID, graph: g, sources: sources})
	}
	return cfg
}

// servedFor is what the exporter serves of the named families for one tenant, without HELP.
func servedFor(t testing.TB, e *Exporter, tenantID string, families ...string) string {
	t.Helper()
	var keep []string
	for _, l := range strings.Split(withoutHelp(scrape(t, e, families...)), "\n") {
		if strings.HasPrefix(l, "# TYPE") || strings.Contains(l, `tenant_id="`+tenantID+`"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// Several tenants in one exporter are read apart: each serves its own tenant's ground truth and
// its own health, and the requests are counted per tenant.
func TestTenantsAreReadApart(t *testing.T) {
	tenants := someTenants(3)
	fake := fakegraph.Start(tenants...)
	t.Cleanup(fake.Close)
	e := newTestExporter(t, multiTenantConfig(fake, nil, usersOnly(time.Minute)))
	refresh(e)
	for _, tenant := range tenants {
		if got, want := servedFor(t, e, tenant.ID, userFamilies...), withoutHelp(userTruthText(tenant)); got != want {
			t.Errorf("tenant %s: served\n%s\nwant\n%s", tenant.ID, got, want)
		}
		if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"tenant_id": tenant.ID, "source": "users"}); up != 1 {
			t.Errorf("tenant %s: source_up %v", tenant.ID, up)
		}
		pages := (tenant.Users + reportPageSize - 1) / reportPageSize
		if got, _ := sample(t, e, "mfa_exporter_graph_requests_total", map[string]string{"tenant_id": tenant.ID, "code": "200"}); got != float64(pages) {
			t.Errorf("tenant %s: %v requests counted, want its %d pages", tenant.ID, got, pages)
		}
		if info, _ := sample(t, e, "mfa_exporter_tenant_info", map[string]string{"tenant_id": tenant.ID, "name": tenant.ID}); info != 1 {
			t.Errorf("tenant %s: no tenant_info named by its id", tenant.ID)
		}
	}
	for _, r := range fake.Requests() {
		if r.Tenant == "" {
			t.Errorf("a request reached Graph without a tenant's token: %s", r.Path)
		}
	}
}

// One tenant failing leaves the others up, and counts its failure under its own tenant_id.
func TestOneTenantFailingLeavesTheOthersUp(t *testing.T) {
	tenants := someTenants(3)
	fake := fakegraph.Start(tenants...)
	t.Cleanup(fake.Close)
	fake.Inject(fakegraph.Fault{Tenant: tenants[1].ID, Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."})
	logs := &testsupport.LogBuffer{}
	e := newTestExporter(t, multiTenantConfig(fake, logs, usersOnly(time.Minute)))
	refresh(e)
	for i, tenant := range tenants {
		want := map[bool]float64{true: 0, false: 1}[i == 1]
		if up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"tenant_id": tenant.ID}); up != want {
			t.Errorf("tenant %d: source_up %v, want %v", i, up, want)
		}
		forbidden, _ := sample(t, e, "mfa_exporter_source_errors_total", map[string]string{"tenant_id": tenant.ID, "reason": graph.ReasonForbidden})
		if forbidden != 1-want {
			t.Errorf("tenant %d: %v forbidden errors, want %v", i, forbidden, 1-want)
		}
	}
	if !strings.Contains(logs.String(), "tenant_id="+tenants[1].ID) {
		t.Errorf("the failure log does not name the tenant:\n%s", logs.String())
	}
}

// --tenants.shard=I/N: each of N exporters reads the tenants Prometheus's hashmod puts in its
// shard, and together they read every tenant once.
func TestShardsReadEachTenantOnce(t *testing.T) {
	tenants := someTenants(8)
	fake := fakegraph.Start(tenants...)
	t.Cleanup(fake.Close)
	readBy := map[string]int{}
	for i := range uint64(3) {
		cfg := multiTenantConfig(fake, nil, usersOnly(time.Minute))
		cfg.shard = config.Shard{Index: i, Count: 3}
		e := newTestExporter(t, cfg)
		for _, tn := range *e.tenants.Load() {
			if config.HashMod(tn.spec.id, 3) != i {
				t.Errorf("shard %d/3 reads %s, whose hashmod is %d", i, tn.spec.id, config.HashMod(tn.spec.id, 3))
			}
			readBy[tn.spec.id]++
		}
	}
	for _, tn := range tenants {
		if readBy[tn.ID] != 1 {
			t.Errorf("tenant %s is read by %d shards", tn.ID, readBy[tn.ID])
		}
	}
}

// countingSource counts how many refreshes run at once, across every tenant.
type countingSource struct {
	running, most *atomic.Int32
}

func (c countingSource) Refresh(context.Context) (snapshot, error) {
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for {
		most := c.most.Load()
		if n <= most || c.most.CompareAndSwap(most, n) {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	return emptySnapshot{}, nil
}

type emptySnapshot struct{}

func (emptySnapshot) Collect(chan<- prometheus.Metric) {}

// --graph.max-concurrent-refreshes bounds the refreshes running at once over all tenants, and
// every refresh still runs.
func TestMaxConcurrentRefreshes(t *testing.T) {
	fake := fakegraph.Start(someTenants(6)...)
	t.Cleanup(fake.Close)
	var running, most atomic.Int32
	sources := map[string]sourceSettings{
		"a": {interval: time.Hour, timeout: time.Minute, new: func(sourceConfig) (source, error) { return countingSource{&running, &most}, nil }},
		"b": {interval: time.Hour, timeout: time.Minute, new: func(sourceConfig) (source, error) { return countingSource{&running, &most}, nil }},
	}
	cfg := multiTenantConfig(fake, nil, sources)
	cfg.maxConcurrent = 2
	e := newTestExporter(t, cfg)
	refresh(e)
	if got := most.Load(); got != 2 {
		t.Errorf("%d refreshes ran at once, want the limit of 2 (and reached)", got)
	}
	for _, tn := range *e.tenants.Load() {
		for _, r := range tn.runners {
			if h := r.health.Load(); h == nil || !h.up {
				t.Errorf("tenant %s source %s did not refresh", tn.spec.id, r.name)
			}
		}
	}
}

// reloadFixture is an exporter reading a configuration file of tenants with client secrets from
// the fake Graph's token service.
type reloadFixture struct {
	fake     *fakegraph.Server
	dir      string
	file     *tenantsFile
	exporter *Exporter
}

func newReloadFixture(t *testing.T, tenants []*fakegraph.Tenant, configText string) *reloadFixture {
	t.Helper()
	fake := fakegraph.Start(tenants...)
	t.Cleanup(fake.Close)
	tokens := testsupport.NewTokenService(fake)
	tokens.RegisterSecretClient("app", "secret")
	t.Setenv("AZURE_AUTHORITY_HOST", fake.URL)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "secret"), "secret")
	writeTestFile(t, filepath.Join(dir, "mfa.yml"), configText)
	f := newTenantsFile(Options{ConfigFile: filepath.Join(dir, "mfa.yml"), Cloud: "public", Endpoint: fake.URL, RequestTimeout: time.Minute},
		usersOnly(time.Minute))
	f.credentials.Transport, f.transport = fake.Client(), fake.Transport()
	specs, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	e := newTestExporter(t, exporterConfig{tenants: specs, load: f.load})
	return &reloadFixture{fake: fake, dir: dir, file: f, exporter: e}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tenantsYAML lists tenants that read with the app's secret.
func tenantsYAML(ids ...string) string {
	var b strings.Builder
	b.WriteString("tenants:\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "  - tenant_id: %s\n    client_id: app\n    client_secret_file: secret\n", id)
	}
	return b.String()
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// A reload keeps the tenants that did not change as they run, starts the new ones, stops the
// removed ones (their series go) and restarts a changed one with its snapshot; a file that does
// not load changes nothing and says so in mfa_exporter_config_last_reload_successful.
func TestReloadAppliesTheDifference(t *testing.T) {
	tenants := someTenants(3)
	a, b, c := tenants[0], tenants[1], tenants[2]
	fx := newReloadFixture(t, tenants, tenantsYAML(a.ID, b.ID))
	e := fx.exporter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	upFor := func(id string) func() bool {
		return func() bool {
			up, _ := sample(t, e, "mfa_exporter_source_up", map[string]string{"tenant_id": id})
			return up == 1
		}
	}
	waitUntil(t, "a and b are read", func() bool { return upFor(a.ID)() && upFor(b.ID)() })
	runnerOf := func(id string) *runner {
		for _, tn := range *e.tenants.Load() {
			if tn.spec.id == id {
				return tn.runners[0]
			}
		}
		return nil
	}
	bRunner := runnerOf(b.ID)
	requestsBefore := len(fx.fake.Requests())
	startOf := func(id string) float64 {
		v, _ := sample(t, e, "mfa_exporter_tenant_start_time_seconds", map[string]string{"tenant_id": id})
		return v
	}
	bStart := startOf(b.ID)

	if !e.Ready() {
		t.Fatal("not ready once a and b are read")
	}
	writeTestFile(t, filepath.Join(fx.dir, "mfa.yml"), tenantsYAML(b.ID, c.ID))
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if !e.Ready() {
		t.Error("adding tenant c made the exporter unready: a readiness probe would stop b's scrapes")
	}
	waitUntil(t, "c is read", upFor(c.ID))
	// A tenant's first refresh is timed from when it was added (MFAExporterSourceNeverRefreshed).
	if startOf(c.ID) <= bStart || startOf(b.ID) != bStart {
		t.Errorf("tenant start times: b %v then %v, c (added by the reload) %v; want b's kept and c's later", bStart, startOf(b.ID), startOf(c.ID))
	}
	if runnerOf(b.ID) != bRunner {
		t.Error("the unchanged tenant b was rebuilt")
	}
	for _, r := range fx.fake.Requests()[requestsBefore:] {
		if r.Tenant != c.ID {
			t.Errorf("after the reload Graph was asked %s for tenant %s; only the new tenant c should be read", r.Path, r.Tenant)
		}
	}
	if served := scrape(t, e); strings.Contains(served, a.ID) {
		t.Errorf("the removed tenant a is still served:\n%s", servedFor(t, e, a.ID))
	}
	writeTestFile(t, filepath.Join(fx.dir, "mfa.yml"), tenantsYAML(b.ID)+"    unknown_key: 1\n")
	if err := e.Reload(); err == nil || !strings.Contains(err.Error(), "mfa.yml:5: tenants[0].unknown_key: unknown key") {
		t.Errorf("a bad file reloaded: %v", err)
	}
	if ok, _ := sample(t, e, "mfa_exporter_config_last_reload_successful", nil); ok != 0 {
		t.Errorf("config_last_reload_successful = %v after a failed reload", ok)
	}
	if e.Tenants() != 2 || !upFor(c.ID)() {
		t.Error("a failed reload changed the tenants read")
	}
	checkRenamedTenantRestarts(t, fx, b, c, bRunner, bStart, runnerOf)
}

// checkRenamedTenantRestarts: the same settings again change nothing; a new name changes the
// tenant: it restarts, serving its snapshot meanwhile, and the reload says it worked.
func checkRenamedTenantRestarts(t *testing.T, fx *reloadFixture, b, c *fakegraph.Tenant, bRunner *runner, bStart float64, runnerOf func(string) *runner) {
	t.Helper()
	e := fx.exporter

	writeTestFile(t, filepath.Join(fx.dir, "mfa.yml"), tenantsYAML(b.ID, c.ID))
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if runnerOf(b.ID) != bRunner {
		t.Error("reloading the same settings rebuilt tenant b")
	}
	renamed := strings.Replace(tenantsYAML(b.ID, c.ID), "client_id: app\n", "client_id: app\n    name: Bee\n", 1)
	writeTestFile(t, filepath.Join(fx.dir, "mfa.yml"), renamed)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if runnerOf(b.ID) == bRunner {
		t.Error("a renamed tenant b kept its runner")
	}
	if start, _ := sample(t, e, "mfa_exporter_tenant_start_time_seconds", map[string]string{"tenant_id": b.ID}); start != bStart {
		t.Errorf("the renamed tenant b's start time moved from %v to %v: it is the same tenant, read on", bStart, start)
	}
	if got, want := servedFor(t, e, b.ID, userFamilies...), withoutHelp(userTruthText(b)); got != want {
		t.Errorf("the changed tenant b does not serve its snapshot meanwhile:\n%s", got)
	}
	if info, _ := sample(t, e, "mfa_exporter_tenant_info", map[string]string{"tenant_id": b.ID, "name": "Bee"}); info != 1 {
		t.Error("tenant b's new name is not served")
	}
	if ok, _ := sample(t, e, "mfa_exporter_config_last_reload_successful", nil); ok != 1 {
		t.Errorf("config_last_reload_successful = %v after a good reload", ok)
	}
}

// A reload keeps to the shard: the tenants another shard reads stay unread.
func TestReloadKeepsToTheShard(t *testing.T) {
	tenants := someTenants(8)
	fx := newReloadFixture(t, tenants, tenantsYAML(tenants[0].ID))
	var ids []string
	for _, tn := range tenants {
		ids = append(ids, tn.ID)
	}
	e := fx.exporter
	e.shard = config.Shard{Index: 1, Count: 2}
	writeTestFile(t, filepath.Join(fx.dir, "mfa.yml"), tenantsYAML(ids...))
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, tn := range *e.tenants.Load() {
		if config.HashMod(tn.spec.id, 2) != 1 {
			t.Errorf("after a reload shard 1/2 reads %s, whose hashmod is 0", tn.spec.id)
		}
	}
	if e.Tenants() == 0 || e.Tenants() == len(tenants) {
		t.Errorf("shard 1/2 reads %d of %d tenants", e.Tenants(), len(tenants))
	}
}
