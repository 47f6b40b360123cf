package collector

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

func init() {
	declareSource("credentials", "Application.Read.All", time.Hour, func(c sourceConfig) (source, error) {
		return newCredentialsSource(c, credentialsOptions{
			ExpiryWindow:    time.Duration(*credentialExpiryWindow),
			ExpiredLookback: time.Duration(*credentialExpiredLookback),
			SeriesLimit:     *credentialExpirySeriesLimit,
		})
	})
}

var (
	credentialExpiryWindow = durationFlag("collector.credentials.expiry-window",
		"A credential ending within this long from now counts as status=\"expiring\" and gets an expiry timestamp series.",
		model.Duration(30*24*time.Hour))
	credentialExpiredLookback = durationFlag("collector.credentials.expired-lookback",
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

// Label values, all exported (at 0 when empty) so that alerts see a 0 rather than nothing;
// unknown, for a type outside Graph's documented ones (values.go), only when there is one.
var (
	credentialObjects         = []string{"application", "service_principal"}
	credentialKinds           = []string{"secret", "certificate"}
	credentialStatuses        = []string{"valid", "expiring", "expired"}
	servicePrincipalOwners    = []string{"tenant", "external"}
	servicePrincipalUsages    = []string{"secret", "certificate", "both", "none"}
	applicationCredentialUses = []string{"secret", "certificate", "both", "federated", "none"}
)

var (
	servicePrincipalsDesc = entraDesc("service_principals",
		"Service principals by servicePrincipalType (unknown for a type Graph does not document), by the credentials they hold (secret, certificate, both, none; a SAML signing certificate's Sign key, Verify key and password count as one certificate) and by owner (external: appOwnerOrganizationId is another organisation, e.g. Microsoft; tenant: this tenant or none).",
		[]string{"tenant_id", "sp_type", "credential", "owner"})
	applicationsDesc = entraDesc("applications",
		"App registrations by the credentials they hold: secret, certificate, both, federated (federated identity credentials and neither a secret nor a certificate), none.",
		[]string{"tenant_id", "credential"})
	appCredentialsDesc = entraDesc("app_credentials",
		"Secrets and certificates of app registrations and service principals by status: expired, expiring (ends within --collector.credentials.expiry-window) or valid. A certificate is one customKeyIdentifier (its thumbprint) however many keys and passwords carry it; a Symmetric key is a secret.",
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

// credentialsSource reads GET /v1.0/servicePrincipals and GET /v1.0/applications
// (Application.Read.All): which service principals and app registrations authenticate with
// client secrets or certificates, and which of those credentials expire soon. The pages are
// folded into a credentialTally (credentials_tally.go); the expiry series, the one part that
// grows with the tenant, are bounded by an expiryHeap (credentials_expiry.go).
type credentialsSource struct {
	cfg  sourceConfig
	opts credentialsOptions
	// dropped sums the expiry series the limit left out over successful refreshes. Refreshes of
	// one source never overlap (the runner's lock), so it needs no lock of its own.
	dropped float64
}

func newCredentialsSource(c sourceConfig, o credentialsOptions) (*credentialsSource, error) {
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

// zeroCounts has every label combination the counts always export, at 0.
func zeroCounts(t *credentialTally) {
	t.servicePrincipals = map[servicePrincipalGroup]float64{}
	for _, spType := range servicePrincipalTypes {
		for _, c := range servicePrincipalUsages {
			for _, o := range servicePrincipalOwners {
				t.servicePrincipals[servicePrincipalGroup{spType, c, o}] = 0
			}
		}
	}
	t.applications = map[string]float64{}
	for _, c := range applicationCredentialUses {
		t.applications[c] = 0
	}
	t.credentials, t.withoutExpiry = map[credentialGroup]float64{}, map[objectKind]float64{}
	for _, o := range credentialObjects {
		for _, k := range credentialKinds {
			for _, st := range credentialStatuses {
				t.credentials[credentialGroup{o, k, st}] = 0
			}
			t.withoutExpiry[objectKind{o, k}] = 0
		}
	}
}

func (s *credentialsSource) skipReasons() []string { return []string{skipNoID, skipNoKeyID} }

func (s *credentialsSource) Refresh(ctx context.Context) (snapshot, error) {
	now := s.cfg.now()
	t := &credentialTally{
		tenantID:      strings.ToLower(s.cfg.tenantID),
		now:           now,
		expiringUntil: now.Add(s.opts.ExpiryWindow),
		seriesFrom:    now.Add(-s.opts.ExpiredLookback),
		series:        newExpiryHeap(now, s.opts.SeriesLimit),
		notes:         newRecordNotes(),
	}
	zeroCounts(t)
	defer t.notes.report("credentials", s.cfg.logger, s.cfg.skipped)
	sps := graph.Query{Path: "/v1.0/servicePrincipals", Select: servicePrincipalFields, Top: directoryPageSize}
	if err := graph.List(ctx, s.cfg.graph, sps, models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, t.addServicePrincipal); err != nil {
		return nil, err
	}
	apps := graph.Query{Path: "/v1.0/applications", Select: applicationFields, Expand: applicationExpand, Top: directoryPageSize}
	if err := graph.List(ctx, s.cfg.graph, apps, models.CreateApplicationCollectionResponseFromDiscriminatorValue, t.addApplication); err != nil {
		return nil, err
	}
	s.dropped += float64(t.series.dropped)
	return &credentialsSnapshot{
		tenantID:          s.cfg.tenantID,
		servicePrincipals: t.servicePrincipals,
		applications:      t.applications,
		credentials:       t.credentials,
		withoutExpiry:     t.withoutExpiry,
		series:            t.series.sorted(),
		dropped:           s.dropped,
	}, nil
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
	for c, v := range s.applications {
		gauge(applicationsDesc, v, c)
	}
	for g, v := range s.credentials {
		gauge(appCredentialsDesc, v, g.object, g.kind, g.status)
	}
	for k, v := range s.withoutExpiry {
		gauge(withoutExpiryDesc, v, k.object, k.kind)
	}
	for _, e := range s.series {
		gauge(credentialExpiryDesc, float64(e.end.UnixNano())/1e9, e.object, e.appID, e.appName, e.kind, e.keyID)
	}
	ch <- prometheus.MustNewConstMetric(expirySeriesDroppedDesc, prometheus.CounterValue, s.dropped)
}
