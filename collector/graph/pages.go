package graph

import (
	"context"
	"fmt"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// JSONHeaders are the headers every page request carries. The SDK's page iterator does not
// copy the first request's headers to the pages after it, so they are set on it explicitly.
func JSONHeaders() *abstractions.RequestHeaders {
	h := abstractions.NewRequestHeaders()
	h.Add("Accept", "application/json")
	return h
}

// Each follows @odata.nextLink from first, handing every item to fold as its page arrives, so
// that no more than one page is held at a time. An error from fold stops the walk and is returned.
func Each[T any](ctx context.Context, c *Client, first serialization.Parsable, factory serialization.ParsableFactory, fold func(T) error) error {
	if first == nil {
		return MalformedError("Graph returned an empty body instead of a collection page")
	}
	it, err := msgraphcore.NewPageIterator[T](first, c.SDK.GetAdapter(), factory)
	if err != nil {
		return fmt.Errorf("reading a collection page: %w", err)
	}
	it.SetHeaders(JSONHeaders())
	var foldErr error
	err = it.Iterate(ctx, func(item T) bool {
		foldErr = fold(item)
		return foldErr == nil
	})
	if err != nil {
		return err
	}
	return foldErr
}
