// Command mfa_exporter exports how far a Microsoft Entra ID tenant is from "everyone who can
// manage something uses MFA", read from Microsoft Graph in the background.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
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
		configFile   = kingpin.Flag("config.file", "YAML file listing the tenants to read, each with its credential (see the README); read again on SIGHUP and POST /-/reload. Without it, one tenant: --graph.tenant-id with the environment's credential.").String()
		shard        = kingpin.Flag("tenants.shard", "Read only shard I of N of the tenants (I/N, I from 0 to N-1): those whose tenant id Prometheus's hashmod puts there, so that N replicas share one tenant list.").PlaceHolder("I/N").String()
		storagePath  = kingpin.Flag("storage.path", "Directory where each tenant's and source's last state is kept, so that a restart serves it at once and resumes; none by default.").String()
		concurrent   = kingpin.Flag("graph.max-concurrent-refreshes", "At most this many refreshes, of any tenant and source, run at once. 25 keep one app reading many tenants at its reports budget across tenants.").Default("25").Int()
		demo         = kingpin.Flag("demo", "Serve built-in simulated tenants from an in-process fake Graph: no Azure credentials needed.").Bool()
		demoUsers    = kingpin.Flag("demo.users", "Number of users in the (first) demo tenant.").Default("5000").Int()
		demoTenants  = kingpin.Flag("demo.tenants", "Number of demo tenants, each with its own id and size.").Default("1").Int()
		demoFaults   = kingpin.Flag("demo.faults", "Share of the demo Graph's answers, 0 to 1, that are a 429, a 503 or a body that is not JSON, at random.").Default("0").Float64()
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
		metricsPath: *metricsPath, web: toolkitFlags, demo: *demo, demoUsers: *demoUsers, demoTenants: *demoTenants, demoFaults: *demoFaults,
		collector: collector.Options{TenantID: *tenantID, Cloud: *cloudName, Endpoint: *endpoint, RequestTimeout: time.Duration(requestTimeout),
			ConfigFile: *configFile, Shard: *shard, StoragePath: *storagePath, MaxConcurrentRefreshes: *concurrent, Logger: logger},
	}); err != nil {
		logger.Error("mfa_exporter cannot run", "err", err)
		os.Exit(1)
	}
}

// parseFlags is kingpin.Parse, but a value that does not parse is reported with its flag's
// name (kingpin's own message only quotes the value: `strconv.ParseFloat: parsing "x"`), and an
// integer flag takes whole numbers only.
func parseFlags(app *kingpin.Application, args []string) {
	_, err := app.Parse(args)
	if err == nil {
		err = checkIntegers(app, args)
	} else {
		err = nameTheFlag(app, args, err)
	}
	if err != nil {
		app.Fatalf("%s, try --help", err)
	}
}

// nameTheFlag finds the flag whose value failed to parse by setting the values again; the
// process exits right after.
func nameTheFlag(app *kingpin.Application, args []string, err error) error {
	parsed, perr := app.ParseContext(args)
	if perr != nil {
		return err
	}
	for _, el := range parsed.Elements {
		flag, ok := el.Clause.(*kingpin.FlagClause)
		if !ok || el.Value == nil {
			continue
		}
		if serr := flag.Model().Value.Set(*el.Value); serr != nil {
			return fmt.Errorf("--%s=%s: %w", flag.Model().Name, *el.Value, serr)
		}
	}
	return err
}

// checkIntegers refuses what kingpin's integer flags accept but mean something else: kingpin
// parses them as floats, so 2.5 becomes 2 and 99999999999999999999 wraps to a negative number.
func checkIntegers(app *kingpin.Application, args []string) error {
	parsed, err := app.ParseContext(args)
	if err != nil {
		return err
	}
	for _, el := range parsed.Elements {
		flag, ok := el.Clause.(*kingpin.FlagClause)
		if !ok || el.Value == nil {
			continue
		}
		if getter, ok := flag.Model().Value.(kingpin.Getter); ok {
			if _, isInt := getter.Get().(int); isInt {
				if _, err := strconv.Atoi(*el.Value); err != nil {
					return fmt.Errorf("--%s=%s: want a whole number from %d to %d", flag.Model().Name, *el.Value, math.MinInt, math.MaxInt)
				}
			}
		}
	}
	return nil
}

type options struct {
	metricsPath            string
	demo                   bool
	demoUsers, demoTenants int
	demoFaults             float64
	web                    *web.FlagConfig
	collector              collector.Options
}

func run(logger *slog.Logger, o options) error {
	if err := checkTelemetryPath(o.metricsPath); err != nil {
		return err
	}
	if o.web.WebConfigFile != nil {
		if err := checkWebConfig(*o.web.WebConfigFile); err != nil {
			return err
		}
	}
	ctx, stop := shutdownOnSignal(logger)
	defer stop()

	exporter, err := newExporter(ctx, logger, o)
	if err != nil {
		if ctx.Err() != nil {
			return nil // a signal during start-up, e.g. while waiting for the first token
		}
		return err
	}
	// The exporter's own series are rendered by its Handler, from a cache per tenant; the registry
	// holds the rest.
	registry := prometheus.NewRegistry()
	registry.MustRegister(versioncollector.NewCollector(name),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler, err := newHandler(o.metricsPath, exporter.Handler(registry), exporter.Ready, reloadHandler(exporter))
	if err != nil {
		return err
	}
	go reloadOnSIGHUP(ctx, exporter, logger)
	exporter.Start(ctx)
	// On the way out, stop the refreshes (when the server failed rather than a signal came) and
	// let an interrupted one end, and say so, before the process does.
	defer exporter.Wait()
	defer stop()

	server := newServer(handler)
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

// shutdownOnSignal returns a context that SIGINT or SIGTERM ends, logging the shutdown once;
// stop ends it too, silently.
func shutdownOnSignal(logger *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-signals:
			logger.Info("shutting down", "signal", s.String())
			cancel()
		case <-ctx.Done():
		}
		signal.Stop(signals)
	}()
	return ctx, cancel
}

// newExporter builds the exporter, on the demo's fake Graph or on Azure.
func newExporter(ctx context.Context, logger *slog.Logger, o options) (*collector.Exporter, error) {
	copts := o.collector
	if o.demo {
		if copts.ConfigFile != "" {
			return nil, fmt.Errorf("--demo and --config.file: choose one (the demo serves its own tenants)")
		}
		demo, err := collector.StartDemo(o.demoTenants, o.demoUsers)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, demo.Close)
		if err := demo.FailAtRandom(o.demoFaults); err != nil {
			return nil, err
		}
		copts.Demo = demo
		logger.Info("demo mode: serving simulated tenants from an in-process fake Graph", "url", demo.URL(), "tenants", demo.Tenants(), "users", o.demoUsers, "faults", o.demoFaults)
	}
	exporter, err := collector.New(ctx, copts)
	if err == nil {
		logger.Info("starting mfa_exporter", "version", version.Info(), "tenants", exporter.Tenants(), "shard", cmp.Or(copts.Shard, "all"))
	}
	return exporter, err
}

// reloadOnSIGHUP reloads the configuration file on every SIGHUP until ctx ends.
func reloadOnSIGHUP(ctx context.Context, exporter *collector.Exporter, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := exporter.Reload(); errors.Is(err, collector.ErrNoConfigFile) {
				logger.Warn("SIGHUP ignored", "err", err)
			}
		}
	}
}

// reloadHandler is POST /-/reload, as Prometheus and blackbox_exporter have it.
func reloadHandler(exporter *collector.Exporter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch err := exporter.Reload(); {
		case errors.Is(err, collector.ErrNoConfigFile):
			http.Error(w, err.Error(), http.StatusBadRequest)
		case err != nil:
			http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		}
	}
}
