package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Serving hundreds of tenants: a scrape of 500 tenants is about 175,000 series. Rendering them
// through a registry on every scrape takes a second; but a tenant's series change only when one
// of its refreshes ends or its counters move, so each tenant's text is rendered once per change
// and kept, and a scrape joins the kept texts family by family. What is rendered is the same
// Collect that the registry path uses, checked by the same registry code.

// renderedFamily is one metric family in the text exposition format.
type renderedFamily struct {
	name    string
	header  []byte // the # HELP and # TYPE lines
	samples []byte
}

// render gathers c, with the checks of a registry, and renders its families in the text format,
// sorted by name.
func render(c prometheus.Collector) ([]renderedFamily, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return renderGathered(reg)
}

func renderGathered(g prometheus.Gatherer) ([]renderedFamily, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, err
	}
	out := make([]renderedFamily, 0, len(mfs))
	var buf bytes.Buffer
	for _, mf := range mfs {
		buf.Reset()
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", mf.GetName(), err)
		}
		text := buf.Bytes()
		// The header is the lines that start with '#', before the first sample.
		split := 0
		for split < len(text) && text[split] == '#' {
			split += bytes.IndexByte(text[split:], '\n') + 1
		}
		out = append(out, renderedFamily{name: mf.GetName(), header: bytes.Clone(text[:split]), samples: bytes.Clone(text[split:])})
	}
	return out, nil
}

// renderCache is a tenant's rendered text at a version of the tenant.
type renderCache struct {
	mu       sync.Mutex
	valid    bool
	version  uint64
	families []renderedFamily
}

// rendered is the tenant's text, rendered again when the tenant changed since.
func (t *tenant) rendered() ([]renderedFamily, error) {
	t.cache.mu.Lock()
	defer t.cache.mu.Unlock()
	v := t.version.Load() // read first: a change during the rendering renders again next time
	if t.cache.valid && t.cache.version == v {
		return t.cache.families, nil
	}
	families, err := render(t)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.spec.id, err)
	}
	t.cache.valid, t.cache.version, t.cache.families = true, v, families
	return families, nil
}

// ownMetrics are the exporter's metrics that belong to no tenant, as a collector.
type ownMetrics struct{ e *Exporter }

func (o ownMetrics) Describe(chan<- *prometheus.Desc)    {}
func (o ownMetrics) Collect(ch chan<- prometheus.Metric) { o.e.collectOwn(ch) }

// Handler serves /metrics: what other gathers (the Go and process collectors, build info) and
// what the Exporter collects, in the text format (gzipped when the scraper accepts it). A family
// must come from one of them only. A metric that cannot be rendered is a 500, as promhttp answers.
func (e *Exporter) Handler(other prometheus.Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		families, err := e.gatherRendered(other)
		if err != nil {
			e.logger.Error("rendering the metrics failed", "err", err)
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		var out io.Writer = w
		if acceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Add("Vary", "Accept-Encoding")
			gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
			defer func() { _ = gz.Close() }()
			out = gz
		}
		if err := writeRendered(out, families); err != nil {
			e.logger.Debug("the scrape was cut off", "err", err)
		}
	})
}

// gatherRendered is every family to serve, by name: the families of other and the exporter's
// own first, then each tenant's.
func (e *Exporter) gatherRendered(other prometheus.Gatherer) ([][]renderedFamily, error) {
	tenants := *e.tenants.Load()
	sets := make([][]renderedFamily, 0, len(tenants)+2)
	others, err := renderGathered(other)
	if err != nil {
		return nil, err
	}
	own, err := render(ownMetrics{e})
	if err != nil {
		return nil, err
	}
	sets = append(sets, others, own)
	for _, t := range tenants {
		families, err := t.rendered()
		if err != nil {
			return nil, err
		}
		sets = append(sets, families)
	}
	return sets, nil
}

// writeRendered writes the sets' families in name order, each with its header once and the
// samples of every set that has it.
func writeRendered(w io.Writer, sets [][]renderedFamily) error {
	type family struct {
		header  []byte
		samples [][]byte
	}
	byName := map[string]*family{}
	for _, set := range sets {
		for _, f := range set {
			if byName[f.name] == nil {
				byName[f.name] = &family{header: f.header}
			}
			byName[f.name].samples = append(byName[f.name].samples, f.samples)
		}
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	slices.Sort(names)
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, name := range names {
		f := byName[name]
		_, _ = bw.Write(f.header) // a bufio.Writer keeps its first error, which Flush returns
		for _, s := range f.samples {
			_, _ = bw.Write(s)
		}
	}
	return bw.Flush()
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" {
			return true
		}
	}
	return false
}
