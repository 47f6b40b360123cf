package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// notImproving and movingAway stand in for a time to the coverage target that does not exist:
// the projection is clamped to them, and value mappings show them as words.
const (
	notImproving = 3153600000 // 100 years, in seconds
	movingAway   = -1
)

func capacityReview() *dashboardBuilder {
	coverage := ofTenant("tenant_user_type:entra_mfa_registration:ratio")
	return newDashboard("mfa-exporter-capacity", "MFA exporter capacity review",
		"For SREs: tenant growth, sign-in volume, Graph requests and throttling, refresh durations, time to a coverage target, the exporter's CPU and memory (mfa_exporter).",
		"capacity").
		Time("now-30d", "now").
		WithVariable(customVariable("coverage_target", "Coverage target", []string{"0.9", "0.95", "0.99", "1"}, "0.95")).
		WithRow(row("Tenant growth")).
		WithPanel(newTimeseries("Users by type",
			"Users in the registration report (enabled users), members and guests. Recording rule tenant_user_type:entra_users:sum.",
			overTime(ofTenant("tenant_user_type:entra_users:sum"), "{{user_type}}")).
			Span(8).Height(8)).
		WithPanel(newTimeseries("Service principals and applications",
			"Service principals by type, and app registrations.",
			overTime(sumBy("sp_type", ofTenant("entra_service_principals")), "{{sp_type}}"),
			overTime(sum(ofTenant("entra_applications")), "applications")).
			Span(8).Height(8)).
		WithPanel(newTimeseries("Sign-ins per day",
			"User sign-ins in the sign-in window scaled to a day, by event type and result: the volume the signins source reads from Graph.",
			overTime(fmt.Sprintf(`sum by (tenant_id, event, result) (%s)
  / on (tenant_id) group_left ()
  max by (tenant_id) (%s) * 86400`,
				ofTenant("entra_signins"), ofTenant("entra_signins_window_seconds")), "{{event}} {{result}}")).
			Span(8).Height(8)).
		WithRow(row("Graph")).
		WithPanel(newBarGauge("Graph requests per refresh",
			"HTTP requests to Graph (retries and 429s included) divided by the refreshes in the time range (successes seen as new last-success timestamps, plus failures).",
			latest(fmt.Sprintf(`sum by (source) (increase(%s[$__range]))
  / (
    sum by (source) (changes(%s[$__range]))
    + sum by (source) (increase(%s[$__range]))
    > 0
  )`,
				ofTenant("mfa_exporter_graph_requests_total"),
				ofTenant("mfa_exporter_source_last_success_timestamp_seconds"),
				ofTenant("mfa_exporter_source_errors_total")), "{{source}}")).
			Span(8).Height(8)).
		WithPanel(newTimeseries("Graph responses by status code",
			"Requests per second to Graph by source and HTTP status code.",
			overTime(sumBy("source, code", "rate("+ofTenant("mfa_exporter_graph_requests_total")+"[$__rate_interval])"), "{{source}} {{code}}")).
			Span(8).Height(8).Unit("reqps")).
		WithPanel(newTimeseries("Throttled Graph responses (429)",
			"429 responses per interval, by source (0 when Graph never throttled). Sustained throttling: raise the source's refresh interval.",
			// The zero series keep a line per source when nothing was throttled.
			overTime(fmt.Sprintf(`sum by (source) (increase(%s[$__rate_interval]))
  or
sum by (source) (0 * increase(%s[$__rate_interval]))`,
				ofTenant("mfa_exporter_graph_requests_total", `code="429"`),
				ofTenant("mfa_exporter_graph_requests_total")), "{{source}}")).
			Span(8).Height(8)).
		WithPanel(newTimeseries("Refresh duration by source",
			"How long each source's last refresh took, throttling waits included. Compare with --collector.NAME.refresh-timeout.",
			overTime(ofTenant("mfa_exporter_source_refresh_duration_seconds"), "{{source}}")).
			Span(12).Height(8).Unit("s")).
		WithPanel(newTimeseries("Refresh failures by reason",
			"Failed refreshes per interval, by source and reason (throttled, forbidden, unlicensed, timeout, ...).",
			overTime(sumBy("source, reason", "increase("+ofTenant("mfa_exporter_source_errors_total")+"[$__rate_interval])"), "{{source}} {{reason}}")).
			Span(12).Height(8)).
		WithRow(row("Coverage target")).
		WithPanel(newStat("Time to reach the coverage target",
			`Linear projection of each user type's MFA registration coverage over the last 7 days to the $coverage_target target: remaining gap divided by the 7-day slope. "Reached" when at or above it; "not improving" when the slope is zero; "moving away" when coverage falls.`,
			// A zero slope divides to +Inf and a fall to a negative time: clamp both to the
			// values mapped to words. A type at or above the target is 0, "reached".
			latest(fmt.Sprintf(`clamp(
  ($coverage_target - %[1]s > 0)
    / deriv(%[1]s[7d]),
  %[2]d, %[3]d
)
or
0 * (%[1]s >= $coverage_target)`, coverage, movingAway, notImproving), "{{user_type}}")).
			Span(12).Height(6).Unit("s").GraphMode(common.BigValueGraphModeNone).
			Thresholds(thresholds("green")).
			Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
				Type: dashboard.MappingTypeValueToText,
				Options: map[string]dashboard.ValueMappingResult{
					"0":                      mapTo("reached", "green"),
					fmt.Sprint(movingAway):   mapTo("moving away", "red"),
					fmt.Sprint(notImproving): mapTo("not improving", "orange"),
				},
			}}})).
		WithPanel(newTimeseries("Coverage and target",
			"Each user type's coverage against the chosen target.",
			overTime(coverage, "{{user_type}}"),
			overTime("vector($coverage_target)", "target")).
			Span(12).Height(6).Unit("percentunit").Min(0).Max(1)).
		WithRow(row("Exporter resources")).
		WithPanel(newTimeseries("Exporter CPU",
			"CPU used by the exporter process, in cores.",
			overTime("rate("+ofExporter("process_cpu_seconds_total")+"[$__rate_interval])", "{{instance}}")).
			Span(12).Height(8).Unit("short")).
		WithPanel(newTimeseries("Exporter memory",
			"Resident memory and Go heap in use of the exporter. Memory does not grow with the tenant: sources fold pages into counts.",
			overTime(ofExporter("process_resident_memory_bytes"), "{{instance}} resident"),
			overTime(ofExporter("go_memstats_heap_inuse_bytes"), "{{instance}} heap in use")).
			Span(12).Height(8).Unit("bytes"))
}

// mapTo shows a value as text in a color.
func mapTo(text, color string) dashboard.ValueMappingResult {
	return dashboard.ValueMappingResult{Text: &text, Color: &color}
}
