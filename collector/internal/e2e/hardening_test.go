package e2e

import (
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/pkcs12"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// Start-up refuses, naming the flag or variable, what the first release took and then
// misbehaved on: unclean telemetry paths, a web config that silently turns TLS and auth off,
// endpoints and tenants that are not one plain host or name, integers that wrap.
func TestRefusesUncleanInputAtStart(t *testing.T) {
	const tenant = "11111111-2222-4333-8444-555555555555"
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yml")
	writeFile(t, empty, "# nothing but a comment\n")
	garbage := filepath.Join(dir, "client.pem")
	writeFile(t, garbage, "not a certificate")
	withTenant := cleanEnv("AZURE_TENANT_ID=" + tenant)
	checkRefusedAtStart(t, []refusedStart{
		{"telemetry path //", cleanEnv(), []string{"--demo", "--web.telemetry-path=//"}, []string{`--web.telemetry-path \"//\"`}},
		{"telemetry path with %zz", cleanEnv(), []string{"--demo", "--web.telemetry-path=/%zz"}, []string{"--web.telemetry-path", "%zz"}},
		{"telemetry path with a control character", cleanEnv(), []string{"--demo", "--web.telemetry-path=/a\x01b"}, []string{"--web.telemetry-path", `\x01`}},
		{"telemetry path with a quote", cleanEnv(), []string{"--demo", `--web.telemetry-path=/a"b`}, []string{"--web.telemetry-path"}},
		{"telemetry path with ..", cleanEnv(), []string{"--demo", "--web.telemetry-path=/a/../metrics"}, []string{"--web.telemetry-path", "/a/../metrics"}},
		{"telemetry path ending in /", cleanEnv(), []string{"--demo", "--web.telemetry-path=/metrics/"}, []string{"--web.telemetry-path", "/metrics/"}},
		{"telemetry path on a health check", cleanEnv(), []string{"--demo", "--web.telemetry-path=/-/ready"}, []string{"--web.telemetry-path", "health"}},
		{"web config empty", cleanEnv(), []string{"--demo", "--web.config.file=" + empty}, []string{"--web.config.file", "empty", "TLS"}},
		{"web config /dev/null", cleanEnv(), []string{"--demo", "--web.config.file=/dev/null"}, []string{"--web.config.file", "not a regular file"}},
		{"web config a directory", cleanEnv(), []string{"--demo", "--web.config.file=" + dir}, []string{"--web.config.file", "not a regular file"}},
		{"endpoint with user info", withTenant, []string{"--graph.endpoint=https://admin:hunter2@graph.example"}, []string{"--graph.endpoint", "user info"}},
		{"endpoint port out of range", withTenant, []string{"--graph.endpoint=https://graph.example:99999"}, []string{"--graph.endpoint", "99999"}},
		{"endpoint port empty", withTenant, []string{"--graph.endpoint=https://graph.example:"}, []string{"--graph.endpoint", "port"}},
		{"endpoint host not ASCII", withTenant, []string{"--graph.endpoint=https://gr\u0430ph.example"}, []string{"--graph.endpoint", "xn--"}},
		{"tenant ..", cleanEnv(), []string{"--graph.tenant-id=.."}, []string{`tenant id \"..\"`}},
		{"tenant without a dot", cleanEnv(), []string{"--graph.tenant-id=contoso"}, []string{"tenant id", "contoso"}},
		{"tenant with an empty label", cleanEnv("AZURE_TENANT_ID=contoso..com"), nil, []string{"tenant id", "contoso..com"}},
		{"demo users overflow", cleanEnv(), []string{"--demo", "--demo.users=99999999999999999999"}, []string{"--demo.users", "99999999999999999999", "whole number"}},
		{"demo users a fraction", cleanEnv(), []string{"--demo", "--demo.users=2.5"}, []string{"--demo.users", "2.5", "whole number"}},
		{"series limit in float notation", cleanEnv(), []string{"--demo", "--collector.credentials.expiry-series-limit=1e3"}, []string{"--collector.credentials.expiry-series-limit", "1e3"}},
		{"demo faults out of range", cleanEnv(), []string{"--demo", "--demo.faults=1.5"}, []string{"--demo.faults", "1.5"}},
		{"client certificate unreadable", cleanEnv("AZURE_TENANT_ID="+tenant, "AZURE_CLIENT_ID=app", "AZURE_CLIENT_CERTIFICATE_PATH="+garbage), nil,
			[]string{"AZURE_CLIENT_CERTIFICATE_PATH", garbage, "PKCS#12"}},
		{"client certificate missing", cleanEnv("AZURE_TENANT_ID="+tenant, "AZURE_CLIENT_ID=app", "AZURE_CLIENT_CERTIFICATE_PATH="+filepath.Join(dir, "missing.pem")), nil,
			[]string{"AZURE_CLIENT_CERTIFICATE_PATH", "missing.pem", "no such file"}},
	})
}

// hrefs are the links of an HTML page.
var hrefs = regexp.MustCompile(`href="([^"]*)"`)

// Only the landing page, the metrics and the health endpoints answer: not the pages that
// dependencies put on Go's default mux (expvar's /debug/vars shows the command line), and the
// landing page links to nothing that is not served.
func TestWebSurfaceServesOnlyWhatItMeans(t *testing.T) {
	e := startExporter(t, cleanEnv(), "--demo", "--demo.users=10")
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + e.addr
	waitForSources(t, e, client, func() *http.Request { return newRequest(t, base+"/metrics") }, "users", "credentials", "signins")

	status, landing := get(t, client, newRequest(t, base+"/"))
	links := hrefs.FindAllStringSubmatch(landing, -1)
	if status != http.StatusOK || len(links) != 3 {
		t.Fatalf("landing page: status %d with %d links, want 200 and links to the metrics and the two health endpoints:\n%s", status, len(links), landing)
	}
	for _, link := range links {
		if !strings.HasPrefix(link[1], "/") {
			t.Errorf("the landing page links off the exporter, to %s", link[1])
			continue
		}
		if status, _ := get(t, client, newRequest(t, base+link[1])); status != http.StatusOK {
			t.Errorf("the landing page links to %s, which answers %d", link[1], status)
		}
	}
	for _, path := range []string{"/debug/vars", "/debug/requests", "/debug/events", "/debug/pprof/", "/debug/pprof/heap", "/metrics/x", "/anything", "/-/"} {
		if status, _ := get(t, client, newRequest(t, base+path)); status != http.StatusNotFound {
			t.Errorf("GET %s answered %d, want 404", path, status)
		}
	}
	for path, want := range map[string]string{"/-/healthy": "healthy", "/-/ready": "ready"} {
		if status, body := get(t, client, newRequest(t, base+path)); status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %q, want 200 saying %s", path, status, body, want)
		}
	}
}

// A telemetry path that a dependency registered on Go's default mux panicked at start.
func TestTelemetryPathWhereADependencyRegisteredAPage(t *testing.T) {
	e := startExporter(t, cleanEnv(), "--demo", "--demo.users=10", "--web.telemetry-path=/debug/requests")
	client := &http.Client{Timeout: 10 * time.Second}
	if status, body := get(t, client, newRequest(t, "http://"+e.addr+"/debug/requests")); status != http.StatusOK || !strings.Contains(body, "mfa_exporter_build_info") {
		t.Errorf("GET /debug/requests: status %d, want 200 with the metrics", status)
	}
}

// /-/ready answers 503 until every source has finished its first refresh.
func TestReadyWaitsForTheFirstRefreshes(t *testing.T) {
	graphFake, env := fakeTenantWithSecret(t)
	graphFake.Inject(fakegraph.Fault{Path: "/servicePrincipals", Times: 1, Delay: 3 * time.Second})
	e := startExporter(t, env, "--graph.endpoint="+graphFake.URL)
	client := &http.Client{Timeout: 10 * time.Second}
	if status, _ := get(t, client, newRequest(t, "http://"+e.addr+"/-/ready")); status != http.StatusServiceUnavailable {
		t.Errorf("/-/ready answered %d while the credentials source was still reading, want 503", status)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if status, _ := get(t, client, newRequest(t, "http://"+e.addr+"/-/ready")); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready a minute after start; logs:\n%s", e.logs)
		}
	}
}

// fakeTenantWithSecret is a fake Graph and authority, and the environment in which the exporter
// signs in to them with a client secret.
func fakeTenantWithSecret(t *testing.T) (*fakegraph.Server, []string) {
	t.Helper()
	tenant := &fakegraph.Tenant{ID: "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", Seed: 11, Users: 100, UnregisteredAdmins: 1, Domain: "fabrikam.test"}
	fake := testsupport.StartFake(t, tenant)
	testsupport.NewTokenService(fake).RegisterSecretClient("secret-app", "s3cr3t")
	authorityCA := filepath.Join(t.TempDir(), "authority-ca.pem")
	writePEM(t, authorityCA, &pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw})
	return fake, cleanEnv("AZURE_TENANT_ID="+tenant.ID, "AZURE_CLIENT_ID=secret-app", "AZURE_CLIENT_SECRET=s3cr3t",
		"AZURE_AUTHORITY_HOST="+fake.URL, "SSL_CERT_FILE="+authorityCA)
}

// logLines are the exporter's JSON log lines.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(l), &entry) == nil {
			lines = append(lines, entry)
		}
	}
	return lines
}

// SIGTERM during a refresh is a shutdown: exit 0, one INFO line, no ERROR line (the first
// release logged the cut request as a Graph failure naming DNS, proxy and firewall).
func TestSignalDuringARefreshIsAShutdown(t *testing.T) {
	graphFake, env := fakeTenantWithSecret(t)
	graphFake.Inject(fakegraph.Fault{Path: "/userRegistrationDetails", Delay: time.Minute})
	e := startExporter(t, env, "--graph.endpoint="+graphFake.URL, "--no-collector.credentials", "--no-collector.signins")
	time.Sleep(time.Second) // the users refresh is waiting for the delayed page
	code, err := e.stop(syscall.SIGTERM)
	out := e.logs.String()
	if err != nil || code != 0 {
		t.Errorf("exit code %d (%v) after SIGTERM, want 0; logs:\n%s", code, err, out)
	}
	shutdowns := 0
	for _, line := range logLines(t, out) {
		if line["level"] == "ERROR" || line["level"] == "WARN" {
			t.Errorf("a shutdown during a refresh logged %v %q", line["level"], line["msg"])
		}
		if line["msg"] == "shutting down" && line["level"] == "INFO" {
			shutdowns++
		}
	}
	if shutdowns != 1 || strings.Contains(out, "DNS") {
		t.Errorf("want one INFO line saying it shuts down, and nothing about DNS; logs:\n%s", out)
	}
}

// A signal while the exporter waits for its first token is a shutdown too, not "no usable Azure
// credential" with exit code 1.
func TestSignalDuringTheTokenCheckIsAShutdown(t *testing.T) {
	// An authority that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	env := cleanEnv("AZURE_TENANT_ID=11111111-2222-4333-8444-555555555555", "AZURE_CLIENT_ID=app", "AZURE_CLIENT_SECRET=s3cr3t",
		"AZURE_AUTHORITY_HOST=https://"+silent.Addr().String())
	cmd := exec.Command(exporterBin, "--web.listen-address=127.0.0.1:0")
	logs := &testsupport.LogBuffer{}
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-accepted:
		defer func() { _ = c.Close() }()
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the exporter did not ask the authority for a token; output:\n%s", logs)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the exporter did not stop within 15s of SIGTERM; output:\n%s", logs)
	}
	out := logs.String()
	if code := cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(out, "shutting down") || strings.Contains(out, "no usable Azure credential") {
		t.Errorf("exit code %d; want 0 and \"shutting down\", not a credential failure:\n%s", code, out)
	}
}

// A PKCS#12 file as today's `openssl pkcs12 -export` writes it (AES-256, a SHA-256 MAC) signs in;
// azidentity's own loader refuses it with "pkcs12: unknown digest algorithm".
func TestPKCS12FromOpenSSL3SignsIn(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("MFA_REQUIRE_TOOLS") == "1" {
			t.Fatal("openssl not found: this test needs it to make a PKCS#12 file")
		}
		t.Skip("openssl not found")
	}
	graphFake, _ := fakeTenantWithSecret(t)
	tokens := testsupport.NewTokenService(graphFake)
	dir := t.TempDir()
	pemFile, pfx := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.p12")
	tokens.RegisterCertificateClient("pkcs12-app", clientCertificate(t, pemFile))
	const password = "pfx-password"
	if out, err := exec.Command(openssl, "pkcs12", "-export", "-in", pemFile, "-inkey", pemFile, "-passout", "pass:"+password, "-out", pfx).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12 -export: %v\n%s", err, out)
	}
	data, err := os.ReadFile(pfx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pkcs12.ToPEM(data, password); err == nil || !strings.Contains(err.Error(), "unknown digest algorithm") {
		t.Fatalf("x/crypto/pkcs12 read the file (%v): it is not in the format this test is about", err)
	}
	authorityCA := filepath.Join(dir, "authority-ca.pem")
	writePEM(t, authorityCA, &pem.Block{Type: "CERTIFICATE", Bytes: graphFake.Certificate().Raw})
	env := func(password string) []string {
		return cleanEnv("AZURE_TENANT_ID="+graphFake.Tenant.ID, "AZURE_CLIENT_ID=pkcs12-app", "AZURE_CLIENT_CERTIFICATE_PATH="+pfx,
			"AZURE_CLIENT_CERTIFICATE_PASSWORD="+password, "AZURE_AUTHORITY_HOST="+graphFake.URL, "SSL_CERT_FILE="+authorityCA)
	}

	e := startExporter(t, env(password), "--graph.endpoint="+graphFake.URL, "--no-collector.credentials", "--no-collector.signins")
	client := &http.Client{Timeout: 10 * time.Second}
	families := waitForSources(t, e, client, func() *http.Request { return newRequest(t, "http://"+e.addr+"/metrics") }, "users")
	checkUserCounts(t, families, graphFake.Tenant)
	if len(tokens.IssuedTokens()["pkcs12-app"]) == 0 {
		t.Errorf("no token was issued to the certificate's app; logs:\n%s", e.logs)
	}

	out, code := runToExit(t, env("wrong"), "--graph.endpoint="+graphFake.URL)
	if code != 1 || !strings.Contains(out, "AZURE_CLIENT_CERTIFICATE_PASSWORD") || strings.Contains(out, password) {
		t.Errorf("with a wrong password: exit %d, want 1 and a message naming AZURE_CLIENT_CERTIFICATE_PASSWORD:\n%s", code, out)
	}
}
