package collector

import (
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// The authentication methods policy: which methods the tenant allows, and how far it has moved
// off the legacy MFA and SSPR policies (learn.microsoft.com/graph/api/resources/authenticationmethodspolicy).

var (
	methodEnabledDesc = entraDesc("auth_method_enabled",
		"1 when the authentication methods policy enables the method, 0 when it disables it (authenticationMethodConfigurations); other stands for configurations the exporter does not know, 1 if any of them is enabled.",
		[]string{"tenant_id", "method"})
	migrationStateDesc = entraDesc("auth_methods_policy_migration_state",
		"1 for the authentication methods policy's policyMigrationState (pre_migration, migration_in_progress, migration_complete; unknown when Graph sends null or a value the exporter does not know), 0 for the others.",
		[]string{"tenant_id", "state"})
)

var migrationStateLabels = map[models.AuthenticationMethodsPolicyMigrationState]string{
	models.PREMIGRATION_AUTHENTICATIONMETHODSPOLICYMIGRATIONSTATE:        "pre_migration",
	models.MIGRATIONINPROGRESS_AUTHENTICATIONMETHODSPOLICYMIGRATIONSTATE: "migration_in_progress",
	models.MIGRATIONCOMPLETE_AUTHENTICATIONMETHODSPOLICYMIGRATIONSTATE:   "migration_complete",
}

var migrationStates = []string{"pre_migration", "migration_in_progress", "migration_complete", "unknown"}

type methodsPolicy struct {
	enabled        map[string]bool // by method label
	migrationState string
}

// readMethodsPolicy reads the policy. A configuration without a state Graph documents (enabled,
// disabled) is left out and logged: it is neither.
func readMethodsPolicy(p models.AuthenticationMethodsPolicyable, notes *recordNotes) methodsPolicy {
	m := methodsPolicy{enabled: map[string]bool{}, migrationState: "unknown"}
	if s := p.GetPolicyMigrationState(); s != nil {
		if label, ok := migrationStateLabels[*s]; ok {
			m.migrationState = label
		}
	}
	for _, c := range p.GetAuthenticationMethodConfigurations() {
		id := graph.Deref(c.GetId())
		label, ok := methodConfigurationLabels[id]
		if !ok {
			notes.oddValue("authenticationMethodConfigurations.id", id, "method "+labelOther)
			label = labelOther
		}
		if c.GetState() == nil {
			notes.oddValue("authenticationMethodConfigurations.state", id, "that configuration left out (its state neither enabled nor disabled)")
			continue
		}
		m.enabled[label] = m.enabled[label] || *c.GetState() == models.ENABLED_AUTHENTICATIONMETHODSTATE
	}
	return m
}

func (m methodsPolicy) collect(gauge func(desc *prometheus.Desc, v float64, labels ...string)) {
	for label, on := range m.enabled {
		gauge(methodEnabledDesc, boolValue(on), label)
	}
	for _, state := range migrationStates {
		gauge(migrationStateDesc, boolValue(state == m.migrationState), state)
	}
}
