package main

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Panels are laid out by the SDK: each goes right of the one before, on a new line once the
// 24 columns are full, and a row starts a new line. Give each its size with Span (columns) and
// Height; a line's panels should fill the 24 columns.

// ofExporter selects metric's series from the exporter chosen in the job and instance variables,
// with any further label matchers. The exporter's own metrics (mfa_exporter_*, process_*, go_*)
// have no tenant.
func ofExporter(metric string, matchers ...string) string {
	return metric + "{" + strings.Join(append([]string{`job=~"$job"`, `instance=~"$instance"`}, matchers...), ", ") + "}"
}

// ofTenant selects metric's series of the chosen exporter and tenant.
func ofTenant(metric string, matchers ...string) string {
	return ofExporter(metric, append([]string{`tenant_id="$tenant_id"`}, matchers...)...)
}

// sumBy sums expr by labels (a comma-separated list).
func sumBy(labels, expr string) string { return "sum by (" + labels + ") (" + expr + ")" }

func sum(expr string) string { return "sum(" + expr + ")" }

// overTime is a query whose series a panel shows over the dashboard's time range (a stat panel
// shows the last value, with the trend behind it). legend names each series, e.g. "{{source}}".
func overTime(expr, legend string) *prometheus.DataqueryBuilder {
	return promQL(expr, legend).Range()
}

// latest is a query of only the latest value of each series, for panels that show one value per
// series and no trend.
func latest(expr, legend string) *prometheus.DataqueryBuilder {
	return promQL(expr, legend).Instant()
}

// asTable is a query of the latest value of each series, with its labels as a table's columns.
func asTable(expr string) *prometheus.DataqueryBuilder {
	return latest(expr, "").Format(prometheus.PromQueryFormatTable)
}

func promQL(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(prometheusDatasource()).
		Expr(expr).
		LegendFormat(legend).
		EditorMode(prometheus.QueryEditorModeCode)
}

// targets names a panel's queries A, B, ... in order.
func targets(queries []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(queries))
	for i, q := range queries {
		out = append(out, q.RefId(string(rune('A'+i))))
	}
	return out
}

// row starts a new line of panels under a title.
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// newStat shows each series' last value in large, colored by Thresholds, with its trend behind
// it (GraphMode none removes the trend).
func newStat(title, description string, queries ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(prometheusDatasource()).
		Targets(targets(queries)).
		ColorScheme(byThresholds()).
		ReduceOptions(lastValue()).
		Orientation(common.VizOrientationAuto)
}

// newTimeseries draws each series over time, with a legend table of last values.
func newTimeseries(title, description string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(prometheusDatasource()).
		Targets(targets(queries)).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// newBarGauge compares the series' last values as horizontal bars.
func newBarGauge(title, description string, queries ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(prometheusDatasource()).
		Targets(targets(queries)).
		ReduceOptions(lastValue()).
		Orientation(common.VizOrientationHorizontal)
}

// newPieChart shows the series' last values as shares of a donut, with a legend of values and
// percentages.
func newPieChart(title, description string, queries ...*prometheus.DataqueryBuilder) *piechart.PanelBuilder {
	return piechart.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(prometheusDatasource()).
		Targets(targets(queries)).
		ReduceOptions(lastValue()).
		PieType(piechart.PieChartTypeDonut).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			ShowLegend(true).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent}).
			Calcs([]string{})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeSingle).
			Sort(common.SortOrderNone)).
		Orientation(common.VizOrientationAuto)
}

// newTable lists series as rows; its queries are asTable, shaped with Transformations.
func newTable(title, description string, queries ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(prometheusDatasource()).
		Targets(targets(queries)).
		ShowHeader(true).
		FrameIndex(0).
		// The table builder's default footer has "reducer": null, which the schema rejects.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).CountRows(false))
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields("").Values(false)
}

func byThresholds() *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)
}

// step is where a threshold's color starts.
type step struct {
	from  float64
	color string
}

// thresholds colors values base up to the first step, then each step's color from its value up.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	out := []dashboard.Threshold{{Color: base}} // the base has no value: it starts at -Infinity
	for _, s := range steps {
		out = append(out, dashboard.Threshold{Value: cog.ToPtr(s.from), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

// anyIs colors a count green at zero and color from one: any is a finding (red) or worth a look
// (orange).
func anyIs(color string) *dashboard.ThresholdsConfigBuilder {
	return thresholds("green", step{1, color})
}

// unit is a field config property for an override, e.g. a table column's unit.
func unit(u string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "unit", Value: u}}
}

// organize is the table transformation that hides, orders and renames columns.
func organize(options map[string]any) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "organize", Options: options}
}
