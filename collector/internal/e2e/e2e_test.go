// Package e2e tests what ships as a user meets it: the built mfa_exporter binary (flags, start-up
// checks, the web server with TLS and basic auth, azidentity's credential chain against the fake
// Graph playing Microsoft's token service), the alert rules under promtool, the dashboards'
// structure, and dashboards and rules against a real Prometheus scraping the demo. It lives under
// collector/internal because it needs the fake Graph's ground truth, which Go's internal rule
// keeps from packages outside collector/. The tests run from the repository's root.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// testVersion is stamped into the binary under test, as a release build stamps its version.
const testVersion = "9.8.7-test"

var (
	// exporterBin is the binary under test, built by TestMain.
	exporterBin string
	// exporterBuildFlags are extended with -race when the tests run with the race detector.
	exporterBuildFlags = []string{"-ldflags", "-X github.com/prometheus/common/version.Version=" + testVersion}
)

// TestMain moves to the repository's root, where the files under test are, and builds the
// exporter once for every test.
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if err := os.Chdir("../../.."); err != nil {
		fmt.Fprintln(os.Stderr, "moving to the repository's root:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "mfa_exporter-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating the build directory:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory left behind harms no test
	exporterBin = filepath.Join(dir, "mfa_exporter")
	build := exec.Command("go", append(append([]string{"build"}, exporterBuildFlags...), "-o", exporterBin, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building mfa_exporter: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// tool finds a Prometheus binary from $ENV or PATH. Without it the test is skipped, unless
// MFA_REQUIRE_TOOLS=1 (set by .ci/test), where it fails.
func tool(t *testing.T, name, env string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		if os.Getenv("MFA_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found: set $%s or put it on PATH (.ci/test builds it into .tools/bin)", name, env)
		}
		t.Skipf("%s not found ($%s, PATH); .ci/test builds it", name, env)
	}
	return path
}

// readYAML decodes a YAML file strictly: a key the target does not know is an error.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// cleanEnv is the test's environment without anything that would choose a credential, so that
// the tests do not depend on the machine they run on (a CI runner may have a managed identity).
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AZURE_") || strings.HasPrefix(name, "IDENTITY_") || strings.HasPrefix(name, "MSI_") ||
			strings.HasPrefix(name, "IMDS_") || name == "SSL_CERT_FILE" || name == "SSL_CERT_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runToExit runs the exporter expecting it to stop by itself, and returns its output and exit code.
func runToExit(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exporterBin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("mfa_exporter %s did not exit within a minute; output:\n%s", strings.Join(args, " "), out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running mfa_exporter: %v", err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// exporter is a running mfa_exporter.
type exporter struct {
	addr   string // host:port it listens on
	logs   *testsupport.LogBuffer
	cmd    *exec.Cmd
	exited chan struct{}
	killed bool
}

// kill ends the exporter with SIGKILL, as a crash or an OOM kill would, and waits for it.
func (e *exporter) kill() {
	e.killed = true
	_ = e.cmd.Process.Kill()
	<-e.exited
}

// stop sends sig and waits for the exporter to exit (15s at most, then kills it), and returns
// its exit code. An exporter that has exited already just gives its code.
func (e *exporter) stop(sig os.Signal) (int, error) {
	_ = e.cmd.Process.Signal(sig) // fails only when the process has finished
	select {
	case <-e.exited:
		return e.cmd.ProcessState.ExitCode(), nil
	case <-time.After(15 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
		return -1, fmt.Errorf("mfa_exporter did not stop within 15s of %v", sig)
	}
}

// startExporter runs the exporter on a free port until the test ends, then stops it with SIGINT
// and checks that it shut down cleanly (and, under -race, without a data race).
func startExporter(t testing.TB, env []string, args ...string) *exporter {
	t.Helper()
	logs := &testsupport.LogBuffer{}
	cmd := exec.Command(exporterBin, append([]string{"--web.listen-address=127.0.0.1:0", "--log.format=json"}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mfa_exporter: %v", err)
	}
	e := &exporter{logs: logs, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the exit code is read from ProcessState
		close(e.exited)
	}()
	listening := false
	t.Cleanup(func() {
		if e.killed {
			return
		}
		if !listening { // the failure to start is reported already
			_ = cmd.Process.Kill()
			<-e.exited
			return
		}
		code, err := e.stop(os.Interrupt)
		if err != nil {
			t.Errorf("%v; logs:\n%s", err, logs)
			return
		}
		if code != 0 || strings.Contains(logs.String(), "DATA RACE") {
			t.Errorf("mfa_exporter exited with %d after SIGINT; logs:\n%s", code, logs)
		}
	})

	deadline := time.After(time.Minute)
	for {
		for _, line := range strings.Split(logs.String(), "\n") {
			var entry struct{ Msg, Address string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "Listening on" {
				listening = true
				e.addr = entry.Address
				return e
			}
		}
		select {
		case <-e.exited:
			t.Fatalf("mfa_exporter exited with %d before listening; logs:\n%s", cmd.ProcessState.ExitCode(), logs)
		case <-deadline:
			t.Fatalf("mfa_exporter did not listen within a minute; logs:\n%s", logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// get fetches url and returns the status and body.
func get(t testing.TB, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err = errors.Join(err, resp.Body.Close()); err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return resp.StatusCode, string(body)
}

func newRequest(t testing.TB, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// waitForSources scrapes until each of the sources has refreshed successfully once, and returns
// that scrape. A source whose first refresh failed fails the test at once.
func waitForSources(t *testing.T, e *exporter, client *http.Client, req func() *http.Request, sources ...string) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, body := get(t, client, req())
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: status %d: %s", status, body)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("parsing /metrics: %v\n%s", err, body)
		}
		// Health is served from the start: up is 0 until the first refresh ends, and a failed one
		// also counts an error.
		up, failures := map[string]float64{}, map[string]float64{}
		if mf := families["mfa_exporter_source_up"]; mf != nil {
			for _, m := range mf.Metric {
				up[labelsOf(m)["source"]] = m.GetGauge().GetValue()
			}
		}
		if mf := families["mfa_exporter_source_errors_total"]; mf != nil {
			for _, m := range mf.Metric {
				failures[labelsOf(m)["source"]] += m.GetCounter().GetValue()
			}
		}
		ready := true
		for _, s := range sources {
			switch v, ok := up[s]; {
			case !ok:
				t.Fatalf("mfa_exporter_source_up{source=%q} is not served; logs:\n%s", s, e.logs)
			case v != 1 && failures[s] > 0:
				t.Fatalf("mfa_exporter_source_up{source=%q} is %v after %v failures; logs:\n%s", s, v, failures[s], e.logs)
			case v != 1:
				ready = false
			}
		}
		if ready {
			return families
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sources %v did not all refresh within 2 minutes (up: %v); logs:\n%s", sources, up, e.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeFile writes a file the exporter under test reads, readable only by its owner.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.Label {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
