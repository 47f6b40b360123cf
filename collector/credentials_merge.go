package collector

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// How an object's keyCredentials and passwordCredentials become credentials as Entra ID means
// them. addTokenSigningCertificate adds a SAML token-signing certificate as a Sign key (the
// private key), a Verify key (the public key) and a password (the PFX file's), all with one
// customKeyIdentifier; the password and the Sign key share a keyId, the Verify key has its own
// (GD api-reference/v1.0/api/serviceprincipal-addtokensigningcertificate.md). customKeyIdentifier
// defaults to the certificate's thumbprint (GD api-reference/v1.0/resources/keycredential.md). So:
//   - a certificate is one customKeyIdentifier among the object's key credentials (its keyId where
//     it has none): one uploaded twice with the same thumbprint is still one;
//   - a password whose keyId is one of the object's key credentials' is that certificate's PFX
//     password, and so is one without a keyId that carries a certificate's customKeyIdentifier;
//   - every other password is a client secret, one per keyId;
//   - a key's type says what it is (keyCredentialKinds): a Symmetric key is a secret.
//
// An entry with neither keyId nor customKeyIdentifier belongs to nothing and is left out.

// credential is one credential of an object.
type credential struct {
	keyID      string     // the least keyId of its entries, "" when none has one
	thumbprint []byte     // its customKeyIdentifier
	kind       string     // certificate, secret or unknown
	end        *time.Time // the earliest end of its entries
}

// label is its key_id label: its least keyId (stable whatever Graph's order), else its
// customKeyIdentifier in hex.
func (c credential) label() string {
	if c.keyID != "" {
		return c.keyID
	}
	return boundedName(strings.ToUpper(hex.EncodeToString(c.thumbprint)))
}

// credentialMerge merges one object's entries; it is reused from object to object.
type credentialMerge struct {
	creds      []credential
	byIdentity map[string]int // customKeyIdentifier or keyId of a credential → its index
	byKeyID    map[string]int // keyId of a key credential → its credential's index
}

func (m *credentialMerge) merge(objectID string, keys []models.KeyCredentialable, passwords []models.PasswordCredentialable, notes *recordNotes) []credential {
	m.creds = m.creds[:0]
	if m.byIdentity == nil {
		m.byIdentity, m.byKeyID = map[string]int{}, map[string]int{}
	}
	clear(m.byIdentity)
	clear(m.byKeyID)
	for _, k := range keys {
		keyID, thumbprint := uuidString(k.GetKeyId()), k.GetCustomKeyIdentifier()
		if keyID == "" && len(thumbprint) == 0 {
			notes.skip(skipNoKeyID, objectID)
			continue
		}
		keyType := graph.Deref(k.GetTypeEscaped())
		kind, known := keyCredentialKinds[keyType]
		if !known {
			kind = labelUnknown
			notes.oddValue("keyCredentials.type", keyType, labelUnknown)
		}
		i := m.add(identity("key", keyID, thumbprint), keyID, thumbprint, kind, k.GetEndDateTime())
		if keyID != "" {
			m.byKeyID[keyID] = i
		}
	}
	for _, p := range passwords {
		keyID, thumbprint := uuidString(p.GetKeyId()), p.GetCustomKeyIdentifier()
		if i, ok := m.byKeyID[keyID]; ok {
			m.extend(i, keyID, "", p.GetEndDateTime()) // a certificate's PFX password
			continue
		}
		if i, ok := m.byIdentity[identity("key", "", thumbprint)]; ok && keyID == "" && len(thumbprint) > 0 {
			m.extend(i, "", "", p.GetEndDateTime())
			continue
		}
		if keyID == "" && len(thumbprint) == 0 {
			notes.skip(skipNoKeyID, objectID)
			continue
		}
		m.add(identity("password", keyID, thumbprint), keyID, thumbprint, "secret", p.GetEndDateTime())
	}
	return m.creds
}

// identity is what makes entries one credential: a key's customKeyIdentifier, else its keyId; a
// password's keyId, else its customKeyIdentifier.
func identity(entry, keyID string, thumbprint []byte) string {
	switch {
	case entry == "key" && len(thumbprint) > 0, keyID == "":
		return entry + " thumbprint " + string(thumbprint)
	}
	return entry + " keyId " + keyID
}

// add merges an entry into the credential of its identity, or starts one.
func (m *credentialMerge) add(id, keyID string, thumbprint []byte, kind string, end *time.Time) int {
	if i, ok := m.byIdentity[id]; ok {
		m.extend(i, keyID, kind, end)
		return i
	}
	m.creds = append(m.creds, credential{keyID: keyID, thumbprint: thumbprint, kind: kind, end: end})
	m.byIdentity[id] = len(m.creds) - 1
	return len(m.creds) - 1
}

// extend adds an entry to credential i: its keyId if less, its kind if it says more (certificate over secret over unknown; "" says nothing), its end if
// earlier.
func (m *credentialMerge) extend(i int, keyID, kind string, end *time.Time) {
	c := &m.creds[i]
	if keyID != "" && (c.keyID == "" || keyID < c.keyID) {
		c.keyID = keyID
	}
	if kindRank[kind] > kindRank[c.kind] {
		c.kind = kind
	}
	if end != nil && (c.end == nil || end.Before(*c.end)) {
		c.end = end
	}
}

var kindRank = map[string]int{labelUnknown: 1, "secret": 2, "certificate": 3}

func uuidString(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
