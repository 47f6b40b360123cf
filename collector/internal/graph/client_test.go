package graph_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	auth "github.com/microsoft/kiota-authentication-azure-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

const scope = "https://graph.microsoft.com/.default"

func startFake(t *testing.T) *fakegraph.Server {
	t.Helper()
	return testsupport.StartFake(t, &fakegraph.Tenant{ID: "11111111-2222-4333-8444-555555555555", Seed: 3, Users: 10, Domain: "contoso.test"})
}

// newClient builds a Client on the fake; change adjusts the options first.
func newClient(t *testing.T, fake *fakegraph.Server, change func(*graph.Options)) *graph.Client {
	t.Helper()
	o := graph.Options{BaseURL: fake.URL, Scope: scope, Credential: fake.Credential(), Transport: fake.Transport()}
	if change != nil {
		change(&o)
	}
	c, err := graph.New(o)
	if err != nil {
		t.Fatalf("building the client: %v", err)
	}
	return c
}

func listReport(ctx context.Context, c *graph.Client) error {
	q := graph.Query{Path: "/v1.0/reports/authenticationMethods/userRegistrationDetails"}
	return graph.List(ctx, c, q, models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue,
		func(models.UserRegistrationDetailsable) error { return nil })
}

// The Azure identity provider sends a token only to allowed hosts and says nothing otherwise;
// New must allow the configured host, here the fake's 127.0.0.1.
func TestClientSendsTheTokenToACustomHost(t *testing.T) {
	fake := startFake(t)
	var mu sync.Mutex
	var responses []string
	c := newClient(t, fake, func(o *graph.Options) {
		o.BaseURL = fake.URL + "/v1.0/" // a version suffix is accepted and not doubled
		o.OnResponse = func(source string, code int) {
			mu.Lock()
			defer mu.Unlock()
			responses = append(responses, source+" "+http.StatusText(code))
		}
	})
	if err := listReport(graph.WithSource(context.Background(), "users"), c); err != nil {
		t.Fatalf("listing the report: %v", err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("Graph saw %d requests, want 1", len(reqs))
	}
	if got, want := reqs[0].Header.Get("Authorization"), "Bearer "+fakegraph.StaticToken; got != want {
		t.Errorf("Authorization header %q, want %q", got, want)
	}
	if reqs[0].Path != "/v1.0/reports/authenticationMethods/userRegistrationDetails" {
		t.Errorf("request path %q", reqs[0].Path)
	}
	if strings.Join(responses, ",") != "users OK" {
		t.Errorf("OnResponse was told %q, want the one response tagged with its source", responses)
	}
	if got, want := c.URL(graph.Query{Path: "/beta/auditLogs/signIns"}), fake.URL+"/beta/auditLogs/signIns"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

// The trap itself, so that the test above is known to be able to fail: the allowed hosts that
// msgraphsdk.NewGraphServiceClientWithCredentials uses leave a custom host without a token,
// and without an error.
func TestDefaultAllowedHostsSendNoTokenToACustomHost(t *testing.T) {
	fake := startFake(t)
	sdkDefaultHosts := []string{"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "graph.microsoft.de", "microsoftgraph.chinacloudapi.cn", "canary.graph.microsoft.com"}
	provider, err := auth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(fake.Credential(), []string{scope}, sdkDefaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(provider, nil, nil, fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(fake.URL + "/v1.0")
	_, err = msgraphsdk.NewGraphServiceClient(adapter).Reports().AuthenticationMethods().UserRegistrationDetails().Get(context.Background(), nil)
	if err == nil || graph.Classify(err).Status != http.StatusUnauthorized {
		t.Errorf("with the default allowed hosts: %v; want Graph's 401", err)
	}
	if reqs := fake.Requests(); len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "" {
		t.Errorf("with the default allowed hosts the request should carry no Authorization header: %+v", reqs)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	cred := staticCredential("x")
	for name, o := range map[string]graph.Options{
		"http endpoint": {BaseURL: "http://graph.microsoft.com", Scope: scope, Credential: cred},
		"no credential": {BaseURL: "https://graph.microsoft.com", Scope: scope},
	} {
		if _, err := graph.New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}

// staticCredential hands out a token the fake did not issue.
type staticCredential string

func (c staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Query options are encoded as Graph reads them: spaces as %20 (a '+' would be read as a plus).
func TestQueryURL(t *testing.T) {
	c := newClient(t, startFake(t), nil)
	got := c.URL(graph.Query{Path: "/beta/auditLogs/signIns", Select: []string{"id", "createdDateTime"}, Expand: []string{"owners"},
		Filter: "createdDateTime ge 2026-01-01T00:00:00+01:00", Top: 1000})
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.RawQuery, "+") {
		t.Errorf("%s: a '+' in the query, which Graph reads as a plus", got)
	}
	want := url.Values{"$select": {"id,createdDateTime"}, "$expand": {"owners"}, "$filter": {"createdDateTime ge 2026-01-01T00:00:00+01:00"}, "$top": {"1000"}}
	if q := u.Query(); q.Encode() != want.Encode() {
		t.Errorf("%s decodes to %v, want %v", got, q, want)
	}
}
