// Command mfa_exporter exports how far a Microsoft Entra ID tenant is from "everyone who can
// manage something uses MFA", read from Microsoft Graph in the background.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/mfa-exporter/mfa_exporter/collector"
)

const name = "mfa_exporter"

func main() {
	requestTimeout := model.Duration(collector.DefaultRequestTimeout)
	var (
		metricsPath  = kingpin.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		cloudName    = kingpin.Flag("graph.cloud", "Microsoft cloud: "+strings.Join(collector.Clouds(), ", ")+". Picks the Graph endpoint and the authority host.").Default("public").String()
		endpoint     = kingpin.Flag("graph.endpoint", "Graph base URL, overriding the cloud's (e.g. a proxy). Its host is allowed to receive tokens.").String()
		tenantID     = kingpin.Flag("graph.tenant-id", "Entra ID tenant to read: its GUID or a verified domain such as contoso.onmicrosoft.com.").Envar("AZURE_TENANT_ID").String()
		demo         = kingpin.Flag("demo", "Serve a built-in simulated tenant from an in-process fake Graph: no Azure credentials needed.").Bool()
		demoUsers    = kingpin.Flag("demo.users", "Number of users in the demo tenant.").Default("5000").Int()
		toolkitFlags = kingpinflag.AddFlags(kingpin.CommandLine, ":10063")
	)
	kingpin.Flag("graph.request-timeout", "Timeout of one Graph HTTP request, its retries included (e.g. 30s, 2m).").
		Default(requestTimeout.String()).SetValue(&requestTimeout)
	logConfig := &promslog.Config{}
	promslogflag.AddFlags(kingpin.CommandLine, logConfig)
	if version.Version == "" {
		// A plain `go build` or `go install` sets no -X version: use the module's.
		if info, ok := debug.ReadBuildInfo(); ok {
			version.Version = info.Main.Version
		}
	}
	kingpin.Version(version.Print(name))
	kingpin.HelpFlag.Short('h')
	parseFlags(kingpin.CommandLine, os.Args[1:])
	logger := promslog.New(logConfig)

	if err := run(logger, options{
		metricsPath: *metricsPath, cloud: *cloudName, endpoint: *endpoint, tenantID: *tenantID,
		requestTimeout: time.Duration(requestTimeout), demo: *demo, demoUsers: *demoUsers, web: toolkitFlags,
	}); err != nil {
		logger.Error("mfa_exporter cannot run", "err", err)
		os.Exit(1)
	}
}

// parseFlags is kingpin.Parse, but a value that does not parse is reported with its flag's
// name: kingpin's own message only quotes the value (`strconv.ParseFloat: parsing "x"`).
func parseFlags(app *kingpin.Application, args []string) {
	_, err := app.Parse(args)
	if err == nil {
		return
	}
	// Setting the values again finds the one that failed; the process exits right after.
	if parsed, perr := app.ParseContext(args); perr == nil {
		for _, el := range parsed.Elements {
			flag, ok := el.Clause.(*kingpin.FlagClause)
			if !ok || el.Value == nil {
				continue
			}
			if serr := flag.Model().Value.Set(*el.Value); serr != nil {
				err = fmt.Errorf("--%s=%s: %w", flag.Model().Name, *el.Value, serr)
				break
			}
		}
	}
	app.Fatalf("%s, try --help", err)
}

type options struct {
	metricsPath, cloud, endpoint, tenantID string
	requestTimeout                         time.Duration
	demo                                   bool
	demoUsers                              int
	web                                    *web.FlagConfig
}

func run(logger *slog.Logger, o options) error {
	// Spaces and braces would make the path a ServeMux pattern with a method or wildcard.
	if !strings.HasPrefix(o.metricsPath, "/") || strings.ContainsAny(o.metricsPath, " \t{}") {
		return fmt.Errorf("--web.telemetry-path %q: want a path such as /metrics, starting with / and without spaces or braces", o.metricsPath)
	}
	if o.web.WebConfigFile != nil && *o.web.WebConfigFile != "" {
		if err := web.Validate(*o.web.WebConfigFile); err != nil {
			return fmt.Errorf("--web.config.file: %w", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	copts := collector.Options{TenantID: o.tenantID, Cloud: o.cloud, Endpoint: o.endpoint, RequestTimeout: o.requestTimeout, Logger: logger}
	if o.demo {
		demo, err := collector.StartDemo(o.demoUsers)
		if err != nil {
			return err
		}
		defer demo.Close()
		copts.Demo, copts.TenantID = demo, demo.TenantID()
		logger.Info("demo mode: serving a simulated tenant from an in-process fake Graph", "url", demo.URL(), "tenant_id", copts.TenantID, "users", o.demoUsers)
	}
	exporter, err := collector.New(ctx, copts)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(exporter, versioncollector.NewCollector(name),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter.Start(ctx)

	http.Handle(o.metricsPath, promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}))
	if o.metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "MFA Exporter",
			Description: "Prometheus exporter for Microsoft Entra ID MFA coverage, read from Microsoft Graph in the background",
			Version:     version.Info(),
			Links:       []web.LandingLinks{{Address: o.metricsPath, Text: "Metrics"}},
		})
		if err != nil {
			return fmt.Errorf("landing page: %w", err)
		}
		http.Handle("/", landing)
	}
	logger.Info("starting mfa_exporter", "version", version.Info(), "tenant_id", copts.TenantID)
	server := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := server.Shutdown(shutdown); err != nil {
			logger.Warn("scrapes still running at shutdown were cut off", "err", err)
		}
	}()
	if err := web.ListenAndServe(server, o.web, logger); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serving on --web.listen-address %s: %w", strings.Join(*o.web.WebListenAddresses, ","), err)
	}
	return nil
}
