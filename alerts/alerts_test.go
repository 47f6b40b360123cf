// Package alerts holds mfa_exporter's Prometheus rules (mfa-exporter.rules.yml), their promtool
// unit tests (tests/*.yml) and an example prometheus.yml; this file checks them with the real
// promtool. The end-to-end test against a running Prometheus is in dashboards/.
package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

const rulesFile = "mfa-exporter.rules.yml"

// requiredAlerts are the alerts issue 5 asks for.
var requiredAlerts = []string{"MFARegistrationCoverageDropped", "MFARegistrationCoverageLow", "MFAAdminsUnregistered",
	"MFASigninsWithoutMFAToAzureManagement", "AppCredentialExpiringSoon", "AppCredentialExpired",
	"MFAExporterSourceFailing", "MFAExporterDataStale", "MFAExporterDown"}

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

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	run(t, tool(t, "promtool", "PROMTOOL"), "check", "rules", "--lint=all", "--lint-fatal", rulesFile)
}

func TestPromtoolUnitTests(t *testing.T) {
	promtool := tool(t, "promtool", "PROMTOOL")
	files, err := filepath.Glob("tests/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool unit tests in tests/*.yml (err %v)", err)
	}
	run(t, promtool, append([]string{"test", "rules"}, files...)...)
}

// The example configuration is valid and loads the rules.
func TestPromtoolCheckExampleConfig(t *testing.T) {
	run(t, tool(t, "promtool", "PROMTOOL"), "check", "config", "prometheus.yml")
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

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

var recordName = regexp.MustCompile(`^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$`)

// Every alert carries what an on-call person needs, and has a runbook; recording rules follow
// level:metric:operation.
func TestRuleConventions(t *testing.T) {
	var rules ruleFile
	readYAML(t, rulesFile, &rules)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				if !recordName.MatchString(r.Record) {
					t.Errorf("recording rule %s is not named level:metric:operation", r.Record)
				}
				continue
			}
			alerts = append(alerts, r.Alert)
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("alert %s: severity %q, want critical, warning or info", r.Alert, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s has no %s", r.Alert, a)
				}
			}
			anchor := strings.ToLower(r.Alert)
			if !strings.HasSuffix(r.Annotations["runbook_url"], "alerts/README.md#"+anchor) {
				t.Errorf("alert %s: runbook_url %q does not point at alerts/README.md#%s", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !regexp.MustCompile(`(?m)^### ` + r.Alert + `\s*$`).Match(readme) {
				t.Errorf("alert %s has no runbook section \"### %s\" in alerts/README.md", r.Alert, r.Alert)
			}
		}
	}
	for _, name := range requiredAlerts {
		if !slices.Contains(alerts, name) {
			t.Errorf("alert %s is missing from %s", name, rulesFile)
		}
	}
	if rules.Groups[0].Rules[0].Alert != "" || !strings.Contains(rules.Groups[0].Name, "threshold") {
		t.Errorf("the first group of %s must be the thresholds (documented as the one place to change them)", rulesFile)
	}
}

type unitTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name       string `yaml:"name"`
		AlertTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Every alert has a unit test where it fires and one where it stays silent.
func TestEveryAlertIsUnitTested(t *testing.T) {
	var rules ruleFile
	readYAML(t, rulesFile, &rules)
	fires, silent := map[string]bool{}, map[string]bool{}
	files, _ := filepath.Glob("tests/*.yml")
	for _, f := range files {
		var tests unitTestFile
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &tests); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !slices.Contains(tests.RuleFiles, "../"+rulesFile) {
			t.Errorf("%s does not test ../%s", f, rulesFile)
		}
		for _, test := range tests.Tests {
			for _, a := range test.AlertTests {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if !fires[r.Alert] {
				t.Errorf("alert %s has no unit test in which it fires", r.Alert)
			}
			if !silent[r.Alert] {
				t.Errorf("alert %s has no unit test in which it stays silent", r.Alert)
			}
		}
	}
}
