package fakegraph

import (
	"strings"
	"testing"
	"time"
)

// The index range of a createdDateTime range is what both the served list and the ground truth
// rest on: check it against the generator's createdDateTime, at its edges.
func TestSignInIndexRange(t *testing.T) {
	for _, perDay := range []int{1, 7, 1000, 86400, 1_000_000} {
		tenant := &Tenant{Seed: 1, SignIns: SignInMix{PerDay: perDay}}
		for _, at := range []time.Time{SignInEpoch, SignInEpoch.Add(time.Second), SignInEpoch.Add(1500 * time.Millisecond),
			SignInEpoch.Add(90*24*time.Hour + 17*time.Second), SignInEpoch.Add(400*24*time.Hour + 123456789)} {
			if i := tenant.signInIndexFrom(at); tenant.signInCreated(i).Before(at) || (i > 0 && !tenant.signInCreated(i-1).Before(at)) {
				t.Errorf("PerDay %d: signInIndexFrom(%s) = %d, created %s (before: %s)", perDay, at, i, tenant.signInCreated(i), tenant.signInCreated(i-1))
			}
			if i := tenant.signInIndexTo(at); (i > 0 && tenant.signInCreated(i-1).After(at)) || !tenant.signInCreated(i).After(at) {
				t.Errorf("PerDay %d: signInIndexTo(%s) = %d, created %s (before: %s)", perDay, at, i, tenant.signInCreated(i), tenant.signInCreated(i-1))
			}
		}
	}
}

func TestSignInFilterRefusesWhatGraphDoesNotDocument(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, filter := range []string{
		"createdDateTime ge '2026-11-19T10:00:00Z'", // date literals are not quoted
		"createdDateTime gt 2026-11-19T10:00:00Z",
		"signInEventTypes/any(t: t eq 'interactiveUser') or signInEventTypes/any(t: t eq 'nonInteractiveUser')",
		"appId in ('04b07795-8ddb-461a-bbee-02f9e1bf7b46')",
	} {
		if _, err := parseSignInFilter(filter, now); err == nil || !strings.Contains(err.Error(), "Invalid filter clause") {
			t.Errorf("filter %q: got %v, want Invalid filter clause", filter, err)
		}
	}
	q, err := parseSignInFilter("createdDateTime ge 2026-11-19T10:00:00Z and createdDateTime le 2026-11-20T09:00:00.5Z and signInEventTypes/any(t: t eq 'nonInteractiveUser')", now)
	if err != nil || q.eventType != EventNonInteractiveUser || !q.from.Equal(now.Add(-24*time.Hour)) || !q.to.Equal(now.Add(-time.Hour+500*time.Millisecond)) {
		t.Errorf("got %+v, %v", q, err)
	}
}
