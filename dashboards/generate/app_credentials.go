package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

func appCredentials() *dashboardBuilder {
	return newDashboard("mfa-exporter-credentials", "Service principals and app credentials",
		"Entra ID service principals and app registrations: secrets versus certificates, expiring and expired credentials (mfa_exporter).",
		"entra", "credentials").
		WithRow(row("Now")).
		WithPanel(newStat("Service principals with secrets",
			"Service principals that authenticate with a client secret (alone or beside a certificate).",
			overTime(sum(ofTenant("entra_service_principals", `credential=~"secret|both"`)), "service principals")).
			Span(6).Height(5).Thresholds(anyIs("orange"))).
		WithPanel(newStat("Expiring credentials",
			"App and service principal credentials that expire within the exporter's --collector.credentials.expiry-window.",
			overTime(sum(ofTenant("entra_app_credentials", `status="expiring"`)), "expiring")).
			Span(6).Height(5).Thresholds(anyIs("orange"))).
		WithPanel(newStat("Expired credentials",
			"Credentials past their end date that are still on the app or service principal.",
			overTime(sum(ofTenant("entra_app_credentials", `status="expired"`)), "expired")).
			Span(6).Height(5).Thresholds(anyIs("red"))).
		WithPanel(newStat("Credentials without expiry",
			`Credentials whose end date is in year 2299 or later (the portal's "never expires"): they are never rotated by force.`,
			overTime(sum(ofTenant("entra_app_credentials_without_expiry")), "without expiry")).
			Span(6).Height(5).Thresholds(anyIs("orange"))).
		WithRow(row("Secrets versus certificates")).
		WithPanel(newTimeseries("App credentials: secrets vs certificates",
			"Credentials on applications and service principals by kind. The goal: certificates or federated credentials, not shared secrets.",
			overTime(sumBy("object, kind", ofTenant("entra_app_credentials")), "{{object}} {{kind}}")).
			Span(12).Height(8)).
		WithPanel(newTimeseries("Service principals by credential",
			"Service principals by the credentials they have: secret, certificate, both or none.",
			overTime(sumBy("credential", ofTenant("entra_service_principals")), "{{credential}}")).
			Span(12).Height(8)).
		WithPanel(newTimeseries("Applications by credential",
			"App registrations by credential; federated when the app has federated identity credentials.",
			overTime(sumBy("credential", ofTenant("entra_applications")), "{{credential}}")).
			Span(12).Height(8)).
		WithPanel(newBarGauge("Service principals by type and owner",
			"Service principals by servicePrincipalType, owned by this tenant or by another (third-party and Microsoft apps).",
			latest(sumBy("sp_type, owner", ofTenant("entra_service_principals")), "{{sp_type}} {{owner}}")).
			Span(12).Height(8)).
		WithRow(row("Expiry")).
		WithPanel(newTable("Expiring and expired credentials",
			"Each credential that expires within the exporter's expiry window or expired within its lookback, with its app: rotate these. Alerts AppCredentialExpiringSoon and AppCredentialExpired.",
			// In milliseconds, the unit of Grafana's dateTimeFromNow.
			asTable("sort("+ofTenant("entra_app_credential_expiry_timestamp_seconds")+" * 1000)")).
			Span(16).Height(10).
			OverrideByName("Expires", unit("dateTimeFromNow")).
			SortBy([]cog.Builder[common.TableSortByFieldState]{
				common.NewTableSortByFieldStateBuilder().DisplayName("Expires").Desc(false),
			}).
			WithTransformation(organize(map[string]any{
				"excludeByName": map[string]bool{"Time": true, "job": true, "instance": true, "tenant_id": true},
				"indexByName":   map[string]int{"app_name": 0, "app_id": 1, "object": 2, "kind": 3, "key_id": 4, "Value": 5},
				"renameByName": map[string]string{
					"app_name": "App", "app_id": "App ID", "object": "Object", "kind": "Kind", "key_id": "Key ID", "Value": "Expires",
				},
			}))).
		WithPanel(newBarGauge("Credentials by status",
			"All credentials by object, kind and status (valid, expiring, expired).",
			latest(sumBy("object, kind, status", ofTenant("entra_app_credentials")), "{{object}} {{kind}} {{status}}")).
			Span(8).Height(10)).
		WithPanel(newBarGauge("Credentials without expiry by kind",
			"Credentials that never expire, by object and kind.",
			latest(sumBy("object, kind", ofTenant("entra_app_credentials_without_expiry")), "{{object}} {{kind}}")).
			Span(24).Height(6).Thresholds(anyIs("orange")).ColorScheme(byThresholds()))
}
