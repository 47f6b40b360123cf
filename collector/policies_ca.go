package collector

import (
	"slices"
	"strings"
)

// Conditional Access policies, read as Graph's JSON (graph.JSONItems) rather than through the
// SDK's model: inside a collection the SDK decodes an enum member it does not know as the enum's
// zero value, so a grant control Microsoft adds would read as "block" (enforcement), a client app
// type as "all" (no narrowing) and an unknown guest type would drop the guest exclusion. Here
// every enum stays the string Graph sent, and a value the exporter does not know never counts as
// enforcement. Shapes: learn.microsoft.com/graph/api/resources/conditionalaccesspolicy and the
// types it links (conditionalAccessConditionSet, -Users, -Applications, -GrantControls,
// authenticationStrengthPolicy).

type caPolicy struct {
	ID            string           `json:"id"`
	State         string           `json:"state"`
	Conditions    *caConditions    `json:"conditions"`
	GrantControls *caGrantControls `json:"grantControls"`
}

type caConditions struct {
	Users          *caUsers        `json:"users"` // null on a policy for workload identities
	Applications   *caApplications `json:"applications"`
	ClientAppTypes []string        `json:"clientAppTypes"`
	Platforms      *struct {
		IncludePlatforms []string `json:"includePlatforms"`
		ExcludePlatforms []string `json:"excludePlatforms"`
	} `json:"platforms"`
	Locations *struct {
		IncludeLocations []string `json:"includeLocations"`
		ExcludeLocations []string `json:"excludeLocations"`
	} `json:"locations"`
	SignInRiskLevels           []string `json:"signInRiskLevels"`
	UserRiskLevels             []string `json:"userRiskLevels"`
	ServicePrincipalRiskLevels []string `json:"servicePrincipalRiskLevels"`
	InsiderRiskLevels          *string  `json:"insiderRiskLevels"` // flags: "minor,moderate"
	Devices                    *struct {
		DeviceFilter *caFilter `json:"deviceFilter"`
	} `json:"devices"`
	AuthenticationFlows *struct {
		TransferMethods string `json:"transferMethods"` // flags: "deviceCodeFlow,authenticationTransfer"
	} `json:"authenticationFlows"`
}

type caUsers struct {
	IncludeUsers                 []string            `json:"includeUsers"`
	ExcludeUsers                 []string            `json:"excludeUsers"`
	ExcludeGroups                []string            `json:"excludeGroups"`
	IncludeRoles                 []string            `json:"includeRoles"`
	ExcludeRoles                 []string            `json:"excludeRoles"`
	IncludeGuestsOrExternalUsers *caGuestsOrExternal `json:"includeGuestsOrExternalUsers"`
	ExcludeGuestsOrExternalUsers *caGuestsOrExternal `json:"excludeGuestsOrExternalUsers"`
}

type caGuestsOrExternal struct {
	GuestOrExternalUserTypes string `json:"guestOrExternalUserTypes"` // flags: "internalGuest,serviceProvider"
	ExternalTenants          *struct {
		MembershipKind string `json:"membershipKind"` // all or enumerated
	} `json:"externalTenants"`
}

type caApplications struct {
	IncludeApplications                         []string  `json:"includeApplications"`
	ExcludeApplications                         []string  `json:"excludeApplications"`
	IncludeUserActions                          []string  `json:"includeUserActions"`
	IncludeAuthenticationContextClassReferences []string  `json:"includeAuthenticationContextClassReferences"`
	ApplicationFilter                           *caFilter `json:"applicationFilter"`
}

type caFilter struct {
	Mode string `json:"mode"`
}

type caGrantControls struct {
	Operator                    string      `json:"operator"`
	BuiltInControls             []string    `json:"builtInControls"`
	CustomAuthenticationFactors []string    `json:"customAuthenticationFactors"`
	TermsOfUse                  []string    `json:"termsOfUse"`
	AuthenticationStrength      *caStrength `json:"authenticationStrength"`
}

type caStrength struct {
	ID                    string   `json:"id"`
	RequirementsSatisfied string   `json:"requirementsSatisfied"` // none or mfa
	AllowedCombinations   []string `json:"allowedCombinations"`
}

// Scopes: the labels users and apps of entra_mfa_enforced, each a bit of a scope set.
var (
	userScopeLabels = []string{"all", "admins", "guests"}
	appScopeLabels  = []string{"all", "azure_management", "admin_portals"}
)

const (
	usersAll = 1 << iota
	usersAdmins
	usersGuests
)

const (
	appsAll = 1 << iota
	appsAzureManagement
	appsAdminPortals
)

// Values of includeUsers, includeApplications and guestOrExternalUserTypes with a meaning.
const (
	includeAll           = "All"
	guestsOrExternal     = "GuestsOrExternalUsers"
	adminPortalsApp      = "MicrosoftAdminPortals"
	phishingResistantMFA = "00000000-0000-0000-0000-000000000004" // the built-in strength's id
)

// adminRoleTemplates are the 14 roles of Microsoft's "Require multifactor authentication for
// admins" template (learn.microsoft.com/entra/identity/conditional-access/policy-old-require-mfa-admin,
// role names in its include "conditional-access-admin-roles"; role template ids from
// learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
var adminRoleTemplates = []string{
	"62e90394-69f5-4237-9190-012177145e10", "194ae4cb-b126-40b2-bd5b-6091b380977d", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
	"29232cdf-9323-42fd-ade2-1d097af3e4de", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "729827e3-9c14-49f7-bb1b-9608f156bbb8",
	"b0f54661-2d74-4c50-afa3-1ec803f12efe", "fe930be7-5e62-47db-91af-98c3a49a38b1", "c4e39bd9-1100-46d3-8c65-fb160da0071f",
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "158c047a-c907-4556-b7ef-446551a6b5f7", "966707d0-3269-4727-9be2-8c3a10f19b9d",
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "e8611ab8-c189-46e8-94e1-60213ab1f814",
}

// everyGuestType are the guest and external user types a policy must name to cover all guests
// (learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers).
var everyGuestType = []string{"internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember",
	"b2bDirectConnectUser", "otherExternalUser", "serviceProvider"}

// phishingResistantCombinations are the combinations of the built-in phishing-resistant strength.
var phishingResistantCombinations = []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}

// documentedGrantControls are builtInControls' documented members; riskRemediation comes only to
// requests that send Prefer: include-unknown-enum-members (this exporter does not).
var documentedGrantControls = []string{"block", "mfa", "compliantDevice", "domainJoinedDevice", "approvedApplication",
	"compliantApplication", "passwordChange", "unknownFutureValue", "riskRemediation"}

// userScopes are the user scopes the policy covers. Groups and single users make none: who is in
// them cannot be seen here. Excluding guests takes away all users and guests; other exclusions
// leave the scopes and are counted as exclusions.
func (u *caUsers) scopes() int {
	if u == nil {
		return 0
	}
	everyone := slices.Contains(u.IncludeUsers, includeAll)
	s := 0
	if everyone {
		s |= usersAll | usersAdmins | usersGuests
	}
	if containsAll(u.IncludeRoles, adminRoleTemplates) {
		s |= usersAdmins
	}
	if slices.Contains(u.IncludeUsers, guestsOrExternal) || namesEveryGuest(u.IncludeGuestsOrExternalUsers) {
		s |= usersGuests
	}
	if excludesGuests(u) {
		s &^= usersAll | usersGuests
	}
	return s
}

// namesEveryGuest: every guest type, of every external tenant. Graph documents externalTenants
// as "either all B2B tenants or a collection of tenant IDs"; an enumerated collection leaves the
// other tenants' guests out.
func namesEveryGuest(g *caGuestsOrExternal) bool {
	if g == nil || (g.ExternalTenants != nil && g.ExternalTenants.MembershipKind != "all") {
		return false
	}
	return containsAll(strings.Split(g.GuestOrExternalUserTypes, ","), everyGuestType)
}

func excludesGuests(u *caUsers) bool {
	if slices.Contains(u.ExcludeUsers, guestsOrExternal) {
		return true
	}
	g := u.ExcludeGuestsOrExternalUsers
	return g != nil && g.GuestOrExternalUserTypes != "" && g.GuestOrExternalUserTypes != "none"
}

// appScopes are the app scopes the policy covers. Any excluded app takes away all apps; excluding
// the Azure management API or the admin portals takes away that scope too.
func (a *caApplications) scopes() int {
	if a == nil {
		return 0
	}
	s := 0
	if slices.Contains(a.IncludeApplications, includeAll) {
		s = appsAll | appsAzureManagement | appsAdminPortals
	}
	if containsFold(a.IncludeApplications, resourceManagerID) {
		s |= appsAzureManagement
	}
	if slices.Contains(a.IncludeApplications, adminPortalsApp) {
		s |= appsAdminPortals
	}
	if len(a.ExcludeApplications) > 0 {
		s &^= appsAll
	}
	if containsFold(a.ExcludeApplications, resourceManagerID) {
		s &^= appsAzureManagement
	}
	if slices.Contains(a.ExcludeApplications, adminPortalsApp) {
		s &^= appsAdminPortals
	}
	return s
}

// narrowedBy names the first condition beyond users and apps that restricts when the policy
// applies, or is "". Platforms and locations that include all and exclude nothing restrict
// nothing; an application filter in exclude mode can take any app out.
func (c *caConditions) narrowedBy() string {
	a := c.Applications
	switch {
	case len(c.ClientAppTypes) > 0 && !slices.Equal(c.ClientAppTypes, []string{"all"}):
		return "clientAppTypes"
	case c.Platforms != nil && restricts(c.Platforms.IncludePlatforms, c.Platforms.ExcludePlatforms, "all"):
		return "platforms"
	case c.Locations != nil && restricts(c.Locations.IncludeLocations, c.Locations.ExcludeLocations, includeAll):
		return "locations"
	case len(c.SignInRiskLevels) > 0 || len(c.UserRiskLevels) > 0 || len(c.ServicePrincipalRiskLevels) > 0:
		return "risk levels"
	case c.InsiderRiskLevels != nil && *c.InsiderRiskLevels != "":
		return "insiderRiskLevels"
	case c.Devices != nil && c.Devices.DeviceFilter != nil:
		return "device filter"
	case c.AuthenticationFlows != nil && c.AuthenticationFlows.TransferMethods != "" && c.AuthenticationFlows.TransferMethods != "none":
		return "authenticationFlows"
	case a != nil && (len(a.IncludeUserActions) > 0 || len(a.IncludeAuthenticationContextClassReferences) > 0):
		return "user actions or authentication contexts"
	case a != nil && a.ApplicationFilter != nil && a.ApplicationFilter.Mode == "exclude":
		return "applicationFilter"
	}
	return ""
}

// restricts: a condition that includes less than all, or excludes anything.
func restricts(include, exclude []string, all string) bool {
	return !slices.Equal(include, []string{all}) || len(exclude) > 0
}

// grantLabel is the first that applies of block, authentication_strength, mfa, other.
func (g *caGrantControls) grantLabel() string {
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

// requiresMFA: the grant has mfa, block or an authentication strength that grants the MFA claim,
// and nothing lets a user through without one: with AND one such control is enough, with OR (or
// any other operator) every control must be one. A control Graph names that the exporter does not
// know is one that lets users through.
func (g *caGrantControls) requiresMFA(notes *recordNotes) bool {
	if g == nil {
		return false
	}
	qualifying, others := 0, len(g.CustomAuthenticationFactors)+len(g.TermsOfUse)
	for _, c := range g.BuiltInControls {
		if c == "mfa" || c == "block" {
			qualifying++
			continue
		}
		if !slices.Contains(documentedGrantControls, c) {
			notes.oddValue("grantControls.builtInControls", c, "a control that does not require MFA")
		}
		others++
	}
	if s := g.AuthenticationStrength; s != nil {
		if s.RequirementsSatisfied == "mfa" {
			qualifying++
		} else {
			others++
		}
	}
	if g.Operator == "AND" {
		return qualifying > 0
	}
	return qualifying > 0 && others == 0
}

// phishingResistant: the built-in phishing-resistant strength, or one whose every combination is
// one of that strength's.
func (s *caStrength) phishingResistant() bool {
	if s == nil {
		return false
	}
	if s.ID == phishingResistantMFA {
		return true
	}
	if len(s.AllowedCombinations) == 0 {
		return false
	}
	for _, c := range s.AllowedCombinations {
		if !slices.Contains(phishingResistantCombinations, strings.TrimSpace(c)) {
			return false
		}
	}
	return true
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !containsFold(have, w) {
			return false
		}
	}
	return true
}

// containsFold: ids compared case-insensitively, as GUIDs are.
func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), s) })
}
