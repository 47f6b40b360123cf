package fakegraph

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func init() {
	routes = append(routes,
		route{prefix: "/servicePrincipals", serve: (*Server).serveServicePrincipals},
		route{prefix: "/applications", serve: (*Server).serveApplications})
}

// CredentialMix sizes the tenant's service principals and app registrations.
type CredentialMix struct {
	ServicePrincipals int
	Applications      int
	// Boundaries, when set, makes the first applications the expiry edge cases of
	// BoundaryApplications instead of generated ones.
	Boundaries *ExpiryBoundaries
}

// ExpiryBoundaries are the expiry window and the lookback of expired credentials whose edges the
// boundary applications sit on.
type ExpiryBoundaries struct {
	Window, Lookback time.Duration
}

// MicrosoftServicesTenantID is the appOwnerOrganizationId of Microsoft's first-party apps.
const MicrosoftServicesTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// NeverExpires is the endDateTime the Entra portal gives a credential that "never expires".
var NeverExpires = time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)

// Credential is one credential as Entra ID means it, however many entries Graph shows for it.
type Credential struct {
	KeyID       string
	Certificate bool // a certificate, else a secret
	// Symmetric is a secret held as a keyCredential of type Symmetric (legacy service principals).
	Symmetric bool
	// SAML is a SAML token-signing certificate (service principals only): a Sign key, a Verify key
	// of keyId OtherKeyID and a password of the Sign key's keyId, all of one customKeyIdentifier.
	SAML bool
	// UploadedTwice is a certificate added twice with one thumbprint: two Verify keys, the second
	// of keyId OtherKeyID.
	UploadedTwice bool
	OtherKeyID    string
	End           time.Time
	NoEnd         bool // Graph sends "endDateTime": null
}

// Kind is the credential's kind label: certificate or secret.
func (c Credential) Kind() string {
	if c.Certificate {
		return "certificate"
	}
	return "secret"
}

// LabelKeyID is the key_id an exporter should show for it: the least keyId among its entries,
// so that the series does not depend on the order Graph lists them in.
func (c Credential) LabelKeyID() string {
	if c.OtherKeyID != "" && c.OtherKeyID < c.KeyID {
		return c.OtherKeyID
	}
	return c.KeyID
}

// ServicePrincipal is one generated service principal.
type ServicePrincipal struct {
	ID, AppID, DisplayName string
	// Type is Graph's servicePrincipalType: Application, ManagedIdentity, Legacy or SocialIdp.
	Type           string
	AccountEnabled bool
	// OwnerOrg is appOwnerOrganizationId; "" means Graph sends null.
	OwnerOrg    string
	Credentials []Credential
}

// Application is one generated app registration.
type Application struct {
	ID, AppID, DisplayName string
	Credentials            []Credential
	// Federated are the subjects of its federated identity credentials.
	Federated []string
}

var appNames = []string{"ci-deployer", "billing-api", "hr-portal", "backup-agent", "terraform", "grafana-sso",
	"jira-saml", "data-pipeline", "mail-relay", "payroll-sync", "github-actions", "monitoring"}

func appName(r *rng, i int) string { return fmt.Sprintf("%s-%d", appNames[r.intn(len(appNames))], i) }

// credentialEnd draws an end date relative to now: 12% expired (up to 400 days ago), 10% ending
// within 30 days, 5% the portal's "never", the rest 31 days to 2 years ahead.
func (r *rng) credentialEnd(now time.Time) time.Time {
	const day = 24 * time.Hour
	switch p := r.intn(100); {
	case p < 12:
		return now.Add(-day - time.Duration(r.intn(400*86400))*time.Second)
	case p < 22:
		return now.Add(time.Duration(1+r.intn(30*86400)) * time.Second)
	case p < 27:
		return NeverExpires
	default:
		return now.Add(31*day + time.Duration(r.intn(700*86400))*time.Second)
	}
}

// samlCertificate is a SAML token-signing certificate as addTokenSigningCertificate makes it.
func (r *rng) samlCertificate(now time.Time) Credential {
	return Credential{KeyID: r.uuid(), OtherKeyID: r.uuid(), Certificate: true, SAML: true, End: r.credentialEnd(now)}
}

func (r *rng) credentials(now time.Time, n int, certificate bool) []Credential {
	out := make([]Credential, n)
	for k := range out {
		out[k] = Credential{KeyID: r.uuid(), Certificate: certificate, End: r.credentialEnd(now)}
	}
	return out
}

// ServicePrincipal generates the i-th service principal. The mix: 55% Microsoft first-party
// and 17% other organisations' apps, none with credentials; 14% the tenant's own apps, of which
// 10% carry a SAML signing certificate, 2% two (rolled over), 4% a certificate and a secret, 4% a
// secret; 11% managed identities; 2% legacy, a quarter with a secret, a quarter with a Symmetric
// key; 1% social identity providers.
func (t *Tenant) ServicePrincipal(i int) ServicePrincipal {
	r := t.rng(streamServicePrincipal, i)
	now := t.now().Truncate(time.Second)
	sp := ServicePrincipal{ID: r.uuid(), AppID: r.uuid(), Type: "Application", AccountEnabled: r.chance(0.97)}
	switch p := r.intn(1000); {
	case p < 550:
		sp.OwnerOrg, sp.DisplayName = MicrosoftServicesTenantID, fmt.Sprintf("Microsoft service %d", i)
	case p < 720:
		sp.OwnerOrg, sp.DisplayName = r.uuid(), fmt.Sprintf("Partner app %d", i)
	case p < 860:
		sp.OwnerOrg, sp.DisplayName = t.ID, appName(r, i)
		switch q := r.intn(100); {
		case q < 10:
			sp.Credentials = []Credential{r.samlCertificate(now)}
		case q < 12: // rolled over: the new certificate added before the old one is removed
			sp.Credentials = []Credential{r.samlCertificate(now), r.samlCertificate(now)}
		case q < 16:
			sp.Credentials = append([]Credential{r.samlCertificate(now)}, r.credentials(now, 1, false)...)
		case q < 20:
			sp.Credentials = r.credentials(now, 1, false)
		}
	case p < 970:
		sp.Type, sp.DisplayName = "ManagedIdentity", fmt.Sprintf("mi-%d", i)
	case p < 990:
		sp.Type, sp.OwnerOrg, sp.DisplayName = "Legacy", t.ID, fmt.Sprintf("legacy-%d", i)
		switch r.intn(4) {
		case 0:
			sp.Credentials = r.credentials(now, 1, false)
		case 1:
			sp.Credentials = []Credential{{KeyID: r.uuid(), Symmetric: true, End: r.credentialEnd(now)}}
		}
	default:
		sp.Type, sp.DisplayName = "SocialIdp", fmt.Sprintf("social-idp-%d", i)
	}
	return sp
}

// Application generates the i-th app registration. The mix: 33% client secrets only, 17%
// certificates only (2% one certificate uploaded twice), 10% both, 10% federated identity
// credentials only, 4% federated and a secret, 26% no credentials.
func (t *Tenant) Application(i int) Application {
	if b := t.Credentials.Boundaries; b != nil && i < len(boundaryCases) {
		return t.boundaryApplication(i, *b)
	}
	r := t.rng(streamApplication, i)
	now := t.now().Truncate(time.Second)
	app := Application{ID: r.uuid(), AppID: r.uuid()}
	app.DisplayName = appName(r, i)
	federated := func() {
		for k := range 1 + r.intn(3) {
			app.Federated = append(app.Federated, fmt.Sprintf("repo:contoso/%s:environment:env%d", app.DisplayName, k))
		}
	}
	switch q := r.intn(100); {
	case q < 33:
		app.Credentials = r.credentials(now, 1+r.intn(2), false)
	case q < 48:
		app.Credentials = r.credentials(now, 1+r.intn(2), true)
	case q < 50: // a certificate uploaded twice: Graph takes it as two keys of one thumbprint
		c := r.credentials(now, 1, true)[0]
		c.UploadedTwice, c.OtherKeyID = true, r.uuid()
		app.Credentials = []Credential{c}
	case q < 60:
		app.Credentials = append(r.credentials(now, 1, false), r.credentials(now, 1+r.intn(2), true)...)
	case q < 70:
		federated()
	case q < 74:
		federated()
		app.Credentials = r.credentials(now, 1, false)
	}
	return app
}

// boundaryCase is one expiry edge case: a secret ending at now+offset (lookback: now-lookback+offset).
type boundaryCase struct {
	Name     string
	offset   func(b ExpiryBoundaries) time.Duration
	fixedEnd time.Time
	noEnd    bool
}

var boundaryCases = []boundaryCase{
	{Name: "edge-window-end", offset: func(b ExpiryBoundaries) time.Duration { return b.Window }},
	{Name: "edge-after-window", offset: func(b ExpiryBoundaries) time.Duration { return b.Window + time.Second }},
	{Name: "edge-now", offset: func(ExpiryBoundaries) time.Duration { return 0 }},
	{Name: "edge-just-ahead", offset: func(ExpiryBoundaries) time.Duration { return time.Second }},
	{Name: "edge-lookback-start", offset: func(b ExpiryBoundaries) time.Duration { return -b.Lookback }},
	{Name: "edge-before-lookback", offset: func(b ExpiryBoundaries) time.Duration { return -b.Lookback - time.Second }},
	{Name: "edge-far-future", offset: func(ExpiryBoundaries) time.Duration { return 100 * 365 * 24 * time.Hour }},
	{Name: "edge-missing-end", noEnd: true},
	{Name: "edge-2299", fixedEnd: NeverExpires},
	{Name: "edge-2298", fixedEnd: time.Date(2298, 12, 31, 0, 0, 0, 0, time.UTC)},
}

// BoundaryApplications is how many applications Boundaries turns into edge cases.
func BoundaryApplications() int { return len(boundaryCases) }

func (t *Tenant) boundaryApplication(i int, b ExpiryBoundaries) Application {
	r := t.rng(streamApplication, i)
	c := boundaryCases[i]
	cred := Credential{KeyID: r.uuid(), NoEnd: c.noEnd, End: c.fixedEnd}
	if c.offset != nil {
		cred.End = t.now().Truncate(time.Second).Add(c.offset(b))
	}
	return Application{ID: r.uuid(), AppID: r.uuid(), DisplayName: c.Name, Credentials: []Credential{cred}}
}

// The properties each list serves; $select of anything else is refused, as Graph does.
var (
	servicePrincipalProperties = setOf("id", "appId", "displayName", "servicePrincipalType", "accountEnabled",
		"appOwnerOrganizationId", "passwordCredentials", "keyCredentials", "tags")
	applicationProperties = setOf("id", "appId", "displayName", "passwordCredentials", "keyCredentials", "signInAudience")
)

func setOf(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// parseDirectoryList reads a directory list's $select, $top and $expand. Graph's default page is
// 100 and its maximum 999, but only 100 when $expand is used on directory objects.
func parseDirectoryList(r *http.Request, typeName string, properties map[string]bool, expandable string) (listQuery, bool, error) {
	expand := false
	if e := r.URL.Query().Get("$expand"); e != "" {
		if e != expandable || expandable == "" {
			return listQuery{}, false, refuse("Could not find a property named '%s' on type 'microsoft.graph.%s'.", e, typeName)
		}
		expand = true
	}
	maxTop := 999
	if expand {
		maxTop = 100
	}
	q, err := parseList(r, 100, maxTop)
	if err != nil {
		return q, false, err
	}
	for f := range q.fields {
		if !properties[f] {
			return q, false, refuse("Could not find a property named '%s' on type 'microsoft.graph.%s'.", f, typeName)
		}
	}
	if expand && q.fields != nil {
		q.fields[expandable] = true
	}
	return q, expand, nil
}

// serveServicePrincipals is GET /v1.0/servicePrincipals, in the shape of GD
// api-reference/v1.0/api/serviceprincipal-list.md's response with the properties of
// resources/serviceprincipal.md (appOwnerOrganizationId null for a managed identity).
func (s *Server) serveServicePrincipals(w http.ResponseWriter, r *http.Request) {
	q, _, err := parseDirectoryList(r, "servicePrincipal", servicePrincipalProperties, "")
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", err.Error())
		return
	}
	s.writePage(w, r, "/v1.0/$metadata#servicePrincipals", q, tenantOf(r).Credentials.ServicePrincipals, func(i int, o *object) {
		sp := tenantOf(r).ServicePrincipal(i)
		o.Str("id", sp.ID)
		o.Str("appId", sp.AppID)
		o.Str("displayName", sp.DisplayName)
		o.Str("servicePrincipalType", sp.Type)
		o.Bool("accountEnabled", sp.AccountEnabled)
		if sp.OwnerOrg == "" {
			o.Null("appOwnerOrganizationId")
		} else {
			o.Str("appOwnerOrganizationId", sp.OwnerOrg)
		}
		o.Strs("tags", []string{})
		writeCredentials(o, sp.DisplayName, sp.Credentials, q.fields != nil)
	})
}

// serveApplications is GET /v1.0/applications, in the shape of GD api-reference/v1.0/api/
// application-list.md's response; $expand=federatedIdentityCredentials adds the objects of
// resources/federatedidentitycredential.md (GD application-list-federatedidentitycredentials.md).
func (s *Server) serveApplications(w http.ResponseWriter, r *http.Request) {
	q, expand, err := parseDirectoryList(r, "application", applicationProperties, "federatedIdentityCredentials")
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", err.Error())
		return
	}
	s.writePage(w, r, "/v1.0/$metadata#applications", q, tenantOf(r).Credentials.Applications, func(i int, o *object) {
		app := tenantOf(r).Application(i)
		o.Str("id", app.ID)
		o.Str("appId", app.AppID)
		o.Str("displayName", app.DisplayName)
		o.Str("signInAudience", "AzureADMyOrg")
		writeCredentials(o, app.DisplayName, app.Credentials, q.fields != nil)
		if expand {
			o.objects("federatedIdentityCredentials", len(app.Federated), func(k int, f *object) {
				f.Str("id", fmt.Sprintf("%s-fic-%d", app.ID[:8], k))
				f.Str("name", fmt.Sprintf("fic-%d", k))
				f.Str("issuer", "https://token.actions.githubusercontent.com")
				f.Str("subject", app.Federated[k])
				f.Strs("audiences", []string{"api://AzureADTokenExchange"})
				f.Null("description")
			})
		}
	})
}

// certificateBlob stands in for keyCredentials.key, a DER certificate of about a kilobyte.
var certificateBlob = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("fakegraph certificate ", 48)))

// credentialEntry is one entry of keyCredentials or passwordCredentials.
type credentialEntry struct {
	c            Credential
	keyID        string
	keyType      string // keyCredential type; "" for a password
	usage        string // Sign or Verify for a key
	identifiable bool   // carries the certificate's customKeyIdentifier
}

// credentialEntries are the entries Graph shows for creds.
//   - A SAML token-signing certificate, as addTokenSigningCertificate makes it: a private key with
//     usage Sign, a public key with usage Verify and a password, all with one customKeyIdentifier;
//     the password and the Sign key share a keyId, the Verify key has its own
//     (GD api-reference/v1.0/api/serviceprincipal-addtokensigningcertificate.md). The Sign key's
//     type is X509CertAndPassword, "the usage must be Sign" (GD api-reference/v1.0/api/serviceprincipal-addkey.md).
//   - A certificate: a key of type AsymmetricX509Cert with usage Verify, customKeyIdentifier its
//     thumbprint by default (GD api-reference/v1.0/resources/keycredential.md; the example of
//     GRAPH-FACTS §3); uploaded twice, two such keys of one thumbprint.
//   - A Symmetric key (GD keycredential.md names the type) and a client secret (passwordCredential,
//     customKeyIdentifier null: GD api-reference/v1.0/resources/passwordcredential.md, GRAPH-FACTS §3).
func credentialEntries(creds []Credential) (keys, passwords []credentialEntry) {
	for _, c := range creds {
		switch {
		case c.SAML:
			keys = append(keys, credentialEntry{c, c.KeyID, "X509CertAndPassword", "Sign", true},
				credentialEntry{c, c.OtherKeyID, "AsymmetricX509Cert", "Verify", true})
			passwords = append(passwords, credentialEntry{c: c, keyID: c.KeyID, identifiable: true})
		case c.UploadedTwice:
			keys = append(keys, credentialEntry{c, c.KeyID, "AsymmetricX509Cert", "Verify", true},
				credentialEntry{c, c.OtherKeyID, "AsymmetricX509Cert", "Verify", true})
		case c.Certificate:
			keys = append(keys, credentialEntry{c, c.KeyID, "AsymmetricX509Cert", "Verify", true})
		case c.Symmetric:
			keys = append(keys, credentialEntry{c, c.KeyID, "Symmetric", "Verify", false})
		default:
			passwords = append(passwords, credentialEntry{c: c, keyID: c.KeyID})
		}
	}
	return keys, passwords
}

// thumbprint is a certificate's customKeyIdentifier: its SHA-1 thumbprint, 20 bytes, in base64
// as Graph sends Binary ("2iD8ppbE+D6Kmu1ZvjM2jtQh88E=" in GD's addTokenSigningCertificate example).
func thumbprint(c Credential) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(c.KeyID, "-", "")[:20]))
}

// writeCredentials writes passwordCredentials and keyCredentials as Graph shows them. Listing
// without $select leaves keyCredentials.key null; $select=keyCredentials returns it.
func writeCredentials(o *object, name string, creds []Credential, selected bool) {
	keys, passwords := credentialEntries(creds)
	dates := func(o *object, c Credential) {
		if c.NoEnd {
			o.Null("startDateTime")
			o.Null("endDateTime")
			return
		}
		o.Str("startDateTime", formatTime(c.End.AddDate(-1, 0, 0)))
		o.Str("endDateTime", formatTime(c.End))
	}
	o.objects("passwordCredentials", len(passwords), func(k int, p *object) {
		e := passwords[k]
		if e.identifiable {
			p.Str("customKeyIdentifier", thumbprint(e.c))
		} else {
			p.Null("customKeyIdentifier")
		}
		p.Str("displayName", "secret for "+name)
		dates(p, e.c)
		p.Str("hint", "Abc")
		p.Str("keyId", e.keyID)
		p.Null("secretText")
	})
	o.objects("keyCredentials", len(keys), func(k int, key *object) {
		e := keys[k]
		if e.identifiable {
			key.Str("customKeyIdentifier", thumbprint(e.c))
		} else {
			key.Null("customKeyIdentifier")
		}
		key.Str("displayName", "CN="+name)
		dates(key, e.c)
		if selected && e.usage == "Verify" {
			key.Str("key", certificateBlob)
		} else {
			key.Null("key")
		}
		key.Str("keyId", e.keyID)
		key.Str("type", e.keyType)
		key.Str("usage", e.usage)
	})
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// objects writes an array of n objects, the k-th built by fill.
func (o *object) objects(k string, n int, fill func(k int, inner *object)) {
	if !o.key(k) {
		return
	}
	o.buf = append(o.buf, '[')
	for i := range n {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		inner := &object{buf: append(o.buf, '{')}
		fill(i, inner)
		o.buf = append(inner.buf, '}')
	}
	o.buf = append(o.buf, ']')
}

// Ground truth.

// ServicePrincipalGroup is the labels of entra_service_principals.
type ServicePrincipalGroup struct{ Type, Credential, Owner string }

// CredentialGroup is the labels of entra_app_credentials.
type CredentialGroup struct{ Object, Kind, Status string }

// ObjectKind is the labels of entra_app_credentials_without_expiry.
type ObjectKind struct{ Object, Kind string }

// ExpirySeries is one series of entra_app_credential_expiry_timestamp_seconds.
type ExpirySeries struct {
	Object, AppID, AppName, Kind, KeyID string
	End                                 time.Time
}

// CredentialTruth is what an exporter should count for the tenant's credentials.
type CredentialTruth struct {
	ServicePrincipals map[ServicePrincipalGroup]int
	// Applications counts app registrations by credential: secret, certificate, both,
	// federated (federated identity credentials and no secret or certificate), none.
	Applications  map[string]int
	Credentials   map[CredentialGroup]int
	WithoutExpiry map[ObjectKind]int
	// Expiry holds every credential that is expiring, or expired no longer ago than lookback,
	// unordered and before any series limit.
	Expiry []ExpirySeries
}

var servicePrincipalTypeLabels = map[string]string{"Application": "application", "ManagedIdentity": "managed_identity",
	"Legacy": "legacy", "SocialIdp": "social_idp"}

// CredentialTruth counts the generated service principals and applications directly. A
// credential is expired when its end is not after now, expiring when it is not after now+window,
// and otherwise valid; one without an end or ending in 2299 or later never expires (valid).
func (t *Tenant) CredentialTruth(window, lookback time.Duration) CredentialTruth {
	truth := CredentialTruth{ServicePrincipals: map[ServicePrincipalGroup]int{}, Applications: map[string]int{},
		Credentials: map[CredentialGroup]int{}, WithoutExpiry: map[ObjectKind]int{}}
	now := t.now().Truncate(time.Second)
	count := func(object, appID, appName string, creds []Credential) string {
		secret, certificate := false, false
		for _, c := range creds {
			secret = secret || !c.Certificate
			certificate = certificate || c.Certificate
			status := "valid"
			switch {
			case c.NoEnd || c.End.Year() >= 2299:
				truth.WithoutExpiry[ObjectKind{object, c.Kind()}]++
			case !c.End.After(now):
				status = "expired"
			case !c.End.After(now.Add(window)):
				status = "expiring"
			}
			truth.Credentials[CredentialGroup{object, c.Kind(), status}]++
			if status == "expiring" || (status == "expired" && !c.End.Before(now.Add(-lookback))) {
				truth.Expiry = append(truth.Expiry, ExpirySeries{object, appID, appName, c.Kind(), c.LabelKeyID(), c.End})
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
	for i := range t.Credentials.ServicePrincipals {
		sp := t.ServicePrincipal(i)
		owner := "external"
		if sp.OwnerOrg == "" || sp.OwnerOrg == t.ID {
			owner = "tenant"
		}
		credential := count("service_principal", sp.AppID, sp.DisplayName, sp.Credentials)
		truth.ServicePrincipals[ServicePrincipalGroup{servicePrincipalTypeLabels[sp.Type], credential, owner}]++
	}
	for i := range t.Credentials.Applications {
		app := t.Application(i)
		credential := count("application", app.AppID, app.DisplayName, app.Credentials)
		if credential == "none" && len(app.Federated) > 0 {
			credential = "federated"
		}
		truth.Applications[credential]++
	}
	return truth
}
