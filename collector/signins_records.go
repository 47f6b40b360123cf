package collector

import (
	"slices"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

type signInRecord struct {
	id      string
	created time.Time
	key     signInKey
	skip    bool // listed by this event type's query but counted under another
}

// parseSignIn reads what the counts need from a beta signIn: a record without it is a
// malformed response, never a silent miscount.
func parseSignIn(si models.SignInable, ev signInEvent) (signInRecord, error) {
	var r signInRecord
	if si.GetId() == nil || *si.GetId() == "" {
		return r, graph.MalformedError("a sign-in lacks its id")
	}
	r.id = *si.GetId()
	missing := func(field string) error {
		return graph.MalformedError("sign-in %s lacks %s", r.id, field)
	}
	if si.GetCreatedDateTime() == nil {
		return r, missing("createdDateTime")
	}
	r.created = si.GetCreatedDateTime().UTC()
	extra := si.GetAdditionalData()
	types, ok := stringList(extra["signInEventTypes"])
	if !ok || len(types) == 0 {
		return r, missing("signInEventTypes (a beta field: is the request going to /beta?)")
	}
	switch {
	case slices.Contains(types, interactiveEvent.graphType) && ev == nonInteractiveEvent:
		r.skip = true // counted by the interactive query
		return r, nil
	case !slices.Contains(types, ev.graphType):
		return r, graph.MalformedError("sign-in %s has signInEventTypes %v, listed for a query of %s sign-ins", r.id, types, ev.graphType)
	}
	if si.GetAppId() == nil {
		return r, missing("appId")
	}
	r.key.app = appLabel(*si.GetAppId(), graph.Deref(si.GetResourceId()))
	if _, known := managementApps[strings.ToLower(*si.GetAppId())]; !known && si.GetResourceId() == nil {
		return r, missing("resourceId")
	}
	userType, ok := stringValue(extra["userType"])
	if !ok || userType == "" {
		return r, missing("userType (a beta field)")
	}
	r.key.userType = strings.ToLower(userType)
	requirement, ok := stringValue(extra["authenticationRequirement"])
	switch {
	case !ok:
		return r, missing("authenticationRequirement (a beta field)")
	case requirement == "multiFactorAuthentication":
		r.key.mfa = true
	case requirement == "singleFactorAuthentication":
	default:
		return r, graph.MalformedError("sign-in %s has authenticationRequirement %q; known are multiFactorAuthentication and singleFactorAuthentication", r.id, requirement)
	}
	if si.GetStatus() == nil || si.GetStatus().GetErrorCode() == nil {
		return r, missing("status.errorCode")
	}
	r.key.success = *si.GetStatus().GetErrorCode() == 0
	r.key.event = ev.label
	return r, nil
}

// stringValue reads a string from a model's additional data, where the JSON parser puts
// unknown string properties as *string.
func stringValue(v any) (string, bool) {
	switch s := v.(type) {
	case *string:
		if s == nil {
			return "", false
		}
		return *s, true
	case string:
		return s, true
	}
	return "", false
}

// stringList reads a string array from additional data ([]interface{} of *string).
func stringList(v any) ([]string, bool) {
	items, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		s, ok := stringValue(item)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
