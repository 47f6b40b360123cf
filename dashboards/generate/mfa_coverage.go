package main

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

func mfaCoverage() *dashboardBuilder {
	return newDashboard("mfa-exporter-coverage", "MFA coverage",
		"Entra ID MFA registration coverage by user type and admin, methods, and sign-ins without MFA (mfa_exporter).",
		"entra_mfa_registered_users", "entra", "mfa").
		WithRow(row("Now")).
		WithPanel(newStat("MFA registration coverage",
			"Users registered for MFA / all users in the registration report (it leaves out disabled users and lags up to 36h). Recording rule tenant:entra_mfa_registration:ratio.",
			overTime(ofTenant("tenant:entra_mfa_registration:ratio"), "all users")).
			Span(6).Height(5).Unit("percentunit").Min(0).Max(1).Thresholds(coverageThresholds())).
		WithPanel(newStat("Admins without MFA",
			"Administrators (the report's isAdmin) with no MFA method registered, by user type. Any is a finding: alert MFAAdminsUnregistered.",
			overTime(sumBy("user_type", ofTenant("entra_mfa_unregistered_users", `admin="true"`)), "{{user_type}}")).
			Span(6).Height(5).Thresholds(anyIs("red"))).
		WithPanel(newStat("Single-factor sign-ins to Azure management",
			"Successful sign-ins for which a single factor was required, in the sign-in window, that Microsoft's mandatory MFA enforces: to the Azure portal and admin centers, and to Azure Resource Manager from any client. Alert MFASigninsWithoutMFAToAzureManagement.",
			overTime(sum(ofTenant("tenant_app:entra_signins_without_mfa_azure_management:sum")), "sign-ins")).
			Span(6).Height(5).Thresholds(anyIs("red"))).
		WithPanel(newStat("Data age by source",
			"Time since each source last refreshed from Graph successfully. The metrics are that old: scrapes serve the cached snapshot. Alert MFAExporterDataStale.",
			overTime(dataAge(), "{{source}}")).
			Span(6).Height(5).Unit("s").Thresholds(thresholds("green", step{7200, "orange"}, step{10800, "red"}))).
		WithRow(row("Registration")).
		WithPanel(newBarGauge("Coverage by user type and admin",
			"MFA registration coverage of each user type, admins and non-admins apart. Recording rule tenant_user_type_admin:entra_mfa_registration:ratio.",
			overTime(ofTenant("tenant_user_type_admin:entra_mfa_registration:ratio"), "{{user_type}} admin={{admin}}")).
			Span(8).Height(8).Unit("percentunit").Min(0).Max(1).Thresholds(coverageThresholds()).ColorScheme(byThresholds())).
		WithPanel(newTimeseries("Coverage by user type over time",
			"MFA registration coverage of each user type. A sharp fall is alert MFARegistrationCoverageDropped; a long stay under the target is MFARegistrationCoverageLow.",
			overTime(ofTenant("tenant_user_type:entra_mfa_registration:ratio"), "{{user_type}}")).
			Span(16).Height(8).Unit("percentunit").Min(0).Max(1)).
		WithPanel(newTimeseries("Registered vs unregistered users",
			"Users registered and not registered for MFA, by user type.",
			overTime(sumBy("user_type", ofTenant("entra_mfa_registered_users")), "{{user_type}} registered"),
			overTime(sumBy("user_type", ofTenant("entra_mfa_unregistered_users")), "{{user_type}} unregistered")).
			Span(12).Height(8)).
		WithPanel(newTimeseries("MFA capable vs registered",
			"Registered: a strong method registered. Capable: registered and allowed by the authentication methods policy. A gap means policy blocks methods users registered.",
			overTime(sumBy("user_type", ofTenant("entra_mfa_capable_users")), "{{user_type}} capable"),
			overTime(sumBy("user_type", ofTenant("entra_mfa_registered_users")), "{{user_type}} registered")).
			Span(12).Height(8)).
		WithRow(row("Methods")).
		WithPanel(newBarGauge("Registered authentication methods",
			"Users with each authentication method registered; a user counts once per method.",
			latest(sumBy("user_type, method", ofTenant("entra_auth_method_registered_users")), "{{user_type}} {{method}}")).
			Span(8).Height(10)).
		WithPanel(newPieChart("Default MFA method",
			"Users by the second factor Entra asks them for: the system-preferred method where system-preferred MFA is on, else the user's preferred one; none when unset, unknown when Graph sends an undocumented one.",
			latest(sumBy("method", ofTenant("entra_default_mfa_method_users")), "{{method}}")).
			Span(8).Height(10)).
		WithPanel(newTimeseries("Passwordless capable and SSPR registered",
			"Users capable of passwordless sign-in, and users registered for self-service password reset, by user type.",
			overTime(sumBy("user_type", ofTenant("entra_passwordless_capable_users")), "{{user_type}} passwordless capable"),
			overTime(sumBy("user_type", ofTenant("entra_sspr_registered_users")), "{{user_type}} SSPR registered")).
			Span(8).Height(10)).
		WithRow(row("Sign-ins without MFA")).
		WithPanel(newBarGauge("Sign-ins without MFA by app and resource (window)",
			"Successful user sign-ins for which a single factor was required (mfa is authenticationRequirement: what policy asked for), in the sign-in window (entra_signins_window_seconds), by client app (the Azure management apps, other) and resource (azure_resource_manager, which enforces phase 2 whatever the client, or other).",
			latest(sumBy("app, resource", ofTenant("entra_signins_without_mfa")), "{{app}} → {{resource}}")).
			Span(8).Height(8).Thresholds(anyIs("red")).ColorScheme(byThresholds())).
		WithPanel(newTimeseries("Sign-ins without MFA by app, resource and event over time",
			"The same counts over time, interactive and non-interactive (token refreshes of CLI and PowerShell) apart, each a rolling window.",
			overTime(sumBy("app, resource, event", ofTenant("entra_signins_without_mfa")), "{{app}} → {{resource}} {{event}}")).
			Span(16).Height(8)).
		WithRow(row("Exporter")).
		WithPanel(newTable("Data freshness",
			"Per source: whether the last refresh from Graph worked (1) or failed (0, the last good snapshot is served; also 0 until its first refresh ends), and how old the data is (empty until its first success).",
			asTable(ofExporter("mfa_exporter_source_up")),
			asTable(dataAge())).
			Span(24).Height(6).
			OverrideByName("Data age", unit("s")).
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			WithTransformation(organize(map[string]any{
				"excludeByName": map[string]bool{"Time": true, "__name__": true},
				"renameByName":  map[string]string{"Value #A": "Last refresh worked", "Value #B": "Data age"},
			})))
}

// dataAge is how old each source's data is: scrapes serve the snapshot of its last good refresh.
// A last success of 0 is none yet since the exporter started: no age.
func dataAge() string {
	return "time() - (" + ofExporter("mfa_exporter_source_last_success_timestamp_seconds") + " > 0)"
}

// coverageThresholds: under 90% registered is red, under 99% orange.
func coverageThresholds() *dashboard.ThresholdsConfigBuilder {
	return thresholds("red", step{0.9, "orange"}, step{0.99, "green"})
}
