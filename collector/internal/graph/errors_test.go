package graph_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

// Classify is checked on the errors the real SDK returns for what the fake Graph answers.
func TestClassifyRealErrors(t *testing.T) {
	const path = "/reports/authenticationMethods/userRegistrationDetails"
	for _, tc := range []struct {
		name   string
		fault  fakegraph.Fault
		client func(*testing.T, *fakegraph.Server, *graph.Options)
		ctx    time.Duration // a deadline for the call, if set
		reason string
		status int
		code   string
	}{
		{name: "429 after the retries", fault: fakegraph.Fault{Path: path, Status: 429, RetryAfter: "0", Code: "TooManyRequests", Message: "Please retry again later."},
			reason: graph.ReasonThrottled, status: 429, code: "TooManyRequests"},
		{name: "token not accepted", client: func(_ *testing.T, _ *fakegraph.Server, o *graph.Options) { o.Credential = staticCredential("expired") },
			reason: graph.ReasonUnauthorized, status: 401, code: "InvalidAuthenticationToken"},
		{name: "no token from the authority", client: wrongSecret,
			reason: graph.ReasonUnauthorized},
		{name: "permission missing", fault: fakegraph.Fault{Path: path, Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."},
			reason: graph.ReasonForbidden, status: 403, code: "Authorization_RequestDenied"},
		{name: "no P1/P2 licence", fault: fakegraph.Fault{Path: path, Status: 403, Code: graph.CodeUnlicensed, Message: "Neither tenant is B2C or tenant doesn't have premium license"},
			reason: graph.ReasonUnlicensed, status: 403, code: graph.CodeUnlicensed},
		{name: "500", fault: fakegraph.Fault{Path: path, Status: 500, Code: "InternalServerError", Message: "oops"},
			reason: graph.ReasonServerError, status: 500, code: "InternalServerError"},
		{name: "503 after the retries", fault: fakegraph.Fault{Path: path, Status: 503, RetryAfter: "0", Code: "ServiceUnavailable", Message: "Service Unavailable"},
			reason: graph.ReasonServerError, status: 503, code: "ServiceUnavailable"},
		{name: "400", fault: fakegraph.Fault{Path: path, Status: 400, Code: "BadRequest", Message: "Invalid filter clause"},
			reason: graph.ReasonMalformed, status: 400, code: "BadRequest"},
		{name: "malformed JSON", fault: fakegraph.Fault{Path: path, Malformed: true},
			reason: graph.ReasonMalformed},
		{name: "deadline", fault: fakegraph.Fault{Path: path, Delay: time.Minute}, ctx: 100 * time.Millisecond,
			reason: graph.ReasonTimeout},
		{name: "request timeout", fault: fakegraph.Fault{Path: path, Delay: time.Minute},
			client: func(_ *testing.T, _ *fakegraph.Server, o *graph.Options) { o.RequestTimeout = 100 * time.Millisecond },
			reason: graph.ReasonTimeout},
		{name: "Graph unreachable", client: func(_ *testing.T, fake *fakegraph.Server, o *graph.Options) {
			gone := fakegraph.Start(fake.Tenant)
			gone.Close()
			o.BaseURL = gone.URL
		}, reason: graph.ReasonNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t)
			if tc.fault != (fakegraph.Fault{}) {
				fake.Inject(tc.fault)
			}
			c := newClient(t, fake, func(o *graph.Options) {
				if tc.client != nil {
					tc.client(t, fake, o)
				}
			})
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			err := listReport(ctx, c)
			if err == nil {
				t.Fatal("the call worked, want an error")
			}
			got := graph.Classify(fmt.Errorf("listing userRegistrationDetails: %w", err))
			if got.Reason != tc.reason || got.Status != tc.status || got.Code != tc.code {
				t.Errorf("Classify(%v) = reason %q, HTTP %d, code %q; want %q, %d, %q", err, got.Reason, got.Status, got.Code, tc.reason, tc.status, tc.code)
			}
			if got.Message == "" {
				t.Errorf("Classify(%v) kept no message", err)
			}
			if tc.code != "" && !strings.Contains(got.Error(), tc.code) {
				t.Errorf("%q does not name Graph's code %s", got.Error(), tc.code)
			}
			// Either the SDK's error classified, or the exporter's own error with its cause.
			if !errors.Is(got, err) && (got.Err == nil || !errors.Is(err, got.Err)) {
				t.Errorf("the classified error does not keep the error it came from")
			}
		})
	}
}

func TestClassifyKeepsAMalformedError(t *testing.T) {
	err := fmt.Errorf("listing userRegistrationDetails: %w", graph.MalformedError("a record lacks %s", "isAdmin"))
	got := graph.Classify(err)
	if got.Reason != graph.ReasonMalformed || got.Error() != "malformed: a record lacks isAdmin" {
		t.Errorf("Classify(%v) = %+v", err, got)
	}
}

// wrongSecret gives the client a real azidentity credential that the fake authority refuses.
func wrongSecret(t *testing.T, fake *fakegraph.Server, o *graph.Options) {
	testsupport.NewTokenService(fake).RegisterSecretClient("client-1", "right")
	cred, err := azidentity.NewClientSecretCredential(fake.Tenant.ID, "client-1", "wrong", &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: fake.URL + "/"}, Transport: fake.Client()},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	o.Credential = cred
}
