package collector

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// What the signins source stores (--storage.path), so that a restart resumes its window instead
// of reading it again: the counts per minute, and per event type how far it has counted, the ids
// in the overlap, and the span of a read that stopped half-way. The settings that decide what is
// counted are stored with it: a state counted with another window, overlap, scope or app table
// would count some sign-ins twice or never, so it is not restored.

type storedSignIns struct {
	Settings string                 `json:"settings"`
	Keys     [][6]string            `json:"keys"` // app, resource, user type, mfa, event, result
	Buckets  []storedBucket         `json:"buckets"`
	Events   map[string]storedEvent `json:"events"` // by signInEventTypes value
}

type storedBucket struct {
	Minute int64       `json:"minute"`
	Counts [][2]uint32 `json:"counts"` // key index, count
}

type storedEvent struct {
	CountedTo   time.Time            `json:"counted_to,omitzero"`
	Interrupted *storedSpan          `json:"interrupted,omitempty"`
	Seen        map[string]time.Time `json:"seen"`
}

type storedSpan struct {
	Oldest   time.Time `json:"oldest"`
	Newest   time.Time `json:"newest"`
	AtOldest []string  `json:"at_oldest"`
}

// settings names what decides the counts.
func (o signInsOptions) settings() string {
	return fmt.Sprintf("window=%s overlap=%s scope=%s apps=%s", o.window, o.overlap, o.scope, strings.Join(o.apps.ids(), ","))
}

func (s *signInsSource) stored() (json.RawMessage, error) {
	out := storedSignIns{Settings: s.opts.settings(), Events: map[string]storedEvent{}}
	for _, k := range s.counts.keys {
		out.Keys = append(out.Keys, [6]string{k.app, k.resource, k.userType, k.mfa, k.event, k.result})
	}
	for minute, counts := range s.counts.buckets {
		b := storedBucket{Minute: minute}
		for _, kc := range counts {
			b.Counts = append(b.Counts, [2]uint32{kc.key, kc.n})
		}
		out.Buckets = append(out.Buckets, b)
	}
	slices.SortFunc(out.Buckets, func(a, b storedBucket) int { return int(a.Minute - b.Minute) })
	for ev, st := range s.states {
		e := storedEvent{CountedTo: st.countedTo, Seen: st.seen}
		if sp := st.interrupted; sp != nil {
			e.Interrupted = &storedSpan{Oldest: sp.oldest, Newest: sp.newest, AtOldest: slices.Sorted(maps.Keys(sp.atOldest))}
		}
		out.Events[ev.graphType] = e
	}
	return json.Marshal(out)
}

func (s *signInsSource) restore(data json.RawMessage) error {
	var in storedSignIns
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if in.Settings != s.opts.settings() {
		return fmt.Errorf("counted with %q, now %q", in.Settings, s.opts.settings())
	}
	counts := newBucketedCounts()
	for _, k := range in.Keys {
		key := signInKey{app: k[0], resource: k[1], userType: k[2], mfa: k[3], event: k[4], result: k[5]}
		counts.index[key] = len(counts.keys)
		counts.keys = append(counts.keys, key)
	}
	for _, b := range in.Buckets {
		for _, c := range b.Counts {
			if int(c[0]) >= len(counts.keys) {
				return fmt.Errorf("bucket %d counts key %d of %d", b.Minute, c[0], len(counts.keys))
			}
			counts.buckets[b.Minute] = append(counts.buckets[b.Minute], keyCount{key: c[0], n: c[1]})
		}
	}
	states := map[signInEvent]*eventState{}
	for _, ev := range userSignInEvents {
		e, ok := in.Events[ev.graphType]
		if !ok {
			return fmt.Errorf("no state for %s sign-ins", ev.graphType)
		}
		st := &eventState{countedTo: e.CountedTo, seen: e.Seen}
		if st.seen == nil {
			st.seen = map[string]time.Time{}
		}
		if sp := e.Interrupted; sp != nil {
			st.interrupted = &readSpan{oldest: sp.Oldest, newest: sp.Newest, atOldest: map[string]bool{}}
			for _, id := range sp.AtOldest {
				st.interrupted.atOldest[id] = true
			}
		}
		states[ev] = st
	}
	s.counts, s.states = counts, states
	return nil
}
