package fakegraph

import (
	"slices"
	"strings"
)

// Ground truth of the policies source, computed from the PolicySet's own Go values (never from
// the JSON the fake sends, nor with the exporter's code), by the rules of issue 10 as the docs
// force them to be read:
//   - an authentication strength requires MFA only when its requirementsSatisfied is mfa (a
//     custom strength "may or may not fulfill the requirements to grant an MFA claim",
//     authenticationstrengthpolicy.md);
//   - includeGuestsOrExternalUsers covers the guests scope only when it names every guest type
//     for every external tenant (membershipKind all): an enumerated list of tenants leaves others out;
//   - an applicationFilter in exclude mode narrows the policy (it can exclude any app);
//   - platforms and locations narrow unless they include all and exclude nothing.

// Scope labels.
var (
	UserScopes = []string{"all", "admins", "guests"}
	AppScopes  = []string{"all", "azure_management", "admin_portals"}
)

// PolicyScope is a users × apps scope.
type PolicyScope struct{ Users, Apps string }

// StateGrant are the labels of entra_conditional_access_policies.
type StateGrant struct{ State, Grant string }

// EnforcedKey are the labels of entra_mfa_enforced; ExclusionKey those of
// entra_mfa_enforcement_exclusions.
type (
	EnforcedKey  struct{ Users, Apps, State string }
	ExclusionKey struct{ Users, Apps, Kind string }
)

// PolicyTruth is what an exporter should report for the tenant's policies.
type PolicyTruth struct {
	SecurityDefaults bool
	// ConditionalAccessAvailable is false for a tenant without P1.
	ConditionalAccessAvailable bool
	Policies                   map[StateGrant]int
	Enforced                   map[EnforcedKey]int
	Exclusions                 map[ExclusionKey]int
	PhishingResistant          map[PolicyScope]int
	// MethodsEnabled is each method configuration's label and whether it is enabled.
	MethodsEnabled map[string]bool
	// MigrationState is the policyMigrationState label: pre_migration, migration_in_progress,
	// migration_complete, or unknown for null and anything else.
	MigrationState string
}

// methodLabels are the labels of the method configuration ids Microsoft documents.
var methodLabels = map[string]string{"Fido2": "fido2", "MicrosoftAuthenticator": "microsoft_authenticator", "Sms": "sms",
	"Voice": "voice", "Email": "email", "SoftwareOath": "software_oath", "TemporaryAccessPass": "temporary_access_pass",
	"X509Certificate": "x509_certificate", "HardwareOath": "hardware_oath", "QRCodePin": "qr_code_pin"}

// PolicyTruth evaluates the tenant's policies.
func (t *Tenant) PolicyTruth() PolicyTruth {
	ps := t.policies()
	truth := PolicyTruth{SecurityDefaults: ps.SecurityDefaults, ConditionalAccessAvailable: !ps.NoP1,
		Policies: map[StateGrant]int{}, Enforced: map[EnforcedKey]int{}, Exclusions: map[ExclusionKey]int{},
		PhishingResistant: map[PolicyScope]int{}, MethodsEnabled: map[string]bool{}}
	switch ps.MigrationState {
	case "preMigration":
		truth.MigrationState = "pre_migration"
	case "migrationInProgress":
		truth.MigrationState = "migration_in_progress"
	case "migrationComplete":
		truth.MigrationState = "migration_complete"
	default:
		truth.MigrationState = "unknown"
	}
	for _, m := range ps.Methods {
		label, ok := methodLabels[m.ID]
		if !ok {
			label = "other"
		}
		truth.MethodsEnabled[label] = truth.MethodsEnabled[label] || m.State == "enabled"
	}
	var policies []CAPolicy
	if !ps.NoP1 {
		policies = ps.ConditionalAccess
	}
	for _, p := range policies {
		truth.Policies[StateGrant{stateLabel(p.State), grantLabel(p.GrantControls)}]++
	}
	for _, users := range UserScopes {
		for _, apps := range AppScopes {
			truth.addScope(policies, users, apps)
		}
	}
	return truth
}

// addScope counts the policies that require MFA for one scope.
func (truth *PolicyTruth) addScope(policies []CAPolicy, users, apps string) {
	excluded := map[ExclusionKey]map[string]bool{}
	for _, kind := range []string{"user", "group", "role"} {
		excluded[ExclusionKey{users, apps, kind}] = map[string]bool{}
	}
	for _, state := range []string{"enabled", "conditional", "report_only"} {
		truth.Enforced[EnforcedKey{users, apps, state}] += 0
	}
	truth.PhishingResistant[PolicyScope{users, apps}] += 0
	for _, p := range policies {
		if !coversUsers(p.Conditions.Users, users) || !coversApps(p.Conditions.Applications, apps) || !demandsMFA(p.GrantControls) {
			continue
		}
		state := ""
		switch {
		case p.State == StateReportOnly:
			state = "report_only"
		case p.State == StateEnabled && narrows(p.Conditions):
			state = "conditional"
		case p.State == StateEnabled:
			state = "enabled"
		default:
			continue // disabled
		}
		truth.Enforced[EnforcedKey{users, apps, state}]++
		if state != "enabled" {
			continue
		}
		u := p.Conditions.Users
		for _, id := range u.ExcludeUsers {
			if id != "GuestsOrExternalUsers" && id != "All" && id != "None" {
				excluded[ExclusionKey{users, apps, "user"}][id] = true
			}
		}
		for _, id := range u.ExcludeGroups {
			excluded[ExclusionKey{users, apps, "group"}][id] = true
		}
		for _, id := range u.ExcludeRoles {
			excluded[ExclusionKey{users, apps, "role"}][id] = true
		}
		if g := p.GrantControls; g.AuthenticationStrength != nil && phishingResistant(*g.AuthenticationStrength) {
			truth.PhishingResistant[PolicyScope{users, apps}]++
		}
	}
	for k, ids := range excluded {
		truth.Exclusions[k] = len(ids)
	}
}

func stateLabel(state string) string {
	switch state {
	case StateEnabled:
		return "enabled"
	case StateReportOnly:
		return "report_only"
	case StateDisabled:
		return "disabled"
	}
	return "unknown"
}

func grantLabel(g *CAGrantControls) string {
	switch {
	case g == nil:
		return "other"
	case slices.Contains(g.BuiltInControls, "block"):
		return "block"
	case g.AuthenticationStrength != nil:
		return "authentication_strength"
	case slices.Contains(g.BuiltInControls, "mfa"):
		return "mfa"
	}
	return "other"
}

// guestsLeftOut says whether the policy excludes guests or external users.
func guestsLeftOut(u CAUsers) bool {
	if slices.Contains(u.ExcludeUsers, "GuestsOrExternalUsers") {
		return true
	}
	e := u.ExcludeGuestsOrExternalUsers
	return e != nil && e.GuestOrExternalUserTypes != "" && e.GuestOrExternalUserTypes != "none"
}

func coversUsers(u CAUsers, scope string) bool {
	everyone := slices.Contains(u.IncludeUsers, "All")
	switch scope {
	case "all":
		return everyone && !guestsLeftOut(u)
	case "admins":
		if everyone {
			return true
		}
		for _, role := range AdminRoleTemplateIDs {
			if !slices.Contains(u.IncludeRoles, role) {
				return false
			}
		}
		return true
	case "guests":
		if guestsLeftOut(u) {
			return false
		}
		if everyone || slices.Contains(u.IncludeUsers, "GuestsOrExternalUsers") {
			return true
		}
		g := u.IncludeGuestsOrExternalUsers
		if g == nil || (g.ExternalTenants != nil && g.ExternalTenants.MembershipKind != "all") {
			return false
		}
		types := strings.Split(g.GuestOrExternalUserTypes, ",")
		for _, want := range strings.Split(AllGuestTypes, ",") {
			if !slices.Contains(types, want) {
				return false
			}
		}
		return true
	}
	return false
}

func coversApps(a CAApplications, scope string) bool {
	everything := slices.Contains(a.IncludeApplications, "All")
	switch scope {
	case "all":
		return everything && len(a.ExcludeApplications) == 0
	case "azure_management":
		return (everything || slices.Contains(a.IncludeApplications, AzureManagementApp)) && !slices.Contains(a.ExcludeApplications, AzureManagementApp)
	case "admin_portals":
		return (everything || slices.Contains(a.IncludeApplications, AdminPortals)) && !slices.Contains(a.ExcludeApplications, AdminPortals)
	}
	return false
}

// demandsMFA: no way through the grant without MFA (or without being blocked).
func demandsMFA(g *CAGrantControls) bool {
	if g == nil {
		return false
	}
	type control struct{ mfa bool }
	var controls []control
	for _, c := range g.BuiltInControls {
		controls = append(controls, control{c == "mfa" || c == "block"})
	}
	for range g.CustomAuthenticationFactors {
		controls = append(controls, control{false})
	}
	for range g.TermsOfUse {
		controls = append(controls, control{false})
	}
	if s := g.AuthenticationStrength; s != nil {
		controls = append(controls, control{s.RequirementsSatisfied == "mfa"})
	}
	some, every := false, len(controls) > 0
	for _, c := range controls {
		some = some || c.mfa
		every = every && c.mfa
	}
	if g.Operator == "AND" {
		return some
	}
	return every
}

func narrows(c CAConditions) bool {
	if len(c.ClientAppTypes) > 1 || (len(c.ClientAppTypes) == 1 && c.ClientAppTypes[0] != "all") {
		return true
	}
	if p := c.Platforms; p != nil && (len(p.ExcludePlatforms) > 0 || !slices.Equal(p.IncludePlatforms, []string{"all"})) {
		return true
	}
	if l := c.Locations; l != nil && (len(l.ExcludeLocations) > 0 || !slices.Equal(l.IncludeLocations, []string{"All"})) {
		return true
	}
	if len(c.SignInRiskLevels)+len(c.UserRiskLevels)+len(c.ServicePrincipalRiskLevels) > 0 {
		return true
	}
	if c.InsiderRiskLevels != nil && *c.InsiderRiskLevels != "" {
		return true
	}
	if c.Devices != nil && c.Devices.DeviceFilter != nil {
		return true
	}
	if c.AuthenticationFlows != nil && c.AuthenticationFlows.TransferMethods != "" && c.AuthenticationFlows.TransferMethods != "none" {
		return true
	}
	a := c.Applications
	if len(a.IncludeUserActions)+len(a.IncludeAuthenticationContextClassReferences) > 0 {
		return true
	}
	return a.ApplicationFilter != nil && a.ApplicationFilter.Mode == "exclude"
}

// phishingResistant: the built-in phishing-resistant strength, or a custom one whose every
// combination is one of that strength's.
func phishingResistant(s AuthenticationStrength) bool {
	if s.ID == StrengthPhishingResistant.ID {
		return true
	}
	if len(s.AllowedCombinations) == 0 {
		return false
	}
	for _, c := range s.AllowedCombinations {
		if !slices.Contains(StrengthPhishingResistant.AllowedCombinations, c) {
			return false
		}
	}
	return true
}
