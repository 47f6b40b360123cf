package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

const reportPath = "/reports/authenticationMethods/userRegistrationDetails"

// listAll lists the fake's registration report in pages of top and returns how many records
// came, and the error classified.
func listAll(ctx context.Context, c *graph.Client, top int) (int, *graph.Error) {
	n := 0
	err := graph.List(ctx, c, graph.Query{Path: "/v1.0" + reportPath, Top: top},
		models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue,
		func(u models.UserRegistrationDetailsable) error {
			_ = u.GetIsAdmin() // a fold reads its record: a nil one panics here
			n++
			return nil
		})
	if err != nil {
		return n, graph.Classify(err)
	}
	return n, nil
}

// Bodies that are JSON but not a page: the SDK reads them as an empty page (an empty tenant,
// source_up 1) or hands on a nil record (a panic in the fold). Each is malformed.
func TestWhatIsNotAPageIsMalformed(t *testing.T) {
	fake := startFake(t)
	c := newClient(t, fake, nil)
	for _, body := range []string{
		`null`, `[]`, `{}`, `"value"`, `1`, `true`,
		`{"value":null}`, `{"value":{}}`, `{"value":"x"}`, `{"value":1}`,
		`{"value":[null]}`, `{"value":[1]}`, `{"value":["a"]}`, `{"value":[[]]}`, `{"value":[{}, null]}`,
		`{"value":[],"value":[]}`,
		`{"@odata.nextLink":"x","values":[]}`,
	} {
		t.Run(body, func(t *testing.T) {
			fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: body})
			n, err := listAll(context.Background(), c, 0)
			if err == nil || err.Reason != graph.ReasonMalformed {
				t.Fatalf("%s: %d records, error %v; want malformed", body, n, err)
			}
		})
	}
}

// What is a page is read, however it is laid out: the check must not refuse Graph's own.
func TestPagesInAnyLayoutAreRead(t *testing.T) {
	fake := startFake(t)
	c := newClient(t, fake, nil)
	for body, want := range map[string]int{
		`{"value":[]}`: 0,
		` { "@odata.context" : "https://graph.microsoft.com/v1.0/$metadata#x" , "value" : [ { "id" : "1" , "isAdmin" : true } , {"id":"2","nested":{"value":[null]},"list":[1,"]",{}]} ] } `: 2,
		`{"\u0076alue":[{"id":"a\"b\\"}],"other":[null,"{",-1.5e3,false]}`: 1,
	} {
		fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: body})
		if n, err := listAll(context.Background(), c, 0); err != nil || n != want {
			t.Errorf("%s: %d records, error %v; want %d records", body, n, err, want)
		}
	}
}

// A failure on a later page is classified exactly as on the first: the same reason, status,
// Graph code and so hint. (Before the pages were requested by List, the SDK's page iterator
// requested them without Graph's error mapping, and every later-page failure was "malformed".)
func TestFailuresOnLaterPagesAreClassifiedAsOnTheFirst(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		reason string
	}{
		{429, "TooManyRequests", graph.ReasonThrottled},
		{403, "Authorization_RequestDenied", graph.ReasonForbidden},
		{500, "InternalServerError", graph.ReasonServerError},
		{503, "ServiceUnavailable", graph.ReasonServerError},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var got []*graph.Error
			for page := range 3 {
				fake := startFake(t) // 10 users: 4 pages of 3
				fake.Inject(fakegraph.Fault{Path: reportPath, After: page, Status: tc.status, RetryAfter: "0", Code: tc.code, Message: "failed on purpose"})
				c := newClient(t, fake, func(o *graph.Options) { o.MaxRetries = 1 })
				n, err := listAll(context.Background(), c, 3)
				if err == nil || n != 3*page {
					t.Fatalf("failing from page %d: %d records, error %v; want %d records and an error", page+1, n, err, 3*page)
				}
				got = append(got, err)
			}
			for page, err := range got {
				if err.Reason != tc.reason || err.Status != tc.status || err.Code != tc.code || err.Message != "failed on purpose" {
					t.Errorf("HTTP %d on page %d: reason %q, status %d, code %q, message %q; want %q, %d, %q as on page 1",
						tc.status, page+1, err.Reason, err.Status, err.Code, err.Message, tc.reason, tc.status, tc.code)
				}
			}
		})
	}
}

// A next link that was followed already would page until the refresh times out.
func TestARepeatedNextLinkIsMalformedAtOnce(t *testing.T) {
	fake := startFake(t)
	loop := fake.URL + "/v1.0" + reportPath + "?$skiptoken=again"
	fake.Inject(fakegraph.Fault{Path: reportPath, Body: `{"@odata.nextLink":"` + loop + `","value":[{"id":"1","isAdmin":false}]}`})
	c := newClient(t, fake, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := listAll(ctx, c, 0)
	if err == nil || err.Reason != graph.ReasonMalformed || !strings.Contains(err.Message, "followed already") {
		t.Fatalf("%d records, error %v; want malformed at the repeated link", n, err)
	}
	if reqs := len(fake.Requests()); reqs != 2 {
		t.Errorf("Graph saw %d requests, want 2: the first page and the link, once", reqs)
	}
}

// A next link off Graph's host would get no token and read another server's answer.
func TestANextLinkToAnotherHostIsMalformed(t *testing.T) {
	fake := startFake(t)
	other := startFake(t)
	for _, link := range []string{other.URL + "/v1.0" + reportPath, "http" + strings.TrimPrefix(fake.URL, "https") + "/v1.0" + reportPath, "::"} {
		fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: `{"@odata.nextLink":"` + link + `","value":[]}`})
		c := newClient(t, fake, nil)
		if n, err := listAll(context.Background(), c, 0); err == nil || err.Reason != graph.ReasonMalformed {
			t.Errorf("next link %s: %d records, error %v; want malformed", link, n, err)
		}
	}
	if reqs := len(other.Requests()); reqs != 0 {
		t.Errorf("the other host saw %d requests", reqs)
	}
}

func TestAResponseOverTheSizeLimitIsMalformed(t *testing.T) {
	fake := startFake(t)
	record := `{"id":"1","isAdmin":false},`
	for _, tc := range []struct {
		records int
		ok      bool
	}{{10, true}, {100, false}} {
		body := `{"value":[` + strings.Repeat(record, tc.records-1) + strings.TrimSuffix(record, ",") + `]}`
		fake.Inject(fakegraph.Fault{Path: reportPath, Times: 1, Body: body})
		c := newClient(t, fake, func(o *graph.Options) { o.MaxResponseBytes = 1024 })
		n, err := listAll(context.Background(), c, 0)
		switch {
		case tc.ok && (err != nil || n != tc.records):
			t.Errorf("a body of %d bytes under the 1024 limit: %d records, error %v", len(body), n, err)
		case !tc.ok && (err == nil || err.Reason != graph.ReasonMalformed || !strings.Contains(err.Message, "more than 1024 bytes")):
			t.Errorf("a body of %d bytes over the 1024 limit: %d records, error %v; want malformed, naming the limit", len(body), n, err)
		}
	}
}

// A Retry-After far in the future, in either form, is cut to MaxRetryAfter and counted, and the
// retry handler does not start a wait the request's timeout would cut short: the failure is
// reported as throttling, at once, not as a timeout after the request timeout.
func TestALongRetryAfterIsCappedAndReportedAsThrottling(t *testing.T) {
	for _, header := range []string{time.Now().Add(3 * time.Hour).UTC().Format(http.TimeFormat), "7200"} {
		fake := startFake(t)
		fake.Inject(fakegraph.Fault{Path: reportPath, Status: 429, RetryAfter: header, Code: "TooManyRequests", Message: "Please retry again later."})
		var capped atomic.Int32
		c := newClient(t, fake, func(o *graph.Options) {
			o.MaxRetries, o.RequestTimeout = 3, 10*time.Second
			o.OnRetryAfterCapped = func(source string) {
				if source == "users" {
					capped.Add(1)
				}
			}
		})
		start := time.Now()
		_, err := listAll(graph.WithSource(context.Background(), "users"), c, 0)
		if err == nil || err.Reason != graph.ReasonThrottled || err.Status != 429 {
			t.Errorf("Retry-After %s: error %v; want throttled (429)", header, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Retry-After %s: the call took %v; want the 429 reported at once", header, took)
		}
		if got := capped.Load(); got != 1 {
			t.Errorf("Retry-After %s: OnRetryAfterCapped told %d times, want once", header, got)
		}
		if reqs := len(fake.Requests()); reqs != 1 {
			t.Errorf("Retry-After %s: Graph saw %d requests, want 1 (no retry that the timeout would cut)", header, reqs)
		}
	}
}

// Get reads one object: the SDK reads `null` as no answer and `[]` or a scalar as an object
// without properties (security defaults "not enabled", say); each is malformed.
func TestGetRefusesWhatIsNotAnObject(t *testing.T) {
	fake := startFake(t)
	c := newClient(t, fake, nil)
	const path = "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"
	for _, body := range []string{`null`, `[]`, `[{"isEnabled":true}]`, `"x"`, `1`, `true`} {
		fake.Inject(fakegraph.Fault{Path: path, Times: 1, Body: body})
		_, err := graph.Get[models.IdentitySecurityDefaultsEnforcementPolicyable](context.Background(), c, graph.Query{Path: path},
			models.CreateIdentitySecurityDefaultsEnforcementPolicyFromDiscriminatorValue)
		if err == nil || graph.Classify(err).Reason != graph.ReasonMalformed {
			t.Errorf("%s: error %v, want malformed", body, err)
		}
	}
	fake.Inject(fakegraph.Fault{Path: path, Times: 1, Body: `{"id":"00000000-0000-0000-0000-000000000005","isEnabled":true}`})
	policy, err := graph.Get[models.IdentitySecurityDefaultsEnforcementPolicyable](context.Background(), c, graph.Query{Path: path},
		models.CreateIdentitySecurityDefaultsEnforcementPolicyFromDiscriminatorValue)
	if err != nil || policy.GetIsEnabled() == nil || !*policy.GetIsEnabled() {
		t.Errorf("an object: %v, %v; want it read", policy, err)
	}
}
