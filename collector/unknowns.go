package collector

import (
	"log/slog"
	"sync"
)

// unknownValues logs each value Graph sent that a documented value set does not hold, once per
// field and value for the life of the process, saying what the exporter counted it as. A value
// Microsoft adds is then seen in the log, and it never turns into a label of its own.
type unknownValues struct {
	logger *slog.Logger
	source string

	mu   sync.Mutex
	seen map[[2]string]bool
}

func newUnknownValues(logger *slog.Logger, source string) *unknownValues {
	return &unknownValues{logger: logger, source: source, seen: map[[2]string]bool{}}
}

// note logs value of field the first time it is seen; countedAs says what it counts as.
func (u *unknownValues) note(field, value, countedAs string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	key := [2]string{field, value}
	if u.seen[key] {
		return
	}
	u.seen[key] = true
	u.logger.Warn("Graph sent a value the exporter does not know", "source", u.source, "field", field,
		"value", value, "counted_as", countedAs)
}
