package dashboards

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	grafana "github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// TestDashboardSchema checks every dashboard against Grafana's dashboard schema (classic model,
// schemaVersion 42) as the Grafana Foundation SDK encodes it: no Grafana server can run here, so
// this is what stands in for Grafana loading the file. It fails on a field Grafana does not know,
// a wrong type, a missing required field (panel options included, per panel plugin), or a value
// out of range.
func TestDashboardSchema(t *testing.T) {
	// Gives the decoder each core panel plugin's options schema and the Prometheus query schema.
	plugins.RegisterDefaultPlugins()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards (*.json) in dashboards/ (err %v)", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range schemaErrors(data) {
			t.Errorf("%s: %s", file, msg)
		}
	}
}

// schemaErrors are the SDK's messages for one dashboard's JSON, each prefixed with its path.
func schemaErrors(data []byte) []string {
	var strict grafana.Dashboard //nolint:staticcheck // the classic model: schemaVersion 42, what file provisioning loads
	out := buildErrors(strict.UnmarshalJSONStrict(data))

	// The strict decoder reports panel errors but leaves Panels empty (in v0.0.22 a panel's
	// decoder returns an empty, non-nil error list and its caller then skips the assignment), so
	// Validate runs on the ordinary decoding, which keeps the panels.
	var decoded grafana.Dashboard //nolint:staticcheck // the classic model, as above
	if err := json.Unmarshal(data, &decoded); err != nil {
		out = append(out, fmt.Sprintf("not validated, decoding failed: %v", err))
	} else {
		out = append(out, buildErrors(decoded.Validate())...)
	}

	// The strict decoder also falls back to accepting anything where it has no schema: the
	// options of an unregistered panel type, and fieldConfig apart from its "custom" part.
	var raw struct {
		Panels []rawPanel `json:"panels"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return append(out, fmt.Sprintf("decoding panels: %v", err))
	}
	for i, p := range raw.Panels {
		out = append(out, p.schemaErrors(fmt.Sprintf("panels[%d]", i))...)
		for j, inner := range p.Panels { // a collapsed row's panels
			out = append(out, inner.schemaErrors(fmt.Sprintf("panels[%d].panels[%d]", i, j))...)
		}
	}
	return out
}

type rawPanel struct {
	Type        string          `json:"type"`
	FieldConfig json.RawMessage `json:"fieldConfig"`
	Panels      []rawPanel      `json:"panels"`
}

func (p rawPanel) schemaErrors(path string) []string {
	var out []string
	if _, known := cog.ConfigForPanelcfgVariant(p.Type); !known && p.Type != "row" {
		out = append(out, fmt.Sprintf("%s: panel type %q has no options schema in the SDK, so its options go unchecked", path, p.Type))
	}
	if p.FieldConfig != nil {
		var fieldConfig grafana.FieldConfigSource
		for _, msg := range buildErrors(fieldConfig.UnmarshalJSONStrict(p.FieldConfig)) {
			out = append(out, path+".fieldConfig."+msg)
		}
	}
	return out
}

// buildErrors lists the messages of an SDK error. The strict decoders return an empty
// cog.BuildErrors, a non-nil error, on success.
func buildErrors(err error) []string {
	if err == nil {
		return nil
	}
	var errs cog.BuildErrors
	if !errors.As(err, &errs) {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}
