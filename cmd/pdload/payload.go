package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// alert is one firing alert pdload sends: through the collector as an OTLP
// log record of the exporter's record contract, or directly to the
// simulator as the Events API event the exporter would make of it.
type alert struct {
	service  string // resource service.name (the routing attribute of the storm)
	dedupKey string // alert.fingerprint, hence the event's dedup_key
	time     time.Time
	severity string // alert.severity; "" is error
}

func (a alert) sev() string {
	if a.severity == "" {
		return "error"
	}
	return a.severity
}

const (
	alertName  = "PdloadHighErrorRate"
	hostName   = "pdload-host"
	runbookURL = "https://runbooks.example.com/pdload/high-error-rate"
)

func summaryOf(a alert) string {
	return "pdload: error rate 7.3% over 5% on " + a.service + " (" + a.dedupKey + ")"
}

// otlpBody is one OTLP/HTTP logs request holding alerts in order; a run of
// consecutive alerts of one service shares a resource. Each record is a
// typical alert: eight record attributes, two resource attributes.
func otlpBody(alerts []alert, encoding string) ([]byte, error) {
	ld := plog.NewLogs()
	var sl plog.ScopeLogs
	prev := ""
	for i, a := range alerts {
		if i == 0 || a.service != prev {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("service.name", a.service)
			rl.Resource().Attributes().PutStr("host.name", hostName)
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("pdload")
			prev = a.service
		}
		lr := sl.LogRecords().AppendEmpty()
		ts := pcommon.NewTimestampFromTime(a.time)
		lr.SetTimestamp(ts)
		lr.SetObservedTimestamp(ts)
		lr.SetSeverityNumber(plog.SeverityNumberError)
		attrs := lr.Attributes()
		attrs.PutStr("alert.name", alertName)
		attrs.PutStr("alert.status", "firing")
		attrs.PutStr("alert.fingerprint", a.dedupKey)
		attrs.PutStr("alert.summary", summaryOf(a))
		attrs.PutStr("alert.severity", a.sev())
		attrs.PutStr("alert.runbook_url", runbookURL)
		labels := attrs.PutEmptyMap("labels")
		labels.PutStr("env", "prod")
		labels.PutStr("team", "payments")
		attrs.PutDouble("error_rate", 0.073)
	}
	if encoding == "json" {
		return (&plog.JSONMarshaler{}).MarshalLogs(ld)
	}
	return (&plog.ProtoMarshaler{}).MarshalLogs(ld)
}

func otlpContentType(encoding string) string {
	if encoding == "json" {
		return "application/json"
	}
	return "application/x-protobuf"
}

// eventBody is the Events API v2 trigger the exporter makes of a (its
// custom_details: the record attributes it does not map to fields, and the
// resource).
func eventBody(a alert, routingKey string) []byte {
	type link struct {
		Href string `json:"href"`
		Text string `json:"text"`
	}
	ev := map[string]any{
		"routing_key":  routingKey,
		"event_action": "trigger",
		"dedup_key":    a.dedupKey,
		"payload": map[string]any{
			"summary":   summaryOf(a),
			"source":    hostName,
			"severity":  a.sev(),
			"timestamp": a.time.UTC().Format("2006-01-02T15:04:05.000Z"),
			"custom_details": map[string]any{
				"alert.name": alertName,
				"labels":     map[string]string{"env": "prod", "team": "payments"},
				"error_rate": 0.073,
				"resource":   map[string]string{"service.name": a.service, "host.name": hostName},
			},
		},
		"links": []link{{Href: runbookURL, Text: "Runbook"}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // a map of strings and numbers
	}
	return b
}

// newClient is pdload's HTTP client: keep-alive with enough idle
// connections for every concurrent sender, so pdload itself opens no
// connection per request.
func newClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns * 2
	t.MaxIdleConnsPerHost = conns * 2
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// post sends body and drains the answer; any status but want is an error.
func post(ctx context.Context, c *http.Client, url, contentType string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return nil
}
