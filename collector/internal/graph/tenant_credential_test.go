package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	commonconfig "github.com/prometheus/common/config"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// Two tenants, each with its own app secret, read through one fake Graph and its token service:
// each client gets its own tenant's token, and so its own tenant's users.
func TestCredentialPerTenant(t *testing.T) {
	a := &fakegraph.Tenant{ID: "aaaaaaaa-0000-4000-8000-000000000001", Seed: 1, Users: 3, Domain: "a.example"}
	b := &fakegraph.Tenant{ID: "bbbbbbbb-0000-4000-8000-000000000002", Seed: 2, Users: 7, Domain: "b.example"}
	fake := fakegraph.Start(a, b)
	t.Cleanup(fake.Close)
	tokens := testsupport.NewTokenService(fake)
	tokens.RegisterSecretClient("app-a", "secret-a")
	tokens.RegisterSecretClient("app-b", "secret-b")
	t.Setenv("AZURE_AUTHORITY_HOST", fake.URL)

	creds := graph.Credentials{Transport: fake.Client()}
	for _, tc := range []struct {
		tenant         *fakegraph.Tenant
		client, secret string
	}{{a, "app-a", "secret-a"}, {b, "app-b", "secret-b"}} {
		cred, err := creds.ForTenant(graph.Cloud{Name: "public", GraphURL: fake.URL, AuthorityHost: "https://login.microsoftonline.com/"},
			config.Tenant{ID: tc.tenant.ID, Credential: config.Credential{Kind: config.ClientSecret, ClientID: tc.client, Secret: commonconfig.Secret(tc.secret)}})
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, fake, func(o *graph.Options) { o.Credential = cred; o.Transport = fake.Transport() })
		users := 0
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := listReportCounting(ctx, c, &users); err != nil {
			t.Fatalf("tenant %s: %v", tc.tenant.ID, err)
		}
		cancel()
		if users != tc.tenant.Users {
			t.Errorf("tenant %s's credential read %d users, want its %d", tc.tenant.ID, users, tc.tenant.Users)
		}
	}
	if issued := tokens.IssuedTokens(); len(issued["app-a"]) == 0 || len(issued["app-b"]) == 0 {
		t.Errorf("tokens issued: %v", issued)
	}
}

// listReportCounting reads the registration report and counts its records.
func listReportCounting(ctx context.Context, c *graph.Client, n *int) error {
	q := graph.Query{Path: "/v1.0/reports/authenticationMethods/userRegistrationDetails"}
	return graph.List(ctx, c, q, models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue,
		func(models.UserRegistrationDetailsable) error { *n++; return nil })
}
