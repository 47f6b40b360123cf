// Package fakegraph is a fake Microsoft Graph and Entra ID token service on 127.0.0.1, over
// HTTPS, for the tests and for --demo. It speaks Graph's JSON (the shapes of Microsoft's docs),
// honours $select and $top, pages with absolute @odata.nextLink URLs, sends Graph's error
// bodies, can enforce the reports API's throttling budgets, and can inject faults. It serves one
// tenant or several: as Graph does, it serves each request the tenant its access token was issued
// for. A tenant is generated from a seed, record by record from the record's index, so a tenant
// of a million users costs no memory, and it computes its own ground truth without going through
// HTTP.
package fakegraph

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// StaticToken is the bearer token Graph always accepts for its first tenant; --demo uses static
// tokens instead of a credential. StaticTokenFor(id) is another tenant's.
const StaticToken = "fakegraph-static-token"

// StaticTokenFor is the static token of the tenant with this id: Graph serves that tenant to it.
func StaticTokenFor(tenantID string) string { return StaticToken + "." + tenantID }

// Request is one request Graph received, for tests to assert on.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Status int    // 0 when the client gave up before the answer
	Tenant string // the tenant the token was for; "" when no token was accepted
}

// Fault makes matching Graph requests fail. Faults are tried in the order injected; the first
// whose Path is a substring of the request path, with uses left, answers.
type Fault struct {
	Path       string        // substring of the URL path; "" matches every Graph request
	Tenant     string        // the tenant id it answers for; "" for every tenant
	Times      int           // how many requests it answers; 0 means all
	After      int           // let this many matching requests through first (1: fail from the second page); they meet no other fault
	Status     int           // HTTP status of the error; 0 with Malformed or Delay means 200
	RetryAfter string        // Retry-After header, e.g. "1" or "0.2"
	Code       string        // Graph error code, e.g. Authorization_RequestDenied
	Message    string        // Graph error message
	Malformed  bool          // answer 200 with a body that is not valid JSON
	Body       string        // answer Status (200 if 0) with this JSON body, e.g. a record Graph should not send
	Delay      time.Duration // wait this long (or until the client gives up) before answering
}

// Server is a running fake Graph.
type Server struct {
	// URL is the root, e.g. https://127.0.0.1:41234: Graph is under /v1.0 and /beta, the token
	// service under /{tenant}/.
	URL string
	// Tenant is the first tenant, the one StaticToken reads; Tenants are all of them.
	Tenant  *Tenant
	Tenants []*Tenant

	srv    *httptest.Server
	byID   map[string]*Tenant
	tokens TokenService

	mu                      sync.Mutex
	faults                  []*Fault
	requests                []Request
	tenantBudget, appBudget reportsBudget
	throttled               map[string]int // by tenant id
	keep                    bool           // keep Request records
	refusals                []refusal

	randomShare float64 // FailAtRandom
}

// refusal is a set of query options Graph refuses on the paths containing path.
type refusal struct {
	path    string
	options []string
}

// reportsBudget is a throttling budget of the reports API: at most limit requests in any window
// of length per, over the arrival times in log (by tenant for the per-tenant budget).
type reportsBudget struct {
	limit int
	per   time.Duration
	log   map[string][]time.Time
}

type route struct {
	prefix string // path after /v1.0 or /beta, e.g. /reports/authenticationMethods/userRegistrationDetails
	beta   bool
	serve  func(s *Server, w http.ResponseWriter, r *http.Request)
}

// routes are the Graph endpoints; each file of this package adds its own from init.
var routes []route

// Start runs a fake Graph for the tenants (at least one) on 127.0.0.1 with a TLS certificate of
// its own.
func Start(tenants ...*Tenant) *Server {
	s := &Server{Tenant: tenants[0], Tenants: tenants, byID: map[string]*Tenant{}, throttled: map[string]int{}, keep: true}
	for _, t := range tenants {
		if s.byID[t.ID] != nil {
			panic("fakegraph: two tenants with id " + t.ID)
		}
		s.byID[t.ID] = t
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// A client refusing the self-signed certificate is a test case, not news for stderr.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Transport is an HTTP transport that trusts the server's certificate.
func (s *Server) Transport() http.RoundTripper { return s.srv.Client().Transport }

// Client is an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Certificate is the server's TLS certificate, e.g. to write a file for SSL_CERT_FILE.
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// Credential returns the first tenant's static token, as the demo does in place of azidentity.
func (s *Server) Credential() azcore.TokenCredential { return staticCredential(StaticToken) }

// CredentialFor returns the static token of the tenant with this id.
func (s *Server) CredentialFor(tenantID string) azcore.TokenCredential {
	return staticCredential(StaticTokenFor(tenantID))
}

type staticCredential string

func (c staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(24 * time.Hour)}, nil
}

// Serves says whether the fake serves the tenant with this id.
func (s *Server) Serves(tenantID string) bool { return s.byID[tenantID] != nil }

// TokenService is an Entra ID token service served beside Graph, for tests of credential flows
// (the demo needs none: it uses the static token).
type TokenService interface {
	// ServeHTTP serves the requests outside /v1.0 and /beta: the authority's endpoints.
	http.Handler
	// TenantOf says which tenant the service issued token for, if it issued it: Graph then
	// serves that tenant to it.
	TenantOf(token string) (string, bool)
}

// SetTokenService serves ts beside Graph. Call it before the first request.
func (s *Server) SetTokenService(ts TokenService) { s.tokens = ts }

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// RefuseQueryOptions makes Graph answer a request to a path containing path that carries one of
// options ("$select", "$top") with 400 naming it, as Graph answers a query option an API does not
// support: {"error":{"code":"","message":"The query specified in the URI is not valid. Query
// option 'Select' is not allowed. To allow it, set the 'AllowedQueryOptions' property on
// EnableQueryAttribute or QueryValidationSettings."}} (microsoftgraph/microsoft-graph-docs-contrib
// issue 2556; issue 1749 and pull request 8527 show the same for other options). One option is
// named per answer.
func (s *Server) RefuseQueryOptions(path string, options ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, refusal{path, options})
}

// refused is the first query option of r that Graph refuses, in Graph's spelling ('Select'), or "".
func (s *Server) refused(r *http.Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.refusals {
		if !strings.Contains(r.URL.Path, f.path) {
			continue
		}
		for _, option := range f.options {
			if r.URL.Query().Has(option) {
				name := strings.TrimPrefix(option, "$")
				return strings.ToUpper(name[:1]) + name[1:]
			}
		}
	}
	return ""
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// EnforceReportsLimit answers 429 with Retry-After to a reports request (reports/*, auditLogs/*)
// that would make more than n of them for one tenant in any window of length per, as Graph does
// with n=5, per=10s per app and tenant. n=0 turns it off.
func (s *Server) EnforceReportsLimit(n int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenantBudget = reportsBudget{limit: n, per: per, log: map[string][]time.Time{}}
}

// EnforceAppReportsLimit is EnforceReportsLimit across all the tenants, as Graph limits one app
// to 122 reports requests per 10 seconds over every tenant it reads
// (microsoft-graph-docs-contrib includes/throttling-entra-logs-reports.md).
func (s *Server) EnforceAppReportsLimit(n int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appBudget = reportsBudget{limit: n, per: per, log: map[string][]time.Time{}}
}

// Throttled is how many requests the reports limits answered with 429, for every tenant.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.throttled {
		n += c
	}
	return n
}

// KeepRequests turns the request log on or off (benchmarks turn it off).
func (s *Server) KeepRequests(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keep = on
}

// Requests returns the Graph requests received so far, token requests excluded.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	version, rest, isGraph := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !isGraph || (version != "v1.0" && version != "beta") {
		if s.tokens == nil {
			writeError(w, http.StatusNotFound, "NotFound", "No token service: this fake Graph accepts only its static tokens.")
			return
		}
		s.tokens.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	tenant := s.tenantOfToken(r)
	defer func() {
		s.mu.Lock()
		if s.keep {
			req := Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Status: rec.status}
			if tenant != nil {
				req.Tenant = tenant.ID
			}
			s.requests = append(s.requests, req)
		}
		s.mu.Unlock()
	}()
	if tenant == nil {
		writeError(rec, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or invalid.")
		return
	}
	s.serveGraph(rec, r.WithContext(context.WithValue(r.Context(), tenantKey{}, tenant)), version == "beta", "/"+rest)
}

type tenantKey struct{}

// tenantOf is the tenant a Graph request is served, the one its token was issued for.
func tenantOf(r *http.Request) *Tenant { return r.Context().Value(tenantKey{}).(*Tenant) }

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, beta bool, path string) {
	tenant := tenantOf(r)
	if f := s.takeFault(r.URL.Path, tenant.ID); f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				// The client gave up: drop the connection without an answer. Returning would send an
				// empty 200, which the client's transport can still pick up as a response.
				if rec, ok := w.(*statusRecorder); ok {
					rec.status = 0
				}
				panic(http.ErrAbortHandler)
			}
		}
		switch {
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json")
			writeBody(w, []byte(`{"value":[{"id":"1","isAdmin":tru`))
			return
		case f.Body != "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(cmp.Or(f.Status, http.StatusOK))
			writeBody(w, []byte(f.Body))
			return
		case f.Status != 0:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeError(w, f.Status, f.Code, f.Message)
			return
		}
	}
	if strings.HasPrefix(path, "/reports/") || strings.HasPrefix(path, "/auditLogs/") {
		if wait, scope, ok := s.admitReport(tenant.ID); !ok {
			w.Header().Set("Retry-After", strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))
			// The budget that ran out, as <Scope>/<Limit>/<ApplicationId>/<TenantId>
			// (microsoft-graph-docs-contrib concepts/throttling-limits.md, identity and access).
			w.Header().Set("x-ms-throttle-scope", scope+"/Read/"+fakeAppID+"/"+tenant.ID)
			writeError(w, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
			return
		}
	}
	if option := s.refused(r); option != "" {
		writeError(w, http.StatusBadRequest, "", fmt.Sprintf("The query specified in the URI is not valid. Query option '%s' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.", option))
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Only GET is served by this fake.")
		return
	}
	for _, rt := range routes {
		if rt.beta == beta && path == rt.prefix {
			rt.serve(s, w, r)
			return
		}
	}
	writeError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource not found for the segment '%s'.", path))
}

func (s *Server) takeFault(path, tenantID string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !strings.Contains(path, f.Path) || (f.Tenant != "" && f.Tenant != tenantID) {
			continue
		}
		if f.After > 0 {
			f.After--
			return nil
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f
	}
	return s.randomFault()
}

// fakeAppID is the application id the fake's 429s name in x-ms-throttle-scope.
const fakeAppID = "fa4e0000-0000-4000-8000-00000000fa4e"

// admitReport applies the reports budgets: the tenant's, then the app's across tenants. A refused
// request says which ran out: Tenant_Application or Application.
func (s *Server) admitReport(tenantID string) (time.Duration, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if wait, ok := s.tenantBudget.admit(tenantID, now); !ok {
		s.throttled[tenantID]++
		return wait, "Tenant_Application", false
	}
	if wait, ok := s.appBudget.admit("", now); !ok {
		s.tenantBudget.forget(tenantID) // Graph did not count it against the tenant either
		s.throttled[tenantID]++
		return wait, "Application", false
	}
	return 0, "", true
}

// admit records a request arriving at now under key, or says how long until it would fit.
func (b *reportsBudget) admit(key string, now time.Time) (time.Duration, bool) {
	if b.limit <= 0 {
		return 0, true
	}
	keep := b.log[key][:0]
	for _, t := range b.log[key] {
		if now.Sub(t) < b.per {
			keep = append(keep, t)
		}
	}
	b.log[key] = keep
	if len(keep) >= b.limit {
		return keep[0].Add(b.per).Sub(now), false
	}
	b.log[key] = append(keep, now)
	return 0, true
}

// forget takes back the request admit recorded last under key.
func (b *reportsBudget) forget(key string) {
	if n := len(b.log[key]); n > 0 {
		b.log[key] = b.log[key][:n-1]
	}
}

// tenantOfToken is the tenant the request's bearer token was issued for, or nil.
func (s *Server) tenantOfToken(r *http.Request) *Tenant {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok:
		return nil
	case token == StaticToken:
		return s.Tenant
	}
	if id, ok := strings.CutPrefix(token, StaticToken+"."); ok {
		return s.byID[id]
	}
	if s.tokens != nil {
		if id, ok := s.tokens.TenantOf(token); ok {
			return s.byID[id]
		}
	}
	return nil
}

// writeError writes Graph's error body, in the shape of GD concepts/errors.md ("Error resource
// type": error.code, error.message, error.innerError with date, request-id and client-request-id).
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	date := time.Now().UTC().Format("2006-01-02T15:04:05")
	writeBody(w, fmt.Appendf(nil, `{"error":{"code":%s,"message":%s,"innerError":{"date":%q,"request-id":"fakegraph","client-request-id":"fakegraph"}}}`,
		quote(code), quote(message), date))
}

// writeBody sends a response body. Writing fails only when the client has gone, and then there
// is no one left to tell.
func writeBody(w http.ResponseWriter, body []byte) { _, _ = w.Write(body) }
