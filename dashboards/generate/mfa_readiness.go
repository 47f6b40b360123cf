package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Enforcement status of a scope, as the status query below computes it and its value mappings
// name it.
const (
	statusNone = iota
	statusReportOnly
	statusConditional
	statusEnforced
)

func mfaReadiness() *dashboardBuilder {
	enforced := func(matchers ...string) string { return ofTenant("entra_mfa_enforced", matchers...) }
	return newDashboard("mfa-exporter-mfa-readiness", "Mandatory MFA readiness",
		"Is MFA enforced? Conditional Access by user and app scope (enforced, conditional, report-only, none), exclusions, security defaults, the methods policy, the strongest method users registered, and sign-ins without MFA to Azure management (mfa_exporter).",
		"entra_security_defaults_enabled", "entra", "mfa", "conditional-access").
		WithRow(row("Now")).
		WithPanel(newStat("Azure management: MFA enforced for all users",
			`Enabled Conditional Access policies without a narrowing condition that require MFA for all users on the Windows Azure Service Management API (portal, CLI, PowerShell, Resource Manager). 0 with security defaults off: alert MFANotEnforcedForAzureManagement.`,
			overTime(enforced(`users="all"`, `apps="azure_management"`, `state="enabled"`), "policies")).
			Span(5).Height(5).Thresholds(thresholds("red", step{1, "green"}))).
		WithPanel(newStat("Admins: MFA enforced",
			"Enabled policies without a narrowing condition that require MFA for the 14 admin roles of Microsoft's template (or all users) on all apps. 0 with security defaults off: alert MFANotEnforcedForAdmins.",
			overTime(enforced(`users="admins"`, `apps="all"`, `state="enabled"`), "policies")).
			Span(5).Height(5).Thresholds(thresholds("red", step{1, "green"}))).
		WithPanel(newStat("Security defaults",
			"Security defaults require MFA for admins and for Azure management, and MFA registration for everyone; they exclude Conditional Access.",
			overTime(ofTenant("entra_security_defaults_enabled"), "security defaults")).
			Span(4).Height(5).GraphMode(common.BigValueGraphModeNone).Thresholds(thresholds("text")).
			Mappings(onOff("on", "off"))).
		WithPanel(newStat("Conditional Access available",
			"Whether Graph lists the Conditional Access policies: a tenant without Microsoft Entra ID P1 has none, and only security defaults can require MFA.",
			overTime(ofTenant("entra_conditional_access_available"), "available")).
			Span(4).Height(5).GraphMode(common.BigValueGraphModeNone).Thresholds(thresholds("text")).
			Mappings(onOff("yes", "no (no P1)"))).
		WithPanel(newStat("Single-factor sign-ins to Azure management",
			"What actually happened, beside what the policies say: successful sign-ins without MFA to the Azure management apps in the sign-in window. Recording rule tenant_app:entra_signins_without_mfa_azure_management:sum.",
			overTime(sum(ofTenant("tenant_app:entra_signins_without_mfa_azure_management:sum")), "sign-ins")).
			Span(6).Height(5).Thresholds(anyIs("red"))).
		WithRow(row("Enforcement by scope")).
		WithPanel(scopeTable()).
		WithPanel(newBarGauge("Conditional Access policies by state and grant",
			"Every policy by state and by grant, the first that applies of block, authentication strength, MFA, other.",
			latest(sumBy("state, grant", ofTenant("entra_conditional_access_policies")), "{{state}} {{grant}}")).
			Span(8).Height(10)).
		WithPanel(newTimeseries("Enforcement over time",
			"Policies requiring MFA for all users and for admins, on all apps and on Azure management, by state: a policy moved from report-only to enabled shows here.",
			overTime(sumBy("users, apps, state", enforced(`users=~"all|admins"`, `apps=~"all|azure_management"`)), "{{users}} on {{apps}}: {{state}}")).
			Span(12).Height(8)).
		WithPanel(newTimeseries("Excluded principals by scope",
			"Users, groups and roles excluded from the enabled policies that enforce MFA for each scope (scopes with any). Break-glass accounts belong here; anything more is a gap. A rise against a day before: alert MFAEnforcementExclusionsGrew.",
			overTime(sumBy("users, apps, kind", ofTenant("entra_mfa_enforcement_exclusions"))+" > 0", "{{users}} on {{apps}}: {{kind}}")).
			Span(12).Height(8)).
		WithRow(row("Methods")).
		WithPanel(newBarGauge("Authentication methods enabled",
			"Each method of the authentication methods policy, enabled (1) or disabled (0). SMS or voice enabled: alert MFAWeakMethodEnabled.",
			latest(sumBy("method", ofTenant("entra_auth_method_enabled")), "{{method}}")).
			Span(16).Height(8).Min(0).Max(1).Mappings(onOff("enabled", "disabled"))).
		WithPanel(newStat("Methods policy migration",
			"The authentication methods policy's migration off the legacy MFA and SSPR policies: pre_migration, migration_in_progress, migration_complete.",
			latest(ofTenant("entra_auth_methods_policy_migration_state")+" == 1", "{{state}}")).
			Span(8).Height(8).GraphMode(common.BigValueGraphModeNone).TextMode(common.BigValueTextModeName).Thresholds(thresholds("text"))).
		WithRow(row("Method strength")).
		WithPanel(newBarGauge("Strongest registered method",
			"Users by the strongest method they registered: phishing_resistant (FIDO2, passkeys, Windows Hello for Business), app (Authenticator, OATH), phone (SMS, voice), none. By user type and admin.",
			latest(sumBy("user_type, admin, strength", ofTenant("entra_mfa_strongest_method_users")), "{{user_type}} admin={{admin}} {{strength}}")).
			Span(10).Height(10)).
		WithPanel(newStat("Admins without a phishing-resistant method",
			"Administrators whose strongest registered method is not phishing-resistant, by user type: alert MFAAdminsWithoutPhishingResistantMethod.",
			overTime(sumBy("user_type", ofTenant("entra_mfa_strongest_method_users", `admin="true"`, `strength!="phishing_resistant"`)), "{{user_type}}")).
			Span(4).Height(10).Thresholds(anyIs("orange"))).
		WithPanel(newTimeseries("Strongest method over time",
			"Users by strongest registered method, all user types: the move from phone to app to phishing-resistant.",
			overTime(sumBy("strength", ofTenant("entra_mfa_strongest_method_users")), "{{strength}}")).
			Span(10).Height(10)).
		WithRow(row("Sign-ins without MFA to Azure management")).
		WithPanel(newBarGauge("Single-factor sign-ins by app (window)",
			"Successful single-factor user sign-ins to each Azure management app in the sign-in window: who Microsoft's mandatory MFA will stop, and what a policy would prompt.",
			latest(sumBy("app", ofTenant("entra_signins_without_mfa", `app!="other"`)), "{{app}}")).
			Span(8).Height(8).Thresholds(anyIs("red")).ColorScheme(byThresholds())).
		WithPanel(newTimeseries("Single-factor sign-ins by app and event over time",
			"The same counts over time, interactive and non-interactive (CLI and PowerShell token refreshes) apart.",
			overTime(sumBy("app, event", ofTenant("entra_signins_without_mfa", `app!="other"`)), "{{app}} {{event}}")).
			Span(16).Height(8))
}

// scopeTable is one row per users × apps scope: its status (the strongest coverage it has) and
// how many policies cover it in each state, its exclusions and its phishing-resistant policies.
func scopeTable() *table.PanelBuilder {
	byScope := func(metric string, matchers ...string) string {
		return sumBy("users, apps", ofTenant(metric, matchers...))
	}
	status := fmt.Sprintf(`(%[1]s > 0) * 0 + %[5]d
or (%[2]s > 0) * 0 + %[6]d
or (%[3]s > 0) * 0 + %[7]d
or %[4]s * 0 + %[8]d`,
		byScope("entra_mfa_enforced", `state="enabled"`), byScope("entra_mfa_enforced", `state="conditional"`),
		byScope("entra_mfa_enforced", `state="report_only"`), byScope("entra_mfa_enforced"),
		statusEnforced, statusConditional, statusReportOnly, statusNone)
	return newTable("MFA enforcement by scope",
		"Each users x apps scope: enforced (an enabled policy without a narrowing condition requires MFA), conditional (only narrowed ones, e.g. outside trusted locations), report-only (only report-only ones), none. Worked out from the policies' conditions; security defaults, when on, cover admins and Azure management instead.",
		asTable(status), asTable(byScope("entra_mfa_enforced", `state="enabled"`)), asTable(byScope("entra_mfa_enforced", `state="conditional"`)),
		asTable(byScope("entra_mfa_enforced", `state="report_only"`)), asTable(byScope("entra_mfa_enforcement_exclusions")),
		asTable(byScope("entra_phishing_resistant_enforced"))).
		Span(16).Height(10).
		OverrideByName("Status", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
				Type: dashboard.MappingTypeValueToText,
				Options: map[string]dashboard.ValueMappingResult{
					fmt.Sprint(statusEnforced):    mapTo("enforced", "green"),
					fmt.Sprint(statusConditional): mapTo("conditional", "orange"),
					fmt.Sprint(statusReportOnly):  mapTo("report-only", "orange"),
					fmt.Sprint(statusNone):        mapTo("none", "red"),
				},
			}}}},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(organize(map[string]any{
			"excludeByName": map[string]bool{"Time": true},
			"indexByName":   map[string]int{"users": 0, "apps": 1, "Value #A": 2, "Value #B": 3, "Value #C": 4, "Value #D": 5, "Value #E": 6, "Value #F": 7},
			"renameByName": map[string]string{"users": "Users", "apps": "Apps", "Value #A": "Status", "Value #B": "Enforced",
				"Value #C": "Conditional", "Value #D": "Report-only", "Value #E": "Excluded", "Value #F": "Phishing-resistant"},
		}))
}

// onOff maps 1 and 0 to words.
func onOff(on, off string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type:    dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{"1": {Text: &on}, "0": {Text: &off}},
	}}}
}
