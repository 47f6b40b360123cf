package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/microsoft/kiota-abstractions-go/serialization"
)

// Get reads the single object q names (e.g. /v1.0/policies/identitySecurityDefaultsEnforcementPolicy),
// requested like every page of List: the JSON Accept header and Graph's error mapping. factory
// decodes it, e.g. models.CreateIdentitySecurityDefaultsEnforcementPolicyFromDiscriminatorValue.
func Get[T any](ctx context.Context, c *Client, q Query, factory serialization.ParsableFactory) (T, error) {
	var zero T
	u, err := url.Parse(c.URL(q))
	if err != nil {
		return zero, fmt.Errorf("reading %s: %w", q.Path, err)
	}
	object, err := c.send(ctx, u, factory, checkObject)
	if err != nil {
		return zero, fmt.Errorf("reading %s: %w", q.Path, err)
	}
	v, ok := object.(T)
	if !ok {
		return zero, fmt.Errorf("reading %s: %w", q.Path, MalformedError("Graph returned %T, not the object asked for", object))
	}
	return v, nil
}

// JSONItems is a List factory whose pages hand each item over as Graph sent it, decoded with
// encoding/json into T, instead of through the SDK's model. It is for collections where the
// model loses what matters: inside a collection the SDK decodes an enum member it does not know
// as the enum's zero value without an error (a Conditional Access grant control Microsoft adds
// reads as "block"), so a source that must tell a known value from an unknown one reads strings.
// An item that does not decode into T fails the page as malformed.
func JSONItems[T any]() serialization.ParsableFactory {
	return func(serialization.ParseNode) (serialization.Parsable, error) { return &jsonPage[T]{}, nil }
}

// jsonPage is a collection page whose items are decoded from Graph's JSON by encoding/json.
type jsonPage[T any] struct {
	value []T
	next  *string
}

func (p *jsonPage[T]) GetValue() []T             { return p.value }
func (p *jsonPage[T]) GetOdataNextLink() *string { return p.next }

func (p *jsonPage[T]) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"value": func(n serialization.ParseNode) error {
			raw, err := n.GetRawValue()
			if err != nil {
				return err
			}
			items, ok := raw.([]any)
			if !ok && raw != nil {
				return MalformedError("a page's value is not a list")
			}
			p.value = make([]T, len(items))
			for i, item := range items {
				// The parse node holds the JSON as Go values (strings as *string); encoding/json
				// turns them back into JSON and then into T.
				data, err := json.Marshal(item)
				if err == nil {
					err = json.Unmarshal(data, &p.value[i])
				}
				if err != nil {
					return MalformedError("item %d (id %q) does not have the documented shape: %v", i, itemID(item), err)
				}
			}
			return nil
		},
		"@odata.nextLink": func(n serialization.ParseNode) error {
			next, err := n.GetStringValue()
			p.next = next
			return err
		},
	}
}

// itemID is an item's id, to name it in an error, or "".
func itemID(item any) string {
	m, _ := item.(map[string]any)
	id, _ := m["id"].(*string)
	return Deref(id)
}

// Serialize is never called: the exporter only reads.
func (p *jsonPage[T]) Serialize(serialization.SerializationWriter) error {
	return errors.New("a page read from Graph is not serialized")
}
