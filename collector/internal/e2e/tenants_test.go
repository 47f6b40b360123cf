package e2e

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// multiTenantFake is a fake Graph serving tenants, with a token service that knows an app with a
// secret and one with a certificate, and the environment that trusts it.
type multiTenantFake struct {
	fake                 *fakegraph.Server
	tenants              []*fakegraph.Tenant
	dir, secret, certKey string
	env                  []string
}

func startMultiTenantFake(t testing.TB, n int) *multiTenantFake {
	t.Helper()
	var tenants []*fakegraph.Tenant
	for i := range n {
		tenants = append(tenants, &fakegraph.Tenant{ID: fmt.Sprintf("%08x-1111-4222-8333-%012d", 0xc0000000+i, i), Seed: uint64(50 + i),
			Users: 400 + 500*i, UnregisteredAdmins: 1, Domain: fmt.Sprintf("t%d.example", i),
			SignIns: fakegraph.SignInMix{PerDay: 2000}})
	}
	return serveTenants(t, tenants)
}

// serveTenants serves the tenants from a fake Graph with the token service.
func serveTenants(t testing.TB, tenants []*fakegraph.Tenant) *multiTenantFake {
	t.Helper()
	fake := fakegraph.Start(tenants...)
	t.Cleanup(fake.Close)
	tokens := testsupport.NewTokenService(fake)
	m := &multiTenantFake{fake: fake, tenants: tenants, dir: t.TempDir()}
	m.secret = "msp-s3cr3t-that-must-never-be-logged"
	tokens.RegisterSecretClient("msp-app", m.secret)
	m.certKey = filepath.Join(m.dir, "fabrikam.pem")
	tokens.RegisterCertificateClient("fabrikam-app", clientCertificate(t, m.certKey))
	writeFile(t, filepath.Join(m.dir, "msp.secret"), m.secret+"\n")
	ca := filepath.Join(m.dir, "ca.pem")
	writePEM(t, ca, &pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})
	m.env = cleanEnv("AZURE_AUTHORITY_HOST="+fake.URL, "SSL_CERT_FILE="+ca)
	return m
}

// tenantEntry is a tenant of the configuration file reading with the MSP app's secret.
func tenantEntry(id string, extra ...string) string {
	return "  - tenant_id: " + id + "\n    <<: *msp\n" + strings.Join(extra, "")
}

// configFile writes the configuration file of the entries; the first defines the MSP app's keys
// as an anchor that the others merge.
func (m *multiTenantFake) configFile(t testing.TB, entries ...string) string {
	t.Helper()
	path := filepath.Join(m.dir, "mfa.yml")
	first := strings.Replace(entries[0], "<<: *msp", "<<: &msp {client_id: msp-app, client_secret_file: msp.secret}", 1)
	writeFile(t, path, "tenants:\n"+first+strings.Join(entries[1:], ""))
	return path
}

// scrapeFamilies reads /metrics.
func scrapeFamilies(t testing.TB, e *exporter) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := get(t, &http.Client{Timeout: 10 * time.Second}, newRequest(t, "http://"+e.addr+"/metrics"))
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// upByTenant is mfa_exporter_source_up by tenant and source.
func upByTenant(families map[string]*dto.MetricFamily) map[[2]string]float64 {
	out := map[[2]string]float64{}
	if mf := families["mfa_exporter_source_up"]; mf != nil {
		for _, m := range mf.Metric {
			l := labelsOf(m)
			out[[2]string{l["tenant_id"], l["source"]}] = m.GetGauge().GetValue()
		}
	}
	return out
}

// waitForTenants scrapes until every tenant's named sources are up, and returns that scrape.
func waitForTenants(t testing.TB, e *exporter, want map[string][]string) map[string]*dto.MetricFamily {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		families := scrapeFamilies(t, e)
		up, ready := upByTenant(families), true
		for tenant, sources := range want {
			for _, s := range sources {
				if up[[2]string{tenant, s}] != 1 {
					ready = false
				}
			}
		}
		if ready {
			return families
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every tenant's sources came up within 2 minutes: %v\nlogs:\n%s", up, e.logs)
		}
	}
}

// tenantsServed are the tenant ids of mfa_exporter_tenant_info.
func tenantsServed(families map[string]*dto.MetricFamily) map[string]string {
	out := map[string]string{}
	if mf := families["mfa_exporter_tenant_info"]; mf != nil {
		for _, m := range mf.Metric {
			out[labelsOf(m)["tenant_id"]] = labelsOf(m)["name"]
		}
	}
	return out
}

// One exporter reads several tenants from a configuration file, each with its own credential
// (a shared app's secret file, another app's certificate) and its own overrides, and serves each
// tenant's own counts.
func TestConfigFileReadsEachTenant(t *testing.T) {
	m := startMultiTenantFake(t, 3)
	a, b, c := m.tenants[0], m.tenants[1], m.tenants[2]
	file := m.configFile(t,
		tenantEntry(a.ID, "    name: Contoso\n"),
		"  - tenant_id: "+b.ID+"\n    client_id: fabrikam-app\n    client_certificate_file: fabrikam.pem\n",
		tenantEntry(c.ID, "    collectors:\n      signins: {enabled: true, refresh_interval: 1h}\n"))
	e := startExporter(t, m.env, "--config.file="+file, "--graph.endpoint="+m.fake.URL,
		"--no-collector.credentials", "--no-collector.signins", "--no-collector.policies")
	families := waitForTenants(t, e, map[string][]string{a.ID: {"users"}, b.ID: {"users"}, c.ID: {"users", "signins"}})
	for _, tenant := range m.tenants {
		checkUserCountsOf(t, families, tenant)
	}
	if up := upByTenant(families); len(up) != 4 {
		t.Errorf("sources served: %v; want users for three tenants and signins for the one that enables it", up)
	}
	if names := tenantsServed(families); names[a.ID] != "Contoso" || names[b.ID] != b.ID {
		t.Errorf("tenant names: %v", names)
	}
	for _, r := range m.fake.Requests() {
		if r.Tenant == "" {
			t.Errorf("a request reached Graph without a tenant's token: %s", r.Path)
		}
	}
	if strings.Contains(e.logs.String(), m.secret) {
		t.Error("the logs contain the client secret")
	}
}

// checkUserCountsOf compares one tenant's registered and unregistered users with its ground truth.
func checkUserCountsOf(t *testing.T, families map[string]*dto.MetricFamily, tenant *fakegraph.Tenant) {
	t.Helper()
	truth := tenant.UserTruth()
	for _, name := range []string{"entra_mfa_registered_users", "entra_mfa_unregistered_users"} {
		got := map[fakegraph.UserGroup]float64{}
		for _, m := range families[name].GetMetric() {
			l := labelsOf(m)
			if l["tenant_id"] == tenant.ID {
				got[fakegraph.UserGroup{UserType: l["user_type"], Admin: l["admin"]}] = m.GetGauge().GetValue()
			}
		}
		for g, c := range truth.Groups {
			want := float64(c.Registered)
			if name == "entra_mfa_unregistered_users" {
				want = float64(c.Unregistered)
			}
			if got[g] != want {
				t.Errorf("tenant %s %s%+v = %v, want %v", tenant.ID, name, g, got[g], want)
			}
		}
	}
}

// SIGHUP and POST /-/reload read the file again: a removed tenant's series go, a new one is read;
// a file that does not load keeps the running tenants and answers 500 naming the line and key.
func TestReloadBySignalAndHTTP(t *testing.T) {
	m := startMultiTenantFake(t, 3)
	a, b, c := m.tenants[0], m.tenants[1], m.tenants[2]
	file := m.configFile(t, tenantEntry(a.ID), tenantEntry(b.ID))
	e := startExporter(t, m.env, "--config.file="+file, "--graph.endpoint="+m.fake.URL,
		"--no-collector.credentials", "--no-collector.signins", "--no-collector.policies")
	waitForTenants(t, e, map[string][]string{a.ID: {"users"}, b.ID: {"users"}})

	m.configFile(t, tenantEntry(b.ID), tenantEntry(c.ID))
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	families := waitForTenants(t, e, map[string][]string{c.ID: {"users"}})
	if served := tenantsServed(families); len(served) != 2 || served[a.ID] != "" {
		t.Errorf("after SIGHUP the exporter reads %v; want b and c", served)
	}
	checkUserCountsOf(t, families, c)

	client := &http.Client{Timeout: 10 * time.Second}
	if status, _ := get(t, client, newRequest(t, "http://"+e.addr+"/-/reload")); status != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", status)
	}
	m.configFile(t, tenantEntry(a.ID, "    colectors: {}\n"))
	req := newRequest(t, "http://"+e.addr+"/-/reload")
	req.Method = http.MethodPost
	status, body := get(t, client, req)
	if status != http.StatusInternalServerError || !strings.Contains(body, "mfa.yml:4: tenants[0].colectors: unknown key") {
		t.Errorf("POST /-/reload of a bad file: %d %q; want 500 naming the line and key", status, body)
	}
	families = scrapeFamilies(t, e)
	if served := tenantsServed(families); len(served) != 2 {
		t.Errorf("a failed reload changed the tenants read: %v", served)
	}
	if v := families["mfa_exporter_config_last_reload_successful"].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("config_last_reload_successful = %v after a failed reload", v)
	}
}

// N exporters with --tenants.shard=I/N read each tenant once between them, the demo's tenants
// included, where Prometheus's hashmod of the tenant id puts it.
func TestShardsSplitTheDemoTenants(t *testing.T) {
	const n = 3
	readBy := map[string]int{}
	for i := range n {
		e := startExporter(t, cleanEnv(), "--demo", "--demo.tenants=8", "--demo.users=50", fmt.Sprintf("--tenants.shard=%d/%d", i, n),
			"--no-collector.credentials", "--no-collector.signins", "--no-collector.policies")
		for id := range tenantsServed(scrapeFamilies(t, e)) {
			readBy[id]++
			if got := config.HashMod(id, n); got != uint64(i) {
				t.Errorf("shard %d/%d reads %s, whose hashmod is %d", i, n, id, got)
			}
		}
	}
	for _, tenant := range fakegraph.NewDemoTenants(8, 50) {
		if readBy[tenant.ID] != 1 {
			t.Errorf("demo tenant %s is read by %d shards, want 1", tenant.ID, readBy[tenant.ID])
		}
	}
}
