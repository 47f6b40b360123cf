package graph

import (
	"regexp"
	"strings"
	"sync"
)

// Query options Graph refuses. Each API documents the OData options it supports, and Graph
// answers an undocumented one with 400 and a message naming it: "The query specified in the URI
// is not valid. Query option 'Select' is not allowed. To allow it, set the 'AllowedQueryOptions'
// property on EnableQueryAttribute or QueryValidationSettings." (microsoftgraph/microsoft-graph-docs-contrib
// issue 2556 and pull request 8527; issue 1749 has the same for 'SkipToken'). The registration
// report documents $filter only, though Microsoft's own tools send it $select and $top
// (../shared/GRAPH-FACTS.md). So when Graph refuses $select or $top, which shape the answer but
// not what it holds, the query goes again without them, and the client remembers that for the
// path as long as the process lives, logging it once. Other options change what is listed
// ($filter, $expand): a refusal of those stays a failure.

// refusedOptionPattern finds the options Graph's message names, as 'Select' or '$select'.
var refusedOptionPattern = regexp.MustCompile(`(?i)query option '\$?(\w+)'`)

// refusedOptions are the options Graph refused, by path: "select" and "top".
type refusedOptions struct {
	mu     sync.Mutex
	byPath map[string]map[string]bool
}

// withoutRefused is q without the options Graph refused for its path.
func (c *Client) withoutRefused(q Query) Query {
	c.refused.mu.Lock()
	defer c.refused.mu.Unlock()
	refused := c.refused.byPath[q.Path]
	if refused["select"] {
		q.Select = nil
	}
	if refused["top"] {
		q.Top = 0
	}
	return q
}

// refusesOptions says whether err is Graph refusing options of q that can be left out, and if
// so remembers them for q's path and logs it.
func (c *Client) refusesOptions(q Query, err error) bool {
	e := Classify(err)
	if e.Status != 400 {
		return false
	}
	var refused []string
	for _, m := range refusedOptionPattern.FindAllStringSubmatch(e.Message, -1) {
		switch option := strings.ToLower(m[1]); {
		case option == "select" && len(q.Select) > 0, option == "top" && q.Top > 0:
			refused = append(refused, option)
		}
	}
	if len(refused) == 0 {
		return false
	}
	c.refused.mu.Lock()
	defer c.refused.mu.Unlock()
	if c.refused.byPath == nil {
		c.refused.byPath = map[string]map[string]bool{}
	}
	if c.refused.byPath[q.Path] == nil {
		c.refused.byPath[q.Path] = map[string]bool{}
	}
	for _, option := range refused {
		if !c.refused.byPath[q.Path][option] {
			c.refused.byPath[q.Path][option] = true
			c.logger.Warn("Graph refuses a query option on this path; reading without it from now on",
				"path", q.Path, "option", "$"+option, "message", e.Message)
		}
	}
	return true
}
