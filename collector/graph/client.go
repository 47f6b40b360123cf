// Package graph builds the Microsoft Graph client the sources share: msgraph-sdk-go with its
// kiota middleware (retries on 429/503/504 honouring Retry-After), an Azure identity token
// provider allowed on the configured host, a pacer that keeps each API family inside Graph's
// throttling budget, and a hook that counts every HTTP response by source and status code.
package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	auth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// Options configure a Client.
type Options struct {
	// BaseURL is Graph's root without a version segment, e.g. https://graph.microsoft.com.
	BaseURL string
	// Scope is the token scope, e.g. https://graph.microsoft.com/.default.
	Scope      string
	Credential azcore.TokenCredential
	// Transport sends the requests; nil means a clone of http.DefaultTransport (system trust
	// roots, SSL_CERT_FILE and proxy variables honoured).
	Transport http.RoundTripper
	// Limits paces each API family; a family without an entry is only held back by Retry-After.
	Limits map[Family]Limit
	// MaxRetries is how often kiota's retry handler repeats a 429, 503 or 504.
	MaxRetries int
	// RequestTimeout bounds one HTTP request including its retries' waits; 0 means none.
	RequestTimeout time.Duration
	// OnResponse is told of every HTTP response Graph sent, retries included.
	OnResponse func(source string, code int)
}

// Client is the shared Graph client.
type Client struct {
	SDK     *msgraphsdk.GraphServiceClient
	baseURL string
}

// ReportsLimit is Graph's documented budget for the identity and access reports
// (userRegistrationDetails, auditLogs/signIns): 5 requests per 10 seconds per app per tenant.
var ReportsLimit = Limit{Requests: 5, Per: 10 * time.Second}

// DirectoryLimit keeps directory lists inside the strictest budget the credentials source meets:
// listing service principals with keyCredentials selected is limited to 150 requests a minute
// per tenant. The directory's own resource-unit budget is far larger.
var DirectoryLimit = Limit{Requests: 150, Per: time.Minute}

// The SDK creates its error-mapping registry lazily with an unsynchronised double-checked lock:
// create it before any goroutine can iterate pages, or two first page walks race.
func init() { msgraphcore.GetErrorFactoryFromRegistry("") }

// New builds a Client. The Graph host of BaseURL is added to the token provider's allowed hosts:
// without that, the Azure identity provider silently sends requests with no token.
func New(o Options) (*Client, error) {
	base, err := ParseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base)
	if o.Credential == nil {
		return nil, fmt.Errorf("graph client: no credential")
	}
	authProvider, err := auth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(o.Credential, []string{o.Scope}, []string{u.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph token provider: %w", err)
	}
	parent := o.Transport
	if parent == nil {
		parent = http.DefaultTransport.(*http.Transport).Clone()
	}
	paced := &pacedTransport{next: parent, pacers: map[Family]*pacer{}, onResponse: o.OnResponse}
	for _, f := range []Family{FamilyReports, FamilyDirectory} {
		paced.pacers[f] = newPacer(o.Limits[f])
	}

	clientOptions := msgraphsdk.GetDefaultClientOptions()
	middleware := msgraphcore.GetDefaultMiddlewaresWithOptions(&clientOptions)
	retry := khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
		MaxRetries:   o.MaxRetries,
		DelaySeconds: 3,
		// kiota calls ShouldRetry unconditionally: leaving it nil panics.
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return true },
	})
	for i, m := range middleware {
		if _, ok := m.(*khttp.RetryHandler); ok {
			middleware[i] = retry
		}
	}
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(paced, middleware...),
		Timeout:   o.RequestTimeout,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(authProvider, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph request adapter: %w", err)
	}
	// The service client copies the base URL at construction, so set it first.
	adapter.SetBaseUrl(base + "/v1.0")
	// NewGraphServiceClient writes its backing store factory into a kiota package variable that
	// every parsed entity reads: building a client while another one parses is a data race. A
	// nil factory skips the write; the variable already holds that same default.
	sdk := &msgraphsdk.GraphServiceClient{GraphBaseServiceClient: *msgraphsdk.NewGraphBaseServiceClient(adapter, nil)}
	return &Client{SDK: sdk, baseURL: base}, nil
}

// BetaURL returns the absolute URL of a beta path such as "/auditLogs/signIns".
func (c *Client) BetaURL(path string) string { return c.baseURL + "/beta" + path }

type sourceKey struct{}

// WithSource tags ctx so that the requests made with it are counted under that source.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

func sourceOf(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}
