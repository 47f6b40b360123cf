// The dashboards' structure: stable uids, the shared variables, the ${datasource} variable on
// every query, panels inside Grafana's grid; and the provisioning files.
package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// currentSchemaVersion is the dashboard schemaVersion of current Grafana (12.x/13.x, classic model).
const currentSchemaVersion = 42

// stableUIDs are the dashboards' uids: links and bookmarks depend on them, so a change must be
// deliberate (edit this list in the same commit).
var stableUIDs = map[string]string{
	"dashboards/mfa-coverage.json":            "mfa-exporter-coverage",
	"dashboards/app-credentials.json":         "mfa-exporter-credentials",
	"dashboards/capacity-review.json":         "mfa-exporter-capacity",
	"dashboards/mandatory-mfa-readiness.json": "mfa-exporter-mfa-readiness",
}

// requiredVariables every dashboard has.
var requiredVariables = []string{"datasource", "job", "instance", "tenant_id"}

const datasourceRef = "${datasource}"

type dashboard struct {
	file          string
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasource     `json:"datasource"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

// query is one PromQL expression of a dashboard, named for error messages.
type query struct {
	where     string
	expr      string
	fromPanel bool
}

func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards (*.json) in dashboards/ (err %v)", err)
	}
	var out []dashboard
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s is not valid JSON: %v", f, err)
		}
		d.file = f
		out = append(out, d)
	}
	return out
}

// allPanels flattens rows.
func (d dashboard) allPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// queries are the PromQL of every panel target and query variable, as written (with variables).
func (d dashboard) queries() []query {
	var out []query
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			out = append(out, query{fmt.Sprintf("%s panel %q target %s", d.file, p.Title, tg.RefID), tg.Expr, true})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(v.Query, &q) != nil && json.Unmarshal(v.Query, &q.Query) != nil { // the older string form
			// Neither form: passed on as it is, for the PromQL parse check to refuse.
			out = append(out, query{fmt.Sprintf("%s variable %s", d.file, v.Name), string(v.Query), false})
			continue
		}
		// label_values(SELECTOR, label): the selector is PromQL.
		if m := labelValues.FindStringSubmatch(q.Query); m != nil {
			out = append(out, query{fmt.Sprintf("%s variable %s", d.file, v.Name), m[1], false})
		}
	}
	return out
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$`)

func TestDashboardStructure(t *testing.T) {
	dashboards := loadDashboards(t)
	seen := map[string]string{}
	for _, d := range dashboards {
		if want, ok := stableUIDs[d.file]; !ok {
			t.Errorf("%s: a new dashboard: add its uid to stableUIDs", d.file)
		} else if d.UID != want {
			t.Errorf("%s: uid %q, want the stable %q", d.file, d.UID, want)
		}
		if prev, dup := seen[d.UID]; dup {
			t.Errorf("%s and %s share uid %q", prev, d.file, d.UID)
		}
		seen[d.UID] = d.file
		if len(d.UID) > 40 {
			t.Errorf("%s: uid %q is longer than Grafana's 40 characters", d.file, d.UID)
		}
		if d.Title == "" {
			t.Errorf("%s has no title", d.file)
		}
		if d.SchemaVersion != currentSchemaVersion {
			t.Errorf("%s: schemaVersion %d, want %d", d.file, d.SchemaVersion, currentSchemaVersion)
		}
		vars := map[string]variable{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v
			if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != datasourceRef) {
				t.Errorf("%s: variable %s does not query ${datasource}", d.file, v.Name)
			}
		}
		for _, name := range requiredVariables {
			if _, ok := vars[name]; !ok {
				t.Errorf("%s has no %s variable", d.file, name)
			}
		}
		if ds := vars["datasource"]; ds.Type != "datasource" || string(ds.Query) != `"prometheus"` {
			t.Errorf("%s: the datasource variable must be of type datasource, query prometheus; got %s %s", d.file, ds.Type, ds.Query)
		}
		ids := map[int]bool{}
		for _, p := range d.allPanels() {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d is used twice", d.file, p.ID)
			}
			ids[p.ID] = true
			if p.Title == "" {
				t.Errorf("%s: panel %d has no title", d.file, p.ID)
			}
			if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s panel %q: gridPos %+v is outside Grafana's 24 columns", d.file, p.Title, p.GridPos)
			}
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != datasourceRef || p.Datasource.Type != "prometheus" {
				t.Errorf("%s panel %q: datasource %+v, want the ${datasource} variable", d.file, p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s panel %q has no query", d.file, p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != datasourceRef {
					t.Errorf("%s panel %q target %s does not use the ${datasource} variable", d.file, p.Title, tg.RefID)
				}
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s panel %q target %s has no expression", d.file, p.Title, tg.RefID)
				}
			}
		}
		// Every query filters on the job/instance variables, so that two exporters do not mix.
		for _, q := range d.queries() {
			if q.fromPanel && usesExporterMetric(q.expr) && (!strings.Contains(q.expr, "$job") || !strings.Contains(q.expr, "$instance")) {
				t.Errorf("%s does not filter on $job and $instance: %s", q.where, q.expr)
			}
		}
	}
	for file := range stableUIDs {
		if _, ok := seen[stableUIDs[file]]; !ok {
			t.Errorf("dashboard %s is missing", file)
		}
	}
}

var exporterMetric = regexp.MustCompile(`\b(entra_|mfa_exporter_|process_|go_|tenant[a-z_]*:)`)

func usesExporterMetric(expr string) bool { return exporterMetric.MatchString(expr) }

// The provisioning files point Grafana at a Prometheus and at the dashboards.
func TestProvisioning(t *testing.T) {
	var providers struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			Folder                string `yaml:"folder"`
			Type                  string `yaml:"type"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "dashboards/provisioning/dashboards/mfa-exporter.yml", &providers)
	if providers.APIVersion != 1 || len(providers.Providers) != 1 || providers.Providers[0].Type != "file" || providers.Providers[0].Options.Path == "" {
		t.Errorf("dashboard provider: want apiVersion 1 and one file provider with a path, got %+v", providers)
	}
	var sources struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string            `yaml:"name"`
			Type      string            `yaml:"type"`
			UID       string            `yaml:"uid"`
			Access    string            `yaml:"access"`
			URL       string            `yaml:"url"`
			IsDefault bool              `yaml:"isDefault"`
			JSONData  map[string]string `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "dashboards/provisioning/datasources/prometheus.yml", &sources)
	if sources.APIVersion != 1 || len(sources.Datasources) != 1 || sources.Datasources[0].Type != "prometheus" || sources.Datasources[0].URL == "" {
		t.Errorf("datasource: want apiVersion 1 and one prometheus data source with a url, got %+v", sources)
	}
}

// grafanaVariables are Grafana's built-in variables, with values that fit a short test run.
var grafanaVariables = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

var variableRef = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)`)

// substitute replaces Grafana's variables as Grafana would before sending a query. values are
// the dashboard's own variables; an unknown variable is an error.
func substitute(expr string, values map[string]string) (string, error) {
	var missing []string
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2]
		if v, ok := grafanaVariables[name]; ok {
			return v
		}
		if v, ok := values[name]; ok {
			return v
		}
		missing = append(missing, name)
		return ref
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %v", missing)
	}
	return out, nil
}

// customValues are the current values of a dashboard's custom variables (e.g. coverage_target).
func (d dashboard) customValues() map[string]string {
	out := map[string]string{}
	for _, v := range d.Templating.List {
		if s, ok := v.Current.Value.(string); ok && v.Type == "custom" {
			out[v.Name] = s
		}
	}
	return out
}

func TestSubstitute(t *testing.T) {
	got, err := substitute(`rate(x{job=~"$job", tenant_id="${tenant_id}"}[$__rate_interval]) > $t`, map[string]string{"job": "j", "tenant_id": "t1", "t": "0.5"})
	if want := `rate(x{job=~"j", tenant_id="t1"}[1m]) > 0.5`; err != nil || got != want {
		t.Errorf("substitute = %q, %v; want %q", got, err, want)
	}
	if _, err := substitute(`x{a="$nope"}`, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown variable must be an error naming it, got %v", err)
	}
	if !slices.Contains(requiredVariables, "datasource") {
		t.Fatal("requiredVariables lost datasource")
	}
}
