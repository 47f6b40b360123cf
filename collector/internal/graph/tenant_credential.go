package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
)

// Credentials build the credentials of the tenants of a configuration file. The tenants that use
// the environment's default chain share one chain per authority, allowed to get tokens for any
// tenant, and each asks it for its own tenant's token (kiota's token provider never names a
// tenant, so a wrapper does); the others get a credential of their own.
type Credentials struct {
	// Transport sends the token requests; nil means azcore's default (system trust roots).
	Transport policy.Transporter

	mu     sync.Mutex
	chains map[string]azcore.TokenCredential // by authority host
}

// ForTenant builds the credential of tenant t in cloud c. Every token it hands out is checked to
// be t's: a managed identity, for one, can only get tokens for its own tenant.
func (cs *Credentials) ForTenant(c Cloud, t config.Tenant) (azcore.TokenCredential, error) {
	authority, err := authorityHost(c)
	if err != nil {
		return nil, err
	}
	client := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority}, Transport: cs.Transport}
	discovery := !IsKnownAuthority(authority)
	cred := t.Credential
	var tc azcore.TokenCredential
	switch cred.Kind {
	case config.ClientSecret:
		tc, err = azidentity.NewClientSecretCredential(t.ID, cred.ClientID, string(cred.Secret),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: client, DisableInstanceDiscovery: discovery})
	case config.ClientCertificate:
		tc, err = azidentity.NewClientCertificateCredential(t.ID, cred.ClientID, cred.Certificates, cred.Key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: client, DisableInstanceDiscovery: discovery})
	case config.WorkloadIdentity:
		tc, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: client,
			TenantID: t.ID, ClientID: cred.ClientID, TokenFilePath: cred.TokenFile, DisableInstanceDiscovery: discovery})
	case config.ManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: cs.Transport}}
		if cred.ClientID != "" {
			opts.ID = azidentity.ClientID(cred.ClientID)
		}
		tc, err = azidentity.NewManagedIdentityCredential(opts)
	default:
		tc, err = cs.chain(authority, client, discovery)
	}
	if err != nil {
		return nil, fmt.Errorf("tenant %s: building its %s credential: %w", t.ID, cred.Kind, err)
	}
	return &tenantCredential{next: tc, tenantID: t.ID}, nil
}

// chain is the default chain for an authority, built once.
func (cs *Credentials) chain(authority string, client azcore.ClientOptions, discovery bool) (azcore.TokenCredential, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.chains[authority]; c != nil {
		return c, nil
	}
	c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: client,
		AdditionallyAllowedTenants: []string{"*"}, DisableInstanceDiscovery: discovery})
	if err != nil {
		return nil, err
	}
	if cs.chains == nil {
		cs.chains = map[string]azcore.TokenCredential{}
	}
	cs.chains[authority] = c
	return c, nil
}

// authorityHost is the token service of cloud c, or AZURE_AUTHORITY_HOST when it is set.
func authorityHost(c Cloud) (string, error) {
	env := os.Getenv("AZURE_AUTHORITY_HOST")
	if env == "" {
		return c.AuthorityHost, nil
	}
	if !strings.HasPrefix(env, "https://") || len(env) == len("https://") {
		return "", fmt.Errorf("AZURE_AUTHORITY_HOST %q: want an https URL such as https://login.microsoftonline.com/", env)
	}
	return strings.TrimRight(env, "/") + "/", nil
}

// tenantCredential asks for its tenant's tokens and refuses a token for another tenant.
type tenantCredential struct {
	next     azcore.TokenCredential
	tenantID string

	mu      sync.Mutex
	checked string // the last token found to be the tenant's
}

func (c *tenantCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	opts.TenantID = c.tenantID
	tok, err := c.next.GetToken(ctx, opts)
	if err != nil {
		return tok, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok.Token == c.checked {
		return tok, nil
	}
	if tid := tokenTenant(tok.Token); tid != "" && guid.MatchString(c.tenantID) && !strings.EqualFold(tid, c.tenantID) {
		return azcore.AccessToken{}, &Error{Reason: ReasonUnauthorized, Message: fmt.Sprintf(
			"the credential got a token for tenant %s, not for %s: it cannot read this tenant (a managed identity, for one, reads only its own)", tid, c.tenantID)}
	}
	c.checked = tok.Token
	return tok, nil
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// tokenTenant is the tid claim of an Entra ID access token (a JWT), or "" for a token that is
// not one. The claim is read, not verified: Graph verifies the token; this only catches a
// credential that got a token for another tenant than the one it is said to read.
func tokenTenant(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		TenantID string `json:"tid"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.TenantID
}
