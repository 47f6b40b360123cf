package graph

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestPacerHandsOutTokensUpToTheLimit(t *testing.T) {
	p := newPacer(Limit{Requests: 2, Per: 150 * time.Millisecond})
	ctx := context.Background()
	first, _ := p.wait(ctx)
	second, _ := p.wait(ctx)
	if first < 0 || second < 0 || first == second {
		t.Fatalf("the first two requests got tokens %d and %d, want two distinct tokens", first, second)
	}

	// Both tokens are in flight: a third request waits for a response, however long it takes.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if token, err := p.wait(short); err == nil {
		t.Fatalf("a third request got token %d while both were in flight, want it to wait", token)
	}

	// A token comes back Per after its response, not when the response arrives.
	answered := time.Now()
	p.done(first, 0)
	third, err := p.wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(answered); waited < 150*time.Millisecond {
		t.Errorf("the third request went %v after the first response, before the 150ms window passed", waited)
	}
	if third != first {
		t.Errorf("the third request got token %d, want the returned token %d", third, first)
	}
}

func TestPacerHoldsTheFamilyForRetryAfter(t *testing.T) {
	for _, limit := range []Limit{{}, {Requests: 5, Per: time.Millisecond}} {
		p := newPacer(limit)
		token, _ := p.wait(context.Background())
		throttled := time.Now()
		p.done(token, 200*time.Millisecond)
		if _, err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(throttled); waited < 200*time.Millisecond {
			t.Errorf("limit %v: the next request went %v after a 429 with Retry-After 0.2, want at least 200ms", limit, waited)
		}
	}
}

func TestPacerWithoutLimitDoesNotWait(t *testing.T) {
	p := newPacer(Limit{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for range 100 {
		token, err := p.wait(ctx)
		if err != nil {
			t.Fatalf("an unpaced request waited: %v", err)
		}
		p.done(token, 0)
	}
}

func TestPacerWaitEndsWithTheContext(t *testing.T) {
	p := newPacer(Limit{})
	p.done(-1, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.wait(ctx); err != context.DeadlineExceeded {
		t.Errorf("wait under an hour's Retry-After returned %v, want the context's deadline", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Now()
	date := func(d time.Duration) string { return now.Add(d).UTC().Format(http.TimeFormat) }
	for _, tc := range []struct {
		header   string
		min, max time.Duration
		capped   bool
	}{
		{"0.2", 200 * time.Millisecond, 200 * time.Millisecond, false},
		{"2.128", 2128 * time.Millisecond, 2128 * time.Millisecond, false},
		{"5", 5 * time.Second, 5 * time.Second, false},
		{date(3 * time.Second), 2 * time.Second, 3 * time.Second, false}, // an HTTP date has whole seconds
		{"300", MaxRetryAfter, MaxRetryAfter, false},
		// Longer waits, in either form, are held to MaxRetryAfter and said to be.
		{"301", MaxRetryAfter, MaxRetryAfter, true},
		{"7200", MaxRetryAfter, MaxRetryAfter, true},
		{"1e300", MaxRetryAfter, MaxRetryAfter, true},
		{"Inf", MaxRetryAfter, MaxRetryAfter, true},
		{date(3 * time.Hour), MaxRetryAfter, MaxRetryAfter, true},
		{date(100 * 365 * 24 * time.Hour), MaxRetryAfter, MaxRetryAfter, true},
		{date(-time.Hour), 0, 0, false},
		{"", 0, 0, false},
		{"soon", 0, 0, false},
		{"-1", 0, 0, false},
		{"NaN", 0, 0, false},
	} {
		got, capped := parseRetryAfter(tc.header, now)
		if got < tc.min || got > tc.max || capped != tc.capped {
			t.Errorf("Retry-After %q: wait %v (capped %t), want %v to %v (capped %t)", tc.header, got, capped, tc.min, tc.max, tc.capped)
		}
	}
}

func TestFamilyOf(t *testing.T) {
	for path, want := range map[string]Family{
		"/v1.0/reports/authenticationMethods/userRegistrationDetails": FamilyReports,
		"/beta/auditLogs/signIns":                                     FamilyReports,
		"/v1.0/auditLogs/signIns":                                     FamilyReports,
		"/v1.0/servicePrincipals":                                     FamilyDirectory,
		"/v1.0/applications":                                          FamilyDirectory,
		"/v1.0/users":                                                 FamilyDirectory,
		"/graph/v1.0/reports/x":                                       FamilyReports, // behind a proxy path
	} {
		if got := familyOf(path); got != want {
			t.Errorf("familyOf(%q) = %s, want %s", path, got, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A 429 whose Retry-After is hours away holds its family for MaxRetryAfter, not hours, and the
// header kiota's retry handler reads is cut to match.
func TestALongRetryAfterHoldsTheFamilyForTheMaximum(t *testing.T) {
	for _, header := range []string{time.Now().Add(3 * time.Hour).UTC().Format(http.TimeFormat), "7200"} {
		capped := 0
		transport := &pacedTransport{
			next: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {header}}, Body: http.NoBody}, nil
			}),
			pacers:             map[Family]*pacer{FamilyReports: newPacer(Limit{})},
			onRetryAfterCapped: func(string) { capped++ },
			maxBody:            DefaultMaxResponseBytes,
		}
		req, _ := http.NewRequest(http.MethodGet, "https://graph.example/v1.0/reports/x", nil)
		sent := time.Now()
		resp, err := transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		held := transport.pacers[FamilyReports].heldUntil.Sub(sent)
		if held < MaxRetryAfter-time.Second || held > MaxRetryAfter+time.Second {
			t.Errorf("Retry-After %s: the family is held %v, want MaxRetryAfter (%v)", header, held, MaxRetryAfter)
		}
		if got := resp.Header.Get("Retry-After"); got != "300" || capped != 1 {
			t.Errorf("Retry-After %s: passed on as %q and counted %d times; want 300 and once", header, got, capped)
		}
	}
}
