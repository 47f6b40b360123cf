package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// checkUserCounts compares the registered and unregistered users served with the tenant's
// ground truth, group by group.
func checkUserCounts(t *testing.T, families map[string]*dto.MetricFamily, tenant *fakegraph.Tenant) {
	t.Helper()
	truth := tenant.UserTruth()
	for family, count := range map[string]func(fakegraph.UserCounts) int{
		"entra_mfa_registered_users":   func(c fakegraph.UserCounts) int { return c.Registered },
		"entra_mfa_unregistered_users": func(c fakegraph.UserCounts) int { return c.Unregistered },
	} {
		mf := families[family]
		if mf == nil || len(mf.Metric) != 4 {
			t.Errorf("%s: want the 4 user_type x admin series, got %v", family, mf)
			continue
		}
		for _, m := range mf.Metric {
			l := labelsOf(m)
			want := count(truth.Groups[fakegraph.UserGroup{UserType: l["user_type"], Admin: l["admin"]}])
			if l["tenant_id"] != tenant.ID || m.GetGauge().GetValue() != float64(want) {
				t.Errorf("%s%v = %v, want %d with tenant_id %s", family, l, m.GetGauge().GetValue(), want, tenant.ID)
			}
		}
	}
}

func TestRefusesBadInputAtStart(t *testing.T) {
	const tenant = "11111111-2222-4333-8444-555555555555"
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad-web-config.yml")
	writeFile(t, badYAML, "tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n")
	unknownField := filepath.Join(dir, "unknown-field.yml")
	writeFile(t, unknownField, "basic_auth_user:\n  prometheus: x\n")

	badConfig := filepath.Join(dir, "tenants.yml")
	writeFile(t, badConfig, "tenants:\n  - tenant_id: "+tenant+"\n    client_id: app\n    client_secret_file: nothere.secret\n")
	storageFile := filepath.Join(dir, "not-a-directory")
	writeFile(t, storageFile, "")

	withTenant := cleanEnv("AZURE_TENANT_ID=" + tenant)
	checkRefusedAtStart(t, []refusedStart{
		{"unknown cloud", withTenant, []string{"--graph.cloud=mars"}, []string{"--graph.cloud", "mars", "usgovdod"}},
		{"unparsable refresh interval", withTenant, []string{"--collector.users.refresh-interval=soon"}, []string{"--collector.users.refresh-interval", "soon"}},
		{"zero refresh timeout", withTenant, []string{"--collector.users.refresh-timeout=0s"}, []string{"--collector.users.refresh-timeout", "positive"}},
		{"unparsable request timeout", withTenant, []string{"--graph.request-timeout=later"}, []string{"--graph.request-timeout", "later"}},
		{"unknown sign-in scope", withTenant, []string{"--collector.signins.scope=tenant"}, []string{"--collector.signins.scope", "tenant"}},
		{"sign-in app without its id", withTenant, []string{"--collector.signins.app=office"}, []string{"--collector.signins.app=office", "NAME=APPID"}},
		{"sign-in app id not a GUID", withTenant, []string{"--collector.signins.app=office=d3590ed6"}, []string{"--collector.signins.app=office=d3590ed6", "GUID"}},
		{"endpoint not https", withTenant, []string{"--graph.endpoint=http://graph.example"}, []string{"--graph.endpoint", "https"}},
		{"endpoint unparsable", withTenant, []string{"--graph.endpoint=https://graph.example/%zz"}, []string{"--graph.endpoint", "%zz"}},
		{"endpoint with a query", withTenant, []string{"--graph.endpoint=https://graph.example/v1.0?x=1"}, []string{"--graph.endpoint", "query"}},
		{"no tenant id", cleanEnv(), nil, []string{"no tenant id", "AZURE_TENANT_ID", "--graph.tenant-id"}},
		{"malformed tenant id", cleanEnv(), []string{"--graph.tenant-id=contoso/../other"}, []string{"tenant id", "contoso/../other"}},
		{"tenant flag and variable disagree", withTenant, []string{"--graph.tenant-id=contoso.onmicrosoft.com"}, []string{"--graph.tenant-id", "AZURE_TENANT_ID", "differ"}},
		{"no usable credential", cleanEnv("AZURE_TENANT_ID="+tenant, "AZURE_TOKEN_CREDENTIALS=EnvironmentCredential"), nil,
			[]string{"no usable Azure credential", "AZURE_CLIENT_ID"}},
		{"unknown credential selection", cleanEnv("AZURE_TENANT_ID="+tenant, "AZURE_TOKEN_CREDENTIALS=magic"), nil, []string{"AZURE_TOKEN_CREDENTIALS", "magic"}},
		{"authority host not https", cleanEnv("AZURE_TENANT_ID="+tenant, "AZURE_AUTHORITY_HOST=http://login.example"), nil, []string{"AZURE_AUTHORITY_HOST", "https"}},
		{"web config missing", withTenant, []string{"--web.config.file=" + filepath.Join(dir, "missing.yml")}, []string{"--web.config.file", "missing.yml"}},
		{"web config certificate missing", withTenant, []string{"--web.config.file=" + badYAML}, []string{"--web.config.file", "/nonexistent/cert.pem"}},
		{"web config unknown field", withTenant, []string{"--web.config.file=" + unknownField}, []string{"--web.config.file", "basic_auth_user"}},
		{"negative demo users", cleanEnv(), []string{"--demo", "--demo.users=-5"}, []string{"--demo.users", "-5"}},
		{"unparsable demo users", cleanEnv(), []string{"--demo", "--demo.users=many"}, []string{"--demo.users", "many"}},
		{"telemetry path without slash", cleanEnv(), []string{"--demo", "--web.telemetry-path=metrics"}, []string{"--web.telemetry-path", "/"}},
		{"telemetry path with a space", cleanEnv(), []string{"--demo", "--web.telemetry-path=/a b"}, []string{"--web.telemetry-path", "/a b"}},
		{"telemetry path with a wildcard", cleanEnv(), []string{"--demo", "--web.telemetry-path=/{x}"}, []string{"--web.telemetry-path", "/{x}"}},
		{"listen address without port", cleanEnv(), []string{"--demo", "--demo.users=10", "--web.listen-address=localhost"}, []string{"--web.listen-address", "localhost"}},
		{"unknown log level", cleanEnv(), []string{"--demo", "--log.level=loud"}, []string{"log level", "loud"}},
		{"config file missing", cleanEnv(), []string{"--config.file=" + filepath.Join(dir, "none.yml")}, []string{"--config.file", "none.yml"}},
		{"config file names a missing secret", cleanEnv(), []string{"--config.file=" + badConfig},
			[]string{"--config.file", badConfig + ":4: tenants[0].client_secret_file", "nothere.secret"}},
		{"config file and demo", cleanEnv(), []string{"--demo", "--config.file=" + badConfig}, []string{"--demo", "--config.file", "choose one"}},
		{"shard out of range", cleanEnv(), []string{"--demo", "--tenants.shard=3/3"}, []string{"--tenants.shard=3/3", "0 to N-1"}},
		{"no concurrent refreshes", cleanEnv(), []string{"--demo", "--graph.max-concurrent-refreshes=0"}, []string{"--graph.max-concurrent-refreshes", "at least 1"}},
		{"storage path is a file", cleanEnv(), []string{"--demo", "--storage.path=" + storageFile}, []string{"--storage.path", "not-a-directory"}},
		{"no demo tenants", cleanEnv(), []string{"--demo", "--demo.tenants=0"}, []string{"--demo.tenants", "at least 1"}},
	})
}

// refusedStart is a start-up the exporter must refuse: exit 1 with a message naming every want.
type refusedStart struct {
	name string
	env  []string
	args []string
	want []string // every one must appear in the output
}

func checkRefusedAtStart(t *testing.T, cases []refusedStart) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, code := runToExit(t, tc.env, tc.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1; output:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
			for _, never := range []string{"panic", "goroutine ", "Listening on", "hunter2"} {
				if strings.Contains(out, never) {
					t.Errorf("output contains %q: the exporter must refuse before starting, without a panic or a secret:\n%s", never, out)
				}
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	out, code := runToExit(t, cleanEnv(), "--version")
	if code != 0 || !strings.Contains(out, "mfa_exporter, version "+testVersion) {
		t.Errorf("--version: exit %d, output %q; want exit 0 and the version %s", code, out, testVersion)
	}
}

// TestEveryFlagIsDocumented keeps the README's flag table in step with --help.
func TestEveryFlagIsDocumented(t *testing.T) {
	out, code := runToExit(t, cleanEnv(), "--help")
	readme, err := os.ReadFile("README.md")
	if code != 0 || err != nil {
		t.Fatalf("--help: exit %d; reading README.md: %v", code, err)
	}
	flags := regexp.MustCompile(`--(?:\[no-\])?([a-z][a-z0-9.-]+)`).FindAllStringSubmatch(out, -1)
	if len(flags) < 10 {
		t.Fatalf("found only %d flags in --help:\n%s", len(flags), out)
	}
	for _, f := range flags {
		if f[1] == "help-long" || f[1] == "help-man" {
			continue // kingpin's own
		}
		if !strings.Contains(string(readme), "`--"+f[1]+"` |") && !strings.Contains(string(readme), "`--[no-]"+f[1]+"` |") {
			t.Errorf("flag --%s is not in the README's flag table", f[1])
		}
	}
}

func TestDemoServesMetricsAndLandingPage(t *testing.T) {
	const users = 1500 // two pages of the report
	e := startExporter(t, cleanEnv(), "--demo", fmt.Sprintf("--demo.users=%d", users))
	client := &http.Client{Timeout: 10 * time.Second}
	families := waitForSources(t, e, client, func() *http.Request { return newRequest(t, "http://"+e.addr+"/metrics") }, "users")

	checkUserCounts(t, families, fakegraph.NewDemoTenant(users))
	info := families["mfa_exporter_build_info"]
	if info == nil || len(info.Metric) != 1 || labelsOf(info.Metric[0])["version"] != testVersion {
		t.Errorf("mfa_exporter_build_info: want one series with version=%q, got %v", testVersion, info)
	}
	if families["go_goroutines"] == nil || families["process_cpu_seconds_total"] == nil {
		t.Error("the Go runtime and process metrics are missing")
	}

	status, body := get(t, client, newRequest(t, "http://"+e.addr+"/"))
	if status != http.StatusOK || !strings.Contains(body, "MFA Exporter") || !strings.Contains(body, `href="/metrics"`) {
		t.Errorf("landing page: status %d, want 200 with the exporter's name and a link to /metrics:\n%s", status, body)
	}
}

func TestCustomTelemetryPath(t *testing.T) {
	e := startExporter(t, cleanEnv(), "--demo", "--demo.users=10", "--web.telemetry-path=/entra/metrics")
	client := &http.Client{Timeout: 10 * time.Second}
	if status, body := get(t, client, newRequest(t, "http://"+e.addr+"/entra/metrics")); status != http.StatusOK || !strings.Contains(body, "mfa_exporter_build_info") {
		t.Errorf("GET /entra/metrics: status %d, want 200 with the metrics:\n%s", status, body)
	}
	if status, body := get(t, client, newRequest(t, "http://"+e.addr+"/")); status != http.StatusOK || !strings.Contains(body, `href="/entra/metrics"`) {
		t.Errorf("landing page: status %d, want 200 with a link to /entra/metrics:\n%s", status, body)
	}
	if status, _ := get(t, client, newRequest(t, "http://"+e.addr+"/metrics")); status == http.StatusOK {
		t.Error("GET /metrics answered 200; the metrics must be served only under --web.telemetry-path")
	}
}

// selfSigned makes a certificate for 127.0.0.1 and returns its PEM files' paths.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mfa_exporter test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	writePEM(t, keyFile, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certFile, keyFile, cert
}

func writePEM(t testing.TB, path string, blocks ...*pem.Block) {
	t.Helper()
	var b bytes.Buffer
	for _, block := range blocks {
		b.Write(pem.EncodeToMemory(block))
	}
	writeFile(t, path, b.String())
}

func TestTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	const user, password = "prometheus", "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "web-config.yml")
	writeFile(t, config, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n",
		certFile, keyFile, user, hash))

	e := startExporter(t, cleanEnv(), "--demo", "--demo.users=100", "--web.config.file="+config)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	metrics := func(user, password string) *http.Request {
		req := newRequest(t, "https://"+e.addr+"/metrics")
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		return req
	}

	for _, anonymous := range []struct{ name, user, password string }{
		{"no credentials", "", ""}, {"wrong password", user, "wrong"}, {"unknown user", "admin", password},
	} {
		if status, _ := get(t, client, metrics(anonymous.user, anonymous.password)); status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", anonymous.name, status)
		}
	}
	if status, _ := get(t, &http.Client{Timeout: 10 * time.Second}, newRequest(t, "http://"+e.addr+"/metrics")); status != http.StatusBadRequest {
		t.Errorf("plain HTTP: status %d, want 400 (the server speaks only TLS)", status)
	}
	families := waitForSources(t, e, client, func() *http.Request { return metrics(user, password) }, "users")
	checkUserCounts(t, families, fakegraph.NewDemoTenant(100))
}

// TestCredentialFlowsAgainstFakeAuthority runs the exporter as against a real tenant, with
// DefaultAzureCredential's environment flow, the fake Graph as the authority (AZURE_AUTHORITY_HOST)
// and as Graph (--graph.endpoint), trusted through SSL_CERT_FILE only. A token can only be had
// with instance discovery disabled (no network reaches login.microsoftonline.com), and Graph
// only answers with that token, so the custom endpoint's host must be on the token provider's
// allow-list.
func TestCredentialFlowsAgainstFakeAuthority(t *testing.T) {
	tenant := &fakegraph.Tenant{ID: "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", Seed: 11, Users: 1200, UnregisteredAdmins: 1, Domain: "fabrikam.test"}
	fake := testsupport.StartFake(t, tenant)
	tokenService := testsupport.NewTokenService(fake)
	dir := t.TempDir()
	authorityCA := filepath.Join(dir, "authority-ca.pem")
	writePEM(t, authorityCA, &pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})

	const secret = "s3cr3t-value-that-must-never-be-logged"
	tokenService.RegisterSecretClient("secret-app", secret)
	certPath := filepath.Join(dir, "client.pem")
	tokenService.RegisterCertificateClient("certificate-app", clientCertificate(t, certPath))

	env := func(clientID string, extra ...string) []string {
		return cleanEnv(append([]string{"AZURE_TENANT_ID=" + tenant.ID, "AZURE_CLIENT_ID=" + clientID,
			"AZURE_AUTHORITY_HOST=" + fake.URL, "SSL_CERT_FILE=" + authorityCA}, extra...)...)
	}
	for _, flow := range []struct{ name, clientID, credential string }{
		{"client secret", "secret-app", "AZURE_CLIENT_SECRET=" + secret},
		{"client certificate", "certificate-app", "AZURE_CLIENT_CERTIFICATE_PATH=" + certPath},
	} {
		t.Run(flow.name, func(t *testing.T) {
			fake.ResetRequests()
			e := startExporter(t, env(flow.clientID, flow.credential), "--graph.endpoint="+fake.URL, "--log.level=debug")
			client := &http.Client{Timeout: 10 * time.Second}
			families := waitForSources(t, e, client, func() *http.Request { return newRequest(t, "http://"+e.addr+"/metrics") }, "users")
			checkUserCounts(t, families, tenant)

			tokens := tokenService.IssuedTokens()[flow.clientID]
			if len(tokens) == 0 {
				t.Fatalf("the fake authority issued no token to %s; logs:\n%s", flow.clientID, e.logs)
			}
			pages := 0
			for _, r := range fake.Requests() {
				got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !slices.Contains(tokens, got) {
					t.Errorf("Graph request %s carried Authorization %q, want the token issued to %s", r.Path, got, flow.clientID)
				}
				if strings.HasSuffix(r.Path, "/userRegistrationDetails") {
					pages++
				}
			}
			if pages != 2 {
				t.Errorf("Graph saw %d report pages, want 2", pages)
			}
			for _, leaked := range append([]string{secret}, tokens...) {
				if strings.Contains(e.logs.String(), leaked) {
					t.Errorf("the logs contain a secret or token %q", leaked)
				}
			}
		})
	}

	for _, refused := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong secret", env("secret-app", "AZURE_CLIENT_SECRET=wrong-"+secret), "AADSTS7000215"},
		{"unknown client", env("nobody", "AZURE_CLIENT_SECRET="+secret), "invalid_client"},
		{"authority not trusted", cleanEnv("AZURE_TENANT_ID="+tenant.ID, "AZURE_CLIENT_ID=secret-app", "AZURE_CLIENT_SECRET="+secret,
			"AZURE_AUTHORITY_HOST="+fake.URL), "certificate"},
	} {
		t.Run(refused.name, func(t *testing.T) {
			out, code := runToExit(t, refused.env, "--graph.endpoint="+fake.URL, "--log.level=debug")
			if code == 0 || !strings.Contains(out, "no usable Azure credential") || !strings.Contains(out, refused.want) {
				t.Errorf("exit %d; want non-zero and a message naming the credential problem (%q):\n%s", code, refused.want, out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("the output contains the client secret:\n%s", out)
			}
		})
	}
}

// clientCertificate writes an app's RSA key and self-signed certificate as one PEM file, the
// form AZURE_CLIENT_CERTIFICATE_PATH takes, and returns the certificate.
func clientCertificate(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "certificate-app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return cert
}
