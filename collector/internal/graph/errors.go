package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Reasons a refresh fails, the values of mfa_exporter_source_errors_total's reason label.
const (
	ReasonThrottled    = "throttled"
	ReasonUnauthorized = "unauthorized"
	ReasonForbidden    = "forbidden"
	ReasonUnlicensed   = "unlicensed"
	ReasonServerError  = "server_error"
	ReasonTimeout      = "timeout"
	ReasonMalformed    = "malformed"
	ReasonNetwork      = "network"
)

// CodeUnlicensed is Graph's error code for a tenant without Entra ID P1/P2 on a reports API.
const CodeUnlicensed = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

// HintContext is what a failure's hint names: the source, the permission it needs, its timeout.
type HintContext struct {
	Source     string
	Permission string
	Timeout    time.Duration
}

// reason is one way a Graph call fails: its label, how it is recognised, and what an operator can do.
type reason struct {
	name    string
	matches func(e *Error, err error) bool
	hint    func(c HintContext) string
}

// reasons are tried in order; the last matches anything.
func reasons() []reason {
	return []reason{
		{ReasonUnlicensed, func(e *Error, _ error) bool { return e.Code == CodeUnlicensed }, func(c HintContext) string {
			return fmt.Sprintf("this Graph report needs a Microsoft Entra ID P1 or P2 licence in the tenant; without one, disable the source with --no-collector.%s", c.Source)
		}},
		{ReasonThrottled, func(e *Error, _ error) bool { return e.Status == 429 }, func(c HintContext) string {
			return fmt.Sprintf("Graph kept throttling after the retries; raise --collector.%s.refresh-interval or look for other apps using the same budget", c.Source)
		}},
		{ReasonUnauthorized, func(e *Error, err error) bool {
			var authErr *azidentity.AuthenticationFailedError
			return e.Status == 401 || (errors.As(err, &authErr) && !errors.Is(err, context.DeadlineExceeded))
		}, func(HintContext) string {
			return "the token was refused: check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate (expired?)"
		}},
		{ReasonForbidden, func(e *Error, _ error) bool { return e.Status == 403 }, func(c HintContext) string {
			return fmt.Sprintf("grant the app the Microsoft Graph application permission %s with admin consent, or disable the source with --no-collector.%s", c.Permission, c.Source)
		}},
		{ReasonServerError, func(e *Error, _ error) bool { return e.Status >= 500 }, func(HintContext) string {
			return "Graph failed on its side; the next refresh will try again"
		}},
		{ReasonTimeout, func(e *Error, err error) bool {
			var netErr net.Error
			return e.Status == 0 && (errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()))
		}, func(c HintContext) string {
			return fmt.Sprintf("the refresh did not finish in %s; raise --collector.%s.refresh-timeout (large tenants need time under Graph's throttling budget)", c.Timeout, c.Source)
		}},
		{ReasonNetwork, func(e *Error, err error) bool {
			var netErr net.Error
			return e.Status == 0 && errors.As(err, &netErr)
		}, func(HintContext) string {
			return "Graph could not be reached: check DNS, proxy (HTTPS_PROXY) and firewall"
		}},
		// Another 4xx (Graph refused the request as asked; its message says why), or a body that
		// was not the JSON Graph promises.
		{ReasonMalformed, func(*Error, error) bool { return true }, func(HintContext) string {
			return "Graph answered with something the exporter could not read; the next refresh will try again"
		}},
	}
}

// Reasons lists every reason, so that counters can start at zero.
func Reasons() []string {
	var names []string
	for _, r := range reasons() {
		names = append(names, r.name)
	}
	return names
}

// Hint says what an operator can do about a failure of the given reason.
func Hint(name string, c HintContext) string {
	for _, r := range reasons() {
		if r.name == name {
			return r.hint(c)
		}
	}
	return ""
}

// Error is a failed Graph call, classified.
type Error struct {
	Reason  string // one of the Reason* constants
	Status  int    // HTTP status, 0 when no response came
	Code    string // Graph's error code, if it sent one
	Message string // Graph's message, or the underlying error's text
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// MalformedError marks a Graph response that parsed but made no sense (a missing field).
func MalformedError(format string, args ...any) error {
	return &Error{Reason: ReasonMalformed, Message: fmt.Sprintf(format, args...)}
}

// malformedBecause marks a Graph response that failed to parse, keeping the parser's error.
func malformedBecause(err error, what string) error {
	return &Error{Reason: ReasonMalformed, Message: what + ": " + err.Error(), Err: err}
}

// Classify turns any error from a Graph call into an *Error.
func Classify(err error) *Error {
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	e := &Error{Err: err, Message: err.Error()}
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		e.Status = odata.ResponseStatusCode
		if main := odata.GetErrorEscaped(); main != nil {
			e.Code = Deref(main.GetCode())
			e.Message = Deref(main.GetMessage())
		}
	}
	for _, r := range reasons() {
		if r.matches(e, err) {
			e.Reason = r.name
			break
		}
	}
	return e
}
