package collector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

// snapshot is what one successful refresh of a source read; it renders itself as metrics.
type snapshot interface {
	Collect(ch chan<- prometheus.Metric)
}

// source reads one part of the tenant from Graph.
type source interface {
	// Refresh reads Graph and returns a complete snapshot, or an error and no snapshot:
	// a failed refresh never yields a half-counted one.
	Refresh(ctx context.Context) (snapshot, error)
}

// sourceConfig is what every source is built with.
type sourceConfig struct {
	graph    *graph.Client
	tenantID string
	logger   *slog.Logger
	now      func() time.Time
	// skipped is mfa_exporter_records_skipped_total, for recordNotes.report.
	skipped *prometheus.CounterVec
}

// sourceSettings say how one source runs.
type sourceSettings struct {
	interval time.Duration
	timeout  time.Duration
	new      func(sourceConfig) (source, error)
}

// sourceSpec is a source as declared in its file: its name, the permission it needs, and the
// flags that switch and time it.
type sourceSpec struct {
	name       string
	permission string
	enabled    *bool
	interval   *model.Duration
	timeout    *model.Duration
	new        func(sourceConfig) (source, error)
}

// sourceSpecs are the declared sources, by name.
var sourceSpecs = map[string]*sourceSpec{}

// declareSource declares a source and its --[no-]collector.NAME, refresh-interval and
// refresh-timeout flags. permission is what the tenant must grant for it, named in failure logs.
func declareSource(name, permission string, interval time.Duration, newSource func(sourceConfig) (source, error)) {
	s := &sourceSpec{name: name, permission: permission, new: newSource}
	s.enabled = kingpin.Flag("collector."+name, fmt.Sprintf("Enable the %s source (requires %s).", name, permission)).Default("true").Bool()
	s.interval = durationFlag("collector."+name+".refresh-interval",
		fmt.Sprintf("How often the %s source reads Graph in the background; scrapes are served from its last good read.", name),
		model.Duration(interval))
	s.timeout = durationFlag("collector."+name+".refresh-timeout",
		fmt.Sprintf("How long one refresh of the %s source may take, Graph's throttling waits included.", name),
		model.Duration(interval))
	sourceSpecs[name] = s
}

// durationFlag declares a flag that takes Prometheus durations (30s, 15m, 1h, 30d). The value
// holds the default even before the flags are parsed (tests build sources without parsing).
func durationFlag(name, help string, def model.Duration) *model.Duration {
	d := &def
	kingpin.Flag(name, help).Default(def.String()).SetValue(d)
	return d
}

// sourcesFromFlags returns the sources that the command line enables.
func sourcesFromFlags() (map[string]sourceSettings, error) {
	out := map[string]sourceSettings{}
	for name, s := range sourceSpecs {
		if !*s.enabled {
			continue
		}
		if *s.interval <= 0 || *s.timeout <= 0 {
			return nil, fmt.Errorf("--collector.%s.refresh-interval and --collector.%s.refresh-timeout must be positive", name, name)
		}
		out[name] = sourceSettings{interval: time.Duration(*s.interval), timeout: time.Duration(*s.timeout), new: s.new}
	}
	return out, nil
}
