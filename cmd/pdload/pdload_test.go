package main

import (
	"os"
	"testing"
	"time"
)

func TestSumMetrics(t *testing.T) {
	text := []byte(`# HELP otelcol_exporter_sent_log_records Number of log record successfully sent to destination.
# TYPE otelcol_exporter_sent_log_records counter
otelcol_exporter_sent_log_records_total{exporter="pagerduty",otel_scope_name="x"} 150
otelcol_exporter_sent_log_records_total{exporter="other"} 50
otelcol_exporter_pagerduty_rate_limit_wait_seconds_sum{routing="svc0"} 1.5
otelcol_exporter_pagerduty_rate_limit_wait_seconds_sum{routing="svc1"} 2.5
otelcol_exporter_pagerduty_rate_limit_wait_seconds_count{routing="svc1"} 9
otelcol_exporter_sent_log_records_other 7
`)
	got := sumMetrics(text, metricSent, metricRateLimitWait, metricThrottled)
	if got[metricSent] != 200 || got[metricRateLimitWait] != 4 || got[metricThrottled] != 0 {
		t.Fatalf("sumMetrics = %v", got)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := percentile(ds, q); got != want {
			t.Errorf("percentile(%v) = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is 0")
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
}

func TestStormKeysAreIntegrationKeys(t *testing.T) {
	for i := range 16 {
		if k := stormKey(i); len(k) != 32 {
			t.Fatalf("stormKey(%d) = %q, not 32 characters", i, k)
		}
	}
	if len(defaultKey) != 32 {
		t.Fatal("defaultKey is not 32 characters")
	}
}

func TestOTLPBodyGroupsResources(t *testing.T) {
	now := time.Now()
	for _, enc := range []string{"proto", "json"} {
		b, err := otlpBody([]alert{{"a", "k1", now}, {"a", "k2", now}, {"b", "k3", now}}, enc)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", enc, err)
		}
	}
}

func TestCPUTimeOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if kb, err := statusKB(os.Getpid(), "VmHWM"); err != nil || kb <= 0 {
		t.Fatalf("VmHWM = %d, %v", kb, err)
	}
}
