package fakegraph

import (
	"encoding/json"
	"fmt"
)

// The policy sets the tests and the demo serve, built from Microsoft's Conditional Access
// templates (api-reference/v1.0/api/conditionalaccessroot-list-templates.md and the template list
// tools record) and from the shapes administrators build beside them.

// AdminRoleTemplateIDs are the 14 roles of Microsoft's "Require multifactor authentication for
// admins" template (entra docs/includes/conditional-access-admin-roles.md; the template ids as
// maester's Get-MtRoleInfo.ps1 maps them).
var AdminRoleTemplateIDs = []string{
	"62e90394-69f5-4237-9190-012177145e10", // Global Administrator
	"194ae4cb-b126-40b2-bd5b-6091b380977d", // Security Administrator
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", // SharePoint Administrator
	"29232cdf-9323-42fd-ade2-1d097af3e4de", // Exchange Administrator
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", // Conditional Access Administrator
	"729827e3-9c14-49f7-bb1b-9608f156bbb8", // Helpdesk Administrator
	"b0f54661-2d74-4c50-afa3-1ec803f12efe", // Billing Administrator
	"fe930be7-5e62-47db-91af-98c3a49a38b1", // User Administrator
	"c4e39bd9-1100-46d3-8c65-fb160da0071f", // Authentication Administrator
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", // Application Administrator
	"158c047a-c907-4556-b7ef-446551a6b5f7", // Cloud Application Administrator
	"966707d0-3269-4727-9be2-8c3a10f19b9d", // Password Administrator
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", // Privileged Authentication Administrator
	"e8611ab8-c189-46e8-94e1-60213ab1f814", // Privileged Role Administrator
}

// BreakGlassAccounts are the tenants' two emergency-access accounts, excluded from the MFA policies.
var BreakGlassAccounts = []string{"0b1c6f4e-2a7d-4e59-9c38-5d1e7a2b9f01", "0b1c6f4e-2a7d-4e59-9c38-5d1e7a2b9f02"}

// AllGuestTypes are the guest and external user types of conditionalAccessGuestsOrExternalUsers
// (api-reference/v1.0/resources/conditionalaccessguestsorexternalusers.md).
const AllGuestTypes = "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"

// Application values of conditionalAccessApplications.
const (
	AzureManagementApp = armID // Windows Azure Service Management API
	AdminPortals       = "MicrosoftAdminPortals"
	office365          = "Office365"
)

// Template ids of Microsoft's Conditional Access templates.
const (
	templateAdminsMFA          = "c7503427-338e-4c5e-902d-abe252abfb43"
	templateAllUsersMFA        = "a3d0a415-b068-4326-9251-f9cdf9feeb64"
	templateAzureManagementMFA = "d8c51a9a-e6b1-454d-86af-554e7872e2c1"
	templateLegacyAuth         = "0b2282f9-2862-4178-88b5-d79340b36cb8"
	templateSecurityInfo       = "b8bda7f8-6584-4446-bce9-d871480e53fa"
)

// Policy states as Graph sends them.
const (
	StateEnabled    = "enabled"
	StateDisabled   = "disabled"
	StateReportOnly = "enabledForReportingButNotEnforced"
)

// The built-in authentication strengths (api-reference/v1.0/api/authenticationstrengthroot-list-policies.md).
var (
	StrengthMFA = AuthenticationStrength{ID: "00000000-0000-0000-0000-000000000002", DisplayName: "Multifactor authentication",
		Description: "Combinations of methods that satisfy strong authentication, such as a password + SMS", PolicyType: "builtIn",
		RequirementsSatisfied: "mfa", AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor",
			"deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush",
			"password,softwareOath", "password,hardwareOath", "password,x509CertificateSingleFactor", "password,x509CertificateMultiFactor",
			"password,sms", "password,voice", "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor",
			"softwareOath,federatedSingleFactor", "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor"}}
	StrengthPasswordless = AuthenticationStrength{ID: "00000000-0000-0000-0000-000000000003", DisplayName: "Passwordless MFA",
		Description: "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
		PolicyType:  "builtIn", RequirementsSatisfied: "mfa",
		AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"}}
	StrengthPhishingResistant = AuthenticationStrength{ID: "00000000-0000-0000-0000-000000000004", DisplayName: "Phishing-resistant MFA",
		Description: "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
		PolicyType:  "builtIn", RequirementsSatisfied: "mfa",
		AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}}
)

// customStrength is a tenant's own authentication strength.
func customStrength(id, name, satisfied string, combinations ...string) *AuthenticationStrength {
	return &AuthenticationStrength{ID: id, DisplayName: name, Description: name, PolicyType: "custom",
		RequirementsSatisfied: satisfied, AllowedCombinations: combinations}
}

// newPolicy is a policy of Graph's shape with no condition beyond users and apps, clientAppTypes
// all, as the templates have it.
func newPolicy(id, name, state string, users CAUsers, apps []string, grant *CAGrantControls) CAPolicy {
	created := "2026-03-02T09:14:27.1234567Z"
	return CAPolicy{ID: id, DisplayName: name, State: state, CreatedDateTime: &created, GrantControls: grant,
		Conditions: CAConditions{ClientAppTypes: []string{"all"}, Users: users, Applications: CAApplications{IncludeApplications: apps}}}
}

func fromTemplate(p CAPolicy, template string) CAPolicy {
	p.TemplateID = &template
	return p
}

func allUsers(excluded ...string) CAUsers {
	return CAUsers{IncludeUsers: []string{"All"}, ExcludeUsers: excluded}
}

func adminRoles(excluded ...string) CAUsers {
	return CAUsers{IncludeRoles: AdminRoleTemplateIDs, ExcludeUsers: excluded}
}

// grant is grant controls of built-in controls joined by operator.
func grant(operator string, controls ...string) *CAGrantControls {
	return &CAGrantControls{Operator: operator, BuiltInControls: controls}
}

func requireMFA() *CAGrantControls { return grant("OR", "mfa") }

func block() *CAGrantControls { return grant("OR", "block") }

func requireStrength(s AuthenticationStrength) *CAGrantControls {
	return &CAGrantControls{Operator: "OR", AuthenticationStrength: &s}
}

// withEmptyLists is p with every nil list as [], as Graph sends them.
func (p CAPolicy) withEmptyLists() CAPolicy {
	for _, l := range []*[]string{&p.Conditions.UserRiskLevels, &p.Conditions.SignInRiskLevels, &p.Conditions.ClientAppTypes,
		&p.Conditions.ServicePrincipalRiskLevels, &p.Conditions.Applications.IncludeApplications,
		&p.Conditions.Applications.ExcludeApplications, &p.Conditions.Applications.IncludeUserActions,
		&p.Conditions.Applications.IncludeAuthenticationContextClassReferences, &p.Conditions.Users.IncludeUsers,
		&p.Conditions.Users.ExcludeUsers, &p.Conditions.Users.IncludeGroups, &p.Conditions.Users.ExcludeGroups,
		&p.Conditions.Users.IncludeRoles, &p.Conditions.Users.ExcludeRoles} {
		if *l == nil {
			*l = []string{}
		}
	}
	if g := p.GrantControls; g != nil {
		copied := *g
		for _, l := range []*[]string{&copied.BuiltInControls, &copied.CustomAuthenticationFactors, &copied.TermsOfUse} {
			if *l == nil {
				*l = []string{}
			}
		}
		p.GrantControls = &copied
	}
	return p
}

// DemoPolicies is the demo tenant's: a tenant partly ready for mandatory MFA. Admins are covered
// by the enabled template, Azure management and all users only by report-only ones, the two
// break-glass accounts are excluded from each, legacy authentication is blocked, SMS is enabled.
func DemoPolicies() *PolicySet {
	guestInvite := CAUsers{IncludeUsers: []string{"All"}, ExcludeUsers: BreakGlassAccounts,
		ExcludeGuestsOrExternalUsers: &CAGuestsOrExternalUsers{GuestOrExternalUserTypes: AllGuestTypes,
			ExternalTenants: &CAExternalTenants{ODataType: "#microsoft.graph.conditionalAccessAllExternalTenants", MembershipKind: "all"}}}
	securityInfo := newPolicy("5e7c0a3d-1b9f-4c62-8d45-a0e3f7b2c901", "Securing security info registration", StateEnabled,
		guestInvite, nil, requireMFA())
	securityInfo.Conditions.Applications.IncludeUserActions = []string{"urn:user:registersecurityinfo"}
	securityInfo.Conditions.Locations = &CALocations{IncludeLocations: []string{"All"}, ExcludeLocations: []string{"AllTrusted"}}
	legacy := newPolicy("9d2f4b61-7c3e-4a58-b1d0-6e8f2a4c7b35", "Block legacy authentication", StateEnabled,
		allUsers(BreakGlassAccounts...), []string{"All"}, block())
	legacy.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"}
	return &PolicySet{
		ConditionalAccess: []CAPolicy{
			fromTemplate(newPolicy("1a6b3c8d-4e2f-4b7a-9c51-2d8e6f0a4b71", "Require multifactor authentication for admins", StateEnabled,
				adminRoles(BreakGlassAccounts...), []string{"All"}, requireMFA()), templateAdminsMFA),
			fromTemplate(newPolicy("2b7c4d9e-5f3a-4c8b-8d62-3e9f7a1b5c82", "Require multifactor authentication for Azure management", StateReportOnly,
				allUsers(BreakGlassAccounts...), []string{AzureManagementApp}, requireMFA()), templateAzureManagementMFA),
			fromTemplate(newPolicy("3c8d5e0f-6a4b-4d9c-9e73-4f0a8b2c6d93", "Require multifactor authentication for all users", StateReportOnly,
				allUsers(BreakGlassAccounts...), []string{"All"}, requireMFA()), templateAllUsersMFA),
			fromTemplate(legacy, templateLegacyAuth),
			fromTemplate(securityInfo, templateSecurityInfo),
			newPolicy("4d9e6f1a-7b5c-4e0d-8f84-5a1b9c3d7e04", "Require compliant device for admins", StateDisabled,
				adminRoles(BreakGlassAccounts...), []string{"All"}, grant("OR", "compliantDevice", "domainJoinedDevice")),
		},
		Methods: []MethodConfiguration{
			{"#microsoft.graph.fido2AuthenticationMethodConfiguration", "Fido2", "disabled"},
			{"#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "MicrosoftAuthenticator", "enabled"},
			{"#microsoft.graph.smsAuthenticationMethodConfiguration", "Sms", "enabled"},
			{"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "TemporaryAccessPass", "enabled"},
			{"#microsoft.graph.softwareOathAuthenticationMethodConfiguration", "SoftwareOath", "enabled"},
			{"#microsoft.graph.voiceAuthenticationMethodConfiguration", "Voice", "disabled"},
			{"#microsoft.graph.emailAuthenticationMethodConfiguration", "Email", "enabled"},
			{"#microsoft.graph.x509CertificateAuthenticationMethodConfiguration", "X509Certificate", "disabled"},
		},
		MigrationState: "migrationInProgress",
	}
}

// VarietyPolicies are the cases the rules must tell apart, each a policy an administrator
// builds: Microsoft's templates enabled and report-only, a policy narrowed by a trusted
// location, MFA AND a compliant device (requires MFA) and MFA OR a compliant device (does not),
// authentication strengths (built-in, custom phishing-resistant, custom without MFA),
// break-glass exclusions, excluded apps and guests, guests by type (all tenants, some tenants),
// narrowing conditions of every kind, a control Graph only names to those who ask
// (riskRemediation), a session-only policy and disabled ones.
func VarietyPolicies() *PolicySet {
	var l policyList
	l.templatesAndGrants()
	l.scopes()
	l.narrowingAndNonEnforcing()
	for i := range l {
		l[i].ID = fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", i+1)
	}
	return &PolicySet{
		ConditionalAccess: l,
		Methods: []MethodConfiguration{
			{"#microsoft.graph.fido2AuthenticationMethodConfiguration", "Fido2", "enabled"},
			{"#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "MicrosoftAuthenticator", "enabled"},
			{"#microsoft.graph.smsAuthenticationMethodConfiguration", "Sms", "disabled"},
			{"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "TemporaryAccessPass", "enabled"},
			{"#microsoft.graph.softwareOathAuthenticationMethodConfiguration", "SoftwareOath", "disabled"},
			{"#microsoft.graph.voiceAuthenticationMethodConfiguration", "Voice", "enabled"},
			{"#microsoft.graph.emailAuthenticationMethodConfiguration", "Email", "disabled"},
			{"#microsoft.graph.x509CertificateAuthenticationMethodConfiguration", "X509Certificate", "enabled"},
			// Newer configurations have no derived type in the SDK; Graph sends their own @odata.type.
			{"#microsoft.graph.hardwareOathAuthenticationMethodConfiguration", "HardwareOath", "enabled"},
			{"#microsoft.graph.qrCodePinAuthenticationMethodConfiguration", "QRCodePin", "disabled"},
		},
		MigrationState: "migrationComplete",
	}
}

// policyList is policies under construction.
type policyList []CAPolicy

// add appends p, changed by change when it is not nil.
func (l *policyList) add(p CAPolicy, change func(*CAPolicy)) {
	if change != nil {
		change(&p)
	}
	*l = append(*l, p)
}

// templatesAndGrants: Microsoft's templates, and grants that do and do not require MFA.
func (l *policyList) templatesAndGrants() {
	l.add(fromTemplate(newPolicy("", "Require multifactor authentication for admins", StateEnabled,
		adminRoles(BreakGlassAccounts...), []string{"All"}, requireMFA()), templateAdminsMFA), nil)
	l.add(fromTemplate(newPolicy("", "Require multifactor authentication for Azure management", StateReportOnly,
		allUsers(BreakGlassAccounts...), []string{AzureManagementApp}, requireMFA()), templateAzureManagementMFA), nil)
	l.add(fromTemplate(newPolicy("", "Require multifactor authentication for all users", StateReportOnly,
		allUsers(BreakGlassAccounts[0]), []string{"All"}, requireMFA()), templateAllUsersMFA), func(p *CAPolicy) {
		p.Conditions.Users.ExcludeGroups = []string{"7f3a2b1c-0d9e-4f8a-b7c6-5d4e3f2a1b0c"}
	})
	l.add(newPolicy("", "MFA outside trusted locations", StateEnabled, allUsers(BreakGlassAccounts...), []string{"All"}, requireMFA()),
		func(p *CAPolicy) {
			p.Conditions.Locations = &CALocations{IncludeLocations: []string{"All"}, ExcludeLocations: []string{"AllTrusted"}}
		})
	l.add(newPolicy("", "Admin portals: MFA and a compliant device", StateEnabled, allUsers(BreakGlassAccounts[1]),
		[]string{AdminPortals}, grant("AND", "mfa", "compliantDevice")), func(p *CAPolicy) {
		p.Conditions.Users.ExcludeRoles = []string{AdminRoleTemplateIDs[6]}
	})
	l.add(newPolicy("", "Azure management: MFA or a compliant device", StateEnabled, allUsers(BreakGlassAccounts...),
		[]string{AzureManagementApp}, grant("OR", "mfa", "compliantDevice")), nil)
	l.add(newPolicy("", "Phishing-resistant MFA for admins", StateEnabled, adminRoles(BreakGlassAccounts[0]),
		[]string{"All"}, requireStrength(StrengthPhishingResistant)), nil)
	l.add(fromTemplate(newPolicy("", "Block legacy authentication", StateDisabled, allUsers(), []string{"All"}, block()), templateLegacyAuth),
		func(p *CAPolicy) { p.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"} })
}

// scopes: guests by type, excluded apps and guests, authentication strengths by scope.
func (l *policyList) scopes() {
	l.add(newPolicy("", "Guests: MFA everywhere", StateEnabled, CAUsers{IncludeGuestsOrExternalUsers: &CAGuestsOrExternalUsers{
		GuestOrExternalUserTypes: AllGuestTypes,
		ExternalTenants:          &CAExternalTenants{ODataType: "#microsoft.graph.conditionalAccessAllExternalTenants", MembershipKind: "all"}}},
		[]string{"All"}, requireMFA()), nil)
	l.add(newPolicy("", "Partner guests: MFA", StateEnabled, CAUsers{IncludeGuestsOrExternalUsers: &CAGuestsOrExternalUsers{
		GuestOrExternalUserTypes: AllGuestTypes,
		ExternalTenants: &CAExternalTenants{ODataType: "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
			MembershipKind: "enumerated", Members: []string{"1b2f14e2-91f9-4876-9f59-3cb09b4ec310"}}}},
		[]string{"All"}, requireMFA()), nil)
	l.add(newPolicy("", "Members: MFA on everything but Office 365", StateEnabled, allUsers(BreakGlassAccounts...),
		[]string{"All"}, requireMFA()), func(p *CAPolicy) {
		p.Conditions.Applications.ExcludeApplications = []string{office365}
		p.Conditions.Users.ExcludeUsers = append(p.Conditions.Users.ExcludeUsers, "GuestsOrExternalUsers")
	})
	l.add(newPolicy("", "Everyone: MFA on all apps but Azure management", StateReportOnly, allUsers(),
		[]string{"All"}, requireMFA()), func(p *CAPolicy) { p.Conditions.Applications.ExcludeApplications = []string{AzureManagementApp} })
	l.add(newPolicy("", "Admin portals: passwordless for everyone", StateEnabled, CAUsers{IncludeUsers: []string{"All"},
		ExcludeGuestsOrExternalUsers: &CAGuestsOrExternalUsers{GuestOrExternalUserTypes: "b2bDirectConnectUser,serviceProvider",
			ExternalTenants: &CAExternalTenants{ODataType: "#microsoft.graph.conditionalAccessAllExternalTenants", MembershipKind: "all"}}},
		[]string{AdminPortals}, requireStrength(StrengthPasswordless)), nil)
	l.add(newPolicy("", "Azure management: security keys only", StateEnabled, allUsers(BreakGlassAccounts...),
		[]string{AzureManagementApp}, &CAGrantControls{Operator: "OR", AuthenticationStrength: customStrength(
			"5a8b2c4d-6e1f-4a3b-9c7d-8e0f1a2b3c4d", "Security keys and Windows Hello", "mfa", "fido2", "windowsHelloForBusiness")}), nil)
	l.add(newPolicy("", "Guests: federated sign-in", StateEnabled, CAUsers{IncludeUsers: []string{"GuestsOrExternalUsers"}},
		[]string{"All"}, &CAGrantControls{Operator: "OR", AuthenticationStrength: customStrength(
			"6b9c3d5e-7f2a-4b4c-8d8e-9f1a2b3c4d5e", "Federated single factor", "none", "federatedSingleFactor")}), nil)
}

// narrowingAndNonEnforcing: each narrowing condition, and policies that enforce nothing.
func (l *policyList) narrowingAndNonEnforcing() {
	l.add(newPolicy("", "High user risk: remediate", StateEnabled, allUsers(BreakGlassAccounts...), []string{"All"},
		&CAGrantControls{Operator: "AND", BuiltInControls: []string{"riskRemediation"}, AuthenticationStrength: &StrengthMFA}),
		func(p *CAPolicy) { p.Conditions.UserRiskLevels = []string{"high"} })
	l.add(newPolicy("", "Block device code flow", StateEnabled, allUsers(BreakGlassAccounts...), []string{"All"}, block()),
		func(p *CAPolicy) {
			p.Conditions.AuthenticationFlows = &CAAuthenticationFlows{TransferMethods: "deviceCodeFlow"}
		})
	l.add(newPolicy("", "Browser sessions: MFA", StateEnabled, allUsers(), []string{"All"}, requireMFA()),
		func(p *CAPolicy) { p.Conditions.ClientAppTypes = []string{"browser"} })
	l.add(newPolicy("", "Unmanaged platforms: MFA", StateReportOnly, allUsers(), []string{AzureManagementApp}, requireMFA()),
		func(p *CAPolicy) {
			p.Conditions.Platforms = &CAPlatforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"windows", "macOS"}}
		})
	l.add(newPolicy("", "Risky sign-ins: MFA", StateEnabled, adminRoles(), []string{"All"}, requireMFA()),
		func(p *CAPolicy) { p.Conditions.SignInRiskLevels = []string{"medium", "high"} })
	l.add(newPolicy("", "Unmanaged devices: MFA", StateEnabled, adminRoles(), []string{AzureManagementApp}, requireMFA()),
		func(p *CAPolicy) {
			p.Conditions.Devices = &CADevices{DeviceFilter: &CAFilter{Mode: "exclude", Rule: `device.isCompliant -eq True`}}
		})
	l.add(newPolicy("", "Sensitive data: step-up", StateEnabled, allUsers(), nil, requireStrength(StrengthPhishingResistant)),
		func(p *CAPolicy) {
			p.Conditions.Applications.IncludeAuthenticationContextClassReferences = []string{"c1"}
		})
	l.add(newPolicy("", "Tagged apps excluded: MFA", StateEnabled, allUsers(), []string{"All"}, requireMFA()),
		func(p *CAPolicy) {
			p.Conditions.Applications.ApplicationFilter = &CAFilter{Mode: "exclude", Rule: `CustomSecurityAttribute.Engineering_Project -eq "Baker"`}
		})
	l.add(newPolicy("", "Insider risk: block", StateEnabled, allUsers(), []string{"All"}, block()),
		func(p *CAPolicy) { risk := "elevated"; p.Conditions.InsiderRiskLevels = &risk })
	l.add(newPolicy("", "Admins: MFA and terms of use, either", StateEnabled, adminRoles(), []string{"All"}, requireMFA()),
		func(p *CAPolicy) { p.GrantControls.TermsOfUse = []string{"8f7e6d5c-4b3a-4291-8e7f-6a5b4c3d2e1f"} })
	l.add(newPolicy("", "Sign-in frequency for all apps", StateEnabled, allUsers(), []string{"All"}, nil),
		func(p *CAPolicy) {
			session := json.RawMessage(`{"signInFrequency":{"value":12,"type":"hours","authenticationType":"primaryAndSecondaryAuthentication","frequencyInterval":"timeBased","isEnabled":true},"persistentBrowser":null,"cloudAppSecurity":null,"applicationEnforcedRestrictions":null,"disableResilienceDefaults":null}`)
			p.SessionControls = &session
		})
	l.add(newPolicy("", "Admins: MFA everywhere (old)", StateDisabled, adminRoles(), []string{"All"}, requireMFA()), nil)
	l.add(newPolicy("", "Contractors group: MFA", StateEnabled, CAUsers{IncludeGroups: []string{"2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"}},
		[]string{"All"}, requireMFA()), nil)
}
