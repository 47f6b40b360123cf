package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

func init() {
	declareSource("signins", "AuditLog.Read.All", 15*time.Minute, func(c sourceConfig) (source, error) {
		apps, err := newAppTable(*signInsApps)
		if err != nil {
			return nil, err
		}
		return newSignInsSource(c, signInsOptions{window: time.Duration(*signInsWindow), overlap: time.Duration(*signInsOverlap),
			scope: *signInsScope, apps: apps})
	})
}

// defaultSignInsOverlap is how far each refresh re-reads: two hours. Microsoft documents sign-ins
// appearing 2 minutes late at the 95th percentile and 5 at the 99th, tells whoever misses one to
// "wait for 15 minutes to two hours" and to file a support ticket only after two hours
// (MicrosoftDocs/azure-docs articles/active-directory/reports-monitoring/reference-reports-latencies.md
// and troubleshoot-missing-audit-data.md), and says MFA sign-ins "might take up to two hours to
// fully aggregate" (MicrosoftDocs/entra-docs docs/identity/monitoring-health/reports-faq.yml). The
// overlap covers every delay Microsoft calls normal.
const defaultSignInsOverlap = 2 * time.Hour

// The scopes of --collector.signins.scope.
const (
	scopeAll             = "all"
	scopeAzureManagement = "azure_management"
)

var (
	signInsWindow = durationFlag("collector.signins.window",
		"The rolling window of sign-ins the signins source counts (the sign-in log keeps 30 days with Entra ID P1/P2).", model.Duration(24*time.Hour))
	signInsOverlap = durationFlag("collector.signins.overlap",
		"How far back each refresh of the signins source re-reads, for sign-ins Graph lists late; they are de-duplicated by id, and one later than this is missed. Microsoft calls up to two hours normal.",
		model.Duration(defaultSignInsOverlap))
	signInsScope = kingpin.Flag("collector.signins.scope",
		"Which sign-ins the signins source reads: all, or azure_management (only those of the app table's apps or to Azure Resource Manager, asked of Graph in $filter: far fewer requests in a large tenant).").
		Default(scopeAll).Enum(scopeAll, scopeAzureManagement)
	signInsApps = func() *appEntries {
		apps := &appEntries{}
		kingpin.Flag("collector.signins.app",
			"NAME=APPID: count sign-ins with this client app id as app=NAME, adding to the built-in table of Azure management apps or renaming its entry (repeatable).").
			PlaceHolder("NAME=APPID").SetValue(apps)
		return apps
	}()
)

// signInsRetention is how long the sign-in log keeps records with Entra ID P1/P2.
const signInsRetention = 30 * 24 * time.Hour

// signInsPageSize is Graph's maximum (and default) page size for sign-ins.
const signInsPageSize = 1000

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
	signInLabels   = []string{"tenant_id", "app", "resource", "user_type", "mfa", "event", "result"}
	signInsDesc    = entraDesc("signins", "User sign-ins over the window (see entra_signins_window_seconds), by client app (the Azure management apps, other for the rest), resource (azure_resource_manager or other), user type, whether MFA was required (mfa: authenticationRequirement, what policy asked for, not how the user signed in), interactive or not, and result (status.errorCode 0 is success); unknown where Graph sent no value or an undocumented one.", signInLabels)
	withoutMFADesc = entraDesc("signins_without_mfa", "Successful user sign-ins for which a single factor was required (authenticationRequirement singleFactorAuthentication) over the window, by client app, resource, user type and event.",
		[]string{"tenant_id", "app", "resource", "user_type", "event"})
	signInsWindowDesc = entraDesc("signins_window_seconds", "The span of createdDateTime the sign-in counts cover: the configured window, its start aligned down to the minute.", []string{"tenant_id"})
)

type signInsOptions struct {
	window, overlap time.Duration
	scope           string // scopeAll or scopeAzureManagement
	apps            appTable
}

func newSignInsSource(c sourceConfig, o signInsOptions) (source, error) {
	if o.window <= 0 || o.window > signInsRetention {
		return nil, fmt.Errorf("--collector.signins.window must be positive and at most 30d (the sign-in log's retention), got %s", model.Duration(o.window))
	}
	if o.overlap < 0 || o.overlap >= o.window {
		return nil, fmt.Errorf("--collector.signins.overlap must be at least 0 and less than the window, got %s", model.Duration(o.overlap))
	}
	if o.scope != scopeAll && o.scope != scopeAzureManagement {
		return nil, fmt.Errorf("--collector.signins.scope must be %s or %s, got %q", scopeAll, scopeAzureManagement, o.scope)
	}
	if o.apps == nil {
		o.apps = appTable(builtinManagementApps)
	}
	s := &signInsSource{cfg: c, opts: o, counts: newBucketedCounts(), states: map[signInEvent]*eventState{}}
	for _, ev := range userSignInEvents {
		s.states[ev] = &eventState{seen: map[string]time.Time{}}
	}
	return s, nil
}

// signInsSource counts user sign-ins over a rolling window from GET /beta/auditLogs/signIns
// (AuditLog.Read.All, Entra ID P1/P2). v1.0's signIn lacks authenticationRequirement, userType
// and signInEventTypes, so the beta endpoint is read and those fields arrive as the SDK model's
// additional data (signins_records.go).
//
// Each refresh reads only what is new since the last one, plus an overlap for records Graph lists
// late, de-duplicated by sign-in id; counts are kept per minute of createdDateTime so that what
// leaves the window leaves the counts. Progress is kept record by record: a page that outlasts
// the request timeout is read again from the last counted record, and a refresh that fails or
// times out half-way (a first read of a large tenant under Graph's budget can take longer than
// one refresh) leaves a consistent state, the next refresh resuming where it stopped
// (signins_window.go). A record is counted with what it has (signins_records.go); the apps it
// names are in signins_apps.go, with --collector.signins.scope's filter on them.
//
// It keeps counts between refreshes; the Exporter never runs two refreshes of a source at once,
// and snapshots are copies, so it needs no lock.
type signInsSource struct {
	cfg  sourceConfig
	opts signInsOptions

	counts *bucketedCounts
	states map[signInEvent]*eventState
	notes  *recordNotes // of the refresh running
}

type signInKey struct {
	app, resource, userType, mfa, event, result string
}

func (s *signInsSource) skipReasons() []string {
	return []string{skipNoID, skipNoCreatedTime, skipOutsideQuery}
}

func (s *signInsSource) Refresh(ctx context.Context) (snapshot, error) {
	s.notes = newRecordNotes()
	defer s.notes.report("signins", s.cfg.logger, s.cfg.skipped)
	now := s.cfg.now().UTC().Truncate(time.Second)
	start := now.Add(-s.opts.window).Truncate(bucketWidth)
	s.counts.expireBefore(start)
	for _, ev := range userSignInEvents {
		if err := s.catchUp(ctx, ev, start, now); err != nil {
			return nil, err
		}
	}
	return s.snapshot(start, now), nil
}

type signInsSnapshot struct {
	tenantID   string
	window     time.Duration
	counts     map[signInKey]float64
	withoutMFA map[signInKey]float64 // mfa and result unset
}

func (s *signInsSource) snapshot(start, now time.Time) *signInsSnapshot {
	snap := &signInsSnapshot{tenantID: s.cfg.tenantID, window: now.Sub(start),
		counts: map[signInKey]float64{}, withoutMFA: map[signInKey]float64{}}
	// Every management app, to any resource, and any client to Resource Manager: 0 when none.
	zero := func(app, resource string) {
		for _, userType := range knownUserTypes {
			for _, ev := range userSignInEvents {
				snap.withoutMFA[signInKey{app: app, resource: resource, userType: userType, event: ev.label}] = 0
			}
		}
	}
	for _, app := range s.opts.apps.names() {
		zero(app, resourceManager)
		zero(app, resourceOther)
	}
	zero(labelOther, resourceManager)
	for k, n := range s.counts.total() {
		snap.counts[k] = n
		if k.result == "success" && k.mfa == "false" {
			snap.withoutMFA[signInKey{app: k.app, resource: k.resource, userType: k.userType, event: k.event}] += n
		}
	}
	return snap
}

func (s *signInsSnapshot) Collect(ch chan<- prometheus.Metric) {
	for k, n := range s.counts {
		ch <- prometheus.MustNewConstMetric(signInsDesc, prometheus.GaugeValue, n, s.tenantID, k.app, k.resource, k.userType, k.mfa, k.event, k.result)
	}
	for k, n := range s.withoutMFA {
		ch <- prometheus.MustNewConstMetric(withoutMFADesc, prometheus.GaugeValue, n, s.tenantID, k.app, k.resource, k.userType, k.event)
	}
	ch <- prometheus.MustNewConstMetric(signInsWindowDesc, prometheus.GaugeValue, s.window.Seconds(), s.tenantID)
}
