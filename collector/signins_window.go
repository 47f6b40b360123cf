package collector

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// How the signins source keeps its rolling window: counts by minute of createdDateTime, and for
// each event type what has been read, so that each refresh reads only what is new (plus an
// overlap) and a read cut half-way is resumed, not restarted.

// bucketWidth is the granularity at which counts leave the window; the window's start is
// aligned down to it, so the counts cover up to one bucket more than the window.
const bucketWidth = time.Minute

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
// createdDateTime in [window start, countedTo] is counted (once countedTo is set), and so is
// every record of the interrupted read's span. A read that stopped half-way leaves that span,
// the top of the range it read (Graph lists newest first), and the next refresh reads the gap
// below it before reading anything new.
type eventState struct {
	countedTo   time.Time // zero until a read reached the window's start
	interrupted *readSpan
	// seen are the ids of counted records that a later read may list again: those within the
	// overlap below countedTo, and below the newest end of the interrupted read or of the read
	// in progress.
	seen map[string]time.Time
}

// readSpan is what a read has counted so far: every record created in (oldest, newest], and
// the records created at oldest whose ids are in atOldest. A read extends it downwards record
// by record.
type readSpan struct {
	oldest, newest time.Time
	atOldest       map[string]bool
}

// resumeFrom is where a read of new records starts: the overlap below what was counted, or the
// window's start when nothing counted is left in the window.
func (st *eventState) resumeFrom(start time.Time, overlap time.Duration) time.Time {
	if from := st.countedTo.Add(-overlap); !st.countedTo.IsZero() && from.After(start) {
		return from
	}
	return start
}

// catchUp brings one event type's counts up to now: the gap below an interrupted read first,
// then what is new since the last read, less the overlap.
func (s *signInsSource) catchUp(ctx context.Context, ev signInEvent, start, now time.Time) error {
	st := s.states[ev]
	if st.countedTo.Before(start) {
		st.countedTo = time.Time{} // nothing to build on: the window moved past everything read
	}
	if gap := st.interrupted; gap != nil {
		if gap.newest.Before(start) {
			st.interrupted = nil
		} else {
			from := st.resumeFrom(start, s.opts.overlap)
			if !gap.oldest.Before(from) {
				if err := s.readResuming(ctx, ev, from, gap); err != nil {
					return err
				}
			}
			st.countedTo, st.interrupted = gap.newest, nil
			s.prune(st)
		}
	}
	current := &readSpan{oldest: now, newest: now, atOldest: map[string]bool{}}
	if err := s.readResuming(ctx, ev, st.resumeFrom(start, s.opts.overlap), current); err != nil {
		if current.oldest.Before(current.newest) || len(current.atOldest) > 0 {
			st.interrupted = current
		}
		s.prune(st)
		return err
	}
	st.countedTo = now
	s.prune(st)
	return nil
}

// prune forgets the ids no later read can list again.
func (s *signInsSource) prune(st *eventState) {
	needed := func(created time.Time) bool {
		switch {
		case !st.countedTo.IsZero() && !created.Before(st.countedTo.Add(-s.opts.overlap)) && !created.After(st.countedTo):
			return true
		case st.interrupted != nil && !created.Before(st.interrupted.newest.Add(-s.opts.overlap)):
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

// readResuming is read, resumed below the last counted record when a page outlasts
// --graph.request-timeout while the refresh still has time: pages of sign-ins have been reported
// to take minutes (../shared/GRAPH-FACTS.md, "Latency and slow requests"), and a page that times
// out is read again from where the counting stopped, not from the top. Two timeouts in a row
// without a record read end the refresh; the next one resumes from there too.
func (s *signInsSource) readResuming(ctx context.Context, ev signInEvent, from time.Time, progress *readSpan) error {
	stalled := 0
	for {
		oldest, atOldest := progress.oldest, len(progress.atOldest)
		err := s.read(ctx, ev, from, progress)
		if err == nil || ctx.Err() != nil || graph.Classify(err).Reason != graph.ReasonTimeout {
			return err
		}
		if progress.oldest.Equal(oldest) && len(progress.atOldest) == atOldest {
			if stalled++; stalled == 2 {
				return err
			}
		} else {
			stalled = 0
		}
		s.cfg.logger.Info("a page of sign-ins outlasted --graph.request-timeout; reading on from the last counted record",
			"source", "signins", "event", ev.graphType, "counted_down_to", progress.oldest.Format(time.RFC3339))
	}
}

// filter is the $filter of a read of ev's sign-ins created in [from, to]: the forms the list
// documents (createdDateTime ge/le with unquoted dates, signInEventTypes/any; GD
// api-reference/beta/resources/signin.md). With scope azure_management it also asks only for the
// app table's clients and Resource Manager, or'd inside parentheses as Microsoft's Azure MFA
// report filters its apps ("(appid eq 'A' or appid eq 'B')", AzureAD/MSIdentityTools
// src/Get-MsIdAzureUsers.ps1); appId and resourceId support eq (GD, same page).
func (s *signInsSource) filter(ev signInEvent, from, to time.Time) string {
	f := fmt.Sprintf("createdDateTime ge %s and createdDateTime le %s and signInEventTypes/any(t: t eq '%s')",
		from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), ev.graphType)
	if s.opts.scope != scopeAzureManagement {
		return f
	}
	var clauses []string
	for _, id := range s.opts.apps.ids() {
		clauses = append(clauses, fmt.Sprintf("appId eq '%s'", id))
	}
	clauses = append(clauses, fmt.Sprintf("resourceId eq '%s'", resourceManagerID))
	return f + " and (" + strings.Join(clauses, " or ") + ")"
}

// read lists the sign-ins of one event type created in [from, progress.oldest] and counts those
// not counted yet, extending progress downwards record by record (Graph lists newest first), so
// that whatever happens progress says exactly what has been counted. A record Graph lists outside
// the query is left out (and noted); one listed out of order fails the read, since progress
// could no longer say what was counted.
func (s *signInsSource) read(ctx context.Context, ev signInEvent, from time.Time, progress *readSpan) error {
	st := s.states[ev]
	to := progress.oldest
	q := graph.Query{Path: "/beta/auditLogs/signIns", Select: signInFields, Top: signInsPageSize, Filter: s.filter(ev, from, to)}
	err := graph.List(ctx, s.cfg.graph, q, models.CreateSignInCollectionResponseFromDiscriminatorValue, func(si models.SignInable) error {
		r, skip := s.parseSignIn(si, ev)
		if skip == "" && (r.created.Before(from) || r.created.After(to)) {
			skip = skipOutsideQuery
		}
		switch {
		case skip != "":
			s.notes.skip(skip, r.id)
			return nil
		case r.created.After(progress.oldest):
			return graph.MalformedError("Graph listed sign-in %s created at %s after one created at %s; sign-ins come newest first", r.id, r.created.Format(time.RFC3339Nano), progress.oldest.Format(time.RFC3339Nano))
		case r.created.Before(progress.oldest):
			progress.oldest, progress.atOldest = r.created, map[string]bool{}
		}
		if _, dup := st.seen[r.id]; dup || progress.atOldest[r.id] || r.dup {
			return nil
		}
		progress.atOldest[r.id] = true
		if !r.created.Before(progress.newest.Add(-s.opts.overlap)) {
			st.seen[r.id] = r.created
		}
		s.counts.add(r.created, r.key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s sign-ins created from %s to %s (counted down to %s; the next refresh resumes there): %w",
			ev.graphType, from.Format(time.RFC3339), to.Format(time.RFC3339), progress.oldest.Format(time.RFC3339), err)
	}
	return nil
}
