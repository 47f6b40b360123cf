package collector

import (
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
	notes                          *recordNotes
	merged                         credentialMerge // reused for every object
}

func (t *credentialTally) addServicePrincipal(sp models.ServicePrincipalable) error {
	id := graph.Deref(sp.GetId())
	if id == "" {
		t.notes.skip(skipNoID, "")
		return nil
	}
	creds := t.merged.merge(id, sp.GetKeyCredentials(), sp.GetPasswordCredentials(), t.notes)
	usage := t.countCredentials("service_principal", sp.GetAppId(), sp.GetDisplayName(), creds)
	spType, known := servicePrincipalTypes[graph.Deref(sp.GetServicePrincipalType())]
	if !known {
		spType = labelUnknown
		t.notes.oddValue("servicePrincipalType", graph.Deref(sp.GetServicePrincipalType()), labelUnknown)
	}
	owner := "tenant"
	if org := sp.GetAppOwnerOrganizationId(); org != nil && org.String() != t.tenantID {
		owner = "external"
	}
	t.servicePrincipals[servicePrincipalGroup{spType, usage, owner}]++
	return nil
}

func (t *credentialTally) addApplication(app models.Applicationable) error {
	id := graph.Deref(app.GetId())
	if id == "" {
		t.notes.skip(skipNoID, "")
		return nil
	}
	creds := t.merged.merge(id, app.GetKeyCredentials(), app.GetPasswordCredentials(), t.notes)
	usage := t.countCredentials("application", app.GetAppId(), app.GetDisplayName(), creds)
	if usage == "none" && len(app.GetFederatedIdentityCredentials()) > 0 {
		usage = "federated"
	}
	t.applications[usage]++
	return nil
}

// countCredentials counts an object's credentials by status and returns what it holds: secret,
// certificate, both, none, or unknown when all it holds are keys of a type Graph does not document.
func (t *credentialTally) countCredentials(object string, appID, appName *string, creds []credential) string {
	kinds := map[string]bool{}
	for _, c := range creds {
		kinds[c.kind] = true
		// A credential without an endDateTime has nothing that makes it expire: it counts with
		// the portal's "never expires" ones.
		status := "valid"
		switch end := c.end; {
		case end == nil || end.Year() >= neverExpiresYear:
			t.withoutExpiry[objectKind{object, c.kind}]++
		case !end.After(t.now):
			status = "expired"
		case !end.After(t.expiringUntil):
			status = "expiring"
		}
		t.credentials[credentialGroup{object, c.kind, status}]++
		if status == "expiring" || (status == "expired" && !c.end.Before(t.seriesFrom)) {
			t.series.offer(expiry{object: object, appID: boundedName(graph.Deref(appID)), appName: boundedName(graph.Deref(appName)),
				kind: c.kind, keyID: c.label(), end: *c.end})
		}
	}
	switch {
	case kinds["secret"] && kinds["certificate"]:
		return "both"
	case kinds["secret"]:
		return "secret"
	case kinds["certificate"]:
		return "certificate"
	case kinds[labelUnknown]:
		return labelUnknown
	}
	return "none"
}
