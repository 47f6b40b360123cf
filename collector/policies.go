package collector

import (
	"context"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

func init() {
	declareSource("policies", "Policy.Read.All", time.Hour, func(c sourceConfig) (source, error) {
		return &policiesSource{cfg: c}, nil
	})
}

// policiesSource reads what requires MFA at sign-in: the Conditional Access policies
// (GET /v1.0/identity/conditionalAccess/policies, Policy.Read.All, Entra ID P1), security defaults
// (GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy, Policy.Read.All, no licence) and
// the authentication methods policy (GET /v1.0/policies/authenticationMethodsPolicy,
// Policy.Read.AuthenticationMethod, which Policy.Read.All includes): three requests a refresh, one
// more per page of policies. Which policies cover whom is worked out from the policies'
// conditions (policies_ca.go); the sign-in logs say what Conditional Access actually did.
type policiesSource struct {
	cfg sourceConfig
	// caUnavailable is the last refresh's verdict, so that the change is logged once. Refreshes of
	// a source never overlap.
	caUnavailable bool
}

var (
	securityDefaultsDesc = entraDesc("security_defaults_enabled",
		"1 when security defaults are enabled (identitySecurityDefaultsEnforcementPolicy.isEnabled): MFA for admins and for Azure management, MFA registration for everyone, legacy authentication blocked.",
		[]string{"tenant_id"})
	caAvailableDesc = entraDesc("conditional_access_available",
		"1 when Graph lists the tenant's Conditional Access policies; 0 when it refuses them to a tenant without Microsoft Entra ID P1: Conditional Access then enforces nothing, and entra_conditional_access_policies is not exported.",
		[]string{"tenant_id"})
	caPoliciesDesc = entraDesc("conditional_access_policies",
		"Conditional Access policies by state (enabled, report_only, disabled) and grant, the first that applies of block, authentication_strength, mfa, other.",
		[]string{"tenant_id", "state", "grant"})
	mfaEnforcedDesc = entraDesc("mfa_enforced",
		"Conditional Access policies that require MFA (mfa, block, or an authentication strength granting the MFA claim, with no control that lets a user through without it) and cover the users x apps scope, by state: enabled (no condition narrows it), conditional (enabled but narrowed, e.g. by location), report_only. Worked out from the policies' conditions; sign-in logs say what happened.",
		[]string{"tenant_id", "users", "apps", "state"})
	exclusionsDesc = entraDesc("mfa_enforcement_exclusions",
		"Distinct users, groups and roles (kind) excluded from the enabled policies that enforce MFA for the scope (those counted in entra_mfa_enforced with state=\"enabled\").",
		[]string{"tenant_id", "users", "apps", "kind"})
	phishingResistantDesc = entraDesc("phishing_resistant_enforced",
		"Of the enabled policies enforcing MFA for the scope, those requiring a phishing-resistant authentication strength (the built-in one, or a custom one whose every combination is phishing-resistant).",
		[]string{"tenant_id", "users", "apps"})
)

// Enforcement states of entra_mfa_enforced, and exclusion kinds.
var (
	enforcementStates = []string{"enabled", "conditional", "report_only"}
	exclusionKinds    = []string{"user", "group", "role"}
	policyStates      = []string{"enabled", "report_only", "disabled"}
	grantLabels       = []string{"block", "authentication_strength", "mfa", "other"}
)

const (
	enforcedEnabled = iota
	enforcedConditional
	enforcedReportOnly
)

type policiesSnapshot struct {
	tenantID         string
	securityDefaults bool
	ca               *caTally // nil when Graph refused the policies for want of P1
	methods          methodsPolicy
}

func (s *policiesSource) Refresh(ctx context.Context) (snapshot, error) {
	notes := newRecordNotes() // values outside the documented sets, logged once when the refresh ends
	defer notes.report("policies", s.cfg.logger, s.cfg.skipped)
	snap := &policiesSnapshot{tenantID: s.cfg.tenantID}
	defaults, err := graph.Get[models.IdentitySecurityDefaultsEnforcementPolicyable](ctx, s.cfg.graph,
		graph.Query{Path: "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"},
		models.CreateIdentitySecurityDefaultsEnforcementPolicyFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	if defaults.GetIsEnabled() == nil {
		return nil, graph.MalformedError("identitySecurityDefaultsEnforcementPolicy has no isEnabled")
	}
	snap.securityDefaults = *defaults.GetIsEnabled()
	methods, err := graph.Get[models.AuthenticationMethodsPolicyable](ctx, s.cfg.graph,
		graph.Query{Path: "/v1.0/policies/authenticationMethodsPolicy"}, models.CreateAuthenticationMethodsPolicyFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	snap.methods = readMethodsPolicy(methods, notes)
	if snap.ca, err = s.readConditionalAccess(ctx, notes); err != nil {
		return nil, err
	}
	return snap, nil
}

// readConditionalAccess tallies the CA policies, or returns nil when Graph refuses them to a
// tenant without P1. What Graph answers such a tenant is not documented: a licence refusal (the
// code Graph's reports send) reads as "unavailable"; an empty list would read as no policies.
func (s *policiesSource) readConditionalAccess(ctx context.Context, notes *recordNotes) (*caTally, error) {
	t := newCATally(notes)
	err := graph.List(ctx, s.cfg.graph, graph.Query{Path: "/v1.0/identity/conditionalAccess/policies"}, graph.JSONItems[caPolicy](), t.add)
	var gerr *graph.Error
	if err != nil {
		gerr = graph.Classify(err)
	}
	unlicensed := gerr != nil && gerr.Reason == graph.ReasonUnlicensed
	switch {
	case unlicensed && !s.caUnavailable:
		s.cfg.logger.Warn("Conditional Access is unavailable: Graph refuses the policies to a tenant without Microsoft Entra ID P1; entra_conditional_access_available is 0, security defaults and the authentication methods policy are still read",
			"source", "policies", "code", gerr.Code)
	case err == nil && s.caUnavailable:
		s.cfg.logger.Info("Conditional Access is available again", "source", "policies")
	}
	if unlicensed {
		s.caUnavailable = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.caUnavailable = false
	return t, nil
}

// caTally folds CA policies into the counts of the policies, enforced and exclusion families.
type caTally struct {
	notes    *recordNotes
	policies map[[2]string]float64 // state, grant
	// Indexed by user scope, app scope (the bits' positions in userScopeLabels, appScopeLabels).
	enforced          [3][3][3]float64         // by enforcement state
	excluded          [3][3][3]map[string]bool // by exclusion kind: the principals' ids
	phishingResistant [3][3]float64
}

func newCATally(notes *recordNotes) *caTally {
	t := &caTally{notes: notes, policies: map[[2]string]float64{}}
	for _, state := range policyStates {
		for _, g := range grantLabels {
			t.policies[[2]string{state, g}] = 0
		}
	}
	for u := range t.excluded {
		for a := range t.excluded[u] {
			for k := range t.excluded[u][a] {
				t.excluded[u][a][k] = map[string]bool{}
			}
		}
	}
	return t
}

func (t *caTally) add(p caPolicy) error {
	if p.Conditions == nil {
		return graph.MalformedError("conditional access policy %q has no conditions", p.ID)
	}
	state, known := policyStateLabels[p.State]
	if !known {
		t.notes.oddValue("state", p.State, "a policy that enforces nothing")
		state = "unknown"
	}
	t.policies[[2]string{state, p.GrantControls.grantLabel()}]++
	if (state != "enabled" && state != "report_only") || !p.GrantControls.requiresMFA(t.notes) {
		return nil
	}
	users, apps := p.Conditions.Users.scopes(), p.Conditions.Applications.scopes()
	enforcement := enforcedEnabled
	switch {
	case state == "report_only":
		enforcement = enforcedReportOnly
	case p.Conditions.narrowedBy() != "":
		enforcement = enforcedConditional
	}
	for u := range userScopeLabels {
		for a := range appScopeLabels {
			if users&(1<<u) == 0 || apps&(1<<a) == 0 {
				continue
			}
			t.enforced[u][a][enforcement]++
			if enforcement != enforcedEnabled {
				continue
			}
			t.exclude(u, a, p.Conditions.Users)
			if p.GrantControls.AuthenticationStrength.phishingResistant() {
				t.phishingResistant[u][a]++
			}
		}
	}
	return nil
}

// exclude adds the policy's excluded principals to the scope's; GuestsOrExternalUsers in
// excludeUsers is the guest exclusion, not a user.
func (t *caTally) exclude(u, a int, users *caUsers) {
	for k, ids := range [][]string{users.ExcludeUsers, users.ExcludeGroups, users.ExcludeRoles} {
		for _, id := range ids {
			if id != guestsOrExternal {
				t.excluded[u][a][k][id] = true
			}
		}
	}
}

func (s *policiesSnapshot) Collect(ch chan<- prometheus.Metric) {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append([]string{s.tenantID}, labels...)...)
	}
	gauge(securityDefaultsDesc, boolValue(s.securityDefaults))
	gauge(caAvailableDesc, boolValue(s.ca != nil))
	ca := s.ca
	if ca != nil {
		for k, n := range ca.policies {
			gauge(caPoliciesDesc, n, k[0], k[1])
		}
	} else {
		ca = &caTally{} // no CA: nothing is enforced, nobody excluded
	}
	for u, users := range userScopeLabels {
		for a, apps := range appScopeLabels {
			for e, state := range enforcementStates {
				gauge(mfaEnforcedDesc, ca.enforced[u][a][e], users, apps, state)
			}
			for k, kind := range exclusionKinds {
				gauge(exclusionsDesc, float64(len(ca.excluded[u][a][k])), users, apps, kind)
			}
			gauge(phishingResistantDesc, ca.phishingResistant[u][a], users, apps)
		}
	}
	s.methods.collect(gauge)
}
