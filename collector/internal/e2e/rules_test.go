// The alert and recording rules (alerts/), checked with the real promtool: lint, unit tests,
// conventions, and a unit test for every alert.
package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	rulesFile     = "alerts/mfa-exporter.rules.yml"
	exampleConfig = "alerts/examples/prometheus.yml"
)

// requiredAlerts are the alerts the issues ask for: 5, 10 (the enforcement alerts) and 9
// (MFAExporterSourceNeverRefreshed).
var requiredAlerts = []string{"MFARegistrationCoverageDropped", "MFARegistrationCoverageLow", "MFAAdminsUnregistered",
	"MFASigninsWithoutMFAToAzureManagement", "AppCredentialExpiringSoon", "AppCredentialExpired",
	"MFAExporterSourceFailing", "MFAExporterDataStale", "MFAExporterDown",
	"MFANotEnforcedForAzureManagement", "MFANotEnforcedForAdmins", "MFAEnforcementExclusionsGrew",
	"MFAAdminsWithoutPhishingResistantMethod", "MFAWeakMethodEnabled", "MFAPolicyOnlyReportOnly",
	"MFAExporterSourceNeverRefreshed"}

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
	files, err := filepath.Glob("alerts/tests/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool unit tests in tests/*.yml (err %v)", err)
	}
	run(t, promtool, append([]string{"test", "rules"}, files...)...)
}

// The example configuration is valid and loads the rules.
func TestPromtoolCheckExampleConfig(t *testing.T) {
	run(t, tool(t, "promtool", "PROMTOOL"), "check", "config", exampleConfig)
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

var recordName = regexp.MustCompile(`^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$`)

// Every alert carries what an on-call person needs, and has a runbook; recording rules follow
// level:metric:operation.
func TestRuleConventions(t *testing.T) {
	var rules ruleFile
	readYAML(t, rulesFile, &rules)
	readme, err := os.ReadFile("alerts/README.md")
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

// unitTestFile is promtool's unit test file, as far as these tests use it; the keys a file may
// hold and these tests do not read are typed any, so that a strict decoding still checks names.
type unitTestFile struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	GroupEvalOrder     []string `yaml:"group_eval_order"`
	Tests              []struct {
		Name        string `yaml:"name"`
		Interval    string `yaml:"interval"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertTests []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		ExprTests []struct {
			Expr       string `yaml:"expr"`
			EvalTime   string `yaml:"eval_time"`
			ExpSamples []struct {
				Labels string  `yaml:"labels"`
				Value  float64 `yaml:"value"`
			} `yaml:"exp_samples"`
		} `yaml:"promql_expr_test"`
		ExternalLabels map[string]string `yaml:"external_labels"`
		ExternalURL    string            `yaml:"external_url"`
	} `yaml:"tests"`
}

// Every alert has a unit test where it fires and one where it stays silent.
func TestEveryAlertIsUnitTested(t *testing.T) {
	var rules ruleFile
	readYAML(t, rulesFile, &rules)
	fires, silent := map[string]bool{}, map[string]bool{}
	files, _ := filepath.Glob("alerts/tests/*.yml")
	for _, f := range files {
		var tests unitTestFile
		readYAML(t, f, &tests)
		if !slices.Contains(tests.RuleFiles, "../"+filepath.Base(rulesFile)) {
			t.Errorf("%s does not test %s", f, rulesFile)
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
