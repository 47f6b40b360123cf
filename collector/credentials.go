package collector

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/graph"
)

// The credentials source reads GET /v1.0/servicePrincipals and GET /v1.0/applications
// (Application.Read.All): which service principals and app registrations authenticate with
// client secrets or certificates, and which of those credentials expire soon.
func init() {
	registerSource("credentials", "Application.Read.All", time.Hour, func(c Config) (Source, error) {
		return newCredentialsSource(c, credentialsOptions{
			ExpiryWindow:    time.Duration(*credentialExpiryWindow),
			ExpiredLookback: time.Duration(*credentialExpiredLookback),
			SeriesLimit:     *credentialExpirySeriesLimit,
		})
	})
}

var (
	credentialExpiryWindow = DurationFlag("collector.credentials.expiry-window",
		"A credential ending within this long from now counts as status=\"expiring\" and gets an expiry timestamp series.",
		model.Duration(30*24*time.Hour))
	credentialExpiredLookback = DurationFlag("collector.credentials.expired-lookback",
		"Credentials that expired up to this long ago keep their expiry timestamp series; older ones are only counted.",
		model.Duration(90*24*time.Hour))
	credentialExpirySeriesLimit = kingpin.Flag("collector.credentials.expiry-series-limit",
		"At most this many entra_app_credential_expiry_timestamp_seconds series; those nearest to expiring are kept.").
		Default("500").Int()
)

// credentialsOptions are the source's settings; tests set them directly instead of through flags.
type credentialsOptions struct {
	ExpiryWindow    time.Duration
	ExpiredLookback time.Duration
	SeriesLimit     int
}

// directoryPageSize is the largest page Graph serves for directory objects. With $expand Graph
// serves at most 100 a page whatever $top says; the exporter follows @odata.nextLink either way.
const directoryPageSize = 999

// The properties read. federatedIdentityCredentials is a navigation property of application:
// $select cannot return it, so it comes with $expand (which also keeps the page to 100 apps).
var (
	servicePrincipalFields = []string{"id", "appId", "displayName", "servicePrincipalType", "appOwnerOrganizationId",
		"passwordCredentials", "keyCredentials"}
	applicationFields = []string{"id", "appId", "displayName", "passwordCredentials", "keyCredentials"}
	applicationExpand = []string{"federatedIdentityCredentials"}
)

// neverExpiresYear is the year from which an endDateTime is the Entra portal's "never expires".
const neverExpiresYear = 2299

// Label values, all exported (at 0 when empty) so that alerts see a 0 rather than nothing.
var (
	credentialObjects         = []string{"application", "service_principal"}
	credentialKinds           = []string{"secret", "certificate"}
	credentialStatuses        = []string{"valid", "expiring", "expired"}
	servicePrincipalTypes     = []string{"application", "managed_identity", "legacy", "social_idp"}
	servicePrincipalOwners    = []string{"tenant", "external"}
	servicePrincipalUsages    = []string{"secret", "certificate", "both", "none"}
	applicationCredentialUses = []string{"secret", "certificate", "both", "federated", "none"}
)

var (
	servicePrincipalsDesc = entraDesc("service_principals",
		"Service principals by servicePrincipalType, by the credentials they hold (secret, certificate, both, none; a SAML signing certificate's Sign key, Verify key and password count as one certificate) and by owner (external: appOwnerOrganizationId is another organisation, e.g. Microsoft; tenant: this tenant or none).",
		[]string{"tenant_id", "sp_type", "credential", "owner"})
	applicationsDesc = entraDesc("applications",
		"App registrations by the credentials they hold: secret, certificate, both, federated (federated identity credentials and neither a secret nor a certificate), none.",
		[]string{"tenant_id", "credential"})
	appCredentialsDesc = entraDesc("app_credentials",
		"Secrets and certificates of app registrations and service principals by status: expired, expiring (ends within --collector.credentials.expiry-window) or valid.",
		[]string{"tenant_id", "object", "kind", "status"})
	credentialExpiryDesc = entraDesc("app_credential_expiry_timestamp_seconds",
		"When a credential that is expiring, or expired within --collector.credentials.expired-lookback, ends; at most --collector.credentials.expiry-series-limit series, those nearest to expiring first.",
		[]string{"tenant_id", "object", "app_id", "app_name", "kind", "key_id"})
	withoutExpiryDesc = entraDesc("app_credentials_without_expiry",
		"Credentials that never expire: endDateTime in year 2299 or later (the portal's \"never\") or no endDateTime at all; they also count as valid.",
		[]string{"tenant_id", "object", "kind"})
	expirySeriesDroppedDesc = prometheus.NewDesc(namespace+"_credential_expiry_series_dropped_total",
		"Expiring or recently expired credentials left out of entra_app_credential_expiry_timestamp_seconds by --collector.credentials.expiry-series-limit, summed over the credentials source's refreshes.",
		nil, nil)
)

type credentialsSource struct {
	cfg  Config
	opts credentialsOptions
	// dropped sums the expiry series the limit left out over successful refreshes. Refreshes of
	// one source never overlap (the runner's lock), so it needs no lock of its own.
	dropped float64
}

func newCredentialsSource(c Config, o credentialsOptions) (*credentialsSource, error) {
	switch {
	case o.ExpiryWindow <= 0:
		return nil, fmt.Errorf("--collector.credentials.expiry-window must be positive, got %s", model.Duration(o.ExpiryWindow))
	case o.ExpiredLookback < 0:
		return nil, fmt.Errorf("--collector.credentials.expired-lookback must not be negative, got %s", o.ExpiredLookback)
	case o.SeriesLimit < 0:
		return nil, fmt.Errorf("--collector.credentials.expiry-series-limit must not be negative, got %d", o.SeriesLimit)
	}
	return &credentialsSource{cfg: c, opts: o}, nil
}

// zeroServicePrincipalGroups has every label combination of entra_service_principals at 0.
func zeroServicePrincipalGroups() map[servicePrincipalGroup]float64 {
	groups := map[servicePrincipalGroup]float64{}
	for _, t := range servicePrincipalTypes {
		for _, c := range servicePrincipalUsages {
			for _, o := range servicePrincipalOwners {
				groups[servicePrincipalGroup{t, c, o}] = 0
			}
		}
	}
	return groups
}

func (s *credentialsSource) Refresh(ctx context.Context) (Snapshot, error) {
	now := s.cfg.Now()
	t := &credentialTally{
		tenantID:          strings.ToLower(s.cfg.TenantID),
		now:               now,
		expiringUntil:     now.Add(s.opts.ExpiryWindow),
		seriesFrom:        now.Add(-s.opts.ExpiredLookback),
		servicePrincipals: zeroServicePrincipalGroups(),
		applications:      map[string]float64{},
		credentials:       map[credentialGroup]float64{},
		withoutExpiry:     map[objectKind]float64{},
		series:            expiryHeap{now: now, limit: s.opts.SeriesLimit},
	}
	top := int32(directoryPageSize)
	sps, err := s.cfg.Graph.SDK.ServicePrincipals().Get(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
		Headers:         graph.JSONHeaders(),
		QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{Top: &top, Select: servicePrincipalFields},
	})
	if err != nil {
		return nil, fmt.Errorf("listing servicePrincipals: %w", err)
	}
	err = graph.Each(ctx, s.cfg.Graph, sps, models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, t.addServicePrincipal)
	if err != nil {
		return nil, fmt.Errorf("listing servicePrincipals: %w", err)
	}
	apps, err := s.cfg.Graph.SDK.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		Headers: graph.JSONHeaders(),
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Top: &top, Select: applicationFields,
			Expand: applicationExpand},
	})
	if err != nil {
		return nil, fmt.Errorf("listing applications: %w", err)
	}
	err = graph.Each(ctx, s.cfg.Graph, apps, models.CreateApplicationCollectionResponseFromDiscriminatorValue, t.addApplication)
	if err != nil {
		return nil, fmt.Errorf("listing applications: %w", err)
	}
	s.dropped += float64(t.series.dropped)
	snap := &credentialsSnapshot{
		tenantID:          s.cfg.TenantID,
		servicePrincipals: t.servicePrincipals,
		applications:      t.applications,
		credentials:       t.credentials,
		withoutExpiry:     t.withoutExpiry,
		series:            t.series.sorted(),
		dropped:           s.dropped,
	}
	return snap, nil
}

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
	id, appID := textOf(sp.GetId()), textOf(sp.GetAppId())
	if appID == "" {
		return graph.MalformedError("servicePrincipal %q has no appId", id)
	}
	creds, err := t.merge("servicePrincipal", id, sp.GetKeyCredentials(), sp.GetPasswordCredentials())
	if err != nil {
		return err
	}
	usage := t.countCredentials("service_principal", appID, textOf(sp.GetDisplayName()), creds)
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
	id, appID := textOf(app.GetId()), textOf(app.GetAppId())
	if appID == "" {
		return graph.MalformedError("application %q has no appId", id)
	}
	creds, err := t.merge("application", id, app.GetKeyCredentials(), app.GetPasswordCredentials())
	if err != nil {
		return err
	}
	usage := t.countCredentials("application", appID, textOf(app.GetDisplayName()), creds)
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

// expiry is one series of entra_app_credential_expiry_timestamp_seconds.
type expiry struct {
	object, appID, appName, kind, keyID string
	end                                 time.Time
}

// expiryHeap keeps the limit most urgent expiries: those still to expire before those already
// expired, then the nearest to now first, then by labels, so the choice is deterministic. It
// is a max-heap on urgency's reverse: the least urgent kept is at the root, to be replaced.
type expiryHeap struct {
	now     time.Time
	limit   int
	items   []expiry
	dropped int
}

// moreUrgent orders expiries as the limit keeps them.
func (h *expiryHeap) moreUrgent(a, b expiry) bool {
	aAhead, bAhead := a.end.After(h.now), b.end.After(h.now)
	if aAhead != bAhead {
		return aAhead
	}
	if !a.end.Equal(b.end) {
		return a.end.Before(b.end) == aAhead // ahead: sooner first; expired: latest first
	}
	return compareExpiryLabels(a, b) < 0
}

func compareExpiryLabels(a, b expiry) int {
	return cmp.Or(cmp.Compare(a.object, b.object), cmp.Compare(a.appID, b.appID), cmp.Compare(a.appName, b.appName),
		cmp.Compare(a.kind, b.kind), cmp.Compare(a.keyID, b.keyID))
}

func (h *expiryHeap) offer(e expiry) {
	if len(h.items) < h.limit {
		h.items = append(h.items, e)
		h.up(len(h.items) - 1)
		return
	}
	h.dropped++
	if h.limit > 0 && h.moreUrgent(e, h.items[0]) {
		h.items[0] = e
		h.down(0)
	}
}

// less puts the least urgent at the root.
func (h *expiryHeap) less(i, j int) bool { return h.moreUrgent(h.items[j], h.items[i]) }

func (h *expiryHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

func (h *expiryHeap) down(i int) {
	for {
		smallest := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(h.items) && h.less(c, smallest) {
				smallest = c
			}
		}
		if smallest == i {
			return
		}
		h.items[i], h.items[smallest] = h.items[smallest], h.items[i]
		i = smallest
	}
}

// sorted returns the kept expiries by labels, without duplicates: Graph repeating an object
// across pages must not make two series with one label set, which would fail the whole scrape.
func (h *expiryHeap) sorted() []expiry {
	out := slices.Clone(h.items)
	slices.SortFunc(out, compareExpiryLabels)
	return slices.CompactFunc(out, func(a, b expiry) bool { return compareExpiryLabels(a, b) == 0 })
}

type credentialsSnapshot struct {
	tenantID          string
	servicePrincipals map[servicePrincipalGroup]float64
	applications      map[string]float64
	credentials       map[credentialGroup]float64
	withoutExpiry     map[objectKind]float64
	series            []expiry
	dropped           float64
}

func (s *credentialsSnapshot) Collect(ch chan<- prometheus.Metric) {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append([]string{s.tenantID}, labels...)...)
	}
	for g, v := range s.servicePrincipals {
		gauge(servicePrincipalsDesc, v, g.spType, g.credential, g.owner)
	}
	for _, c := range applicationCredentialUses {
		gauge(applicationsDesc, s.applications[c], c)
	}
	for _, o := range credentialObjects {
		for _, k := range credentialKinds {
			for _, st := range credentialStatuses {
				gauge(appCredentialsDesc, s.credentials[credentialGroup{o, k, st}], o, k, st)
			}
			gauge(withoutExpiryDesc, s.withoutExpiry[objectKind{o, k}], o, k)
		}
	}
	for _, e := range s.series {
		gauge(credentialExpiryDesc, float64(e.end.UnixNano())/1e9, e.object, e.appID, e.appName, e.kind, e.keyID)
	}
	ch <- prometheus.MustNewConstMetric(expirySeriesDroppedDesc, prometheus.CounterValue, s.dropped)
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

func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
