package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// Integration keys of the test configs: fakes only the simulator accepts.
const (
	keyDefault  = "d0000000000000000000000000000000"
	keyCheckout = "c0000000000000000000000000000000"
	keyPayments = "9a000000000000000000000000000000"
)

// collectorSpec says how to configure a collector for a set of ports.
type collectorSpec struct {
	// config renders a config, which is written to the test's temporary
	// directory. Either config or configFile must be set.
	config func(e2etest.Ports) string
	// configFile is an existing config, used as it is, or, with config, the
	// base that the rendered config is merged over (two --config flags).
	configFile string
	// env returns variables the config reads, if any.
	env func(e2etest.Ports) []string
}

// startCollector starts otelcol-pagerduty configured by spec on fresh
// loopback ports and waits until its health check reports ready.
func startCollector(t *testing.T, spec collectorSpec) *e2etest.Collector {
	t.Helper()
	return e2etest.StartCollector(t, e2etest.CollectorBin(t), "collector", func(p e2etest.Ports) (env, args []string) {
		if spec.configFile != "" {
			args = append(args, "--config", spec.configFile)
		}
		if spec.config != nil {
			path := filepath.Join(t.TempDir(), "collector.yaml")
			if err := os.WriteFile(path, []byte(spec.config(p)), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--config", path)
		}
		if spec.env != nil {
			env = spec.env(p)
		}
		return env, args
	})
}

// exporterConfig tunes the pagerduty exporter of testConfig. Its zero
// value is the config every test started with: the default key, no
// client-side rate limit, fast retries for up to 30 s, exporterhelper's
// default in-memory queue (10 consumers) and the default 30 s HTTP timeout.
type exporterConfig struct {
	// noDefaultKey leaves routing_key unset: only routing.keys route.
	noDefaultKey bool
	// timeout is the HTTP client's timeout per request ("" keeps 30s).
	timeout string
	// eventsPerMinute and burst set rate_limit; 0 turns it off.
	eventsPerMinute, burst int
	// maxElapsed is retry_on_failure.max_elapsed_time ("" keeps 30s).
	maxElapsed string
	// maxInterval is retry_on_failure.max_interval ("" keeps 500ms), which
	// also caps the delay a Retry-After header may ask for.
	maxInterval string
	// numConsumers is sending_queue.num_consumers (0 keeps the default, 10).
	numConsumers int
	// storageDir, when set, adds the file_storage extension with that
	// directory and makes the sending queue persistent on it. A collector
	// started again with the same directory resumes the queue.
	storageDir string
	// autoResolve is auto_resolve.after ("" leaves it off).
	autoResolve string
	// recoveryDuration, when set, adds the healthcheckv2 extension on
	// Ports.Status, whose status endpoint counts permanent errors, and
	// recoverable errors older than this, as unhealthy.
	recoveryDuration string
	// extraRoutes adds routes route-0000, route-0001, … to routing.keys, each
	// with a key of its own (routeKey).
	extraRoutes int
	// traceURL is links.trace_url ("" leaves it unset).
	traceURL string
	// digestAfter is storm.digest_after ("" leaves it off).
	digestAfter string
	// intakeToken, when set, makes the OTLP receiver require it as a bearer
	// token (the bearertokenauth extension).
	intakeToken string
}

// routeKey is the routing key of extra route i.
func routeKey(i int) string { return fmt.Sprintf("e2eroute%024d", i) }

// testConfig is the collector config of the tests: OTLP/HTTP in, the
// pagerduty exporter out to the simulator with routing by service.name,
// fast retries, no client-side rate limit, and every listener on a port of
// its own so that collectors of parallel tests never clash.
func testConfig(simURL string, ec exporterConfig) func(e2etest.Ports) string {
	return func(p e2etest.Ports) string {
		var exp strings.Builder
		fmt.Fprintf(&exp, "    endpoint: %s\n", simURL)
		if ec.timeout != "" {
			fmt.Fprintf(&exp, "    timeout: %s\n", ec.timeout)
		}
		if !ec.noDefaultKey {
			fmt.Fprintf(&exp, "    routing_key: %s\n", keyDefault)
		}
		fmt.Fprintf(&exp, "    routing:\n      attribute: service.name\n      keys:\n        checkout: %s\n        payments: %s\n",
			keyCheckout, keyPayments)
		for i := range ec.extraRoutes {
			fmt.Fprintf(&exp, "        route-%04d: %s\n", i, routeKey(i))
		}
		fmt.Fprintf(&exp, "    rate_limit:\n      events_per_minute: %d\n", ec.eventsPerMinute)
		if ec.eventsPerMinute > 0 {
			fmt.Fprintf(&exp, "      burst: %d\n", ec.burst)
		}
		maxElapsed := ec.maxElapsed
		if maxElapsed == "" {
			maxElapsed = "30s"
		}
		maxInterval := ec.maxInterval
		if maxInterval == "" {
			maxInterval = "500ms"
		}
		if ec.autoResolve != "" {
			fmt.Fprintf(&exp, "    auto_resolve:\n      after: %s\n", ec.autoResolve)
		}
		if ec.digestAfter != "" {
			fmt.Fprintf(&exp, "    storm:\n      digest_after: %s\n", ec.digestAfter)
		}
		if ec.traceURL != "" {
			fmt.Fprintf(&exp, "    links:\n      trace_url: %q\n", ec.traceURL)
		}
		fmt.Fprintf(&exp, "    retry_on_failure:\n      initial_interval: 100ms\n      max_interval: %s\n      max_elapsed_time: %s\n", maxInterval, maxElapsed)
		if ec.numConsumers > 0 || ec.storageDir != "" {
			exp.WriteString("    sending_queue:\n")
			if ec.numConsumers > 0 {
				fmt.Fprintf(&exp, "      num_consumers: %d\n", ec.numConsumers)
			}
			if ec.storageDir != "" {
				exp.WriteString("      storage: file_storage\n")
			}
		}
		extensions, extensionNames := fmt.Sprintf("  health_check:\n    endpoint: 127.0.0.1:%d\n", p.Health), "health_check"
		if ec.storageDir != "" {
			extensions += fmt.Sprintf("  file_storage:\n    directory: %s\n", ec.storageDir)
			extensionNames += ", file_storage"
		}
		if ec.recoveryDuration != "" {
			extensions += fmt.Sprintf(`  healthcheckv2:
    use_v2: true
    component_health:
      include_permanent_errors: true
      include_recoverable_errors: true
      recovery_duration: %s
    http:
      endpoint: 127.0.0.1:%d
      status:
        enabled: true
        path: /status
`, ec.recoveryDuration, p.Status)
			extensionNames += ", healthcheckv2"
		}
		receiverAuth := ""
		if ec.intakeToken != "" {
			extensions += fmt.Sprintf("  bearertokenauth:\n    token: %q\n", ec.intakeToken)
			extensionNames += ", bearertokenauth"
			receiverAuth = "        auth:\n          authenticator: bearertokenauth\n"
		}
		return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
%s
exporters:
  pagerduty:
%s
extensions:
%s
service:
  extensions: [%s]
%s  pipelines:
    logs:
      receivers: [otlp]
      exporters: [pagerduty]
`, p.OTLP, receiverAuth, exp.String(), extensions, extensionNames, telemetryYAML(p.Metrics))
	}
}

// telemetryYAML is the service::telemetry section of the test configs: info
// logs, and the collector's own metrics on a Prometheus endpoint on
// 127.0.0.1:port, where the tests read them.
func telemetryYAML(port int) string {
	return fmt.Sprintf(`  telemetry:
    logs:
      level: info
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, port)
}

// startPair starts a simulator with the given flags and a collector with
// testConfig pointing at it.
func startPair(t *testing.T, ec exporterConfig, simFlags ...string) (*e2etest.Simulator, *e2etest.Collector) {
	t.Helper()
	sim := e2etest.StartSim(t, simFlags...)
	col := startCollector(t, collectorSpec{config: testConfig(sim.URL, ec)})
	return sim, col
}
