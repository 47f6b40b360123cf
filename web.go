package main

import (
	"fmt"
	"net/http"
	"os"
	"path"
	"regexp"
	"time"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
)

// The health endpoints, at the paths Prometheus itself uses.
const (
	healthyPath = "/-/healthy"
	readyPath   = "/-/ready"
	reloadPath  = "/-/reload"
)

// newHandler serves only what the exporter means to serve: the metrics, the health endpoints,
// POST /-/reload and a landing page at / that links to them. A GET of /-/reload is a 405, as the
// mux answers a path registered for another method. It is a mux of its own: dependencies register
// pages on http.DefaultServeMux (expvar's /debug/vars with the command line, x/net/trace's
// /debug/requests), and those must not be served.
func newHandler(metricsPath string, metrics http.Handler, ready func() bool, reload http.Handler) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("GET "+exactPattern(metricsPath), metrics)
	mux.Handle("POST "+reloadPath, reload)
	mux.HandleFunc("GET "+healthyPath, func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "mfa_exporter is healthy.")
	})
	mux.HandleFunc("GET "+readyPath, func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			writeText(w, http.StatusServiceUnavailable, "mfa_exporter is not ready: a source has not finished its first refresh.")
			return
		}
		writeText(w, http.StatusOK, "mfa_exporter is ready.")
	})
	if metricsPath == "/" {
		return mux, nil
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "MFA Exporter",
		Description: "Prometheus exporter for Microsoft Entra ID MFA coverage, read from Microsoft Graph in the background",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: metricsPath, Text: "Metrics"},
			{Address: healthyPath, Text: "Health", Description: "200 while the exporter runs"},
			{Address: readyPath, Text: "Readiness", Description: "200 once every source has finished its first refresh, 503 before"},
		},
		Profiling: "false", // no pprof pages are served: no links to them
	})
	if err != nil {
		return nil, fmt.Errorf("landing page: %w", err)
	}
	mux.Handle("GET /{$}", landing)
	return mux, nil
}

// exactPattern is the mux pattern that matches p alone: "/" would match every path.
func exactPattern(p string) string {
	if p == "/" {
		return "/{$}"
	}
	return p
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, text) // a client that went away needs no answer
}

// webTimeouts bound what a client can hold: a scrape is answered from memory in milliseconds,
// so only a client that stalls meets them. Without them an idle keep-alive connection stays
// open for ever.
var webTimeouts = struct{ readHeader, write, idle time.Duration }{
	readHeader: 10 * time.Second,
	write:      time.Minute,
	idle:       2 * time.Minute, // longer than a usual scrape interval, so Prometheus reuses its connection
}

func newServer(handler http.Handler) *http.Server {
	return &http.Server{Handler: handler, ReadHeaderTimeout: webTimeouts.readHeader,
		WriteTimeout: webTimeouts.write, IdleTimeout: webTimeouts.idle}
}

// cleanPath is a telemetry path the mux and the landing page take as it is: segments of letters,
// digits and - . _ ~ only (no %, spaces, braces, quotes or control characters).
var cleanPath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

func checkTelemetryPath(p string) error {
	if p == "/" {
		return nil
	}
	if !cleanPath.MatchString(p) || path.Clean(p) != p {
		return fmt.Errorf("--web.telemetry-path %q: want a clean path such as /metrics: a / and then segments of letters, digits and - . _ ~, none empty, . or .., no / at the end", p)
	}
	if p == healthyPath || p == readyPath {
		return fmt.Errorf("--web.telemetry-path %q: the exporter answers health checks there", p)
	}
	return nil
}

// checkWebConfig refuses a web configuration that would not do what it says: exporter-toolkit
// reads an empty file, or /dev/null, as "no TLS, no authentication" without a word.
func checkWebConfig(file string) error {
	if file == "" {
		return nil
	}
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("--web.config.file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("--web.config.file %s: not a regular file", file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--web.config.file: %w", err)
	}
	var settings map[string]any
	if err := yaml.Unmarshal(data, &settings); err == nil && len(settings) == 0 {
		return fmt.Errorf("--web.config.file %s is empty: it would serve without TLS or basic auth; leave the flag out if that is what you want", file)
	}
	if err := web.Validate(file); err != nil {
		return fmt.Errorf("--web.config.file: %w", err)
	}
	return nil
}
