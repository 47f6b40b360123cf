package fakegraph

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func init() {
	routes = append(routes, route{prefix: "/auditLogs/signIns", beta: true, serve: (*Server).serveSignIns})
}

// SignInMix sizes the tenant's sign-in log. Sign-ins are spaced evenly in time: the i-th is
// created at SignInEpoch + floor(i·24h/PerDay) in whole seconds, so a createdDateTime range
// is an index range and a day of a million sign-ins costs no memory.
type SignInMix struct {
	PerDay int
	// Late is the fraction of sign-ins that Graph lists only some time after their
	// createdDateTime, by the tenant's clock (Graph's logs lag by minutes).
	Late float64
	// MaxDelay bounds how late such a sign-in appears: whole seconds in [1s, MaxDelay].
	MaxDelay time.Duration
}

// SignInEpoch is when the 0th sign-in was created.
var SignInEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// signInRetention is how far back Graph lists sign-ins (Entra ID P1/P2: 30 days).
const signInRetention = 30 * 24 * time.Hour

// streamSignInUser draws the users who sign in; far from the other streams.
const streamSignInUser uint64 = 0x51

// The event types of a sign-in (signInEventTypes).
const (
	EventInteractiveUser    = "interactiveUser"
	EventNonInteractiveUser = "nonInteractiveUser"
	EventServicePrincipal   = "servicePrincipal"
	EventManagedIdentity    = "managedIdentity"
)

// signInApp is a client app users sign in with, and the resource they sign in to. appLabel is
// the fake's own knowledge of which client app of Microsoft's mandatory MFA it is (the exporter's
// app label, other for the rest), written here independently of the exporter's table so that
// tests check one against the other.
type signInApp struct {
	id, name, resourceID, resourceName, clientAppUsed string
	appLabel                                          string
	singleFactor                                      float64 // share of its user sign-ins with a single factor
	interactive, nonInteractive                       int     // weights among user sign-ins
}

const (
	armID   = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
	armName = "Windows Azure Service Management API"
	graphID = "00000003-0000-0000-c000-000000000000"
)

var signInApps = []signInApp{
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", armID, armName, "Browser", "azure_portal", 0.08, 15, 5},
	{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", armID, armName, "Mobile Apps and Desktop clients", "azure_cli", 0.15, 6, 15},
	{"1950a258-227b-4e31-a9cf-717495945fc2", "Microsoft Azure PowerShell", armID, armName, "Mobile Apps and Desktop clients", "azure_powershell", 0.12, 4, 8},
	{"0c1307d4-29d6-4389-a11c-5cbe7f65d7fa", "Azure Mobile App", armID, armName, "Mobile Apps and Desktop clients", "azure_mobile_app", 0.05, 2, 2},
	// An infrastructure-as-code tool with an app registration of its own, calling Resource Manager:
	// no management app, but Resource Manager enforces phase 2 on it all the same.
	{"5f2b8a41-6c0e-4d7a-9b3f-1e8c2a7d4b60", "Contoso Terraform Runner", armID, armName, "Mobile Apps and Desktop clients", "other", 0.20, 3, 5},
	// The Azure CLI calling Graph is still the Azure CLI.
	{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", graphID, "Microsoft Graph", "Mobile Apps and Desktop clients", "azure_cli", 0.15, 1, 3},
	{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "Mobile Apps and Desktop clients", "other", 0.20, 40, 35},
	{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", "Mobile Apps and Desktop clients", "other", 0.25, 20, 27},
	{"de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph Explorer", graphID, "Microsoft Graph", "Browser", "other", 0.10, 9, 0},
}

// workloadApps are what service principals and managed identities sign in to: excluded from
// user sign-in counts even when they call Resource Manager with a single factor.
var workloadApps = []signInApp{
	{id: "8a1f3c52-7d4e-4b9a-a0c6-2e5f1b8d9c73", name: "ci-deployer", resourceID: armID, resourceName: armName},
	{id: "b7e2d941-3a5c-4f08-8e1d-6c9a0f4b2e15", name: "backup-automation", resourceID: graphID, resourceName: "Microsoft Graph"},
}

// SignIn is one generated sign-in.
type SignIn struct {
	Index                     int
	ID                        string
	Created                   time.Time
	Visible                   time.Time // when Graph starts listing it
	EventType                 string
	AppID, AppDisplayName     string
	ResourceID, ResourceName  string
	ClientAppUsed             string
	UserID, UserPrincipalName string
	UserType                  string // member or guest; "" for workload sign-ins
	ServicePrincipalID        string
	AuthenticationRequirement string
	ErrorCode                 int
	FailureReason             string
	// AppLabel is the app label the exporter should count it under.
	AppLabel string
	// Odd is how the record departs from what Graph documents (Tenant.Odd); "" for none.
	Odd string
}

// The ways a user sign-in departs from the documented shape; none is documented: each is here to
// test that one such record, in the middle of a page, is counted with what it has (or, without
// an id or a createdDateTime, left out and counted as such).
const (
	OddSignInNoID          = "no id"
	OddSignInNoCreated     = "no createdDateTime"
	OddSignInNoUserType    = "no userType"
	OddSignInUserType      = "userType externalMember"
	OddSignInNoRequirement = "no authenticationRequirement"
	OddSignInRequirement   = "authenticationRequirement deviceBoundAuthentication"
	OddSignInNoResource    = "no resourceId"
	OddSignInNoStatus      = "no status"
	OddSignInNoEventTypes  = "no signInEventTypes"
	streamOddSignIn        = streamOdd + 1
)

var oddSignIns = []string{OddSignInNoID, OddSignInNoCreated, OddSignInNoUserType, OddSignInUserType, OddSignInNoRequirement,
	OddSignInRequirement, OddSignInNoResource, OddSignInNoStatus, OddSignInNoEventTypes}

// Placed says whether an exporter can place the sign-in at all: it has an id and a createdDateTime.
func (s SignIn) Placed() bool { return s.Odd != OddSignInNoID && s.Odd != OddSignInNoCreated }

// servedResourceID is the resourceId Graph sends for it.
func (s SignIn) servedResourceID() string {
	if s.Odd == OddSignInNoResource {
		return ""
	}
	return s.ResourceID
}

// IsUser says whether it is a user sign-in (interactive or not).
func (s SignIn) IsUser() bool {
	return s.EventType == EventInteractiveUser || s.EventType == EventNonInteractiveUser
}

const day = 24 * time.Hour

// signInCreated is when the i-th sign-in was created, in whole seconds.
func (t *Tenant) signInCreated(i int) time.Time {
	return SignInEpoch.Add(time.Duration(int64(i)*int64(day/time.Second)/int64(t.SignIns.PerDay)) * time.Second)
}

// signInIndexFrom is the first index created at or after from.
func (t *Tenant) signInIndexFrom(from time.Time) int {
	if !from.After(SignInEpoch) {
		return 0
	}
	sec := int64(from.Sub(SignInEpoch) / time.Second)
	if from.Sub(SignInEpoch)%time.Second != 0 {
		sec++
	}
	return int(ceilDiv(sec*int64(t.SignIns.PerDay), int64(day/time.Second)))
}

// signInIndexTo is one past the last index created at or before to.
func (t *Tenant) signInIndexTo(to time.Time) int {
	if to.Before(SignInEpoch) {
		return 0
	}
	sec := int64(to.Sub(SignInEpoch) / time.Second)
	return int(ceilDiv((sec+1)*int64(t.SignIns.PerDay), int64(day/time.Second)))
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// SignIn generates the i-th sign-in. The mix: 25% interactive and 65% non-interactive user
// sign-ins (CLI and PowerShell token refreshes among them), 7% service principals and 3%
// managed identities; 10% of the signing-in users are guests; most user sign-ins use MFA, the
// single-factor share depends on the app (Resource Manager tools and Office the most) and
// doubles for guests; 7% of interactive and 2% of non-interactive sign-ins fail.
func (t *Tenant) SignIn(i int) SignIn {
	r := t.rng(streamSignIn, i)
	s := SignIn{Index: i, ID: r.uuid(), Created: t.signInCreated(i)}
	s.Visible = s.Created
	if late, delay := r.chance(t.SignIns.Late), r.next(); late && t.SignIns.MaxDelay >= time.Second {
		s.Visible = s.Created.Add(time.Duration(1+delay%uint64(t.SignIns.MaxDelay/time.Second)) * time.Second)
	}
	switch p := r.intn(100); {
	case p < 25:
		s.EventType = EventInteractiveUser
	case p < 90:
		s.EventType = EventNonInteractiveUser
	case p < 97:
		s.EventType = EventServicePrincipal
	default:
		s.EventType = EventManagedIdentity
	}
	if !s.IsUser() {
		app := workloadApps[r.intn(len(workloadApps))]
		s.AppID, s.AppDisplayName, s.ResourceID, s.ResourceName = app.id, app.name, app.resourceID, app.resourceName
		s.ServicePrincipalID = t.rng(streamSignInUser, -1-r.intn(len(workloadApps))).uuid()
		s.AuthenticationRequirement = "singleFactorAuthentication"
		s.AppLabel = "workload"
		return s
	}
	interactive := s.EventType == EventInteractiveUser
	app := pickApp(r, interactive)
	s.AppID, s.AppDisplayName, s.ResourceID, s.ResourceName = app.id, app.name, app.resourceID, app.resourceName
	s.ClientAppUsed, s.AppLabel = app.clientAppUsed, app.appLabel
	pool := max(t.Users, 100)
	k := r.intn(pool)
	ur := t.rng(streamSignInUser, k)
	s.UserID = ur.uuid()
	s.UserType = "member"
	s.UserPrincipalName = fmt.Sprintf("user%07d@%s", k, t.Domain)
	if ur.chance(0.10) {
		s.UserType = "guest"
		s.UserPrincipalName = fmt.Sprintf("guest%07d_fabrikam.example#EXT#@%s", k, t.Domain)
	}
	single := app.singleFactor
	if s.UserType == "guest" {
		single *= 2
	}
	s.AuthenticationRequirement = "multiFactorAuthentication"
	if r.chance(single) {
		s.AuthenticationRequirement = "singleFactorAuthentication"
	}
	failure := 0.02
	if interactive {
		failure = 0.07
	}
	if or := t.rng(streamOddSignIn, i); or.chance(t.Odd) {
		s.Odd = oddSignIns[or.intn(len(oddSignIns))]
	}
	if r.chance(failure) {
		switch {
		case !interactive:
			s.ErrorCode, s.FailureReason = 70044, "The session has expired or is invalid due to sign-in frequency checks by conditional access."
		case s.AuthenticationRequirement == "singleFactorAuthentication":
			s.ErrorCode, s.FailureReason = 50126, "Error validating credentials due to invalid username or password."
		default:
			s.ErrorCode, s.FailureReason = 500121, "Authentication failed during strong authentication request."
		}
	}
	return s
}

func pickApp(r *rng, interactive bool) signInApp {
	weight := func(a signInApp) int {
		if interactive {
			return a.interactive
		}
		return a.nonInteractive
	}
	total := 0
	for _, a := range signInApps {
		total += weight(a)
	}
	n := r.intn(total)
	for _, a := range signInApps {
		if n -= weight(a); n < 0 {
			return a
		}
	}
	panic("unreachable")
}

// signInQuery is what a list request of sign-ins asked for.
type signInQuery struct {
	from, to  time.Time
	eventType string
	// apps and resources, when either is set, are the appIds and resourceIds one of which a
	// sign-in must have.
	apps, resources map[string]bool
}

// matches says whether the query lists s (its dates and event type aside).
func (q signInQuery) matches(s SignIn) bool {
	if q.apps == nil && q.resources == nil {
		return true
	}
	return q.apps[s.AppID] || q.resources[s.servedResourceID()]
}

var (
	filterDate  = regexp.MustCompile(`^createdDateTime (ge|le) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)$`)
	filterEvent = regexp.MustCompile(`^signInEventTypes/any\((\w+): ?(\w+) eq '(\w+)'\)$`)
	filterID    = regexp.MustCompile(`^(?i:(appId|resourceId)) eq '([0-9a-f-]{36})'$`)
)

// parseSignInFilter reads the $filter clauses Graph documents for what the exporter asks, joined
// by "and": createdDateTime ge|le with an unquoted date, signInEventTypes/any(t: t eq '...'), and
// appId eq / resourceId eq clauses or'd in parentheses, as Microsoft's Azure MFA report filters
// its apps ("(appid eq 'A' or appid eq 'B')", AzureAD/MSIdentityTools src/Get-MsIdAzureUsers.ps1;
// both properties support eq, GD api-reference/beta/resources/signin.md). Without an event type
// clause Graph lists interactive user sign-ins only.
func parseSignInFilter(filter string, now time.Time) (signInQuery, error) {
	q := signInQuery{from: now.Add(-signInRetention), to: now, eventType: EventInteractiveUser}
	if strings.TrimSpace(filter) == "" {
		return q, nil
	}
	for _, clause := range strings.Split(filter, " and ") {
		clause = strings.TrimSpace(clause)
		if ids, ok := strings.CutPrefix(clause, "("); ok && strings.HasSuffix(ids, ")") && q.apps == nil {
			if err := q.parseIDs(strings.TrimSuffix(ids, ")")); err != nil {
				return q, err
			}
			continue
		}
		if m := filterDate.FindStringSubmatch(clause); m != nil {
			d, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return q, refuse("Invalid filter clause: %s", err)
			}
			switch m[1] {
			case "ge":
				q.from = later(q.from, d)
			case "le":
				q.to = earlier(q.to, d)
			}
			continue
		}
		if m := filterEvent.FindStringSubmatch(clause); m != nil && m[1] == m[2] {
			switch m[3] {
			case EventInteractiveUser, EventNonInteractiveUser, EventServicePrincipal, EventManagedIdentity:
				q.eventType = m[3]
				continue
			}
		}
		return q, refuse("Invalid filter clause: '%s' is not supported by this fake (createdDateTime ge|le <unquoted date>, signInEventTypes/any(t: t eq '<type>'))", clause)
	}
	return q, nil
}

// parseIDs reads "appId eq '...' or resourceId eq '...' or ...".
func (q *signInQuery) parseIDs(ids string) error {
	q.apps, q.resources = map[string]bool{}, map[string]bool{}
	for _, clause := range strings.Split(ids, " or ") {
		m := filterID.FindStringSubmatch(strings.TrimSpace(clause))
		if m == nil {
			return refuse("Invalid filter clause: '%s' is not supported by this fake (appId eq '<guid>' or resourceId eq '<guid>', or'd in parentheses)", clause)
		}
		if strings.EqualFold(m[1], "appId") {
			q.apps[m[2]] = true
		} else {
			q.resources[m[2]] = true
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// signInCursor is what this fake's $skiptoken holds: the tenant time the first page was read
// at, so that records arriving late while a client pages do not shift the pages, and the next
// index to look at, going down (newest first).
type signInCursor struct {
	asOf time.Time
	next int
}

func (c signInCursor) token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("signins:%d:%d", c.asOf.UnixNano(), c.next)))
}

func parseSignInCursor(tok string) (signInCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	parts := strings.Split(string(raw), ":")
	if err != nil || len(parts) != 3 || parts[0] != "signins" {
		return signInCursor{}, refuse("invalid $skiptoken '%s'", tok)
	}
	asOf, err1 := strconv.ParseInt(parts[1], 10, 64)
	next, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return signInCursor{}, refuse("invalid $skiptoken '%s'", tok)
	}
	return signInCursor{asOf: time.Unix(0, asOf).UTC(), next: next}, nil
}

// signInsListed walks down from cursor.next to lo and returns up to n sign-ins that the query
// lists, and the index where the next page starts (-1 when none is left).
func (t *Tenant) signInsListed(q signInQuery, c signInCursor, lo, n int) ([]SignIn, int) {
	var out []SignIn
	for i := c.next; i >= lo; i-- {
		s := t.SignIn(i)
		if s.EventType != q.eventType || s.Visible.After(c.asOf) || s.Created.Before(q.from) || s.Created.After(q.to) || !q.matches(s) {
			continue
		}
		if len(out) == n {
			return out, i
		}
		out = append(out, s)
	}
	return out, -1
}

// serveSignIns is GET /beta/auditLogs/signIns: newest first, $top up to 1000, $select,
// the $filter of parseSignInFilter, paged with absolute @odata.nextLink URLs.
func (s *Server) serveSignIns(w http.ResponseWriter, r *http.Request) {
	t := s.Tenant
	// parseList knows the other lists' offset tokens; this list's token is a cursor.
	query := r.URL.Query()
	tok := query.Get("$skiptoken")
	query.Del("$skiptoken")
	withoutToken := *r
	withoutToken.URL = &url.URL{Path: r.URL.Path, RawQuery: query.Encode()}
	q, err := parseList(&withoutToken, 1000, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	now := t.now()
	f, err := parseSignInFilter(query.Get("$filter"), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	var page []SignIn
	next := -1
	if t.SignIns.PerDay > 0 {
		f.from = later(f.from, now.Add(-signInRetention))
		cursor := signInCursor{asOf: now, next: t.signInIndexTo(earlier(f.to, now)) - 1}
		if tok != "" {
			if cursor, err = parseSignInCursor(tok); err != nil {
				writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
				return
			}
		}
		page, next = t.signInsListed(f, cursor, t.signInIndexFrom(f.from), q.top)
		if next >= 0 {
			query.Set("$skiptoken", signInCursor{asOf: cursor.asOf, next: next}.token())
		}
	}

	buf := make([]byte, 0, 64*1024)
	buf = append(buf, `{"@odata.context":`...)
	buf = appendString(buf, s.URL+"/beta/$metadata#auditLogs/signIns")
	if next >= 0 {
		buf = append(buf, `,"@odata.nextLink":`...)
		buf = appendString(buf, s.URL+r.URL.Path+"?"+query.Encode())
	}
	buf = append(buf, `,"value":[`...)
	o := &object{fields: q.fields}
	for k, si := range page {
		if k > 0 {
			buf = append(buf, ',')
		}
		o.buf, o.n = append(buf, '{'), 0
		writeSignIn(o, si)
		buf = append(o.buf, '}')
	}
	buf = append(buf, "]}"...)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	writeBody(w, buf)
}

// writeSignIn writes a beta signIn in the shape of GD api-reference/beta/api/signin-list.md's
// examples (trimmed; userType, signInEventTypes and authenticationRequirement as there), or with
// its Odd departure.
func writeSignIn(o *object, s SignIn) {
	odd := func(field string) bool {
		return s.Odd == "no "+field
	}
	if !odd("id") {
		o.Str("id", s.ID)
	}
	if !odd("createdDateTime") {
		o.Str("createdDateTime", s.Created.UTC().Format(time.RFC3339))
	}
	if s.IsUser() {
		o.Str("userDisplayName", strings.SplitN(s.UserPrincipalName, "@", 2)[0])
		o.Str("userPrincipalName", s.UserPrincipalName)
		o.Str("userId", s.UserID)
		switch {
		case s.Odd == OddSignInUserType:
			o.Str("userType", "externalMember")
		case !odd("userType"):
			o.Str("userType", s.UserType)
		}
		o.Str("servicePrincipalId", "")
	} else {
		o.Str("userId", "")
		o.Str("servicePrincipalId", s.ServicePrincipalID)
		o.Str("servicePrincipalName", s.AppDisplayName)
	}
	o.Str("appId", s.AppID)
	o.Str("appDisplayName", s.AppDisplayName)
	if !odd("resourceId") {
		o.Str("resourceId", s.ResourceID)
	}
	o.Str("resourceDisplayName", s.ResourceName)
	o.Str("clientAppUsed", s.ClientAppUsed)
	o.Bool("isInteractive", s.EventType == EventInteractiveUser)
	if !odd("signInEventTypes") {
		o.Strs("signInEventTypes", []string{s.EventType})
	}
	switch {
	case s.Odd == OddSignInRequirement:
		o.Str("authenticationRequirement", "deviceBoundAuthentication")
	case !odd("authenticationRequirement"):
		o.Str("authenticationRequirement", s.AuthenticationRequirement)
	}
	o.Str("conditionalAccessStatus", "notApplied")
	if !odd("status") {
		o.Object("status", func(st *object) {
			st.Int("errorCode", int64(s.ErrorCode))
			if s.ErrorCode == 0 {
				st.Null("failureReason")
			} else {
				st.Str("failureReason", s.FailureReason)
			}
			st.Null("additionalDetails")
		})
	}
}

// SignInKey is what the exporter's sign-in counts are labelled by.
type SignInKey struct {
	App, Resource, UserType string
	MFA                     string // true, false or unknown
	Interactive             bool
	Result                  string // success, failure or unknown
}

// Key is the labels an exporter should count a placed user sign-in under.
func (s SignIn) Key() SignInKey {
	k := SignInKey{App: s.AppLabel, Resource: "other", UserType: s.UserType, MFA: "unknown",
		Interactive: s.EventType == EventInteractiveUser, Result: "failure"}
	if s.servedResourceID() == armID {
		k.Resource = "azure_resource_manager"
	}
	switch s.AuthenticationRequirement {
	case "multiFactorAuthentication":
		k.MFA = "true"
	case "singleFactorAuthentication":
		k.MFA = "false"
	}
	if s.ErrorCode == 0 {
		k.Result = "success"
	}
	switch s.Odd {
	case OddSignInNoUserType, OddSignInUserType:
		k.UserType = "unknown"
	case OddSignInNoRequirement, OddSignInRequirement:
		k.MFA = "unknown"
	case OddSignInNoStatus:
		k.Result = "unknown"
	}
	return k
}

// SignInTruth counts the user sign-ins created in [from, to] that Graph lists at asOf, directly
// from the generator; with apps, only those Graph lists for a filter on those appIds or on
// Resource Manager's resourceId. Unplaced counts the listed ones an exporter cannot place.
func (t *Tenant) SignInTruth(from, to, asOf time.Time, apps ...string) (counts map[SignInKey]int, unplaced int) {
	counts = map[SignInKey]int{}
	if t.SignIns.PerDay <= 0 {
		return counts, 0
	}
	q := signInQuery{}
	if len(apps) > 0 {
		q.apps, q.resources = setOf(apps...), setOf(armID)
	}
	for i := t.signInIndexFrom(from); i < t.signInIndexTo(to); i++ {
		s := t.SignIn(i)
		switch {
		case !s.IsUser() || s.Visible.After(asOf) || !q.matches(s):
		case !s.Placed():
			unplaced++
		default:
			counts[s.Key()]++
		}
	}
	return counts, unplaced
}

// SignInsIn returns the sign-ins created in [from, to], whatever their kind, for tests that
// need to know what the window holds (late ones, workload ones).
func (t *Tenant) SignInsIn(from, to time.Time) []SignIn {
	if t.SignIns.PerDay <= 0 {
		return nil
	}
	var out []SignIn
	for i := t.signInIndexFrom(from); i < t.signInIndexTo(to); i++ {
		out = append(out, t.SignIn(i))
	}
	return out
}
