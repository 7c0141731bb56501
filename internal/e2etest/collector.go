package e2etest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

// Ports are the loopback ports one collector listens on: the OTLP receiver,
// the health_check extension, the Prometheus reader of its own metrics and,
// for configs that have it, healthcheckv2's status endpoint.
type Ports struct {
	OTLP, Health, Metrics, Status int
}

// Collector is a running collector (otelcol-pagerduty, or another
// distribution built by ocb).
type Collector struct {
	Proc       *Proc
	Ports      Ports
	OTLPURL    string // OTLP/HTTP logs: http://127.0.0.1:<OTLP>/v1/logs
	HealthURL  string
	MetricsURL string
	StatusURL  string // healthcheckv2's status endpoint: http://127.0.0.1:<Status>/status
}

// startAttempts is how often StartCollector tries fresh ports after losing
// a race for one.
const startAttempts = 3

// StartCollector starts bin on fresh loopback ports with the environment
// and arguments setup returns for them, and waits until its health check
// (GET / on Ports.Health) answers 200 OK. A port taken between our probe
// and the collector's bind is retried with new ports. The processes are
// named name-1, name-2, … by attempt.
func StartCollector(tb testing.TB, bin, name string, setup func(Ports) (env, args []string)) *Collector {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		p := Ports{OTLP: FreePort(tb), Health: FreePort(tb), Metrics: FreePort(tb), Status: FreePort(tb)}
		env, args := setup(p)
		c := &Collector{
			Proc:       StartProc(tb, fmt.Sprintf("%s-%d", name, attempt), bin, env, args...),
			Ports:      p,
			OTLPURL:    fmt.Sprintf("http://127.0.0.1:%d/v1/logs", p.OTLP),
			HealthURL:  fmt.Sprintf("http://127.0.0.1:%d/", p.Health),
			MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", p.Metrics),
			StatusURL:  fmt.Sprintf("http://127.0.0.1:%d/status", p.Status),
		}
		err := proctest.WaitHTTP(context.Background(), HTTPClient, c.HealthURL, c.Proc.Proc, StartTimeout, PollInterval)
		if err == nil {
			return c
		}
		if attempt < startAttempts && strings.Contains(c.Proc.Output(), "address already in use") {
			tb.Logf("%s attempt %d lost a port race, retrying with new ports", name, attempt)
			c.Proc.Stop(StopGrace)
			continue
		}
		tb.Fatalf("%s did not become healthy on %s: %v", name, c.HealthURL, err)
	}
}

// Healthy reports whether the health check answers 200 OK.
func (c *Collector) Healthy() bool {
	resp, err := HTTPClient.Get(c.HealthURL)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// Send posts logs to the collector's OTLP/HTTP receiver as JSON and
// requires a 200.
func (c *Collector) Send(tb testing.TB, ld plog.Logs) {
	tb.Helper()
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		tb.Fatalf("marshaling OTLP JSON: %v", err)
	}
	c.SendJSON(tb, body)
}

// SendJSON posts an OTLP JSON body to the collector's /v1/logs and requires
// a 200.
func (c *Collector) SendJSON(tb testing.TB, body []byte) {
	tb.Helper()
	PostOTLP(tb, c.OTLPURL, body)
}

// PostOTLP posts an OTLP JSON body to url and requires a 200.
func PostOTLP(tb testing.TB, url string, body []byte) {
	tb.Helper()
	if err := TryPostOTLP(url, body); err != nil {
		tb.Fatal(err)
	}
}

// TrySend is Send for a goroutine other than the test's, which must not
// stop the test: it returns what went wrong instead.
func (c *Collector) TrySend(ld plog.Logs) error {
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return fmt.Errorf("marshaling OTLP JSON: %w", err)
	}
	return TryPostOTLP(c.OTLPURL, body)
}

// TryPostOTLP posts an OTLP JSON body to url; an error unless it is
// answered 200.
func TryPostOTLP(url string, body []byte) error {
	resp, err := HTTPClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, out)
	}
	return nil
}

// Scrape returns the body of the collector's Prometheus endpoint.
func (c *Collector) Scrape(tb testing.TB) []byte {
	tb.Helper()
	resp, err := HTTPClient.Get(c.MetricsURL)
	if err != nil {
		tb.Fatalf("GET %s: %v", c.MetricsURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("reading %s: %v", c.MetricsURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %s", c.MetricsURL, resp.Status)
	}
	return body
}

// Exposition scrapes the collector's own metrics and parses them.
func (c *Collector) Exposition(tb testing.TB) *Exposition {
	tb.Helper()
	e, err := ParseExposition(bytes.NewReader(c.Scrape(tb)))
	if err != nil {
		tb.Fatalf("%s: %v", c.MetricsURL, err)
	}
	return e
}

// Metric returns the sum of the collector's own series named name (as the
// Prometheus reader exposes it; a _total suffix, which some reader settings
// add to counters, is accepted too) whose labels include every "key=value"
// of labels; 0 when there is none.
func (c *Collector) Metric(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	e := c.Exposition(tb)
	return e.Sum(name, labels...) + e.Sum(name+"_total", labels...)
}

// Count is Metric for a counter of things: it fails the test unless the sum
// is a whole number.
func (c *Collector) Count(tb testing.TB, name string, labels ...string) int {
	tb.Helper()
	v := c.Metric(tb, name, labels...)
	if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		tb.Fatalf("%s%v = %v: not a count", name, labels, v)
	}
	return int(v)
}
