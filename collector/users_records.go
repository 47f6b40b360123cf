package collector

import (
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// The registration report's records as msgraph-sdk-go decodes them, with the raw strings of two
// enum fields kept. The SDK decodes a value outside its enum to nil, as it does "" (an unset
// userPreferredMethodForSecondaryAuthentication; ../shared/GRAPH-FACTS.md): the exporter tells
// them apart, none from unknown, and logs the value it did not know.

// registrationDetails is a userRegistrationDetails record.
type registrationDetails struct {
	*models.UserRegistrationDetails
	preferred, userType *string // as Graph sent them
}

func newRegistrationDetails(serialization.ParseNode) (serialization.Parsable, error) {
	return &registrationDetails{UserRegistrationDetails: models.NewUserRegistrationDetails()}, nil
}

func (r *registrationDetails) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	fields := r.UserRegistrationDetails.GetFieldDeserializers()
	raw := func(field string, into **string) {
		decode := fields[field]
		fields[field] = func(n serialization.ParseNode) error {
			v, err := n.GetStringValue()
			if err != nil {
				return err
			}
			*into = v
			return decode(n)
		}
	}
	raw("userPreferredMethodForSecondaryAuthentication", &r.preferred)
	raw("userType", &r.userType)
	return fields
}

// registrationPage is a page of the report, its records decoded as registrationDetails.
type registrationPage struct {
	*models.UserRegistrationDetailsCollectionResponse
	records []*registrationDetails
}

func newRegistrationPage(serialization.ParseNode) (serialization.Parsable, error) {
	return &registrationPage{UserRegistrationDetailsCollectionResponse: models.NewUserRegistrationDetailsCollectionResponse()}, nil
}

// GetValue is the page's records (graph.List folds them).
func (p *registrationPage) GetValue() []*registrationDetails { return p.records }

func (p *registrationPage) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	fields := p.UserRegistrationDetailsCollectionResponse.GetFieldDeserializers()
	fields["value"] = func(n serialization.ParseNode) error {
		items, err := n.GetCollectionOfObjectValues(newRegistrationDetails)
		if err != nil {
			return err
		}
		p.records = p.records[:0]
		for _, item := range items {
			if r, ok := item.(*registrationDetails); ok && r != nil {
				p.records = append(p.records, r)
			}
		}
		return nil
	}
	return fields
}
