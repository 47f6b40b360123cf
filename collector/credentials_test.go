package collector

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// credentialsClock is the tests' now, shared by the fake tenant and the exporter.
var credentialsClock = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func credentialsNow() time.Time { return credentialsClock }

var defaultCredentialsOptions = credentialsOptions{ExpiryWindow: 30 * 24 * time.Hour, ExpiredLookback: 90 * 24 * time.Hour, SeriesLimit: 500}

// credentialsTenant is a generated tenant with sps service principals and apps applications.
func credentialsTenant(sps, apps int) *fakegraph.Tenant {
	t := testTenant(0)
	t.Credentials = fakegraph.CredentialMix{ServicePrincipals: sps, Applications: apps}
	t.Now = credentialsNow
	return t
}

// credentialsExporter runs the credentials source (and any other sources given) on the fixed clock.
func credentialsExporter(t testing.TB, fake *fakegraph.Server, logs *testsupport.LogBuffer, o credentialsOptions, others map[string]sourceSettings) *Exporter {
	t.Helper()
	sources := map[string]sourceSettings{"credentials": {interval: time.Hour, timeout: 5 * time.Minute,
		new: func(c sourceConfig) (source, error) { return newCredentialsSource(c, o) }}}
	for name, s := range others {
		sources[name] = s
	}
	opts := testConfig(fake, logs, sources)
	opts.now = credentialsNow
	return newTestExporter(t, opts)
}

var credentialCountFamilies = []string{"entra_service_principals", "entra_applications", "entra_app_credentials",
	"entra_app_credentials_without_expiry"}

var credentialSeriesFamilies = []string{"entra_app_credential_expiry_timestamp_seconds", "mfa_exporter_credential_expiry_series_dropped_total"}

func expositionFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// credentialCountsText renders the ground truth's counts in the exposition format; every label
// combination the exporter always exports is there, at 0 when the truth has none.
func credentialCountsText(tenantID string, truth fakegraph.CredentialTruth) string {
	var b strings.Builder
	b.WriteString("# TYPE entra_service_principals gauge\n")
	sps := map[fakegraph.ServicePrincipalGroup]int{}
	for _, typ := range []string{"application", "managed_identity", "legacy", "social_idp"} {
		for _, c := range []string{"secret", "certificate", "both", "none"} {
			for _, o := range []string{"tenant", "external"} {
				sps[fakegraph.ServicePrincipalGroup{Type: typ, Credential: c, Owner: o}] = 0
			}
		}
	}
	for g, n := range truth.ServicePrincipals {
		sps[g] = n
	}
	for g, n := range sps {
		fmt.Fprintf(&b, "entra_service_principals{credential=%q,owner=%q,sp_type=%q,tenant_id=%q} %d\n", g.Credential, g.Owner, g.Type, tenantID, n)
	}
	b.WriteString("# TYPE entra_applications gauge\n")
	for _, c := range []string{"secret", "certificate", "both", "federated", "none"} {
		fmt.Fprintf(&b, "entra_applications{credential=%q,tenant_id=%q} %d\n", c, tenantID, truth.Applications[c])
	}
	b.WriteString("# TYPE entra_app_credentials gauge\n# TYPE entra_app_credentials_without_expiry gauge\n")
	for _, o := range []string{"application", "service_principal"} {
		for _, k := range []string{"secret", "certificate"} {
			for _, s := range []string{"valid", "expiring", "expired"} {
				fmt.Fprintf(&b, "entra_app_credentials{kind=%q,object=%q,status=%q,tenant_id=%q} %d\n", k, o, s, tenantID,
					truth.Credentials[fakegraph.CredentialGroup{Object: o, Kind: k, Status: s}])
			}
			fmt.Fprintf(&b, "entra_app_credentials_without_expiry{kind=%q,object=%q,tenant_id=%q} %d\n", k, o, tenantID,
				truth.WithoutExpiry[fakegraph.ObjectKind{Object: o, Kind: k}])
		}
	}
	return b.String()
}

// expirySeriesText renders expiry series and the dropped counter in the exposition format.
func expirySeriesText(tenantID string, series []fakegraph.ExpirySeries, dropped int) string {
	var b strings.Builder
	if len(series) > 0 {
		b.WriteString("# TYPE entra_app_credential_expiry_timestamp_seconds gauge\n")
	}
	for _, s := range series {
		fmt.Fprintf(&b, "entra_app_credential_expiry_timestamp_seconds{app_id=%q,app_name=%q,key_id=%q,kind=%q,object=%q,tenant_id=%q} %s\n",
			s.AppID, s.AppName, s.KeyID, s.Kind, s.Object, tenantID, expositionFloat(float64(s.End.Unix())))
	}
	fmt.Fprintf(&b, "# TYPE mfa_exporter_credential_expiry_series_dropped_total counter\nmfa_exporter_credential_expiry_series_dropped_total %d\n", dropped)
	return b.String()
}

func TestCredentialsMatchGroundTruthAcrossPages(t *testing.T) {
	// 999 service principals a page and, with $expand, 100 applications a page: three pages each.
	tenant := credentialsTenant(2500, 250)
	fake := testsupport.StartFake(t, tenant)
	o := defaultCredentialsOptions
	o.SeriesLimit = 100000
	e := credentialsExporter(t, fake, nil, o, nil)
	refresh(e)

	truth := tenant.CredentialTruth(o.ExpiryWindow, o.ExpiredLookback)
	compareSamples(t, e, credentialCountsText(tenant.ID, truth), credentialCountFamilies...)
	compareSamples(t, e, expirySeriesText(tenant.ID, truth.Expiry, 0), credentialSeriesFamilies...)

	// The mix must exercise every family, or the comparison above proves little.
	for _, c := range []string{"secret", "certificate", "both", "federated", "none"} {
		if truth.Applications[c] == 0 {
			t.Errorf("the test tenant has no application with credential=%s", c)
		}
	}
	for _, g := range []fakegraph.ServicePrincipalGroup{{Type: "application", Credential: "certificate", Owner: "tenant"},
		{Type: "application", Credential: "both", Owner: "tenant"}, {Type: "managed_identity", Credential: "none", Owner: "tenant"},
		{Type: "application", Credential: "none", Owner: "external"}, {Type: "legacy", Credential: "secret", Owner: "tenant"}} {
		if truth.ServicePrincipals[g] == 0 {
			t.Errorf("the test tenant has no service principal %+v", g)
		}
	}
	for _, status := range []string{"valid", "expiring", "expired"} {
		if truth.Credentials[fakegraph.CredentialGroup{Object: "service_principal", Kind: "certificate", Status: status}] == 0 {
			t.Errorf("the test tenant has no %s SAML certificate", status)
		}
	}
	if truth.WithoutExpiry[fakegraph.ObjectKind{Object: "application", Kind: "secret"}] == 0 {
		t.Error("the test tenant has no never-expiring secret")
	}
	checkCredentialShapes(t, tenant)

	pages := map[string]int{}
	for _, r := range fake.Requests() {
		pages[r.Path]++
		var wantSelect []string
		switch r.Path {
		case "/v1.0/servicePrincipals":
			wantSelect = servicePrincipalFields
		case "/v1.0/applications":
			wantSelect = applicationFields
			if got := r.Query.Get("$expand"); got != "federatedIdentityCredentials" {
				t.Errorf("applications page %d: $expand=%q, want federatedIdentityCredentials", pages[r.Path], got)
			}
		default:
			t.Errorf("unexpected Graph request %s", r.Path)
			continue
		}
		if got := r.Query.Get("$select"); got != strings.Join(wantSelect, ",") {
			t.Errorf("%s page %d: $select=%q, want %q", r.Path, pages[r.Path], got, strings.Join(wantSelect, ","))
		}
		if got := r.Query.Get("$top"); got != "999" {
			t.Errorf("%s page %d: $top=%q, want 999", r.Path, pages[r.Path], got)
		}
		if got := r.Header.Get("Accept"); !strings.Contains(got, "application/json") {
			t.Errorf("%s page %d: Accept %q, want application/json", r.Path, pages[r.Path], got)
		}
	}
	if pages["/v1.0/servicePrincipals"] != 3 || pages["/v1.0/applications"] != 3 {
		t.Errorf("Graph saw %v pages, want 3 of each", pages)
	}
}

// checkCredentialShapes checks that the tenant holds the shapes that the documented SAML trio and
// its kin take (credentials_shapes_test.go has each alone): the old code, merging by keyId,
// counted a SAML certificate twice.
func checkCredentialShapes(t *testing.T, tenant *fakegraph.Tenant) {
	t.Helper()
	shapes := map[string]int{}
	for i := range tenant.Credentials.ServicePrincipals {
		saml := 0
		for _, c := range tenant.ServicePrincipal(i).Credentials {
			if c.SAML {
				saml++
			}
			if c.Symmetric {
				shapes["Symmetric key"]++
			}
		}
		shapes[fmt.Sprintf("%d SAML certificates", saml)]++
	}
	for i := range tenant.Credentials.Applications {
		for _, c := range tenant.Application(i).Credentials {
			if c.UploadedTwice {
				shapes["certificate uploaded twice"]++
			}
		}
	}
	for _, shape := range []string{"1 SAML certificates", "2 SAML certificates", "Symmetric key", "certificate uploaded twice"} {
		if shapes[shape] == 0 {
			t.Errorf("the test tenant has no object with %s", shape)
		}
	}
}

// boundaryExpectation is what the README promises for one edge case of fakegraph's boundary applications.
type boundaryExpectation struct {
	status        string
	series        bool // has an expiry timestamp series
	withoutExpiry bool
}

var boundaryExpectations = map[string]boundaryExpectation{
	"edge-window-end":      {"expiring", true, false}, // the window's end is inside it
	"edge-after-window":    {"valid", false, false},
	"edge-now":             {"expired", true, false}, // ending now is expired
	"edge-just-ahead":      {"expiring", true, false},
	"edge-lookback-start":  {"expired", true, false}, // the lookback's start is inside it
	"edge-before-lookback": {"expired", false, false},
	"edge-far-future":      {"valid", false, false},
	"edge-missing-end":     {"valid", false, true},
	"edge-2299":            {"valid", false, true},
	"edge-2298":            {"valid", false, false},
}

func TestCredentialExpiryBoundaries(t *testing.T) {
	// Not the defaults, so that the options are seen to be used.
	o := credentialsOptions{ExpiryWindow: 7 * 24 * time.Hour, ExpiredLookback: 14 * 24 * time.Hour, SeriesLimit: 500}
	tenant := credentialsTenant(0, fakegraph.BoundaryApplications())
	tenant.Credentials.Boundaries = &fakegraph.ExpiryBoundaries{Window: o.ExpiryWindow, Lookback: o.ExpiredLookback}
	fake := testsupport.StartFake(t, tenant)
	e := credentialsExporter(t, fake, nil, o, nil)
	refresh(e)

	// Expected from the documented rules, case by case, not from the fake's truth.
	want := fakegraph.CredentialTruth{ServicePrincipals: map[fakegraph.ServicePrincipalGroup]int{},
		Applications: map[string]int{"secret": len(boundaryExpectations)}, Credentials: map[fakegraph.CredentialGroup]int{},
		WithoutExpiry: map[fakegraph.ObjectKind]int{}}
	var series []fakegraph.ExpirySeries
	for i := range fakegraph.BoundaryApplications() {
		app := tenant.Application(i)
		exp, ok := boundaryExpectations[app.DisplayName]
		if !ok {
			t.Fatalf("no expectation for boundary application %q", app.DisplayName)
		}
		want.Credentials[fakegraph.CredentialGroup{Object: "application", Kind: "secret", Status: exp.status}]++
		if exp.withoutExpiry {
			want.WithoutExpiry[fakegraph.ObjectKind{Object: "application", Kind: "secret"}]++
		}
		if exp.series {
			c := app.Credentials[0]
			series = append(series, fakegraph.ExpirySeries{Object: "application", AppID: app.AppID, AppName: app.DisplayName,
				Kind: "secret", KeyID: c.KeyID, End: c.End})
		}
	}
	compareSamples(t, e, credentialCountsText(tenant.ID, want), credentialCountFamilies...)
	compareSamples(t, e, expirySeriesText(tenant.ID, series, 0), credentialSeriesFamilies...)
	// The fake's own truth must agree, or the ground-truth test above checks against a wrong rule.
	truth := tenant.CredentialTruth(o.ExpiryWindow, o.ExpiredLookback)
	compareSamples(t, e, credentialCountsText(tenant.ID, truth), credentialCountFamilies...)
}

// mostUrgentFirst is the README's order for the series limit: credentials still to expire
// before expired ones, the nearest to now first, then by labels.
func mostUrgentFirst(now time.Time) func(a, b fakegraph.ExpirySeries) int {
	return func(a, b fakegraph.ExpirySeries) int {
		aAhead, bAhead := a.End.After(now), b.End.After(now)
		switch {
		case aAhead && !bAhead:
			return -1
		case bAhead && !aAhead:
			return 1
		}
		if d := cmp.Compare(a.End.Sub(now).Abs(), b.End.Sub(now).Abs()); d != 0 {
			return d
		}
		return strings.Compare(strings.Join([]string{a.Object, a.AppID, a.AppName, a.Kind, a.KeyID}, "\x00"),
			strings.Join([]string{b.Object, b.AppID, b.AppName, b.Kind, b.KeyID}, "\x00"))
	}
}

func TestCredentialExpirySeriesLimit(t *testing.T) {
	tenant := credentialsTenant(1500, 400)
	fake := testsupport.StartFake(t, tenant)
	o := defaultCredentialsOptions
	truth := tenant.CredentialTruth(o.ExpiryWindow, o.ExpiredLookback)
	slices.SortFunc(truth.Expiry, mostUrgentFirst(credentialsClock))
	// A limit that keeps every credential still to expire and half of the expired ones, so
	// that both orders (soonest to expire, latest expired) decide what is kept.
	ahead := 0
	for _, s := range truth.Expiry {
		if s.End.After(credentialsClock) {
			ahead++
		}
	}
	expired := len(truth.Expiry) - ahead
	if ahead < 2 || expired < 2 {
		t.Fatalf("the tenant has %d expiring and %d expired series; the test needs more", ahead, expired)
	}
	o.SeriesLimit = ahead + expired/2
	kept, dropped := truth.Expiry[:o.SeriesLimit], len(truth.Expiry)-o.SeriesLimit
	e := credentialsExporter(t, fake, nil, o, nil)
	refresh(e)
	compareSamples(t, e, expirySeriesText(tenant.ID, kept, dropped), credentialSeriesFamilies...)
	// The counter sums over refreshes.
	refresh(e)
	compareSamples(t, e, expirySeriesText(tenant.ID, kept, 2*dropped), credentialSeriesFamilies...)
	// The counts are not limited.
	compareSamples(t, e, credentialCountsText(tenant.ID, truth), credentialCountFamilies...)
}

func TestCredentialsForbiddenLeavesUsersAlone(t *testing.T) {
	tenant := credentialsTenant(300, 50)
	tenant.Users = 400
	fake := testsupport.StartFake(t, tenant)
	fake.Inject(fakegraph.Fault{Path: "/servicePrincipals", Status: 403, Code: "Authorization_RequestDenied",
		Message: "Insufficient privileges to complete the operation."})
	logs := &testsupport.LogBuffer{}
	e := credentialsExporter(t, fake, logs, defaultCredentialsOptions, usersOnly(time.Minute))
	refresh(e)

	compareSamples(t, e, userTruthText(tenant), userFamilies...)
	compareSamples(t, e, `
# TYPE mfa_exporter_source_up gauge
mfa_exporter_source_up{source="credentials"} 0
mfa_exporter_source_up{source="users"} 1
`, "mfa_exporter_source_up")
	served := scrape(t, e)
	for _, family := range append(credentialCountFamilies, credentialSeriesFamilies...) {
		if strings.Contains(served, family) {
			t.Errorf("%s is served although the credentials source never read Graph", family)
		}
	}
	if !strings.Contains(served, `mfa_exporter_source_errors_total{reason="forbidden",source="credentials"} 1`) {
		t.Errorf("the 403 is not counted as reason=forbidden:\n%s", served)
	}
	var failure string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "refresh failed") && strings.Contains(line, "source=credentials") {
			failure = line
		}
	}
	for _, want := range []string{"Application.Read.All", "Authorization_RequestDenied", "--no-collector.credentials"} {
		if !strings.Contains(failure, want) {
			t.Errorf("the failure log does not name %q: %q", want, failure)
		}
	}
}

func TestCredentialsOptionsRejected(t *testing.T) {
	for _, tc := range []struct {
		opts credentialsOptions
		flag string
	}{
		{credentialsOptions{ExpiryWindow: 0, ExpiredLookback: time.Hour, SeriesLimit: 1}, "--collector.credentials.expiry-window"},
		{credentialsOptions{ExpiryWindow: time.Hour, ExpiredLookback: -time.Hour, SeriesLimit: 1}, "--collector.credentials.expired-lookback"},
		{credentialsOptions{ExpiryWindow: time.Hour, ExpiredLookback: time.Hour, SeriesLimit: -1}, "--collector.credentials.expiry-series-limit"},
	} {
		_, err := newCredentialsSource(sourceConfig{}, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("options %+v: error %v, want one naming %s", tc.opts, err, tc.flag)
		}
	}
}

func TestCredentialsMalformedKeepsNoSnapshot(t *testing.T) {
	tenant := credentialsTenant(2500, 10)
	fake := testsupport.StartFake(t, tenant)
	// The applications come after every service principal was counted; when they are not JSON,
	// no half-counted snapshot may appear.
	fake.Inject(fakegraph.Fault{Path: "/applications", Malformed: true})
	e := credentialsExporter(t, fake, nil, defaultCredentialsOptions, nil)
	refresh(e)
	if served := scrape(t, e, credentialCountFamilies...); served != "" {
		t.Errorf("a failed refresh served counts:\n%s", served)
	}
	compareSamples(t, e, `
# TYPE mfa_exporter_source_up gauge
mfa_exporter_source_up{source="credentials"} 0
`, "mfa_exporter_source_up")
}

// BenchmarkCredentialsRefresh reads tenants of 20,000 and 200,000 service principals (and a
// tenth as many applications) and reports Graph requests per refresh, the heap in use after the
// refresh (garbage collected, the fake Graph's request log off) and the time per refresh.
func BenchmarkCredentialsRefresh(b *testing.B) {
	for _, sps := range []int{20000, 200000} {
		b.Run(fmt.Sprintf("servicePrincipals=%d", sps), func(b *testing.B) {
			tenant := credentialsTenant(sps, sps/10)
			fake := testsupport.StartFake(b, tenant)
			fake.KeepRequests(false)
			e := credentialsExporter(b, fake, nil, defaultCredentialsOptions, nil)
			for b.Loop() {
				refresh(e)
			}
			b.StopTimer()
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(e)
			mfs, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			requests := 0.0
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					switch mf.GetName() {
					case "mfa_exporter_source_up":
						if m.GetGauge().GetValue() != 1 {
							b.Fatal("the refresh failed")
						}
					case "mfa_exporter_graph_requests_total":
						requests += m.GetCounter().GetValue()
					}
				}
			}
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(requests/float64(b.N), "requests/op")
			b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-inuse-MiB")
		})
	}
}
