package collector

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// The records of the credentials source, the fields of its $select as Graph's JSON has them
// (GD api-reference/v1.0/resources/serviceprincipal.md, application.md, keycredential.md,
// passwordcredential.md), decoded with encoding/json (graph.JSONItems). msgraph-sdk-go's
// ServicePrincipal and Application models are not used: their navigation properties reach every
// entity type through models.CreateEntityFromDiscriminatorValue, which links the SDK's whole model
// package into the binary (about 36 MB, and the memory the process maps for it), to read seven
// fields. The decoding keeps the models' rules: a keyId or appOwnerOrganizationId that is not a
// GUID, a customKeyIdentifier that is not base64 and an endDateTime that is not RFC 3339 make the
// page malformed, as the SDK's parse nodes do.

// credentialObject is a service principal or an application.
type credentialObject struct {
	ID                     *string                    `json:"id"`
	AppID                  *string                    `json:"appId"`
	DisplayName            *string                    `json:"displayName"`
	ServicePrincipalType   *string                    `json:"servicePrincipalType"`   // service principals only
	AppOwnerOrganizationID *guid                      `json:"appOwnerOrganizationId"` // service principals only
	KeyCredentials         []keyCredentialRecord      `json:"keyCredentials"`
	PasswordCredentials    []passwordCredentialRecord `json:"passwordCredentials"`
	// FederatedIdentityCredentials are counted, not read (applications only, by $expand).
	FederatedIdentityCredentials []json.RawMessage `json:"federatedIdentityCredentials"`
}

// keyCredentialRecord is a certificate or key (keycredential.md); customKeyIdentifier is Edm.Binary,
// base64 in the JSON.
type keyCredentialRecord struct {
	KeyID               *guid      `json:"keyId"`
	CustomKeyIdentifier []byte     `json:"customKeyIdentifier"`
	Type                *string    `json:"type"`
	EndDateTime         *time.Time `json:"endDateTime"`
}

// passwordCredentialRecord is a client secret, or a certificate's PFX password (passwordcredential.md).
type passwordCredentialRecord struct {
	KeyID               *guid      `json:"keyId"`
	CustomKeyIdentifier []byte     `json:"customKeyIdentifier"`
	EndDateTime         *time.Time `json:"endDateTime"`
}

// guid is an Edm.Guid, in the lower case uuid.UUID prints.
type guid string

func (g *guid) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return err
	}
	*g = guid(id.String())
	return nil
}

// String is the GUID, "" for none.
func (g *guid) String() string {
	if g == nil {
		return ""
	}
	return string(*g)
}
