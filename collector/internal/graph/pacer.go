package graph

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Family is a Graph API family with a throttling budget of its own.
type Family string

const (
	// FamilyReports is the identity and access reports: reports/* and auditLogs/*.
	FamilyReports Family = "reports"
	// FamilyDirectory is the directory objects: users, applications, servicePrincipals.
	FamilyDirectory Family = "directory"
)

func familyOf(u string) Family {
	if strings.Contains(u, "/reports/") || strings.Contains(u, "/auditLogs/") {
		return FamilyReports
	}
	return FamilyDirectory
}

// Limit is a request budget: at most Requests requests in any window of length Per.
// The zero Limit does not pace.
type Limit struct {
	Requests int
	Per      time.Duration
}

// GraphLimits are Graph's budgets for the families the sources read, per app per tenant.
//   - Reports: the identity and access reports (userRegistrationDetails, auditLogs/signIns)
//     allow 5 requests per 10 seconds.
//   - Directory: the strictest budget the credentials source meets; listing service principals
//     with keyCredentials selected allows 150 requests a minute. The directory's own
//     resource-unit budget is far larger.
func GraphLimits() map[Family]Limit {
	return map[Family]Limit{
		FamilyReports:   {Requests: 5, Per: 10 * time.Second},
		FamilyDirectory: {Requests: 150, Per: time.Minute},
	}
}

// AppLimits are Graph's budgets per app across all the tenants it reads: the identity and access
// reports allow 122 requests per 10 seconds (microsoft-graph-docs-contrib
// includes/throttling-entra-logs-reports.md, since July 2025).
func AppLimits() map[Family]Limit {
	return map[Family]Limit{FamilyReports: {Requests: 122, Per: 10 * time.Second}}
}

// AppPacer paces one app's requests across every tenant it reads: the Clients of the tenants
// that share an app registration share one.
type AppPacer struct {
	pacers map[Family]*pacer
}

// NewAppPacer paces to limits; a family without one is not paced across tenants.
func NewAppPacer(limits map[Family]Limit) *AppPacer {
	a := &AppPacer{pacers: map[Family]*pacer{}}
	for f, l := range limits {
		a.pacers[f] = newPacer(l)
	}
	return a
}

// pacer keeps one family (of one tenant, or of one app across tenants) inside its Limit. It is
// a token bucket in the strict form Graph enforces: a request takes a token, and the token comes
// back Per after the response arrived, so no window of length Per, as Graph sees it, ever holds
// more than Requests requests. A 429's Retry-After also holds back every request of the family.
type pacer struct {
	limit Limit

	mu        sync.Mutex
	returns   []time.Time // when each token taken comes back; zero while its request is in flight
	heldUntil time.Time   // from a 429's Retry-After
	changed   chan struct{}
}

func newPacer(l Limit) *pacer {
	return &pacer{limit: l, changed: make(chan struct{})}
}

// wait blocks until a request may be sent and returns the token to hand back to done.
func (p *pacer) wait(ctx context.Context) (int, error) {
	for {
		p.mu.Lock()
		now := time.Now()
		delay := p.heldUntil.Sub(now)
		token := -1
		if delay <= 0 {
			delay, token = p.take(now)
		}
		changed := p.changed
		p.mu.Unlock()
		if token >= 0 || (delay <= 0 && p.limit.Requests <= 0) {
			return token, nil
		}
		if err := sleep(ctx, delay, changed); err != nil {
			return -1, err
		}
	}
}

// sleep waits for d (forever when d is 0) or until changed is closed.
func sleep(ctx context.Context, d time.Duration, changed <-chan struct{}) error {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer:
	case <-changed:
	}
	return nil
}

// take hands out a free token, or says how long until one returns (0: wait for a response).
func (p *pacer) take(now time.Time) (time.Duration, int) {
	if p.limit.Requests <= 0 {
		return 0, -1
	}
	if len(p.returns) < p.limit.Requests {
		p.returns = append(p.returns, time.Time{})
		return 0, len(p.returns) - 1
	}
	soonest := time.Duration(math.MaxInt64)
	for i, r := range p.returns {
		if r.IsZero() {
			continue
		}
		if !r.After(now) {
			p.returns[i] = time.Time{}
			return 0, i
		}
		soonest = min(soonest, r.Sub(now))
	}
	if soonest == time.Duration(math.MaxInt64) {
		return 0, -1
	}
	return soonest, -1
}

// release hands back a token whose request was never sent.
func (p *pacer) release(token int) {
	p.mu.Lock()
	if token >= 0 {
		p.returns[token] = time.Now()
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// done hands a token back; retryAfter > 0 holds the whole family back that long.
func (p *pacer) done(token int, retryAfter time.Duration) {
	p.mu.Lock()
	now := time.Now()
	if token >= 0 {
		p.returns[token] = now.Add(p.limit.Per)
	}
	if retryAfter > 0 && now.Add(retryAfter).After(p.heldUntil) {
		p.heldUntil = now.Add(retryAfter)
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// MaxRetryAfter is the longest wait a Retry-After is honoured for. A longer one (hours in
// seconds, or an HTTP date far ahead) is taken as this, so that one answer cannot hold an API
// family, and every source sharing it, for hours; Graph's own Retry-After values are seconds.
const MaxRetryAfter = 5 * time.Minute

// parseRetryAfter reads a Retry-After value: seconds (Graph sends fractions such as 2.128) or an
// HTTP date. It returns the wait, at most MaxRetryAfter, and whether it was cut to that.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	var wait time.Duration
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if !(s > 0) { // NaN too
			return 0, false
		}
		if s >= MaxRetryAfter.Seconds() {
			return MaxRetryAfter, s > MaxRetryAfter.Seconds()
		}
		wait = time.Duration(s * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		wait = t.Sub(now)
	}
	if wait > MaxRetryAfter {
		return MaxRetryAfter, true
	}
	return max(wait, 0), false
}

// appScoped says whether a 429 was for the app's budget across tenants: Graph names the budget
// in x-ms-throttle-scope, e.g. Application/Read/<appId>/<tenantId> (concepts/throttling.md).
func appScoped(resp *http.Response) bool {
	return resp != nil && strings.HasPrefix(resp.Header.Get("x-ms-throttle-scope"), "Application/")
}

// pacedTransport sits under kiota's middleware, so it sees every attempt, retries included.
type pacedTransport struct {
	next               http.RoundTripper
	pacers             map[Family]*pacer
	app                *AppPacer // nil when the tenant's app is not paced across tenants
	onResponse         func(source string, code int)
	onRetryAfterCapped func(source string)
	maxBody            int64
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	family := familyOf(req.URL.Path)
	p := t.pacers[family]
	token, err := p.wait(req.Context())
	if err != nil {
		return nil, err
	}
	// The tenant's budget first: a request waiting for its tenant holds none of the app's.
	var ap *pacer
	appToken := -1
	if t.app != nil {
		ap = t.app.pacers[family]
	}
	if ap != nil {
		if appToken, err = ap.wait(req.Context()); err != nil {
			p.release(token)
			return nil, err
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		p.done(token, 0)
		if ap != nil {
			ap.done(appToken, 0)
		}
		return nil, err
	}
	hold := t.retryAfter(req, resp)
	if resp.StatusCode != http.StatusTooManyRequests {
		hold = 0 // only a 429 speaks for the family's budget; kiota still waits on a 503
	}
	if ap != nil {
		if appScoped(resp) {
			ap.done(appToken, hold)
			hold = 0
		} else {
			ap.done(appToken, 0)
		}
	}
	p.done(token, hold)
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: t.maxBody, limit: t.maxBody}
	if t.onResponse != nil {
		t.onResponse(sourceOf(req.Context()), resp.StatusCode)
	}
	return resp, nil
}

// retryAfter reads the response's Retry-After. One longer than MaxRetryAfter is rewritten to
// it, so that kiota's retry handler above, which reads the header itself, waits no longer.
func (t *pacedTransport) retryAfter(req *http.Request, resp *http.Response) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	wait, capped := parseRetryAfter(v, time.Now())
	if capped {
		resp.Header.Set("Retry-After", strconv.Itoa(int(MaxRetryAfter.Seconds())))
		if t.onRetryAfterCapped != nil {
			t.onRetryAfterCapped(sourceOf(req.Context()))
		}
	}
	return wait
}

// boundedBody fails a read past limit bytes: one huge answer must not take all the memory.
type boundedBody struct {
	io.ReadCloser
	left, limit int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte more than allowed tells a body at the limit from one over it
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, MalformedError("Graph sent a response of more than %d bytes, more than any page it sends", b.limit)
	}
	return n, err
}
