package graph

import (
	"context"
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

// pacer keeps one family (of one tenant: a Client serves one tenant) inside its Limit. It is
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

// retryAfter reads a 429's Retry-After: seconds (Graph sends fractions such as 2.128) or a date.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		return 0
	}
	v := resp.Header.Get("Retry-After")
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 && s < 3600 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// pacedTransport sits under kiota's middleware, so it sees every attempt, retries included.
type pacedTransport struct {
	next       http.RoundTripper
	pacers     map[Family]*pacer
	onResponse func(source string, code int)
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.pacers[familyOf(req.URL.Path)]
	token, err := p.wait(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	p.done(token, retryAfter(resp))
	if err == nil && t.onResponse != nil {
		t.onResponse(sourceOf(req.Context()), resp.StatusCode)
	}
	return resp, err
}
