package fakegraph

import (
	"math/rand/v2"
	"net/http"
)

// randomFaults are what FailAtRandom answers with, one at random: Graph's throttling and
// unavailability answers (learn.microsoft.com/graph/throttling, /graph/errors), which the
// client retries, and a body that is not JSON, which fails the refresh.
var randomFaults = []Fault{
	{Status: http.StatusTooManyRequests, RetryAfter: "1", Code: "TooManyRequests", Message: "Please retry again later."},
	{Status: http.StatusServiceUnavailable, RetryAfter: "1", Code: "ServiceUnavailable", Message: "Service is temporarily unavailable."},
	{Malformed: true},
}

// FailAtRandom answers the given share (0 to 1) of Graph requests, chosen at random, with a 429,
// a 503 or a body that is not JSON; 0 turns it off. Injected faults come first.
func (s *Server) FailAtRandom(share float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.randomShare = share
}

// randomFault is the fault for a request FailAtRandom picked, or nil. Called with s.mu held.
func (s *Server) randomFault() *Fault {
	if s.randomShare <= 0 || rand.Float64() >= s.randomShare {
		return nil
	}
	f := randomFaults[rand.IntN(len(randomFaults))]
	return &f
}
