package graph

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
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
// Requests are built here from URLs rather than with msgraph-sdk-go's request builders: reaching
// them needs a GraphServiceClient, and holding one keeps most of the SDK in the binary (tens of
// megabytes, and the memory to map them).
func List[T any](ctx context.Context, c *Client, q Query, factory serialization.ParsableFactory, fold func(T) error) error {
	q = c.withoutRefused(q)
	first := c.URL(q)
	next := first
	for next != "" {
		page, err := c.page(ctx, next, factory)
		if err != nil && next == first && c.refusesOptions(q, err) {
			return List(ctx, c, q, factory, fold) // again, without the options Graph refused (queryoptions.go)
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", q.Path, err)
		}
		p, ok := page.(collectionPage[T])
		if !ok {
			return fmt.Errorf("listing %s: %w", q.Path, MalformedError("Graph returned %T, not a collection page", page))
		}
		for _, item := range p.GetValue() {
			if err := fold(item); err != nil {
				return fmt.Errorf("listing %s: %w", q.Path, err)
			}
		}
		next = Deref(p.GetOdataNextLink())
	}
	return nil
}

// page requests one page of a collection.
func (c *Client) page(ctx context.Context, rawURL string, factory serialization.ParsableFactory) (serialization.Parsable, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, MalformedError("Graph sent a next link that is not a URL: %v", err)
	}
	req := abstractions.NewRequestInformation()
	req.Method = abstractions.GET
	req.SetUri(*u)
	req.Headers.TryAdd("Accept", "application/json")
	page, err := c.adapter.Send(ctx, req, factory, errorMapping)
	if err != nil {
		return nil, err
	}
	if page == nil {
		return nil, MalformedError("Graph answered with an empty body instead of a collection page")
	}
	return page, nil
}

// Deref is the value p points to, or the zero value for nil: the SDK gives every field as a pointer.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
