package graph

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// NewCredential builds azidentity's DefaultAzureCredential chain (environment, workload
// identity, managed identity, Azure CLI, ...) for tenantID in cloud c. AZURE_AUTHORITY_HOST,
// when set, overrides the cloud's authority; a host that is not a Microsoft cloud's gets
// instance discovery disabled, so that a private or test authority works. A PKCS#12 client
// certificate that azidentity cannot read is read here (pkcs12Credential).
func NewCredential(c Cloud, tenantID string) (azcore.TokenCredential, error) {
	if !validTenantID(tenantID) {
		return nil, fmt.Errorf("tenant id %q (--graph.tenant-id or AZURE_TENANT_ID): want a GUID or a domain such as contoso.onmicrosoft.com", tenantID)
	}
	// azidentity's environment credential reads the tenant from AZURE_TENANT_ID only, so a tenant
	// given as a flag is passed on there; one that disagrees would read one tenant's data under
	// another's tenant_id.
	switch env := os.Getenv("AZURE_TENANT_ID"); {
	case env == "":
		if err := os.Setenv("AZURE_TENANT_ID", tenantID); err != nil {
			return nil, fmt.Errorf("passing the tenant id to azidentity: %w", err)
		}
	case env != tenantID:
		return nil, fmt.Errorf("--graph.tenant-id %q and AZURE_TENANT_ID %q differ: set one of them", tenantID, env)
	}
	authority := c.AuthorityHost
	if env := os.Getenv("AZURE_AUTHORITY_HOST"); env != "" {
		u, err := url.Parse(env)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("AZURE_AUTHORITY_HOST %q: want an https URL such as https://login.microsoftonline.com/", env)
		}
		authority = strings.TrimRight(env, "/") + "/"
	}
	clientOptions := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority}}
	if cred, err := pkcs12Credential(tenantID, clientOptions, !IsKnownAuthority(authority)); cred != nil || err != nil {
		return cred, err
	}
	opts := &azidentity.DefaultAzureCredentialOptions{
		ClientOptions:            clientOptions,
		TenantID:                 tenantID,
		DisableInstanceDiscovery: !IsKnownAuthority(authority),
	}
	cred, err := azidentity.NewDefaultAzureCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("building the Azure credential chain: %w", err)
	}
	return cred, nil
}

// validTenantID says whether id names a tenant: a GUID or a domain name such as
// contoso.onmicrosoft.com. azidentity takes anything of letters, digits, dots and hyphens, `..`
// too, and puts it in the token service's URL.
func validTenantID(id string) bool {
	return tenantGUID.MatchString(id) || (len(id) <= 253 && domainName.MatchString(id))
}

var tenantGUID = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// Scope is the token scope for Graph in cloud c.
func Scope(c Cloud) string { return c.GraphURL + "/.default" }

// CheckCredential gets one token, so that a credential that cannot work stops the exporter at
// start rather than failing every refresh. The chain's managed identity probe gives up after a
// second where there is none; the timeout bounds an authority that does not answer.
func CheckCredential(ctx context.Context, cred azcore.TokenCredential, scope string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}}); err != nil {
		return fmt.Errorf("no usable Azure credential (set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or use workload or managed identity): %w", err)
	}
	return nil
}
