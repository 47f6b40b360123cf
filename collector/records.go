package collector

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// A record is counted with what it has: a label whose field is missing or holds a value outside
// its documented set (values.go) is unknown or other. Only a record that nothing places is left
// out, for one of these reasons, the values of mfa_exporter_records_skipped_total's reason label.
const (
	skipNoID          = "no_id"                // no id
	skipNoCreatedTime = "no_created_date_time" // a sign-in without createdDateTime
	skipNoKeyID       = "no_key_id"            // a credential with neither keyId nor customKeyIdentifier
	skipOutsideQuery  = "outside_query"        // a sign-in Graph listed though the query's $filter excludes it
)

var recordsSkippedOpts = prometheus.CounterOpts{
	Namespace: namespace, Name: "records_skipped_total",
	Help: "Records Graph sent that a refresh left out because nothing places them (reason: no_id, no_created_date_time, no_key_id, outside_query), summed over refreshes; every other record is counted, with unknown or other where a field is missing or unexpected.",
}

// skipReasoner is a source that can leave records out; its reasons start at 0.
type skipReasoner interface {
	skipReasons() []string
}

// recordNotes is what one refresh noticed in Graph's records: those left out, by reason, and
// the values outside a documented set, by field. Each is logged once, when the refresh ends, with
// a record's id or the value as an example, so a tenant with a million odd records logs a line,
// not a million.
type recordNotes struct {
	skipped map[string]*noted
	odd     map[string]*noted
}

type noted struct {
	records int
	example string
}

func newRecordNotes() *recordNotes {
	return &recordNotes{skipped: map[string]*noted{}, odd: map[string]*noted{}}
}

func note(m map[string]*noted, key, example string) {
	n := m[key]
	if n == nil {
		n = &noted{example: example}
		m[key] = n
	}
	n.records++
}

// skip notes a record left out; id is its id, "" when it has none.
func (r *recordNotes) skip(reason, id string) { note(r.skipped, reason, id) }

// oddValue notes a value of a Graph field outside its documented set ("" when missing), and what
// it was counted as.
func (r *recordNotes) oddValue(field, value, countedAs string) {
	if value != "" {
		value = boundedName(value)
	}
	note(r.odd, field+"\x00"+countedAs, value)
}

// report counts the skipped records and logs what was noted, once per reason and per field.
func (r *recordNotes) report(source string, logger *slog.Logger, skipped *prometheus.CounterVec) {
	for _, reason := range sortedKeys(r.skipped) {
		n := r.skipped[reason]
		skipped.WithLabelValues(source, reason).Add(float64(n.records))
		logger.Warn("records left out: Graph sent records that nothing places", "source", source,
			"reason", reason, "records", n.records, "first_id", n.example)
	}
	for _, key := range sortedKeys(r.odd) {
		n := r.odd[key]
		field, countedAs, _ := strings.Cut(key, "\x00")
		example := fmt.Sprintf("%q", n.example)
		if n.example == "" {
			example = "(missing)"
		}
		logger.Warn("Graph sent values outside the documented sets", "source", source,
			"field", field, "records", n.records, "example", example, "counted_as", countedAs)
	}
}

func sortedKeys(m map[string]*noted) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
