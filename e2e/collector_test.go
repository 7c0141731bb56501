package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

// Integration keys of the test configs: fakes only the simulator accepts.
const (
	keyDefault  = "d0000000000000000000000000000000"
	keyCheckout = "c0000000000000000000000000000000"
	keyPayments = "9a000000000000000000000000000000"
)

// collectorPorts are the loopback ports one collector listens on.
type collectorPorts struct {
	OTLP, Health, Metrics int
}

// collectorSpec says how to configure a collector for a set of ports.
type collectorSpec struct {
	// config renders a config, which is written to the test's temporary
	// directory. Either config or configFile must be set.
	config func(collectorPorts) string
	// configFile is an existing config, used as it is, or, with config, the
	// base that the rendered config is merged over (two --config flags).
	configFile string
	// env returns variables the config reads, if any.
	env func(collectorPorts) []string
}

// collector is a running otelcol-pagerduty.
type collector struct {
	proc       *proc
	ports      collectorPorts
	otlpURL    string
	healthURL  string
	metricsURL string
}

// startCollector starts the collector on fresh loopback ports and waits
// until its health check reports ready. A port taken between our probe and
// the collector's bind is retried with new ports.
func startCollector(t *testing.T, spec collectorSpec) *collector {
	t.Helper()
	bin := collectorBin(t)
	const attempts = 3
	for attempt := 1; ; attempt++ {
		ports := collectorPorts{OTLP: freePort(t), Health: freePort(t), Metrics: freePort(t)}
		var args []string
		if spec.configFile != "" {
			args = append(args, "--config", spec.configFile)
		}
		if spec.config != nil {
			path := filepath.Join(t.TempDir(), "collector.yaml")
			if err := os.WriteFile(path, []byte(spec.config(ports)), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--config", path)
		}
		var env []string
		if spec.env != nil {
			env = spec.env(ports)
		}
		c := &collector{
			proc:       startProc(t, fmt.Sprintf("collector-%d", attempt), bin, env, args...),
			ports:      ports,
			otlpURL:    fmt.Sprintf("http://127.0.0.1:%d/v1/logs", ports.OTLP),
			healthURL:  fmt.Sprintf("http://127.0.0.1:%d/", ports.Health),
			metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports.Metrics),
		}
		err := c.waitHealthy()
		if err == nil {
			return c
		}
		if attempt < attempts && strings.Contains(c.proc.Output(), "address already in use") {
			t.Logf("collector attempt %d lost a port race, retrying with new ports", attempt)
			c.proc.Stop(stopGrace)
			continue
		}
		t.Fatalf("collector did not become healthy: %v", err)
	}
}

// waitHealthy waits until the health check answers 200 OK; it fails as
// soon as the collector exits.
func (c *collector) waitHealthy() error {
	return proctest.WaitHTTP(context.Background(), httpClient, c.healthURL, c.proc.Proc, startTimeout, pollInterval)
}

func (c *collector) healthy() bool {
	resp, err := httpClient.Get(c.healthURL)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// send posts logs to the collector's OTLP/HTTP receiver as JSON.
func (c *collector) send(t *testing.T, ld plog.Logs) {
	t.Helper()
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatalf("marshalling OTLP JSON: %v", err)
	}
	c.sendJSON(t, body)
}

// sendJSON posts an OTLP JSON body to /v1/logs and requires a 200.
func (c *collector) sendJSON(t *testing.T, body []byte) {
	t.Helper()
	resp, err := httpClient.Post(c.otlpURL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", c.otlpURL, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", c.otlpURL, resp.Status, out)
	}
}

// metric returns the sum of the collector's own metric series named name
// (as the Prometheus reader exposes it; a _total suffix, which some reader
// settings add to counters, is accepted too) whose labels include every
// "key=value" in labels; 0 when there is none.
func (c *collector) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := httpClient.Get(c.metricsURL)
	if err != nil {
		t.Fatalf("GET %s: %v", c.metricsURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", c.metricsURL, resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metricName, lbls, _ := strings.Cut(series, "{")
		if metricName != name && metricName != name+"_total" {
			continue
		}
		match := true
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if !strings.Contains(","+strings.TrimSuffix(lbls, "}")+",", ","+k+`="`+v+`",`) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += f
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", c.metricsURL, err)
	}
	return sum
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
}

// testConfig is the collector config of the tests: OTLP/HTTP in, the
// pagerduty exporter out to the simulator with routing by service.name,
// fast retries, no client-side rate limit, and every listener on a port of
// its own so that collectors of parallel tests never clash.
func testConfig(simURL string, ec exporterConfig) func(collectorPorts) string {
	return func(p collectorPorts) string {
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
		return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d

exporters:
  pagerduty:
%s
extensions:
%s
service:
  extensions: [%s]
  telemetry:
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
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [pagerduty]
`, p.OTLP, exp.String(), extensions, extensionNames, p.Metrics)
	}
}

// startPair starts a simulator with the given flags and a collector with
// testConfig pointing at it.
func startPair(t *testing.T, ec exporterConfig, simFlags ...string) (*simulator, *collector) {
	t.Helper()
	sim := startSim(t, simFlags...)
	col := startCollector(t, collectorSpec{config: testConfig(sim.url, ec)})
	return sim, col
}
