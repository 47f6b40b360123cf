package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

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

// Reasons lists every reason, so that counters can start at zero.
var Reasons = []string{ReasonThrottled, ReasonUnauthorized, ReasonForbidden, ReasonUnlicensed,
	ReasonServerError, ReasonTimeout, ReasonMalformed, ReasonNetwork}

// CodeUnlicensed is Graph's error code for a tenant without Entra ID P1/P2 on a reports API.
const CodeUnlicensed = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

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

// Classify turns any error from a Graph call into an *Error.
func Classify(err error) *Error {
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	e := &Error{Err: err, Message: err.Error()}
	var odata *odataerrors.ODataError
	var authErr *azidentity.AuthenticationFailedError
	var netErr net.Error
	switch {
	case errors.As(err, &odata):
		e.Status = odata.ResponseStatusCode
		if main := odata.GetErrorEscaped(); main != nil {
			e.Code = deref(main.GetCode())
			e.Message = deref(main.GetMessage())
		}
		e.Reason = reasonForStatus(e.Status, e.Code)
	case errors.Is(err, context.DeadlineExceeded):
		e.Reason = ReasonTimeout
	case errors.As(err, &authErr):
		e.Reason = ReasonUnauthorized
	case errors.As(err, &netErr):
		if netErr.Timeout() {
			e.Reason = ReasonTimeout
		} else {
			e.Reason = ReasonNetwork
		}
	default:
		// What is left comes from decoding a body that was not the JSON Graph promises.
		e.Reason = ReasonMalformed
	}
	return e
}

func reasonForStatus(status int, code string) string {
	switch {
	case code == CodeUnlicensed:
		return ReasonUnlicensed
	case status == 429:
		return ReasonThrottled
	case status == 401:
		return ReasonUnauthorized
	case status == 403:
		return ReasonForbidden
	case status >= 500:
		return ReasonServerError
	default:
		// Another 4xx: Graph refused the request as asked (the message says why).
		return ReasonMalformed
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
