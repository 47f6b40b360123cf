package graph

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Query is a request for a Graph collection: a path under Graph's root and its OData options.
type Query struct {
	Path   string // e.g. /v1.0/servicePrincipals or /beta/auditLogs/signIns
	Select []string
	Expand []string
	Filter string
	Top    int // 0 leaves the page size to Graph
}

// URL is the absolute URL of q on the client's Graph.
func (c *Client) URL(q Query) string {
	v := url.Values{}
	if len(q.Select) > 0 {
		v.Set("$select", strings.Join(q.Select, ","))
	}
	if len(q.Expand) > 0 {
		v.Set("$expand", strings.Join(q.Expand, ","))
	}
	if q.Filter != "" {
		v.Set("$filter", q.Filter)
	}
	if q.Top > 0 {
		v.Set("$top", strconv.Itoa(q.Top))
	}
	u := c.baseURL + q.Path
	if len(v) == 0 {
		return u
	}
	// Graph reads %20 for spaces; a '+' in a value was escaped as %2B, so this replaces only spaces.
	return u + "?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

// collectionPage is what every Graph collection response is: a page of items and the link to
// the next page.
type collectionPage[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// errorMapping decodes every error status into Graph's error body, as the SDK's builders do.
var errorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// List reads the collection q, following @odata.nextLink, and hands every item to fold as its
// page arrives, so that no more than one page is held at a time. Every page is requested the
// same way: with the JSON Accept header (the SDK's page iterator drops it after the first page)
// and Graph's error mapping (so a failure on a later page is classified like one on the first).
// factory decodes a page, e.g. models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue.
// An error from fold stops the walk and is returned.
//
// A page is checked before the SDK reads it (checkPage), and a next link must stay on Graph's
// host and must not repeat one already followed, which would page until the refresh times out.
//
// Requests are built here from URLs rather than with msgraph-sdk-go's request builders: reaching
// them needs a GraphServiceClient, and holding one keeps most of the SDK in the binary (tens of
// megabytes, and the memory to map them).
func List[T any](ctx context.Context, c *Client, q Query, factory serialization.ParsableFactory, fold func(T) error) error {
	failed := func(err error) error { return fmt.Errorf("listing %s: %w", q.Path, err) }
	q = c.withoutRefused(q)
	first, err := url.Parse(c.URL(q))
	if err != nil {
		return failed(err)
	}
	followed := map[string]bool{}
	for next := first; next != nil; {
		link := next.String()
		if followed[link] {
			return failed(MalformedError("Graph sent a next link this listing has followed already: it would page forever"))
		}
		followed[link] = true
		page, err := c.send(ctx, next, factory, checkPage)
		if err != nil && next == first && c.refusesOptions(q, err) {
			return List(ctx, c, q, factory, fold) // again, without the options Graph refused (queryoptions.go)
		}
		if err != nil {
			return failed(err)
		}
		p, ok := page.(collectionPage[T])
		if !ok {
			return failed(MalformedError("Graph returned %T, not a collection page", page))
		}
		for _, item := range p.GetValue() {
			if err := fold(item); err != nil {
				return failed(err)
			}
		}
		if next, err = c.nextLink(p.GetOdataNextLink()); err != nil {
			return failed(err)
		}
	}
	return nil
}

// nextLink checks a page's @odata.nextLink: the next page is had by sending the link's URL to
// Microsoft Graph (learn.microsoft.com/graph/paging), so it names Graph's own host. A link
// elsewhere would get no token (the token provider allows Graph's host only) and would read
// someone else's answer as the tenant's.
func (c *Client) nextLink(link *string) (*url.URL, error) {
	if link == nil || *link == "" {
		return nil, nil
	}
	u, err := url.Parse(*link)
	if err != nil {
		return nil, MalformedError("Graph sent a next link that is not a URL: %v", err)
	}
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) {
		return nil, MalformedError("Graph sent a next link to %s://%s, not to %s", u.Scheme, u.Host, c.base.Host)
	}
	return u, nil
}

// send requests one Graph resource, a page or an object, and decodes it with factory. The body
// is read as bytes and vetted by check before the SDK sees it, so that nothing but what was asked
// for gets decoded as it.
func (c *Client) send(ctx context.Context, u *url.URL, factory serialization.ParsableFactory, check func([]byte) error) (serialization.Parsable, error) {
	if c.requestTimeout > 0 {
		// A deadline on the context rather than on the HTTP client, so that the retry handler
		// sees it (retryWithinDeadline) and a wait longer than the request may take is not started.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.requestTimeout)
		defer cancel()
	}
	req := abstractions.NewRequestInformation()
	req.Method = abstractions.GET
	req.SetUri(*u)
	req.Headers.TryAdd("Accept", "application/json")
	answer, err := c.adapter.SendPrimitive(ctx, req, "[]byte", errorMapping)
	if err != nil {
		return nil, err
	}
	body, _ := answer.([]byte)
	if len(body) == 0 {
		return nil, MalformedError("Graph answered with an empty body")
	}
	root, err := jsonserialization.NewJsonParseNode(body)
	if err != nil {
		return nil, malformedBecause(err, "Graph answered with something that is not JSON")
	}
	if err := check(body); err != nil {
		return nil, err
	}
	decoded, err := root.GetObjectValue(factory)
	if err != nil {
		return nil, malformedBecause(err, "Graph sent an answer the SDK cannot read")
	}
	return decoded, nil
}

// Deref is the value p points to, or the zero value for nil: the SDK gives every field as a pointer.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
