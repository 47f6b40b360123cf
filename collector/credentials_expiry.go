package collector

import (
	"cmp"
	"container/heap"
	"slices"
	"time"
)

// expiry is one series of entra_app_credential_expiry_timestamp_seconds.
type expiry struct {
	object, appID, appName, kind, keyID string
	end                                 time.Time
}

// expiryHeap keeps the limit most urgent expiries: those still to expire before those already
// expired, then the nearest to now first, then by labels, so the choice is deterministic. It is
// a container/heap with the least urgent kept at the root, the one a more urgent offer replaces,
// so a tenant of any size holds at most limit expiries.
type expiryHeap struct {
	now     time.Time
	limit   int
	items   []expiry
	dropped int // expiries offered beyond the limit
}

func newExpiryHeap(now time.Time, limit int) expiryHeap {
	return expiryHeap{now: now, limit: limit}
}

// offer keeps e if it is among the limit most urgent so far.
func (h *expiryHeap) offer(e expiry) {
	if len(h.items) < h.limit {
		heap.Push(h, e)
		return
	}
	h.dropped++
	if h.limit > 0 && h.moreUrgent(e, h.items[0]) {
		h.items[0] = e
		heap.Fix(h, 0)
	}
}

// moreUrgent orders expiries as the limit keeps them.
func (h *expiryHeap) moreUrgent(a, b expiry) bool {
	aAhead, bAhead := a.end.After(h.now), b.end.After(h.now)
	if aAhead != bAhead {
		return aAhead
	}
	if !a.end.Equal(b.end) {
		return a.end.Before(b.end) == aAhead // ahead: sooner first; expired: latest first
	}
	return compareExpiryLabels(a, b) < 0
}

func compareExpiryLabels(a, b expiry) int {
	return cmp.Or(cmp.Compare(a.object, b.object), cmp.Compare(a.appID, b.appID), cmp.Compare(a.appName, b.appName),
		cmp.Compare(a.kind, b.kind), cmp.Compare(a.keyID, b.keyID))
}

// The heap.Interface, least urgent first.

func (h *expiryHeap) Len() int           { return len(h.items) }
func (h *expiryHeap) Less(i, j int) bool { return h.moreUrgent(h.items[j], h.items[i]) }
func (h *expiryHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *expiryHeap) Push(x any)         { h.items = append(h.items, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}

// sorted returns the kept expiries by labels, without duplicates: Graph repeating an object
// across pages must not make two series with one label set, which would fail the whole scrape.
func (h *expiryHeap) sorted() []expiry {
	out := slices.Clone(h.items)
	slices.SortFunc(out, compareExpiryLabels)
	return slices.CompactFunc(out, func(a, b expiry) bool { return compareExpiryLabels(a, b) == 0 })
}
