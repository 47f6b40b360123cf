package collector

import (
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

type servicePrincipalGroup struct{ spType, credential, owner string }

type credentialGroup struct{ object, kind, status string }

type objectKind struct{ object, kind string }

// credentialTally folds service principals and applications into counts as the pages arrive;
// what it holds does not grow with the tenant, except the expiry series, up to their limit.
type credentialTally struct {
	tenantID                       string // lowercase, to compare with appOwnerOrganizationId
	now, expiringUntil, seriesFrom time.Time
	servicePrincipals              map[servicePrincipalGroup]float64
	applications                   map[string]float64
	credentials                    map[credentialGroup]float64
	withoutExpiry                  map[objectKind]float64
	series                         expiryHeap
	scratch                        []credential // reused for every object's credentials
}

// credential is one credential as Entra ID means it, after merging the entries sharing a keyId.
type credential struct {
	keyID       string
	certificate bool
	end         *time.Time
}

func (t *credentialTally) addServicePrincipal(sp models.ServicePrincipalable) error {
	id, appID := graph.Deref(sp.GetId()), graph.Deref(sp.GetAppId())
	if appID == "" {
		return graph.MalformedError("servicePrincipal %q has no appId", id)
	}
	creds, err := t.merge("servicePrincipal", id, sp.GetKeyCredentials(), sp.GetPasswordCredentials())
	if err != nil {
		return err
	}
	usage := t.countCredentials("service_principal", appID, graph.Deref(sp.GetDisplayName()), creds)
	spType := "unknown"
	if v := sp.GetServicePrincipalType(); v != nil && *v != "" {
		spType = labelFromPascalCase(*v)
	}
	owner := "tenant"
	if org := sp.GetAppOwnerOrganizationId(); org != nil && org.String() != t.tenantID {
		owner = "external"
	}
	t.servicePrincipals[servicePrincipalGroup{spType, usage, owner}]++
	return nil
}

func (t *credentialTally) addApplication(app models.Applicationable) error {
	id, appID := graph.Deref(app.GetId()), graph.Deref(app.GetAppId())
	if appID == "" {
		return graph.MalformedError("application %q has no appId", id)
	}
	creds, err := t.merge("application", id, app.GetKeyCredentials(), app.GetPasswordCredentials())
	if err != nil {
		return err
	}
	usage := t.countCredentials("application", appID, graph.Deref(app.GetDisplayName()), creds)
	if usage == "none" && len(app.GetFederatedIdentityCredentials()) > 0 {
		usage = "federated"
	}
	t.applications[usage]++
	return nil
}

// merge turns an object's key and password credentials into credentials: entries sharing a
// keyId are one credential (a SAML signing certificate is a Sign key, a Verify key and a
// password), a certificate if any of them is a key, ending at the earliest of their ends.
func (t *credentialTally) merge(objectType, id string, keys []models.KeyCredentialable, passwords []models.PasswordCredentialable) ([]credential, error) {
	creds := t.scratch[:0]
	add := func(keyID string, certificate bool, end *time.Time) {
		for i := range creds {
			if creds[i].keyID == keyID {
				creds[i].certificate = creds[i].certificate || certificate
				if end != nil && (creds[i].end == nil || end.Before(*creds[i].end)) {
					creds[i].end = end
				}
				return
			}
		}
		creds = append(creds, credential{keyID: keyID, certificate: certificate, end: end})
	}
	for _, k := range keys {
		if k.GetKeyId() == nil {
			return nil, graph.MalformedError("%s %q has a keyCredentials entry without keyId", objectType, id)
		}
		add(k.GetKeyId().String(), true, k.GetEndDateTime())
	}
	for _, p := range passwords {
		if p.GetKeyId() == nil {
			return nil, graph.MalformedError("%s %q has a passwordCredentials entry without keyId", objectType, id)
		}
		add(p.GetKeyId().String(), false, p.GetEndDateTime())
	}
	t.scratch = creds
	return creds, nil
}

// countCredentials counts an object's credentials by status and returns what it holds:
// secret, certificate, both or none.
func (t *credentialTally) countCredentials(object, appID, appName string, creds []credential) string {
	secret, certificate := false, false
	for _, c := range creds {
		kind := "secret"
		if c.certificate {
			kind, certificate = "certificate", true
		} else {
			secret = true
		}
		// A credential without an endDateTime has nothing that makes it expire: it counts with
		// the portal's "never expires" ones.
		status := "valid"
		switch end := c.end; {
		case end == nil || end.Year() >= neverExpiresYear:
			t.withoutExpiry[objectKind{object, kind}]++
		case !end.After(t.now):
			status = "expired"
		case !end.After(t.expiringUntil):
			status = "expiring"
		}
		t.credentials[credentialGroup{object, kind, status}]++
		if status == "expiring" || (status == "expired" && !c.end.Before(t.seriesFrom)) {
			t.series.offer(expiry{object: object, appID: appID, appName: appName, kind: kind, keyID: c.keyID, end: *c.end})
		}
	}
	switch {
	case secret && certificate:
		return "both"
	case secret:
		return "secret"
	case certificate:
		return "certificate"
	}
	return "none"
}

// labelFromPascalCase turns Graph's servicePrincipalType (ManagedIdentity) into a label value (managed_identity).
func labelFromPascalCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
