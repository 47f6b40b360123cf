package collector

import (
	"strings"
	"unicode/utf8"
)

// The label values read from Graph's strings, in one place. Each is a set Microsoft documents,
// with its source (GD: github.com/microsoftgraph/microsoft-graph-docs-contrib; ED:
// learn.microsoft.com/entra, mirrored in MicrosoftDocs/entra-docs); a value outside its set is
// labelled unknown (a field of a fixed set: an enum, a type) or other (a member of an open set
// the exporter does not name), and logged once per refresh (recordNotes). Names, the one kind of
// label with no set, are cut by boundedName and limited in number where they are used. So no
// tenant, and no Graph bug, can make series without end. What the exporter makes of these values
// (a method's strength, strength.go; whether a policy enforces MFA, policies_ca.go) lives with
// those rules.

const (
	// labelUnknown is a field that is missing or holds a value outside its documented set.
	labelUnknown = "unknown"
	// labelOther is a member of an open set that the exporter does not name.
	labelOther = "other"
)

// knownUserTypes are signInUserType, the userType of userRegistrationDetails and of signIn:
// member, guest, unknownFutureValue (the evolvable enum's sentinel, so unknown here)
// (GD api-reference/v1.0/resources/userregistrationdetails.md, api-reference/beta/resources/signin.md).
// They are always exported, so that a type with no users reads 0 rather than nothing.
var (
	knownUserTypes = []string{"member", "guest"}
	userTypes      = setOf(knownUserTypes...)
)

// registeredMethods are the values of userRegistrationDetails.methodsRegistered Microsoft
// documents. The property is an open string collection "such as mobilePhone, email, fido2"
// (GD api-reference/v1.0/resources/userregistrationdetails.md); its examples add
// microsoftAuthenticatorPush and softwareOneTimePasscode
// (GD api-reference/v1.0/api/authenticationmethodsroot-list-userregistrationdetails.md), password
// and windowsHelloForBusiness (GD api-reference/v1.0/api/authenticationmethodsroot-usersregisteredbymethod.md);
// the rest are the members of usageAuthMethod, Graph's enum of the methods of registration
// activity (GD api-reference/beta/resources/usageauthmethod.md). Anything else is other.
var registeredMethods = setOf("password", "email", "mobilePhone", "alternateMobilePhone", "officePhone", "sms",
	"microsoftAuthenticatorPush", "microsoftAuthenticatorPasswordless", "softwareOneTimePasscode",
	"hardwareOneTimePasscode", "oneTimePasscode", "fido2", "fido2SecurityKey", "windowsHelloForBusiness",
	"passKeyDeviceBound", "passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundWindowsHello", "passKeySynced",
	"macOsSecureEnclaveKey", "temporaryAccessPass", "securityQuestion", "externalAuthMethod", "qrCode",
	"mobileSMS", "mobileCall", "alternateMobileCall", "appNotification", "appCode", "appPassword", "fido")

// secondFactorMethods are userDefaultAuthenticationMethod, the values of both
// userPreferredMethodForSecondaryAuthentication and systemPreferredAuthenticationMethods: push,
// oath, voiceMobile, voiceAlternateMobile, voiceOffice, sms, none and the sentinel
// unknownFutureValue (GD api-reference/v1.0/resources/userregistrationdetails.md).
var secondFactorMethods = setOf("push", "oath", "voiceMobile", "voiceAlternateMobile", "voiceOffice", "sms", "none")

// servicePrincipalTypes are servicePrincipalType (Application, ManagedIdentity, Legacy,
// SocialIdp; GD api-reference/v1.0/resources/serviceprincipal.md) and their sp_type labels.
var servicePrincipalTypes = map[string]string{"Application": "application", "ManagedIdentity": "managed_identity",
	"Legacy": "legacy", "SocialIdp": "social_idp"}

// keyCredentialKinds are a keyCredential's type and the kind of credential it is. keyCredential
// names AsymmetricX509Cert and Symmetric (a shared secret) (GD api-reference/v1.0/resources/keycredential.md);
// addKey adds X509CertAndPassword, a certificate with its private key, used to sign
// (GD api-reference/v1.0/api/serviceprincipal-addkey.md).
var keyCredentialKinds = map[string]string{"AsymmetricX509Cert": "certificate", "X509CertAndPassword": "certificate",
	"Symmetric": "secret"}

// authenticationRequirements are a sign-in's authenticationRequirement and its mfa label.
// Graph types it as a plain string, "the highest level of authentication needed through all the
// sign-in steps" (GD api-reference/beta/resources/signin.md); its values are
// singleFactorAuthentication (GD api-reference/beta/api/signin-list.md, example) and
// multiFactorAuthentication (Microsoft's Azure MFA report, AzureAD/MSIdentityTools
// src/Get-MsIdAzureUsers.ps1).
var authenticationRequirements = map[string]string{"multiFactorAuthentication": "true", "singleFactorAuthentication": "false"}

// policyStateLabels are conditionalAccessPolicy.state and its state label (enabled,
// enabledForReportingButNotEnforced, disabled; GD api-reference/v1.0/resources/conditionalaccesspolicy.md).
var policyStateLabels = map[string]string{"enabled": "enabled", "enabledForReportingButNotEnforced": "report_only", "disabled": "disabled"}

// methodConfigurationLabels are the authentication methods policy's configuration ids Microsoft
// documents (authenticationMethodConfiguration's derived types, and the ids tenants list:
// ../shared/GRAPH-FACTS.md, "Policies" §3) and their method labels; any other id is other.
var methodConfigurationLabels = map[string]string{
	"Fido2": "fido2", "MicrosoftAuthenticator": "microsoft_authenticator", "Sms": "sms", "Voice": "voice",
	"Email": "email", "SoftwareOath": "software_oath", "TemporaryAccessPass": "temporary_access_pass",
	"X509Certificate": "x509_certificate", "HardwareOath": "hardware_oath", "QRCodePin": "qr_code_pin",
}

// The client apps of Microsoft's mandatory MFA for Azure and their app labels
// (ED identity/authentication/concept-mandatory-multifactor-authentication, "Application IDs and
// URLs"; GD's beta signIn example lists the portal's sign-ins under it). The portal's app id also
// serves the Microsoft Entra and Intune admin centers; infrastructure-as-code tools sign in with
// the CLI's or PowerShell's. --collector.signins.app adds to this table and renames its entries.
var builtinManagementApps = map[string]string{
	"c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "azure_portal",
	"04b07795-8ddb-461a-bbee-02f9e1bf7b46": "azure_cli",
	"1950a258-227b-4e31-a9cf-717495945fc2": "azure_powershell",
	"0c1307d4-29d6-4389-a11c-5cbe7f65d7fa": "azure_mobile_app",
}

// resourceManagerID is the resource Azure Resource Manager signs in as, "Windows Azure Service
// Management API" (learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in;
// the resourceId of GD's beta signIn example). Phase 2 of mandatory MFA is enforced by Resource
// Manager on create, update and delete, whatever the client (ED, same page, FAQ).
const resourceManagerID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"

// resourceLabels are the resource label's values: Resource Manager, or anything else.
const (
	resourceManager = "azure_resource_manager"
	resourceOther   = labelOther
)

// maxNameLength is where a name from Graph (an app's display name) is cut in a label value.
const maxNameLength = 128

// boundedName is a name from Graph fit for a label value: valid UTF-8 (Prometheus refuses
// anything else), at most maxNameLength characters, "unknown" when Graph sent none.
func boundedName(s string) string {
	if s == "" {
		return labelUnknown
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= maxNameLength {
		return s
	}
	n := 0
	for i := range s {
		if n == maxNameLength {
			return s[:i]
		}
		n++
	}
	return s
}

func setOf(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}
