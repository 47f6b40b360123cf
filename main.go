// Command mfa_exporter exports how far a Microsoft Entra ID tenant is from "everyone who can
// manage something uses MFA", read from Microsoft Graph in the background.
package main

import (
	"context"
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
		metricsPath: *metricsPath, cloud: *cloudName, endpoint: *endpoint, tenantID: *tenantID,
		requestTimeout: time.Duration(requestTimeout), demo: *demo, demoUsers: *demoUsers, demoFaults: *demoFaults, web: toolkitFlags,
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
	metricsPath, cloud, endpoint, tenantID string
	requestTimeout                         time.Duration
	demo                                   bool
	demoUsers                              int
	demoFaults                             float64
	web                                    *web.FlagConfig
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
	registry := prometheus.NewRegistry()
	registry.MustRegister(exporter, versioncollector.NewCollector(name),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler, err := newHandler(o.metricsPath, promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}), exporter.Ready)
	if err != nil {
		return err
	}
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
	copts := collector.Options{TenantID: o.tenantID, Cloud: o.cloud, Endpoint: o.endpoint, RequestTimeout: o.requestTimeout, Logger: logger}
	if o.demo {
		demo, err := collector.StartDemo(o.demoUsers)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, demo.Close)
		if err := demo.FailAtRandom(o.demoFaults); err != nil {
			return nil, err
		}
		copts.Demo, copts.TenantID = demo, demo.TenantID()
		logger.Info("demo mode: serving a simulated tenant from an in-process fake Graph", "url", demo.URL(), "tenant_id", copts.TenantID, "users", o.demoUsers, "faults", o.demoFaults)
	}
	exporter, err := collector.New(ctx, copts)
	if err == nil {
		logger.Info("starting mfa_exporter", "version", version.Info(), "tenant_id", copts.TenantID)
	}
	return exporter, err
}
