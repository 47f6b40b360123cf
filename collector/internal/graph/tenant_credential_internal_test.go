package graph

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// tokenFor stands in for a token service: it hands out a JWT-shaped token naming a tenant, and
// records the tenant it was asked for.
type tokenFor struct {
	tid    string
	asked  string
	opaque bool // hand out a token that is not a JWT
}

func (c *tokenFor) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.asked = o.TenantID
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"` + c.tid + `","aud":"https://graph.microsoft.com"}`))
	tok := "eyJhbGciOiJub25lIn0." + payload + ".sig"
	if c.opaque {
		tok = "opaque-token"
	}
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

const mine = "11111111-2222-4333-8444-555555555555"

// The wrapper asks for its own tenant's token and passes it on when the token is that tenant's
// (in any case) or not a JWT at all.
func TestTenantCredentialAsksForAndAcceptsItsTenant(t *testing.T) {
	for _, next := range []*tokenFor{{tid: mine}, {tid: strings.ToUpper(mine)}, {opaque: true}} {
		c := &tenantCredential{next: next, tenantID: mine}
		if _, err := c.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"x"}}); err != nil {
			t.Errorf("token for %q: %v", next.tid, err)
		}
		if next.asked != mine {
			t.Errorf("the credential was asked for tenant %q, want %s", next.asked, mine)
		}
	}
}

// A credential that gets another tenant's token (as a managed identity does for any tenant but
// its own) must not read that tenant under this one's tenant_id: the refresh fails as
// unauthorized, naming both tenants, and no request reaches Graph.
func TestTenantCredentialRefusesAnotherTenantsToken(t *testing.T) {
	fake := fakegraph.Start(&fakegraph.Tenant{ID: mine, Seed: 3, Users: 10, Domain: "contoso.test"})
	defer fake.Close()
	c, err := New(Options{BaseURL: fake.URL, Scope: "https://graph.microsoft.com/.default", Transport: fake.Transport(),
		Credential: &tenantCredential{next: &tokenFor{tid: "99999999-0000-4000-8000-000000000009"}, tenantID: mine}})
	if err != nil {
		t.Fatal(err)
	}
	err = List(context.Background(), c, Query{Path: "/v1.0/reports/authenticationMethods/userRegistrationDetails"},
		models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue, func(models.UserRegistrationDetailsable) error { return nil })
	if err == nil || Classify(err).Reason != ReasonUnauthorized || !strings.Contains(err.Error(), "99999999-0000-4000-8000-000000000009, not for "+mine) {
		t.Errorf("got %v, want an unauthorized error naming both tenants", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests reached Graph with another tenant's token", n)
	}
}
