// Package graph is the Microsoft Graph client the sources share: msgraph-sdk-go's request
// adapter with its kiota middleware (retries on 429/503/504 honouring Retry-After), an Azure
// identity token provider allowed on the configured host, a pacer that keeps each API family
// inside Graph's throttling budget, a hook that counts every HTTP response by source and status
// code, and List, the one way a source reads a collection.
package graph

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	auth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
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
	// GraphLimits are Graph's documented budgets.
	Limits map[Family]Limit
	// App, when set, also paces the requests of every Client that shares it: Graph's budgets per
	// app across tenants (AppLimits).
	App *AppPacer
	// MaxRetries is how often kiota's retry handler repeats a 429, 503 or 504.
	MaxRetries int
	// RequestTimeout bounds one HTTP request including its retries' waits; 0 means none.
	RequestTimeout time.Duration
	// MaxResponseBytes refuses, as malformed, a response body longer than this; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// OnResponse is told of every HTTP response Graph sent, retries included.
	OnResponse func(source string, code int)
	// OnRetryAfterCapped is told of every Retry-After longer than MaxRetryAfter.
	OnRetryAfterCapped func(source string)
	// Logger is told of the query options Graph refuses (queryoptions.go); nil discards.
	Logger *slog.Logger
}

// DefaultMaxResponseBytes bounds a Graph response body. Graph's largest pages (999 service
// principals with their credentials, 1,000 sign-ins) are a megabyte or two, and the SDK holds a
// page as a tree of about 12 times its size (BenchmarkParsePage), so a page at this bound
// already costs some 200 MiB; an unbounded one could take all the memory there is.
const DefaultMaxResponseBytes = 16 << 20

// Client sends Graph requests for one tenant. It holds the SDK's request adapter and no
// GraphServiceClient: the service client's thousands of request builders would all be linked
// into the binary (see List).
type Client struct {
	adapter        *msgraphsdk.GraphRequestAdapter
	baseURL        string
	base           *url.URL // baseURL parsed: next links must stay on its host
	requestTimeout time.Duration
	logger         *slog.Logger
	refused        refusedOptions
}

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
	paced := &pacedTransport{next: parent, pacers: map[Family]*pacer{}, app: o.App, onResponse: o.OnResponse,
		onRetryAfterCapped: o.OnRetryAfterCapped, maxBody: cmp.Or(o.MaxResponseBytes, DefaultMaxResponseBytes)}
	for _, f := range []Family{FamilyReports, FamilyDirectory} {
		paced.pacers[f] = newPacer(o.Limits[f])
	}

	clientOptions := msgraphsdk.GetDefaultClientOptions()
	middleware := msgraphcore.GetDefaultMiddlewaresWithOptions(&clientOptions)
	retry := khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
		MaxRetries:   o.MaxRetries,
		DelaySeconds: 3,
		// kiota calls ShouldRetry unconditionally: leaving it nil panics.
		ShouldRetry: retryWithinDeadline,
	})
	for i, m := range middleware {
		if _, ok := m.(*khttp.RetryHandler); ok {
			middleware[i] = retry
		}
	}
	// No http.Client.Timeout: page puts the request timeout on the context, where the retry
	// handler's ShouldRetry can see it.
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(paced, middleware...)}
	// A registry of its own, not kiota's global default, which every service client writes to.
	parsers := serialization.NewParseNodeFactoryRegistry()
	parsers.ContentTypeAssociatedFactories["application/json"] = jsonserialization.NewJsonParseNodeFactory()
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(authProvider, parsers, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph request adapter: %w", err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{adapter: adapter, baseURL: base, base: u, requestTimeout: o.RequestTimeout, logger: logger}, nil
}

// retryWithinDeadline lets kiota's retry handler retry only when the wait that Retry-After asks
// for ends before the request's deadline. The handler waits out Retry-After in full, so a longer
// wait would only end in a timeout, reported as the refresh being too slow rather than as Graph
// throttling it.
func retryWithinDeadline(_ time.Duration, _ int, req *http.Request, resp *http.Response) bool {
	deadline, ok := req.Context().Deadline()
	wait, _ := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return !ok || time.Now().Add(wait).Before(deadline)
}

type sourceKey struct{}

// WithSource tags ctx so that the requests made with it are counted under that source.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

func sourceOf(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}
