package main

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The SDK deprecates its classic dashboard model (schemaVersion 42) in favour of dashboardv2, the
// schema of Grafana's newer v2 dashboard API. The classic model is what Grafana's file
// provisioning loads and what the schema test checks, so the generator keeps to it.
type (
	dashboardBuilder = dashboard.DashboardBuilder //nolint:staticcheck // the classic model, on purpose
	classicDashboard = dashboard.Dashboard        //nolint:staticcheck // the classic model, on purpose
)

// dashboardTag is on every dashboard; each dashboard's links menu lists the dashboards with it.
const dashboardTag = "mfa_exporter"

// newDashboard starts a dashboard with what all of mfa_exporter's share: a week's time range
// refreshed every 5 minutes, a shared crosshair, the menu of the other dashboards, and the
// variables that pick the Prometheus, the exporter and the tenant.
func newDashboard(uid, title, description string, tags ...string) *dashboardBuilder {
	//nolint:staticcheck // the classic model, on purpose
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{dashboardTag}, tags...)).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		FiscalYearStartMonth(0).
		LiveNow(false).
		Refresh("5m").
		Version(1).
		Timezone(""). // the viewer's preference; the SDK's default, "browser", would override it
		Time("now-7d", "now").
		Annotation(literal[dashboard.AnnotationQuery]{builtInAnnotations()}).
		Link(literal[dashboard.DashboardLink]{otherDashboards()}).
		WithVariable(datasourceVariable()).
		WithVariable(jobVariable()).
		WithVariable(instanceVariable()).
		WithVariable(tenantVariable())
}

// literal is a value written out in full where the SDK's builder would add a default that
// changes what Grafana does: placement "inControlsMenu" moves a link or an annotation toggle
// from the dashboard's header into its controls menu.
type literal[T any] struct{ value T }

func (l literal[T]) Build() (T, error) { return l.value, nil }

// builtInAnnotations is Grafana's own annotations and alerts, hidden from the variable bar.
func builtInAnnotations() dashboard.AnnotationQuery {
	return dashboard.AnnotationQuery{
		Name:       "Annotations & Alerts",
		Datasource: &common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")},
		Enable:     true,
		Hide:       cog.ToPtr(true),
		IconColor:  "rgba(0, 211, 255, 1)",
		Type:       cog.ToPtr("dashboard"),
		BuiltIn:    cog.ToPtr(1.0),
	}
}

// otherDashboards is a dropdown of every mfa_exporter dashboard that keeps the time range and
// the variables' values.
func otherDashboards() dashboard.DashboardLink {
	return dashboard.DashboardLink{
		Title:       "mfa_exporter dashboards",
		Type:        dashboard.DashboardLinkTypeDashboards,
		Icon:        "external link",
		Tags:        []string{dashboardTag},
		AsDropdown:  true,
		IncludeVars: true,
		KeepTime:    true,
	}
}

// prometheusDatasource is the Prometheus chosen in the datasource variable; every panel and
// query variable uses it.
func prometheusDatasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus").
		Current(unselected()).
		Hide(dashboard.VariableHideDontHide).
		Regex("").
		IncludeAll(false).
		Multi(false)
}

// jobVariable picks the scrape job of the exporter; instanceVariable one of its instances, or all.
func jobVariable() *dashboard.QueryVariableBuilder {
	return labelValuesVariable("job", "Job", "mfa_exporter_source_up", "job")
}

func instanceVariable() *dashboard.QueryVariableBuilder {
	return labelValuesVariable("instance", "Instance", `mfa_exporter_source_up{job=~"$job"}`, "instance").
		IncludeAll(true).
		AllValue(".*")
}

// tenantVariable picks one of the tenants the exporter reads (mfa_exporter_tenant_info), shown
// by name and valued by tenant_id: an exporter may read hundreds, and their series must not be
// summed together. Grafana's named capture groups text and value split each series the query
// lists, whose labels come sorted: ...,name="...",tenant_id="..."}.
func tenantVariable() *dashboard.QueryVariableBuilder {
	query := "query_result(" + ofExporter("mfa_exporter_tenant_info") + ")"
	return dashboard.NewQueryVariableBuilder("tenant_id").
		Label("Tenant").
		Datasource(prometheusDatasource()).
		Definition(query).
		Query(dashboard.StringOrMap{Map: map[string]any{
			"qryType": 3, // query result, in the Prometheus variable query editor
			"query":   query,
			"refId":   "PrometheusVariableQueryEditor-VariableQuery",
		}}).
		Current(unselected()).
		Hide(dashboard.VariableHideDontHide).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Regex(`/name="(?<text>[^"]*)".*tenant_id="(?<value>[^"]*)"/`).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		IncludeAll(false).
		Multi(false)
}

// labelValuesVariable offers the values of label on the series of selector, refreshed with the
// time range and sorted.
func labelValuesVariable(name, label, selector, labelName string) *dashboard.QueryVariableBuilder {
	query := "label_values(" + selector + ", " + labelName + ")"
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(prometheusDatasource()).
		Definition(query).
		Query(dashboard.StringOrMap{Map: map[string]any{
			"qryType": 1, // label values, in the Prometheus variable query editor
			"query":   query,
			"refId":   "PrometheusVariableQueryEditor-VariableQuery",
		}}).
		Current(unselected()).
		Hide(dashboard.VariableHideDontHide).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Regex("").
		Sort(dashboard.VariableSortAlphabeticalAsc).
		IncludeAll(false).
		Multi(false)
}

// customVariable offers fixed values, selected the first time the dashboard opens.
func customVariable(name, label string, values []string, selected string) *dashboard.CustomVariableBuilder {
	options := make([]dashboard.VariableOption, 0, len(values))
	for _, v := range values {
		o := option(v)
		o.Selected = cog.ToPtr(v == selected)
		options = append(options, o)
	}
	query := strings.Join(values, ",")
	return dashboard.NewCustomVariableBuilder(name).
		Label(label).
		Values(dashboard.StringOrMap{String: &query}).
		Current(option(selected)).
		Hide(dashboard.VariableHideDontHide).
		IncludeAll(false).
		Multi(false).
		Options(options)
}

// unselected lets Grafana pick a variable's first value when the dashboard opens.
func unselected() dashboard.VariableOption { return option("") }

func option(value string) dashboard.VariableOption {
	return dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
		Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
	}
}
