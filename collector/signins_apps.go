package collector

import "strings"

// The app label of a sign-in, from Microsoft's list of the apps its mandatory MFA for Azure
// covers (learn.microsoft.com/entra/identity/authentication/concept-mandatory-multifactor-authentication;
// Resource Manager's app id from learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in).
// The portal's app id also serves the Microsoft Entra and Intune admin centers. Any other client
// calling the Resource Manager API (infrastructure-as-code tools, SDKs, REST) counts as
// azure_resource_manager; everything else is other.
var managementApps = map[string]string{
	"c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "azure_portal",
	"04b07795-8ddb-461a-bbee-02f9e1bf7b46": "azure_cli",
	"1950a258-227b-4e31-a9cf-717495945fc2": "azure_powershell",
	"0c1307d4-29d6-4389-a11c-5cbe7f65d7fa": "azure_mobile_app",
}

const (
	resourceManagerID  = "797f4846-ba00-4fd7-ba43-dac1f8f63013" // Windows Azure Service Management API
	appResourceManager = "azure_resource_manager"
	appOther           = "other"
)

// managementAppLabels are the app labels entra_signins_without_mfa always exports, 0 when none.
var managementAppLabels = []string{"azure_portal", "azure_cli", "azure_powershell", "azure_mobile_app", appResourceManager}

func appLabel(appID, resourceID string) string {
	if name, ok := managementApps[strings.ToLower(appID)]; ok {
		return name
	}
	if strings.EqualFold(resourceID, resourceManagerID) {
		return appResourceManager
	}
	return appOther
}
