package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
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

// TestOTLPBodyGroupsResources decodes the body in both encodings: each run
// of consecutive alerts of one service shares a resource, in order, and a
// service met again after another starts a resource of its own.
func TestOTLPBodyGroupsResources(t *testing.T) {
	now := time.Unix(1_700_000_000, 123)
	alerts := []alert{
		{service: "a", dedupKey: "k1", time: now},
		{service: "a", dedupKey: "k2", time: now.Add(time.Second)},
		{service: "b", dedupKey: "k3", time: now, severity: "critical"},
		{service: "a", dedupKey: "k4", time: now},
	}
	type group struct {
		service string
		keys    []string
	}
	want := []group{{"a", []string{"k1", "k2"}}, {"b", []string{"k3"}}, {"a", []string{"k4"}}}
	for _, tc := range []struct {
		encoding  string
		unmarshal plog.Unmarshaler
	}{
		{"proto", &plog.ProtoUnmarshaler{}},
		{"json", &plog.JSONUnmarshaler{}},
	} {
		b, err := otlpBody(alerts, tc.encoding)
		if err != nil {
			t.Fatalf("%s: %v", tc.encoding, err)
		}
		ld, err := tc.unmarshal.UnmarshalLogs(b)
		if err != nil {
			t.Fatalf("%s: decoding the body: %v", tc.encoding, err)
		}
		var got []group
		i := 0
		for _, rl := range ld.ResourceLogs().All() {
			svc, _ := rl.Resource().Attributes().Get("service.name")
			g := group{service: svc.AsString()}
			if rl.ScopeLogs().Len() != 1 {
				t.Errorf("%s: resource %q has %d scopes, want 1", tc.encoding, g.service, rl.ScopeLogs().Len())
			}
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					fp, _ := lr.Attributes().Get("alert.fingerprint")
					sev, _ := lr.Attributes().Get("alert.severity")
					g.keys = append(g.keys, fp.AsString())
					if i < len(alerts) {
						a := alerts[i]
						if sev.AsString() != a.sev() || !lr.Timestamp().AsTime().Equal(a.time) {
							t.Errorf("%s: record %d: severity %q at %v, want %q at %v", tc.encoding, i, sev.AsString(), lr.Timestamp().AsTime(), a.sev(), a.time)
						}
					}
					i++
				}
			}
			got = append(got, g)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: resources %v, want %v", tc.encoding, got, want)
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

func TestQuantileWithCensoredSamples(t *testing.T) {
	paged := func(d time.Duration) pageSample { return pageSample{Wait: d, Paged: true} }
	watched := func(d time.Duration) pageSample { return pageSample{Wait: d} }
	ms := time.Millisecond

	all := []pageSample{paged(3 * ms), paged(1 * ms), paged(2 * ms)}
	if q := quantileOf(all, 0.5); !q.exact() || q.Lo != 2*ms {
		t.Errorf("p50 of paged samples = %+v", q)
	}
	if got := fmtQ(quantileOf(all, 0.99)); got != "3.0 ms" {
		t.Errorf("p99 = %q", got)
	}

	// Never paged: only lower bounds.
	none := []pageSample{watched(20 * time.Second), watched(15 * time.Second)}
	q := quantileOf(none, 0.99)
	if !q.Unbounded || q.Lo != 20*time.Second {
		t.Errorf("p99 of censored samples = %+v", q)
	}
	if got := fmtQ(q); got != "> 20.00 s" {
		t.Errorf("fmtQ = %q", got)
	}
	if got := ratioQ(quantileOf(all, 0.99), q); got != "< 0.00015×" {
		t.Errorf("ratioQ = %q", got)
	}
	if got := ratioQ(q, quantileOf(all, 0.99)); got != "n/a" {
		t.Errorf("ratioQ of an unbounded after = %q", got)
	}

	// A censored sample below a paged one: the quantile lies between.
	mixed := []pageSample{paged(10 * ms), watched(5 * ms)}
	if q := quantileOf(mixed, 0.5); q.Unbounded || q.Lo != 5*ms || q.Hi != 10*ms {
		t.Errorf("p50 of mixed samples = %+v", q)
	}
	if quantileOf(nil, 0.5) != (quantile{}) {
		t.Error("quantile of nothing")
	}
}

func TestStatsOf(t *testing.T) {
	st := statsOf([]pageSample{
		{Wait: time.Second, Paged: true, Ahead: 1, Backlog: 230},
		{Wait: 2 * time.Second, Paged: true, Ahead: 0, Backlog: 228},
		{Wait: 15 * time.Second, Ahead: 15, Backlog: 227},
	})
	if st.N != 3 || st.Paged != 2 || st.AheadMax != 15 || st.AheadSum != 16 || st.BacklogLo != 227 || st.BacklogHi != 230 {
		t.Errorf("statsOf = %+v", st)
	}
	if !st.Max.Unbounded {
		t.Errorf("max with a censored sample = %+v", st.Max)
	}
}

func TestPageKeysAreIntegrationKeys(t *testing.T) {
	for _, k := range []string{busyKey, quietKey} {
		if len(k) != 32 {
			t.Errorf("%q is not 32 characters", k)
		}
	}
	cfg := string(pageExporter(60, 5))
	for _, want := range []string{"checkout: \"" + busyKey, "payments: \"" + quietKey, "events_per_minute: 60", "burst: 5"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("pageExporter lacks %q:\n%s", want, cfg)
		}
	}
}
