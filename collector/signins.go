package collector

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/auditlogs"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/graph"
)

// The signins source counts user sign-ins over a rolling window from
// GET /beta/auditLogs/signIns (AuditLog.Read.All, Entra ID P1/P2). v1.0's signIn lacks
// authenticationRequirement, userType and signInEventTypes, so the beta endpoint is read through
// the v1.0 SDK's request builder, those fields arriving as additional data.
//
// Each refresh reads only what is new since the last one, plus an overlap for records Graph lists
// late, de-duplicated by sign-in id; counts are kept per minute of createdDateTime so that what
// leaves the window leaves the counts. Progress is kept record by record: a refresh that fails or
// times out half-way (a first read of a large tenant under Graph's budget can take longer than
// one refresh) leaves a consistent state, and the next refresh resumes where it stopped.
func init() {
	registerSource("signins", "AuditLog.Read.All", 15*time.Minute, func(c Config) (Source, error) {
		return newSignInsSource(c, signInsOptions{window: time.Duration(*signInsWindow), overlap: time.Duration(*signInsOverlap)})
	})
}

var (
	signInsWindow = DurationFlag("collector.signins.window",
		"The rolling window of sign-ins the signins source counts (the sign-in log keeps 30 days with Entra ID P1/P2).", model.Duration(24*time.Hour))
	signInsOverlap = DurationFlag("collector.signins.overlap",
		"How far back each refresh of the signins source re-reads, for sign-ins Graph lists late; they are de-duplicated by id, and one later than this is missed.", model.Duration(10*time.Minute))
)

// signInsRetention is how long the sign-in log keeps records with Entra ID P1/P2.
const signInsRetention = 30 * 24 * time.Hour

// signInsPageSize is Graph's maximum (and default) page size for sign-ins.
const signInsPageSize = 1000

// bucketWidth is the granularity at which counts leave the window; the window's start is
// aligned down to it, so the counts cover up to one bucket more than the window.
const bucketWidth = time.Minute

// The app label of a sign-in, from Microsoft's list of the apps its mandatory MFA for Azure
// covers (learn.microsoft.com/entra/identity/authentication/concept-mandatory-multifactor-authentication;
// Resource Manager's app id from learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in).
// The portal's app id also serves the Microsoft Entra and Intune admin centers. Any other client
// calling the Resource Manager API (infrastructure-as-code tools, SDKs, REST) counts as
// azure_resource_manager; everything else is other.
var managementApps = map[string]string{
	"c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "azure_portal",
	"04b07795-8ddb-461a-bbee-02f9e1bf7b46": "azure_cli",
	"1950a258-227b-4e31-a9cf-717495945fc2": "azure_powershell",
	"0c1307d4-29d6-4389-a11c-5cbe7f65d7fa": "azure_mobile_app",
}

const (
	resourceManagerID  = "797f4846-ba00-4fd7-ba43-dac1f8f63013" // Windows Azure Service Management API
	appResourceManager = "azure_resource_manager"
	appOther           = "other"
)

// managementAppLabels are the app labels entra_signins_without_mfa always exports, 0 when none.
var managementAppLabels = []string{"azure_portal", "azure_cli", "azure_powershell", "azure_mobile_app", appResourceManager}

func appLabel(appID, resourceID string) string {
	if name, ok := managementApps[strings.ToLower(appID)]; ok {
		return name
	}
	if strings.EqualFold(resourceID, resourceManagerID) {
		return appResourceManager
	}
	return appOther
}

// signInEvent is a kind of user sign-in, read with a query of its own.
type signInEvent struct {
	graphType string // signInEventTypes value
	label     string // the event label
}

var (
	interactiveEvent    = signInEvent{"interactiveUser", "interactive"}
	nonInteractiveEvent = signInEvent{"nonInteractiveUser", "non_interactive"}
	userSignInEvents    = []signInEvent{interactiveEvent, nonInteractiveEvent}
)

// signInFields are the fields the counts need.
var signInFields = []string{"id", "createdDateTime", "appId", "resourceId", "userType",
	"authenticationRequirement", "signInEventTypes", "status"}

var (
	signInLabels      = []string{"tenant_id", "app", "user_type", "mfa", "event", "result"}
	signInsDesc       = entraDesc("signins", "User sign-ins over the window (see entra_signins_window_seconds), by Azure management app (other for the rest), user type, whether MFA was required (authenticationRequirement), interactive or not, and success (status.errorCode 0).", signInLabels)
	withoutMFADesc    = entraDesc("signins_without_mfa", "Successful user sign-ins with a single factor over the window, by Azure management app (other for the rest), user type and event.", []string{"tenant_id", "app", "user_type", "event"})
	signInsWindowDesc = entraDesc("signins_window_seconds", "The span of createdDateTime the sign-in counts cover: the configured window, its start aligned down to the minute.", []string{"tenant_id"})
)

type signInsOptions struct {
	window, overlap time.Duration
}

func newSignInsSource(c Config, o signInsOptions) (Source, error) {
	if o.window <= 0 || o.window > signInsRetention {
		return nil, fmt.Errorf("--collector.signins.window must be positive and at most 30d (the sign-in log's retention), got %s", model.Duration(o.window))
	}
	if o.overlap < 0 || o.overlap >= o.window {
		return nil, fmt.Errorf("--collector.signins.overlap must be at least 0 and less than the window, got %s", model.Duration(o.overlap))
	}
	s := &signInsSource{cfg: c, opts: o, counts: newBucketedCounts(), states: map[signInEvent]*eventState{}}
	for _, ev := range userSignInEvents {
		s.states[ev] = &eventState{seen: map[string]time.Time{}}
	}
	return s, nil
}

// signInsSource keeps counts between refreshes; the Exporter never runs two refreshes of a
// source at once, and snapshots are copies, so it needs no lock.
type signInsSource struct {
	cfg  Config
	opts signInsOptions

	counts *bucketedCounts
	states map[signInEvent]*eventState
}

type signInKey struct {
	app, userType, event string
	mfa, success         bool
}

// bucketedCounts are sign-in counts by bucket of createdDateTime. A bucket is a slice of counts
// indexed by key, the keys (at most a few hundred label combinations) interned once, so that a
// 30-day window of minutes stays within megabytes.
type bucketedCounts struct {
	keys    []signInKey
	index   map[signInKey]int
	buckets map[int64][]uint32
}

func newBucketedCounts() *bucketedCounts {
	return &bucketedCounts{index: map[signInKey]int{}, buckets: map[int64][]uint32{}}
}

func bucketOf(t time.Time) int64 { return t.Unix() / int64(bucketWidth/time.Second) }

func (c *bucketedCounts) add(created time.Time, k signInKey) {
	i, ok := c.index[k]
	if !ok {
		i = len(c.keys)
		c.keys = append(c.keys, k)
		c.index[k] = i
	}
	b := bucketOf(created)
	counts := c.buckets[b]
	if len(counts) <= i {
		counts = append(counts, make([]uint32, len(c.keys)-len(counts))...)
		c.buckets[b] = counts
	}
	counts[i]++
}

// expireBefore forgets the buckets before the one t falls in.
func (c *bucketedCounts) expireBefore(t time.Time) {
	for b := range c.buckets {
		if b < bucketOf(t) {
			delete(c.buckets, b)
		}
	}
}

func (c *bucketedCounts) total() map[signInKey]float64 {
	out := map[signInKey]float64{}
	for _, counts := range c.buckets {
		for i, n := range counts {
			if n > 0 {
				out[c.keys[i]] += float64(n)
			}
		}
	}
	return out
}

// eventState is what has been counted of one event type. Every record Graph listed with a
// createdDateTime in [window start, main] is counted (once main is set), and so is every record
// in (partial.lo, partial.hi] and those with ids in partial.bottom: a read that stopped half-way
// leaves a partial, the top of the range it read (Graph lists newest first), and the next refresh
// reads the gap below it before reading anything new.
type eventState struct {
	main    time.Time // zero until a read reached the window's start
	partial *span
	// seen are the ids of counted records that a later read may list again: those within the
	// overlap below main and below the top of the partial or of the read in progress.
	seen map[string]time.Time
}

type span struct {
	lo, hi time.Time
	bottom map[string]bool // ids counted with createdDateTime == lo
}

func (s *signInsSource) Refresh(ctx context.Context) (Snapshot, error) {
	now := s.cfg.Now().UTC().Truncate(time.Second)
	start := now.Add(-s.opts.window).Truncate(bucketWidth)
	s.counts.expireBefore(start)
	for _, ev := range userSignInEvents {
		if err := s.catchUp(ctx, ev, start, now); err != nil {
			return nil, err
		}
	}
	return s.snapshot(start, now), nil
}

// catchUp brings one event type's counts up to now: the gap below an interrupted read first,
// then what is new since the last read, less the overlap.
func (s *signInsSource) catchUp(ctx context.Context, ev signInEvent, start, now time.Time) error {
	st := s.states[ev]
	if st.main.Before(start) {
		st.main = time.Time{} // nothing to build on: the window moved past everything read
	}
	if p := st.partial; p != nil {
		if p.hi.Before(start) {
			st.partial = nil
		} else {
			gapFrom := start
			if !st.main.IsZero() {
				gapFrom = laterOf(start, st.main.Add(-s.opts.overlap))
			}
			if !p.lo.Before(gapFrom) {
				if err := s.read(ctx, ev, gapFrom, p); err != nil {
					return err
				}
			}
			st.main, st.partial = p.hi, nil
			s.prune(st)
		}
	}
	from := start
	if !st.main.IsZero() {
		from = laterOf(start, st.main.Add(-s.opts.overlap))
	}
	fresh := &span{lo: now, hi: now, bottom: map[string]bool{}}
	if err := s.read(ctx, ev, from, fresh); err != nil {
		if fresh.lo.Before(fresh.hi) || len(fresh.bottom) > 0 {
			st.partial = fresh
		}
		s.prune(st)
		return err
	}
	st.main = now
	s.prune(st)
	return nil
}

// prune forgets the ids no later read can list again.
func (s *signInsSource) prune(st *eventState) {
	needed := func(created time.Time) bool {
		switch {
		case !st.main.IsZero() && !created.Before(st.main.Add(-s.opts.overlap)) && !created.After(st.main):
			return true
		case st.partial != nil && !created.Before(st.partial.hi.Add(-s.opts.overlap)):
			return true
		}
		return false
	}
	for id, created := range st.seen {
		if !needed(created) {
			delete(st.seen, id)
		}
	}
}

// read lists the sign-ins of one event type created in [from, into.lo] and counts those not
// counted yet, extending into downwards record by record (Graph lists newest first), so that
// whatever happens into says exactly what has been counted.
func (s *signInsSource) read(ctx context.Context, ev signInEvent, from time.Time, into *span) error {
	st := s.states[ev]
	filter := fmt.Sprintf("createdDateTime ge %s and createdDateTime le %s and signInEventTypes/any(t: t eq '%s')",
		from.Format(time.RFC3339Nano), into.lo.Format(time.RFC3339Nano), ev.graphType)
	query := url.Values{"$filter": {filter}, "$select": {strings.Join(signInFields, ",")}, "$top": {fmt.Sprint(signInsPageSize)}}
	// Graph reads %20 for spaces; a '+' in a value was escaped as %2B, so this replaces only spaces.
	rawURL := s.cfg.Graph.BetaURL("/auditLogs/signIns") + "?" + strings.ReplaceAll(query.Encode(), "+", "%20")
	what := fmt.Sprintf("listing %s sign-ins created from %s to %s", ev.graphType, from.Format(time.RFC3339), into.lo.Format(time.RFC3339))

	first, err := s.cfg.Graph.SDK.AuditLogs().SignIns().WithUrl(rawURL).Get(ctx,
		&auditlogs.SignInsRequestBuilderGetRequestConfiguration{Headers: graph.JSONHeaders()})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	to := into.lo
	err = graph.Each(ctx, s.cfg.Graph, first, models.CreateSignInCollectionResponseFromDiscriminatorValue, func(si models.SignInable) error {
		r, err := parseSignIn(si, ev)
		if err != nil {
			return err
		}
		switch {
		case r.created.Before(from) || r.created.After(to):
			return graph.MalformedError("Graph listed sign-in %s created at %s for a query from %s to %s", r.id, r.created.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
		case r.created.After(into.lo):
			return graph.MalformedError("Graph listed sign-in %s created at %s after one created at %s; sign-ins come newest first", r.id, r.created.Format(time.RFC3339Nano), into.lo.Format(time.RFC3339Nano))
		case r.created.Before(into.lo):
			into.lo, into.bottom = r.created, map[string]bool{}
		}
		if _, dup := st.seen[r.id]; dup || into.bottom[r.id] || r.skip {
			return nil
		}
		into.bottom[r.id] = true
		if !r.created.Before(into.hi.Add(-s.opts.overlap)) {
			st.seen[r.id] = r.created
		}
		s.counts.add(r.created, r.key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s (counted down to %s; the next refresh resumes there): %w", what, into.lo.Format(time.RFC3339), err)
	}
	return nil
}

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
	r.key.app = appLabel(*si.GetAppId(), stringOrEmpty(si.GetResourceId()))
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

func stringOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

type signInsSnapshot struct {
	tenantID   string
	window     time.Duration
	counts     map[signInKey]float64
	withoutMFA map[signInKey]float64 // mfa and success unset
}

func (s *signInsSource) snapshot(start, now time.Time) *signInsSnapshot {
	snap := &signInsSnapshot{tenantID: s.cfg.TenantID, window: now.Sub(start),
		counts: map[signInKey]float64{}, withoutMFA: map[signInKey]float64{}}
	for _, app := range managementAppLabels {
		for _, userType := range knownUserTypes {
			for _, ev := range userSignInEvents {
				snap.withoutMFA[signInKey{app: app, userType: userType, event: ev.label}] = 0
			}
		}
	}
	for k, n := range s.counts.total() {
		snap.counts[k] = n
		if k.success && !k.mfa {
			snap.withoutMFA[signInKey{app: k.app, userType: k.userType, event: k.event}] += n
		}
	}
	return snap
}

func (s *signInsSnapshot) Collect(ch chan<- prometheus.Metric) {
	result := map[bool]string{true: "success", false: "failure"}
	for k, n := range s.counts {
		ch <- prometheus.MustNewConstMetric(signInsDesc, prometheus.GaugeValue, n, s.tenantID, k.app, k.userType, fmt.Sprint(k.mfa), k.event, result[k.success])
	}
	for k, n := range s.withoutMFA {
		ch <- prometheus.MustNewConstMetric(withoutMFADesc, prometheus.GaugeValue, n, s.tenantID, k.app, k.userType, k.event)
	}
	ch <- prometheus.MustNewConstMetric(signInsWindowDesc, prometheus.GaugeValue, s.window.Seconds(), s.tenantID)
}
