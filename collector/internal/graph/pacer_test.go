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
	inThreeSeconds := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		status   int
		header   string
		min, max time.Duration
	}{
		{429, "0.2", 200 * time.Millisecond, 200 * time.Millisecond},
		{429, "2.128", 2128 * time.Millisecond, 2128 * time.Millisecond},
		{429, "5", 5 * time.Second, 5 * time.Second},
		{429, inThreeSeconds, 1 * time.Second, 3 * time.Second}, // an HTTP date has whole seconds
		{429, "", 0, 0},
		{429, "soon", 0, 0},
		{429, "-1", 0, 0},
		{503, "1", 0, 0}, // only a 429 speaks for the budget; kiota still waits on a 503
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
		if tc.header != "" {
			resp.Header.Set("Retry-After", tc.header)
		}
		if got := retryAfter(resp); got < tc.min || got > tc.max {
			t.Errorf("HTTP %d Retry-After %q: hold %v, want %v to %v", tc.status, tc.header, got, tc.min, tc.max)
		}
	}
	if got := retryAfter(nil); got != 0 {
		t.Errorf("no response: hold %v, want 0", got)
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
