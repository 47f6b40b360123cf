package graph

import (
	"context"
	"fmt"
	"net/url"
	"os"
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
// instance discovery disabled, so that a private or test authority works.
func NewCredential(c Cloud, tenantID string) (azcore.TokenCredential, error) {
	authority := c.AuthorityHost
	if env := os.Getenv("AZURE_AUTHORITY_HOST"); env != "" {
		u, err := url.Parse(env)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("AZURE_AUTHORITY_HOST %q: want an https URL such as https://login.microsoftonline.com/", env)
		}
		authority = strings.TrimRight(env, "/") + "/"
	}
	opts := &azidentity.DefaultAzureCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority}},
		TenantID:                 tenantID,
		DisableInstanceDiscovery: !IsKnownAuthority(authority),
	}
	cred, err := azidentity.NewDefaultAzureCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("building the Azure credential chain: %w", err)
	}
	return cred, nil
}

// Scope is the token scope for Graph in cloud c.
func Scope(c Cloud) string { return c.GraphURL + "/.default" }

// CheckCredential gets one token, so that a credential that cannot work stops the exporter at
// start rather than failing every refresh.
func CheckCredential(ctx context.Context, cred azcore.TokenCredential, scope string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}}); err != nil {
		return fmt.Errorf("no usable Azure credential (set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or use workload or managed identity): %w", err)
	}
	return nil
}
