package fakegraph

import (
	"encoding/json"
	"net/http"
	"strings"
)

func init() {
	routes = append(routes,
		route{prefix: "/identity/conditionalAccess/policies", serve: (*Server).serveConditionalAccessPolicies},
		route{prefix: "/policies/identitySecurityDefaultsEnforcementPolicy", serve: (*Server).serveSecurityDefaults},
		route{prefix: "/policies/authenticationMethodsPolicy", serve: (*Server).serveAuthenticationMethodsPolicy})
}

// PolicySet is the tenant's Conditional Access policies, security defaults and authentication
// methods policy. A nil *PolicySet serves no CA policy, security defaults off and no method.
type PolicySet struct {
	// NoP1 makes the tenant one without Microsoft Entra ID P1: it cannot have Conditional
	// Access, and the CA list answers with Graph's licence refusal (serveConditionalAccessPolicies).
	NoP1 bool
	// SecurityDefaults is identitySecurityDefaultsEnforcementPolicy.isEnabled.
	SecurityDefaults bool
	// ConditionalAccess are the CA policies, in the order Graph lists them.
	ConditionalAccess []CAPolicy
	// PageSize is how many CA policies a page holds when the request has no $top; 0 means 100.
	// Graph does not document the list's page size.
	PageSize int
	// Methods are the authenticationMethodConfigurations of the authentication methods policy.
	Methods []MethodConfiguration
	// MigrationState is policyMigrationState; "" serves null, as a live tenant did (see
	// serveAuthenticationMethodsPolicy).
	MigrationState string
}

func (t *Tenant) policies() PolicySet {
	if t.Policies == nil {
		return PolicySet{}
	}
	return *t.Policies
}

// The Conditional Access policy, as Graph's JSON names and nests it. Each type names the docs
// page of microsoftgraph/microsoft-graph-docs-contrib that documents its shape; fields the docs
// show as null when unset are pointers without omitempty, so they are sent as null.

// CAPolicy is a conditionalAccessPolicy (api-reference/v1.0/resources/conditionalaccesspolicy.md;
// the list's example in api-reference/v1.0/api/conditionalaccessroot-list-policies.md).
type CAPolicy struct {
	ID               string           `json:"id"`
	TemplateID       *string          `json:"templateId"`
	DisplayName      string           `json:"displayName"`
	CreatedDateTime  *string          `json:"createdDateTime"`
	ModifiedDateTime *string          `json:"modifiedDateTime"`
	State            string           `json:"state"` // enabled, disabled, enabledForReportingButNotEnforced
	SessionControls  *json.RawMessage `json:"sessionControls"`
	Conditions       CAConditions     `json:"conditions"`
	GrantControls    *CAGrantControls `json:"grantControls"` // null on a policy with session controls only
}

// CAConditions is a conditionalAccessConditionSet
// (api-reference/v1.0/resources/conditionalaccessconditionset.md). insiderRiskLevels and
// authenticationFlows are in the v1.0 payloads tools record (mondoohq/mql #5437).
type CAConditions struct {
	UserRiskLevels             []string               `json:"userRiskLevels"`
	SignInRiskLevels           []string               `json:"signInRiskLevels"`
	ClientAppTypes             []string               `json:"clientAppTypes"`
	ServicePrincipalRiskLevels []string               `json:"servicePrincipalRiskLevels"`
	InsiderRiskLevels          *string                `json:"insiderRiskLevels"` // a flags value: "minor,moderate"
	Platforms                  *CAPlatforms           `json:"platforms"`
	Locations                  *CALocations           `json:"locations"`
	Devices                    *CADevices             `json:"devices"`
	ClientApplications         *json.RawMessage       `json:"clientApplications"`
	AuthenticationFlows        *CAAuthenticationFlows `json:"authenticationFlows"`
	Applications               CAApplications         `json:"applications"`
	Users                      CAUsers                `json:"users"`
}

// CAApplications is a conditionalAccessApplications
// (api-reference/v1.0/resources/conditionalaccessapplications.md): app ids or All, Office365,
// MicrosoftAdminPortals, or user actions and authentication contexts instead of apps.
type CAApplications struct {
	IncludeApplications                         []string  `json:"includeApplications"`
	ExcludeApplications                         []string  `json:"excludeApplications"`
	IncludeUserActions                          []string  `json:"includeUserActions"`
	IncludeAuthenticationContextClassReferences []string  `json:"includeAuthenticationContextClassReferences"`
	ApplicationFilter                           *CAFilter `json:"applicationFilter"`
}

// CAUsers is a conditionalAccessUsers (api-reference/v1.0/resources/conditionalaccessusers.md):
// includeUsers holds user ids or None, All, GuestsOrExternalUsers; roles are role template ids.
type CAUsers struct {
	IncludeUsers                 []string                 `json:"includeUsers"`
	ExcludeUsers                 []string                 `json:"excludeUsers"`
	IncludeGroups                []string                 `json:"includeGroups"`
	ExcludeGroups                []string                 `json:"excludeGroups"`
	IncludeRoles                 []string                 `json:"includeRoles"`
	ExcludeRoles                 []string                 `json:"excludeRoles"`
	IncludeGuestsOrExternalUsers *CAGuestsOrExternalUsers `json:"includeGuestsOrExternalUsers"`
	ExcludeGuestsOrExternalUsers *CAGuestsOrExternalUsers `json:"excludeGuestsOrExternalUsers"`
}

// CAGuestsOrExternalUsers is a conditionalAccessGuestsOrExternalUsers
// (api-reference/v1.0/resources/conditionalaccessguestsorexternalusers.md).
// GuestOrExternalUserTypes is a flags value: "internalGuest,b2bCollaborationGuest".
type CAGuestsOrExternalUsers struct {
	GuestOrExternalUserTypes string             `json:"guestOrExternalUserTypes"`
	ExternalTenants          *CAExternalTenants `json:"externalTenants"`
}

// CAExternalTenants is a conditionalAccessAllExternalTenants (membershipKind all) or a
// conditionalAccessEnumeratedExternalTenants (membershipKind enumerated, members)
// (api-reference/v1.0/resources/conditionalaccessexternaltenants.md).
type CAExternalTenants struct {
	ODataType      string   `json:"@odata.type"`
	MembershipKind string   `json:"membershipKind"`
	Members        []string `json:"members,omitempty"`
}

// CAPlatforms is a conditionalAccessPlatforms (api-reference/v1.0/resources/conditionalaccessplatforms.md).
type CAPlatforms struct {
	IncludePlatforms []string `json:"includePlatforms"`
	ExcludePlatforms []string `json:"excludePlatforms"`
}

// CALocations is a conditionalAccessLocations (api-reference/v1.0/resources/conditionalaccesslocations.md):
// named location ids, All or AllTrusted.
type CALocations struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

// CADevices is a conditionalAccessDevices (api-reference/v1.0/resources/conditionalaccessdevices.md).
type CADevices struct {
	DeviceFilter *CAFilter `json:"deviceFilter"`
}

// CAFilter is a conditionalAccessFilter (api-reference/v1.0/resources/conditionalaccessfilter.md).
type CAFilter struct {
	Mode string `json:"mode"` // include or exclude
	Rule string `json:"rule"`
}

// CAAuthenticationFlows is a conditionalAccessAuthenticationFlows
// (api-reference/v1.0/resources/conditionalaccessauthenticationflows.md); TransferMethods is a
// flags value: "deviceCodeFlow,authenticationTransfer".
type CAAuthenticationFlows struct {
	TransferMethods string `json:"transferMethods"`
}

// CAGrantControls is a conditionalAccessGrantControls
// (api-reference/v1.0/resources/conditionalaccessgrantcontrols.md). Graph sends the
// authentication strength inline, with an @odata.context beside it, without $expand: the payloads
// tools record show it (the list's example predates the property; Maester and CIPP read
// authenticationStrength.requirementsSatisfied from the plain list).
type CAGrantControls struct {
	Operator                    string                  `json:"operator"` // AND or OR
	BuiltInControls             []string                `json:"builtInControls"`
	CustomAuthenticationFactors []string                `json:"customAuthenticationFactors"`
	TermsOfUse                  []string                `json:"termsOfUse"`
	StrengthContext             string                  `json:"authenticationStrength@odata.context"`
	AuthenticationStrength      *AuthenticationStrength `json:"authenticationStrength"`
}

// AuthenticationStrength is an authenticationStrengthPolicy
// (api-reference/v1.0/resources/authenticationstrengthpolicy.md; the built-in ones in
// api-reference/v1.0/api/authenticationstrengthroot-list-policies.md). AllowedCombinations are
// authenticationMethodModes flags values, one combination each: "password,sms".
type AuthenticationStrength struct {
	ID                    string   `json:"id"`
	CreatedDateTime       string   `json:"createdDateTime"`
	ModifiedDateTime      string   `json:"modifiedDateTime"`
	DisplayName           string   `json:"displayName"`
	Description           string   `json:"description"`
	PolicyType            string   `json:"policyType"`            // builtIn or custom
	RequirementsSatisfied string   `json:"requirementsSatisfied"` // none or mfa
	AllowedCombinations   []string `json:"allowedCombinations"`
}

// MethodConfiguration is one authenticationMethodConfiguration of the authentication methods
// policy (api-reference/v1.0/resources/authenticationmethodconfiguration.md; the policy's get
// example in api-reference/v1.0/api/authenticationmethodspolicy-get.md).
type MethodConfiguration struct {
	ODataType string // e.g. #microsoft.graph.smsAuthenticationMethodConfiguration
	ID        string // e.g. Sms
	State     string // enabled or disabled
}

// evolvableGrantControls are builtInControls members Graph sends only to a request with
// "Prefer: include-unknown-enum-members"; other requests get unknownFutureValue in their place
// (api-reference/v1.0/resources/conditionalaccessgrantcontrols.md).
var evolvableGrantControls = map[string]bool{"riskRemediation": true}

// policiesPageSize is the fake's page when a CA list request has no $top.
const policiesPageSize = 100

func (s *Server) serveConditionalAccessPolicies(w http.ResponseWriter, r *http.Request) {
	ps := s.Tenant.policies()
	if ps.NoP1 {
		// What Graph answers a tenant without P1 here is not documented. This is the answer
		// Graph's reports give such a tenant (turbot/steampipe-plugin-azuread#98; CIPP-API
		// Get-CIPPMFAState.ps1 reads the same refusal as "not licensed").
		writeError(w, http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
			"Neither tenant is B2C or tenant doesn't have premium license")
		return
	}
	pageSize := ps.PageSize
	if pageSize <= 0 {
		pageSize = policiesPageSize
	}
	q, err := parseList(r, pageSize, 999)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	evolvable := strings.Contains(r.Header.Get("Prefer"), "include-unknown-enum-members")
	s.writePage(w, r, "/v1.0/$metadata#identity/conditionalAccess/policies", q, len(ps.ConditionalAccess), func(i int, o *object) {
		p := ps.ConditionalAccess[i].withEmptyLists()
		o.Str("id", p.ID)
		o.JSON("templateId", p.TemplateID)
		o.Str("displayName", p.DisplayName)
		o.JSON("createdDateTime", p.CreatedDateTime)
		o.JSON("modifiedDateTime", p.ModifiedDateTime)
		o.Str("state", p.State)
		o.JSON("sessionControls", p.SessionControls)
		o.JSON("conditions", p.Conditions)
		o.JSON("grantControls", p.wireGrantControls(s.URL, evolvable))
	})
}

// wireGrantControls are the grant controls as a request sees them: evolvable members replaced by
// unknownFutureValue unless it asked for them, and the strength's @odata.context filled in.
func (p CAPolicy) wireGrantControls(base string, evolvable bool) *CAGrantControls {
	if p.GrantControls == nil {
		return nil
	}
	g := *p.GrantControls
	g.BuiltInControls = make([]string, len(p.GrantControls.BuiltInControls))
	for i, c := range p.GrantControls.BuiltInControls {
		if evolvableGrantControls[c] && !evolvable {
			c = "unknownFutureValue"
		}
		g.BuiltInControls[i] = c
	}
	g.StrengthContext = base + "/v1.0/$metadata#identity/conditionalAccess/policies('" + p.ID + "')/grantControls/authenticationStrength/$entity"
	return &g
}

func (s *Server) serveSecurityDefaults(w http.ResponseWriter, _ *http.Request) {
	// api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-get.md
	o := &object{buf: []byte{'{'}}
	o.Str("@odata.context", s.URL+"/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy")
	o.Str("description", "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.")
	o.Str("displayName", "Security Defaults")
	o.Str("id", "00000000-0000-0000-0000-000000000005")
	o.Bool("isEnabled", s.Tenant.policies().SecurityDefaults)
	writeJSON(w, append(o.buf, '}'))
}

func (s *Server) serveAuthenticationMethodsPolicy(w http.ResponseWriter, _ *http.Request) {
	// api-reference/v1.0/api/authenticationmethodspolicy-get.md; policyMigrationState from
	// api-reference/v1.0/resources/authenticationmethodspolicy.md, null as a live v1.0 tenant
	// sent it (rknightion/graph2otel's recorded fixture).
	ps := s.Tenant.policies()
	o := &object{buf: []byte{'{'}}
	o.Str("@odata.context", s.URL+"/v1.0/$metadata#authenticationMethodsPolicy")
	o.Str("id", "authenticationMethodsPolicy")
	o.Str("displayName", "Authentication Methods Policy")
	o.Str("description", "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings")
	o.Str("lastModifiedDateTime", "2026-01-26T10:47:26.6044384Z")
	o.Str("policyVersion", "1.5")
	o.Int("reconfirmationInDays", 0)
	if ps.MigrationState == "" {
		o.Null("policyMigrationState")
	} else {
		o.Str("policyMigrationState", ps.MigrationState)
	}
	o.Object("registrationEnforcement", func(o *object) {
		o.Object("authenticationMethodsRegistrationCampaign", func(o *object) {
			o.Int("snoozeDurationInDays", 1)
			o.Str("state", "default")
			o.objects("excludeTargets", 0, nil)
			o.objects("includeTargets", 1, func(_ int, o *object) {
				o.Str("id", "all_users")
				o.Str("targetType", "group")
				o.Str("targetedAuthenticationMethod", "microsoftAuthenticator")
			})
		})
	})
	o.objects("authenticationMethodConfigurations", len(ps.Methods), func(k int, o *object) {
		m := ps.Methods[k]
		o.Str("@odata.type", m.ODataType)
		o.Str("id", m.ID)
		o.Str("state", m.State)
		o.objects("excludeTargets", 0, nil)
		o.objects("includeTargets", 1, func(_ int, o *object) {
			o.Str("targetType", "group")
			o.Str("id", "all_users")
			o.Bool("isRegistrationRequired", false)
		})
	})
	writeJSON(w, append(o.buf, '}'))
}

// writeJSON sends a single object's JSON.
func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	writeBody(w, body)
}
