// Command generate writes mfa_exporter's Grafana dashboards (dashboards/*.json) from the Go
// definitions beside it, with the Grafana Foundation SDK's builders. Run it with
// `go generate ./dashboards`; commit the JSON it writes, which is what Grafana loads.
//
// A new panel is one WithPanel in its dashboard's function, e.g.
//
//	WithPanel(newTimeseries("Title", "What it shows and why.",
//		overTime(sumBy("user_type", ofTenant("entra_some_metric")), "{{user_type}}")).
//		Span(12).Height(8))
//
// with the helpers of panels.go (newStat, newBarGauge, newTable, ...; queries with overTime,
// latest or asTable). A new dashboard is a file here with a function that returns
// newDashboard(...) and its panels, plus a line in dashboards below and its uid in
// dashboards_test.go's stableUIDs. Then run go generate ./dashboards.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// dashboards are the files the generator writes, each with the function that builds it.
var dashboards = []struct {
	file  string
	build func() *dashboardBuilder
}{
	{"mfa-coverage.json", mfaCoverage},
	{"app-credentials.json", appCredentials},
	{"capacity-review.json", capacityReview},
	{"mandatory-mfa-readiness.json", mfaReadiness},
}

func main() {
	out := flag.String("out", ".", "directory to write the dashboards to")
	flag.Parse()
	for _, d := range dashboards {
		data, err := render(d.build())
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, d.file), data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", d.file, err)
			os.Exit(1)
		}
	}
}

// render builds a dashboard and encodes it as the committed file: indented, in the SDK's field
// order, PromQL's < > & left as they are, ending in a newline.
func render(builder *dashboardBuilder) ([]byte, error) {
	d, err := builder.Build()
	if err != nil {
		return nil, err
	}
	numberPanels(&d)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// numberPanels gives rows and panels the ids 1, 2, ... in dashboard order: the SDK leaves ids to
// the caller, and Grafana needs them unique within a dashboard.
func numberPanels(d *classicDashboard) {
	for i, p := range d.Panels {
		id := uint32(i + 1)
		if p.RowPanel != nil {
			p.RowPanel.Id = id
		} else {
			p.Panel.Id = &id
		}
	}
}
