package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

// Fake integration keys: 32 characters, accepted by the simulator only.
const defaultKey = "de000000000000000000000000000000"

// stormKey is the fake integration key of storm route i.
func stormKey(i int) string { return fmt.Sprintf("5707%028d", i) }

// simulator is a running cmd/pdsim.
type simulator struct {
	p    *proctest.Proc
	url  string
	port int
}

func startSimulator(ctx context.Context, o *options, name string, rateLimit int) (*simulator, error) {
	port, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, o.workDir, o.pdsimBin, nil,
		"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-rate-limit", strconv.Itoa(rateLimit), "-quiet", "-show-keys")
	if err != nil {
		return nil, err
	}
	s := &simulator{p: p, url: fmt.Sprintf("http://127.0.0.1:%d", port), port: port}
	if err := waitHTTP(ctx, p, s.url+"/healthz", 30*time.Second); err != nil {
		p.Stop(stopGrace)
		return nil, err
	}
	return s, nil
}

// simEvent is one alert event as the simulator received it.
type simEvent struct {
	Time       time.Time `json:"time"`
	Action     string    `json:"action"`
	RoutingKey string    `json:"routing_key"`
	DedupKey   string    `json:"dedup_key"`
}

// simSnapshot is the part of GET /incidents pdload reads.
type simSnapshot struct {
	Events   []simEvent `json:"events"`
	Requests struct {
		Total       int                       `json:"total"`
		ByEndpoint  map[string]map[string]int `json:"by_endpoint"`
		Throttled   int                       `json:"throttled"`
		RateLimited int                       `json:"rate_limited"`
	} `json:"requests"`
}

func (s *simulator) snapshot(ctx context.Context) (*simSnapshot, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/incidents", http.NoBody)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulator /incidents: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("simulator /incidents: %s", resp.Status)
	}
	var snap simSnapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return nil, fmt.Errorf("simulator /incidents: %w", err)
	}
	return &snap, nil
}

// reset forgets every incident, event, counter and rate-limit window.
func (s *simulator) reset(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/reset", http.NoBody)
	// pdsim takes state changes as JSON only (a cross-site form cannot send it).
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("simulator /reset: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulator /reset: %s", resp.Status)
	}
	return nil
}

// collector is a running otelcol-pagerduty.
type collector struct {
	p          *proctest.Proc
	otlpURL    string
	metricsURL string
	config     string
}

// exporterConfig is the pagerduty exporter's part of a collector config:
// everything under `pagerduty:` except the endpoint.
type exporterConfig string

const (
	// unlimitedExporter: one default key, client-side rate limit off.
	unlimitedExporter exporterConfig = `
    routing_key: ` + defaultKey + `
    rate_limit:
      events_per_minute: 0`
)

// stormExporter routes service.name svc0..svc<keys-1> to one key each;
// anything else goes to the default key.
func stormExporter(keys, perMinute, burst int) exporterConfig {
	var b strings.Builder
	fmt.Fprintf(&b, "\n    routing_key: \"%s\"\n    routing:\n      attribute: service.name\n      keys:\n", defaultKey)
	for i := range keys {
		fmt.Fprintf(&b, "        svc%d: \"%s\"\n", i, stormKey(i))
	}
	fmt.Fprintf(&b, "    rate_limit:\n      events_per_minute: %d\n      burst: %d", perMinute, burst)
	return exporterConfig(b.String())
}

// collectorConfig is testdata/demo.yaml's shape (OTLP/HTTP in, memory_limiter,
// pagerduty out, health_check, internal metrics by Prometheus pull) with
// logs at warn.
const collectorConfig = `# written by pdload
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%[1]d

processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20

exporters:
  pagerduty:
    endpoint: %[2]s%[5]s
    retry_on_failure:
      initial_interval: 500ms
      max_interval: 2s
      max_elapsed_time: 1m

extensions:
  health_check:
    endpoint: 127.0.0.1:%[3]d

service:
  extensions: [health_check]
  telemetry:
    logs:
      level: warn
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[4]d
  pipelines:
    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [pagerduty]
`

func startCollector(ctx context.Context, o *options, name string, sim *simulator, exp exporterConfig) (*collector, error) {
	return startCollectorBin(ctx, o, o.collectorBin, name, sim, exp)
}

// startCollectorBin starts the collector binary bin (o.collectorBin, or the
// baseline build of the page phase).
func startCollectorBin(ctx context.Context, o *options, bin, name string, sim *simulator, exp exporterConfig) (*collector, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	otlp, health, metrics := ports[0], ports[1], ports[2]
	cfg := fmt.Sprintf(collectorConfig, otlp, sim.url, health, metrics, string(exp))
	path := filepath.Join(o.workDir, name+".yaml")
	if err = os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc(name, o.workDir, bin, nil, "--config", path)
	if err != nil {
		return nil, err
	}
	c := &collector{
		p:          p,
		otlpURL:    fmt.Sprintf("http://127.0.0.1:%d/v1/logs", otlp),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics),
		config:     path,
	}
	if err := waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second); err != nil {
		p.Stop(stopGrace)
		return nil, err
	}
	if err := waitHTTP(ctx, p, c.metricsURL, 10*time.Second); err != nil {
		p.Stop(stopGrace)
		return nil, err
	}
	return c, nil
}

// Internal metrics of the collector pdload reads.
const (
	metricSent          = "otelcol_exporter_sent_log_records"
	metricFailed        = "otelcol_exporter_send_failed_log_records"
	metricThrottled     = "otelcol_exporter_pagerduty_throttled"
	metricRateLimitWait = "otelcol_exporter_pagerduty_rate_limit_wait"
)

// metrics scrapes the collector's Prometheus endpoint and returns, per
// metric name (without a _total suffix), the sum over its series.
func (c *collector) metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.metricsURL, http.NoBody)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return sumMetrics(body, names...), nil
}

// sumMetrics sums the samples of each name in a Prometheus text exposition,
// accepting name, name_total and, for histograms, name_sum.
func sumMetrics(text []byte, names ...string) map[string]float64 {
	out := make(map[string]float64, len(names))
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		metric := line[:end]
		for _, n := range names {
			if metric == n || metric == n+"_total" || metric == n+"_sum" || metric == n+"_seconds_sum" || metric == n+"_seconds_total" {
				f := strings.Fields(line[strings.LastIndexByte(line, '}')+1:])
				if len(f) > 0 {
					if v, err := strconv.ParseFloat(f[0], 64); err == nil {
						out[n] += v
					}
				}
			}
		}
	}
	return out
}

// sent is how many records the exporter has finished with successfully.
func (c *collector) sent(ctx context.Context) (float64, error) {
	m, err := c.metrics(ctx, metricSent)
	if err != nil {
		return 0, err
	}
	return m[metricSent], nil
}

// waitSent polls until the exporter has sent at least target records.
func (c *collector) waitSent(ctx context.Context, target float64, every, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := c.sent(ctx)
		if err == nil && n >= target {
			return nil
		}
		if perr := exited(c.p); perr != nil {
			return perr
		}
		if time.Now().After(deadline) {
			m, _ := c.metrics(ctx, metricFailed)
			msg := fmt.Sprintf("the collector sent %v of %v records within %v (send failed: %v); see %s",
				n, target, timeout, m[metricFailed], c.p.Stdout)
			if err != nil {
				return fmt.Errorf("%s; last scrape: %w", msg, err)
			}
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// logProblems counts the collector's log lines at warn level or above.
func (c *collector) logProblems() int {
	b, err := os.ReadFile(c.p.Stdout)
	if err != nil {
		return -1
	}
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, "\twarn\t") || strings.Contains(line, "\terror\t") {
			n++
		}
	}
	return n
}
