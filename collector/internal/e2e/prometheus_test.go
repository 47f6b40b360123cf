package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

const (
	// demoUsers sizes the demo tenant; the alert's value is checked against its ground truth.
	demoUsers = 1000
	// refreshInterval makes every source refresh several times during the test.
	refreshInterval = "2s"
	// e2eTimeout bounds each wait: the exporter's first refreshes, the alert, the panels' data.
	e2eTimeout = 2 * time.Minute
)

// TestEndToEnd runs the demo exporter and a real Prometheus server that scrapes it with the
// example alerts/examples/prometheus.yml (intervals shortened, the target set, and every `for:` of the
// rules rewritten to 0s in a temporary copy so that alerts fire at once).
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the exporter and Prometheus")
	}
	run := startEndToEnd(t)
	unexported := map[string]bool{} // queries the panel data check need not wait for
	t.Run("queries parse and use only exported metrics", func(t *testing.T) { run.checkMetricNames(t, unexported) })
	t.Run("MFAAdminsUnregistered fires with the demo's unregistered admins", run.checkAdminsAlert)
	t.Run("MFANotEnforcedForAzureManagement fires on the demo's policies", run.checkEnforcementAlerts)
	t.Run("every panel query returns data", func(t *testing.T) { run.checkPanelData(t, unexported) })
}

// endToEnd is a running demo exporter and the Prometheus that scrapes it, with the queries that
// the dashboards, the rules and the rules' unit tests run, their variables substituted.
type endToEnd struct {
	prom     promAPI
	exported map[string]bool // the metric names the exporter serves
	recorded []string        // the metric names the rules record
	tenantID string
	all      []query // every query
	panels   []query // the dashboards' panel queries, which must return data
}

func startEndToEnd(t *testing.T) *endToEnd {
	prometheusBin := tool(t, "prometheus", "PROMETHEUS")
	dir := t.TempDir()

	sources := exporterSources(t)
	// Two tenants, so that the tenant picker and the tenants overview have a choice to offer.
	// With storage, so that the storage metrics are served for the rule that uses them.
	args := []string{"--demo", "--demo.users=" + strconv.Itoa(demoUsers), "--demo.tenants=2", "--storage.path=" + filepath.Join(dir, "state")}
	for _, s := range sources {
		args = append(args, "--collector."+s+".refresh-interval="+refreshInterval)
	}
	exp := startExporter(t, cleanEnv(), args...)
	exporterAddr := exp.addr
	families := waitForSources(t, exp, &http.Client{Timeout: 10 * time.Second},
		func() *http.Request { return newRequest(t, "http://"+exporterAddr+"/metrics") }, sources...)
	exported := map[string]bool{}
	for name := range families {
		exported[name] = true
	}
	// The first demo tenant, whose ground truth the alert checks compare with.
	tenantID := fakegraph.DemoTenantID

	job, recorded := prometheusConfig(t, dir, exporterAddr)
	run := &endToEnd{exported: exported, recorded: recorded, tenantID: tenantID}
	promAddr := freeAddr(t)
	start(t, dir, prometheusBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	run.prom = promAPI{base: "http://" + promAddr}
	waitFor(t, "Prometheus ready", func() error { return run.prom.ready() })

	values := map[string]string{"job": job, "instance": exporterAddr, "tenant_id": tenantID}
	for _, d := range loadDashboards(t) {
		vars := d.customValues()
		for k, v := range values {
			vars[k] = v
		}
		for _, q := range d.queries() {
			expr, err := substitute(q.expr, vars)
			if err != nil {
				t.Errorf("%s: %v", q.where, err)
				continue
			}
			q.expr = expr
			run.all = append(run.all, q)
			if q.fromPanel {
				run.panels = append(run.panels, q)
			}
		}
	}
	for _, r := range readRules(t) {
		run.all = append(run.all, query{where: "rule " + r.Record + r.Alert, expr: r.Expr})
	}
	run.all = append(run.all, unitTestSeries(t)...)
	return run

}

func (run *endToEnd) checkMetricNames(t *testing.T, unexported map[string]bool) {
	// The series Prometheus adds itself that the rules and their unit tests use.
	known := map[string]bool{"up": true, "ALERTS": true}
	for name := range run.exported {
		known[name] = true
	}
	for _, name := range run.recorded {
		known[name] = true
	}
	for _, q := range run.all {
		names, err := run.prom.metricNames(q.expr)
		if err != nil {
			t.Errorf("%s does not parse: %v\n%s", q.where, err, q.expr)
			continue
		}
		for _, n := range names {
			if n.regex {
				re, err := regexp.Compile("^(?:" + n.name + ")$")
				if err != nil || !slices.ContainsFunc(sortedKeys(known), re.MatchString) {
					t.Errorf("%s: metric name regex %q matches no exported metric", q.where, n.name)
				}
			} else if !known[n.name] {
				t.Errorf("%s uses %s, which the exporter does not export and no rule records", q.where, n.name)
				unexported[q.where] = true
			}
		}
	}
}

func (run *endToEnd) checkAdminsAlert(t *testing.T) {
	want := map[string]float64{} // user_type -> unregistered admins, from the demo tenant's ground truth
	for g, c := range fakegraph.NewDemoTenant(demoUsers).UserTruth().Groups {
		if g.Admin == "true" && c.Unregistered > 0 {
			want[g.UserType] = float64(c.Unregistered)
		}
	}
	if len(want) == 0 {
		t.Fatal("the demo tenant has no unregistered admin: it no longer breaks the rule this test needs")
	}
	var got map[string]float64
	waitFor(t, "MFAAdminsUnregistered firing", func() error {
		alerts, err := run.prom.alerts()
		if err != nil {
			return err
		}
		got = map[string]float64{}
		for _, a := range alerts {
			if a.Labels["alertname"] == "MFAAdminsUnregistered" && a.State == "firing" && a.Labels["tenant_id"] == run.tenantID {
				v, _ := strconv.ParseFloat(a.Value, 64)
				got[a.Labels["user_type"]] = v
			}
		}
		if len(got) == 0 {
			active := map[string]int{}
			for _, a := range alerts {
				active[a.Labels["alertname"]+" "+a.State]++
			}
			return fmt.Errorf("not firing; active alerts: %v", active)
		}
		return nil
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("MFAAdminsUnregistered fires for %v unregistered admins by user type, the demo tenant has %v", got, want)
	}
	// A healthy exporter must not page anyone about itself. With every `for:` at 0s here, one
	// scrape that a loaded CI machine lets time out (1s) fires MFAExporterDown for one evaluation,
	// which production's `for: 5m` would never page on; so the test waits for an evaluation with
	// none of them active, and fails on an alert that stays.
	waitFor(t, "no exporter-health alert active", func() error {
		alerts, err := run.prom.alerts()
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if strings.HasPrefix(a.Labels["alertname"], "MFAExporter") {
				return fmt.Errorf("%s is %s against a healthy demo exporter: %v", a.Labels["alertname"], a.State, a.Labels)
			}
		}
		return nil
	})
}

// checkEnforcementAlerts: the demo tenant's policies leave Azure management to report-only
// policies and cover admins, so by its ground truth MFANotEnforcedForAzureManagement fires and
// MFANotEnforcedForAdmins does not.
func (run *endToEnd) checkEnforcementAlerts(t *testing.T) {
	truth := fakegraph.NewDemoTenant(demoUsers).PolicyTruth()
	notEnforced := func(users, apps string) bool {
		return !truth.SecurityDefaults && truth.Enforced[fakegraph.EnforcedKey{Users: users, Apps: apps, State: "enabled"}] == 0
	}
	if !notEnforced("all", "azure_management") || notEnforced("admins", "all") {
		t.Fatal("the demo tenant no longer leaves Azure management unenforced with admins covered, which this test needs")
	}
	var alerts []alert
	waitFor(t, "MFANotEnforcedForAzureManagement firing", func() error {
		var err error
		if alerts, err = run.prom.alerts(); err != nil {
			return err
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == "MFANotEnforcedForAzureManagement" && a.State == "firing" && a.Labels["tenant_id"] == run.tenantID {
				return nil
			}
		}
		return fmt.Errorf("not firing among %d alerts", len(alerts))
	})
	for _, a := range alerts {
		if a.Labels["alertname"] == "MFANotEnforcedForAdmins" {
			t.Errorf("MFANotEnforcedForAdmins is %s, but the demo's admins are covered by an enabled policy: %v", a.State, a.Labels)
		}
	}
}

func (run *endToEnd) checkPanelData(t *testing.T, unexported map[string]bool) {
	deadline := time.Now().Add(e2eTimeout)
	for _, q := range run.panels {
		if unexported[q.where] {
			t.Errorf("%s: no data, it uses a metric the exporter does not export", q.where)
			continue
		}
		var err error
		for {
			var n int
			if n, err = run.prom.resultSize(q.expr); err == nil && n == 0 {
				err = fmt.Errorf("no data")
			}
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
		}
	}
}

// exporterSources are the sources this build of the exporter has, from its --help.
func exporterSources(t *testing.T) []string {
	t.Helper()
	out, code := runToExit(t, cleanEnv(), "--help")
	var sources []string
	for _, m := range regexp.MustCompile(`--collector\.([a-z_]+)\.refresh-interval`).FindAllStringSubmatch(out, -1) {
		sources = append(sources, m[1])
	}
	if code != 0 || len(sources) == 0 {
		t.Fatalf("mfa_exporter --help: exit %d, no --collector.NAME.refresh-interval flag:\n%s", code, out)
	}
	return sources
}

// start runs a process until the test ends, its output in a log file shown when the test fails.
func start(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(bin)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // it may have exited already; Wait reaps it either way
		_ = cmd.Wait()         // killed: the exit status says nothing
		if err := logFile.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			if out, err := os.ReadFile(logPath); err == nil {
				if len(out) > 4000 {
					out = out[len(out)-4000:]
				}
				t.Logf("%s %s, last output:\n%s", filepath.Base(bin), strings.Join(args, " "), out)
			}
		}
	})
}

// waitFor retries check until it succeeds or e2eTimeout passes.
func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: %v", e2eTimeout, what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func readRules(t *testing.T) []rule {
	t.Helper()
	var file ruleFile
	readYAML(t, rulesFile, &file)
	var out []rule
	for _, g := range file.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// unitTestSeries are the input series and expressions of the rules' promtool unit tests, so
// that a test cannot keep passing on a metric the exporter no longer exports.
func unitTestSeries(t *testing.T) []query {
	t.Helper()
	files, err := filepath.Glob("alerts/tests/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool unit tests in alerts/tests (err %v)", err)
	}
	var out []query
	for _, f := range files {
		var file unitTestFile
		readYAML(t, f, &file)
		for _, test := range file.Tests {
			where := fmt.Sprintf("%s test %q", filepath.Base(f), test.Name)
			for _, in := range test.InputSeries {
				out = append(out, query{where: where + " input series", expr: in.Series})
			}
			for _, e := range test.ExprTests {
				out = append(out, query{where: where + " promql_expr_test", expr: e.Expr})
			}
		}
	}
	return out
}

var forDuration = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+\s*$`)

// prometheusConfig writes dir/prometheus.yml from the example alerts/examples/prometheus.yml: 1s scrape
// and evaluation intervals, the exporter as the only target, and its rule files copied with
// every `for:` set to 0s. It returns the scrape job's name and the recorded metric names.
func prometheusConfig(t *testing.T, dir, target string) (string, []string) {
	t.Helper()
	var config struct {
		Global        map[string]string `yaml:"global"`
		RuleFiles     []string          `yaml:"rule_files"`
		ScrapeConfigs []map[string]any  `yaml:"scrape_configs"`
	}
	readYAML(t, exampleConfig, &config)
	if len(config.ScrapeConfigs) != 1 || len(config.RuleFiles) == 0 {
		t.Fatalf("%s: want one scrape config and the rule files, got %+v", exampleConfig, config)
	}
	config.Global["scrape_interval"], config.Global["evaluation_interval"] = "1s", "1s"
	for i, f := range config.RuleFiles {
		rules, err := os.ReadFile(filepath.Join(filepath.Dir(exampleConfig), f))
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(dir, "rules-"+strconv.Itoa(i)+".yml")
		if err := os.WriteFile(copied, forDuration.ReplaceAll(rules, []byte("${1}0s")), 0o644); err != nil {
			t.Fatal(err)
		}
		config.RuleFiles[i] = copied
	}
	config.ScrapeConfigs[0]["static_configs"] = []map[string]any{{"targets": []string{target}}}
	out, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	var recorded []string
	for _, r := range readRules(t) {
		if r.Record != "" {
			recorded = append(recorded, r.Record)
		}
	}
	return fmt.Sprint(config.ScrapeConfigs[0]["job_name"]), recorded
}

// promAPI talks to the Prometheus server's HTTP API.
type promAPI struct{ base string }

func (p promAPI) ready() error {
	resp, err := http.Get(p.base + "/-/ready")
	if err != nil {
		return err
	}
	if err := resp.Body.Close(); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/-/ready: %s", resp.Status)
	}
	return nil
}

// get calls an API endpoint and decodes its data, or returns Prometheus's error.
func (p promAPI) get(path string, params url.Values, data any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := errors.Join(json.NewDecoder(resp.Body).Decode(&body), resp.Body.Close()); err != nil {
		return fmt.Errorf("%s: decoding the response (%s): %w", path, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s", body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

type metricName struct {
	name  string
	regex bool
}

// metricNames parses expr with Prometheus's own parser (/api/v1/parse_query) and returns the
// metric names of its selectors.
func (p promAPI) metricNames(expr string) ([]metricName, error) {
	var ast any
	if err := p.get("/api/v1/parse_query", url.Values{"query": {expr}}, &ast); err != nil {
		return nil, err
	}
	var names []metricName
	var walk func(any)
	walk = func(node any) {
		switch n := node.(type) {
		case map[string]any:
			if matchers, ok := n["matchers"].([]any); ok {
				for _, m := range matchers {
					m, _ := m.(map[string]any)
					if m["name"] == "__name__" {
						names = append(names, metricName{fmt.Sprint(m["value"]), m["type"] != "="})
					}
				}
			}
			for _, v := range n {
				walk(v)
			}
		case []any:
			for _, v := range n {
				walk(v)
			}
		}
	}
	walk(ast)
	return names, nil
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
	Value  string            `json:"value"`
}

func (p promAPI) alerts() ([]alert, error) {
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	err := p.get("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// resultSize runs an instant query and returns how many series it returned.
func (p promAPI) resultSize(expr string) (int, error) {
	var data struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	}
	if err := p.get("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return 0, err
	}
	if data.ResultType != "vector" && data.ResultType != "matrix" {
		return 0, fmt.Errorf("result type %s, want a vector", data.ResultType)
	}
	return len(data.Result), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
