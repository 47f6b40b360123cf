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
	dup     bool // listed by this event type's query but counted under another
}

// parseSignIn reads what the counts need from a beta signIn listed for a query of ev's sign-ins.
// A record is counted with what it has: a label whose field is missing or holds an undocumented
// value is unknown (values.go), a client outside the app table is app other. It returns a skip
// reason only for a record nothing places: no id, no createdDateTime, or event types the query
// excludes.
func (s *signInsSource) parseSignIn(si models.SignInable, ev signInEvent) (signInRecord, string) {
	r := signInRecord{id: graph.Deref(si.GetId())}
	if r.id == "" {
		return r, skipNoID
	}
	if si.GetCreatedDateTime() == nil {
		return r, skipNoCreatedTime
	}
	r.created = si.GetCreatedDateTime().UTC()
	extra := si.GetAdditionalData()
	// Without signInEventTypes the record is what the query asked Graph for.
	if types, ok := stringList(extra["signInEventTypes"]); ok && len(types) > 0 {
		switch {
		case slices.Contains(types, interactiveEvent.graphType) && ev == nonInteractiveEvent:
			r.dup = true // counted by the interactive query
			return r, ""
		case !slices.Contains(types, ev.graphType):
			return r, skipOutsideQuery
		}
	} else {
		s.notes.oddValue("signInEventTypes", "", "the query's event type")
	}
	appID := graph.Deref(si.GetAppId())
	if appID == "" {
		s.notes.oddValue("appId", "", labelOther)
	}
	resourceID := graph.Deref(si.GetResourceId())
	if resourceID == "" {
		s.notes.oddValue("resourceId", "", resourceOther)
	}
	r.key = signInKey{app: s.opts.apps.label(appID), resource: resourceLabel(resourceID), event: ev.label,
		userType: s.userType(extra["userType"]), mfa: s.mfaRequired(extra["authenticationRequirement"]), result: s.result(si)}
	return r, ""
}

// userType is the user_type label of a sign-in's userType (signInUserType, in lowercase).
func (s *signInsSource) userType(v any) string {
	userType, _ := stringValue(v)
	if t := strings.ToLower(userType); userTypes[t] {
		return t
	}
	s.notes.oddValue("userType", userType, labelUnknown)
	return labelUnknown
}

// mfaRequired is the mfa label of a sign-in's authenticationRequirement.
func (s *signInsSource) mfaRequired(v any) string {
	requirement, _ := stringValue(v)
	if mfa, ok := authenticationRequirements[requirement]; ok {
		return mfa
	}
	s.notes.oddValue("authenticationRequirement", requirement, labelUnknown)
	return labelUnknown
}

// result is the result label of a sign-in's status.errorCode: 0 is success.
func (s *signInsSource) result(si models.SignInable) string {
	switch status := si.GetStatus(); {
	case status == nil || status.GetErrorCode() == nil:
		s.notes.oddValue("status.errorCode", "", labelUnknown)
		return labelUnknown
	case *status.GetErrorCode() == 0:
		return "success"
	}
	return "failure"
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
