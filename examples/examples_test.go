// Package examples tests the deployment examples under examples/: the
// Grafana dashboard (grafana/), the Kubernetes manifests and Dockerfiles
// (kubernetes/, and kubernetes/loadbalancing/ for the replicas behind a
// front tier) and the load-balanced scale-out (loadbalancing/), including
// a replica's failover (failover_test.go).
//
// Tests that only read files run with every `go test ./...`. Tests that run
// the built collector are skipped unless PAGERDUTY_E2E=1, as in e2e/; `make
// e2e` builds the binaries and runs them. By hand:
//
//	make build pdsim
//	.tools/builder --config examples/loadbalancing/builder-config.yaml   # the front tier: TestLoadBalanced*, TestKubernetesConfigValidates
//	PAGERDUTY_E2E=1 go test -count=1 -v ./examples/
//
// OTELCOL_BIN, PDSIM_BIN and OTELCOL_LB_BIN override the binaries' paths
// (default _build/otelcol-pagerduty, _build/pdsim, _build/lb/otelcol-pagerduty-lb).
//
// The scrape the dashboard is checked against, grafana/testdata/scrape.txt,
// is regenerated from a live collector with
//
//	PAGERDUTY_E2E=1 go test -count=1 -run TestDashboardLiveScrape ./examples/ -update
package examples

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	yaml "go.yaml.in/yaml/v3"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

var update = flag.Bool("update", false, "TestDashboardLiveScrape: rewrite grafana/testdata/scrape.txt from the live collector")

// Paths, relative to this package's directory.
const (
	dashboardPath   = "grafana/pagerduty-exporter.json"
	scrapePath      = "grafana/testdata/scrape.txt"
	metadataPath    = "../exporter/pagerdutyexporter/metadata.yaml"
	k8sDir          = "kubernetes"
	k8sLBDir        = "kubernetes/loadbalancing"
	lbDir           = "loadbalancing"
	demoConfigPath  = "../testdata/demo.yaml"
	demoAlertsGlob  = "../testdata/alerts/*.json"
	makefilePath    = "../Makefile"
	builderManifest = "../builder-config.yaml"
)

// ============================================================================
// 1. Grafana dashboard
// ============================================================================

// exporterhelperMetrics are the exporterhelper metrics (not declared in our
// metadata.yaml) that the dashboard may use. Each must be in scrape.txt.
var exporterhelperMetrics = []string{
	"otelcol_exporter_queue_size",
	"otelcol_exporter_queue_capacity",
	"otelcol_exporter_send_failed_log_records",
}

// targetLabels are added by Prometheus when it scrapes the collector, so a
// scrape of the collector itself never shows them.
var targetLabels = []string{"job", "instance"}

// ourMetrics reads metadata.yaml and returns the Prometheus series names of
// the exporter's own metrics (name -> true), and the declared metric names
// with their mdatagen type (gauge, sum or histogram).
func ourMetrics(t *testing.T) (series map[string]bool, declared map[string]string) {
	t.Helper()
	data, err := os.ReadFile(metadataPath)
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Telemetry struct {
			Metrics map[string]map[string]any `yaml:"metrics"`
		} `yaml:"telemetry"`
	}
	if err := yaml.Unmarshal(data, &md); err != nil {
		t.Fatalf("%s: %v", metadataPath, err)
	}
	if len(md.Telemetry.Metrics) == 0 {
		t.Fatalf("%s declares no telemetry.metrics", metadataPath)
	}
	series, declared = map[string]bool{}, map[string]string{}
	for key, def := range md.Telemetry.Metrics {
		name := "otelcol_" + key
		switch {
		case def["histogram"] != nil:
			declared[name] = "histogram"
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				series[name+suffix] = true
			}
		case def["sum"] != nil:
			declared[name] = "sum"
			series[name] = true
		case def["gauge"] != nil:
			declared[name] = "gauge"
			series[name] = true
		default:
			t.Fatalf("%s: metric %s is neither gauge, sum nor histogram", metadataPath, key)
		}
	}
	return series, declared
}

// promRefs is what one PromQL expression references.
type promRefs struct {
	selectors []selector // metric selectors with the label names they match on
	grouping  []string   // label names in by/without/on/ignoring/group_* lists
}

type selector struct {
	metric string
	labels []string
}

func (r promRefs) metrics() []string {
	var out []string
	for _, s := range r.selectors {
		if !slices.Contains(out, s.metric) {
			out = append(out, s.metric)
		}
	}
	return out
}

// grafanaIntervals are Grafana's built-in interval variables, which stand
// where PromQL wants a duration ([$__rate_interval]).
var grafanaIntervals = regexp.MustCompile(`\$(__(rate_interval|interval|range)\b|\{__(rate_interval|interval|range)\})`)

// promQLParser is Prometheus's own PromQL parser, with its default
// functions.
var promQLParser = parser.NewParser(parser.Options{})

// parsePromQL parses a PromQL expression of the dashboard (Grafana's
// interval variables replaced by a duration; other variables only stand
// inside label values) and returns the metric selectors, with the label
// names of their matchers, and the label names of its grouping clauses:
// by and without of aggregations, on, ignoring and group_left/right of
// binary operators. A selector without a metric name is an error: the
// dashboard must name what it reads.
func parsePromQL(expr string) (promRefs, error) {
	var refs promRefs
	ast, err := promQLParser.ParseExpr(grafanaIntervals.ReplaceAllString(expr, "5m"))
	if err != nil {
		return refs, err
	}
	var errs []error
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.Name == "" {
				errs = append(errs, fmt.Errorf("label matchers without a metric name: %s", n))
				return nil
			}
			sel := selector{metric: n.Name}
			for _, m := range n.LabelMatchers {
				if m.Name != model.MetricNameLabel {
					sel.labels = append(sel.labels, m.Name)
				}
			}
			refs.selectors = append(refs.selectors, sel)
		case *parser.AggregateExpr:
			refs.grouping = append(refs.grouping, n.Grouping...)
		case *parser.BinaryExpr:
			if vm := n.VectorMatching; vm != nil {
				refs.grouping = append(refs.grouping, vm.MatchingLabels...)
				refs.grouping = append(refs.grouping, vm.Include...)
			}
		}
		return nil
	})
	return refs, errors.Join(errs...)
}

func TestParsePromQL(t *testing.T) {
	refs, err := parsePromQL(`histogram_quantile(0.95, sum by (le, endpoint) (rate(a_bucket{job=~"$job", x!="}"}[$__rate_interval]))) / on(instance) group_left(z) b or vector(0)`)
	if err != nil {
		t.Fatal(err)
	}
	wantSelectors := []selector{{metric: "a_bucket", labels: []string{"job", "x"}}, {metric: "b"}}
	if !reflect.DeepEqual(refs.selectors, wantSelectors) {
		t.Errorf("selectors %+v, want %+v", refs.selectors, wantSelectors)
	}
	// The grouping labels in any order: the parser walks the syntax tree,
	// not the text.
	if got, want := slices.Sorted(slices.Values(refs.grouping)), []string{"endpoint", "instance", "le", "z"}; !slices.Equal(got, want) {
		t.Errorf("grouping %v, want %v", got, want)
	}
	for _, bad := range []string{`a{b="c"`, `{__name__="a"}`, `a{b=c}`, `a[5m`} {
		if _, err := parsePromQL(bad); err == nil {
			t.Errorf("parsePromQL(%q): no error", bad)
		}
	}
}

// dashboardQuery is one PromQL query of the dashboard and where it is.
type dashboardQuery struct {
	where  string // panel title and refId, or variable name
	expr   string
	legend string
	// labelOf, for a label_values(expr, label) variable: the label.
	labelOf string
}

type dashboard struct {
	UID        string           `json:"uid"`
	Title      string           `json:"title"`
	Panels     []dashboardPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type dashboardPanel struct {
	ID         int                 `json:"id"`
	Type       string              `json:"type"`
	Title      string              `json:"title"`
	Datasource *panelDatasource    `json:"datasource"`
	GridPos    *struct{ H, W int } `json:"gridPos"`
	Targets    []struct {
		RefID        string           `json:"refId"`
		Expr         string           `json:"expr"`
		LegendFormat string           `json:"legendFormat"`
		Datasource   *panelDatasource `json:"datasource"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"` // of a collapsed row
}

type panelDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

var labelValuesRE = regexp.MustCompile(`^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)

// loadDashboard parses the dashboard, checks its structure, and returns its
// queries: every target's expr and every query variable's query.
func loadDashboard(t *testing.T) []dashboardQuery {
	t.Helper()
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard needs a uid and a title")
	}
	var queries []dashboardQuery
	hasDSVar := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDSVar = v.Name == "datasource"
		case "query":
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				var s string
				if err2 := json.Unmarshal(v.Query, &s); err2 != nil {
					t.Fatalf("variable %s: query is neither an object nor a string", v.Name)
				}
				q.Query = s
			}
			m := labelValuesRE.FindStringSubmatch(q.Query)
			if m == nil {
				t.Errorf("variable %s: want label_values(<selector>, <label>), got %q", v.Name, q.Query)
				continue
			}
			queries = append(queries, dashboardQuery{where: "variable " + v.Name, expr: m[1], labelOf: m[2]})
		}
	}
	if !hasDSVar {
		t.Errorf("dashboard has no Prometheus datasource variable named datasource")
	}
	ids := map[int]string{}
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("panel %q has no gridPos", p.Title)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: datasource must be the ${datasource} variable", p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no queries", p.Title)
			}
			refIDs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refIDs[tg.RefID] {
					t.Errorf("panel %q: missing or repeated refId %q", p.Title, tg.RefID)
				}
				refIDs[tg.RefID] = true
				if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q %s: datasource must be the ${datasource} variable", p.Title, tg.RefID)
				}
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q %s: empty expr", p.Title, tg.RefID)
					continue
				}
				queries = append(queries, dashboardQuery{where: fmt.Sprintf("panel %q %s", p.Title, tg.RefID), expr: tg.Expr, legend: tg.LegendFormat})
			}
		}
	}
	walk(d.Panels)
	return queries
}

var legendLabelRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// checkDashboardAgainst checks every query of the dashboard against a scrape
// of the collector: each metric is one of ours (metadata.yaml) or a listed
// exporterhelper metric, and is in the scrape; each label a query matches
// on, groups by or shows in a legend exists on its metrics in the scrape.
// It returns the metric names the dashboard uses.
func checkDashboardAgainst(t *testing.T, queries []dashboardQuery, scrape *e2etest.Exposition, scrapeName string) map[string]bool {
	t.Helper()
	ours, _ := ourMetrics(t)
	used := map[string]bool{}
	hasLabel := func(metric, label string) bool {
		return slices.Contains(targetLabels, label) || scrape.Labels[metric][label]
	}
	for _, q := range queries {
		refs, err := parsePromQL(q.expr)
		if err != nil {
			t.Errorf("%s: %v in %q", q.where, err, q.expr)
			continue
		}
		if len(refs.selectors) == 0 {
			t.Errorf("%s: no metric in %q", q.where, q.expr)
		}
		for _, sel := range refs.selectors {
			used[sel.metric] = true
			if !ours[sel.metric] && !slices.Contains(exporterhelperMetrics, sel.metric) {
				t.Errorf("%s: %s is neither declared in %s nor a listed exporterhelper metric", q.where, sel.metric, metadataPath)
			}
			if _, ok := scrape.Labels[sel.metric]; !ok {
				t.Errorf("%s: %s does not appear in %s", q.where, sel.metric, scrapeName)
				continue
			}
			for _, l := range sel.labels {
				if !hasLabel(sel.metric, l) {
					t.Errorf("%s: %s has no label %q in %s", q.where, sel.metric, l, scrapeName)
				}
			}
		}
		extra := refs.grouping
		if q.labelOf != "" {
			extra = append(extra, q.labelOf)
		}
		for _, l := range extra {
			for _, m := range refs.metrics() {
				if _, ok := scrape.Labels[m]; ok && !hasLabel(m, l) {
					t.Errorf("%s: groups by %q, which %s does not have in %s", q.where, l, m, scrapeName)
				}
			}
		}
		for _, m := range legendLabelRE.FindAllStringSubmatch(q.legend, -1) {
			if !slices.Contains(refs.grouping, m[1]) {
				t.Errorf("%s: legend shows {{%s}}, which the query does not group by", q.where, m[1])
			}
		}
	}
	return used
}

func loadScrape(t *testing.T) *e2etest.Exposition {
	t.Helper()
	f, err := os.Open(scrapePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := e2etest.ParseExposition(f)
	if err != nil {
		t.Fatalf("%s: %v", scrapePath, err)
	}
	return e
}

// TestDashboardMetricsExist checks the dashboard against metadata.yaml and
// the saved scrape of the demo collector, so that a renamed metric or label
// breaks it.
func TestDashboardMetricsExist(t *testing.T) {
	queries := loadDashboard(t)
	scrape := loadScrape(t)
	used := checkDashboardAgainst(t, queries, scrape, scrapePath)

	// The fixed exporterhelper list is verified against the scrape.
	for _, m := range exporterhelperMetrics {
		if _, ok := scrape.Labels[m]; !ok {
			t.Errorf("exporterhelper metric %s is not in %s", m, scrapePath)
		}
	}
	// Every metric of metadata.yaml is in the scrape and on the dashboard,
	// and sums are exposed as counters without a _total suffix.
	_, declared := ourMetrics(t)
	for name, kind := range declared {
		series := name
		if kind == "histogram" {
			series = name + "_bucket"
		}
		if _, ok := scrape.Labels[series]; !ok {
			t.Errorf("%s (metadata.yaml) is not in %s: regenerate it (see the package doc)", series, scrapePath)
		}
		if !used[series] {
			t.Errorf("%s (metadata.yaml) is on no panel of %s", series, dashboardPath)
		}
		want := map[string]string{"sum": "counter", "gauge": "gauge", "histogram": "histogram"}[kind]
		if got := scrape.Types[name]; got != want {
			t.Errorf("%s: TYPE %q in %s, want %q", name, got, scrapePath, want)
		}
		if _, ok := scrape.Labels[name+"_total"]; ok {
			t.Errorf("%s is exposed with a _total suffix in %s; the dashboard assumes none", name, scrapePath)
		}
	}
}

// TestDashboardLiveScrape runs the demo collector (testdata/demo.yaml)
// against the simulator, sends the demo's alerts and then the faults that
// make every exporter metric appear (a throttle, an exhausted retry, a 400,
// an unmappable record, a repaired record, a connection reset, a burst over
// the rate limiter), and checks the dashboard against the live scrape. With
// -update it saves that scrape as grafana/testdata/scrape.txt.
func TestDashboardLiveScrape(t *testing.T) {
	requireE2E(t)
	sim := e2etest.StartSim(t)
	col := e2etest.StartCollector(t, e2etest.CollectorBin(t), "demo-collector", func(p e2etest.Ports) ([]string, []string) {
		env := []string{
			"DEMO_SIM_PORT=" + sim.Port(),
			"DEMO_DEFAULT_KEY=" + keyDemoDefault,
			fmt.Sprintf("DEMO_OTLP_PORT=%d", p.OTLP),
			fmt.Sprintf("DEMO_HEALTH_PORT=%d", p.Health),
			fmt.Sprintf("DEMO_STATUS_PORT=%d", p.Status),
			fmt.Sprintf("DEMO_METRICS_PORT=%d", p.Metrics),
		}
		// The demo config, with retries cut short so that an exhausted
		// retry (send_failed_log_records) takes seconds, not a minute.
		args := []string{
			"--config", demoConfigPath,
			"--set=exporters::pagerduty::retry_on_failure::max_elapsed_time=2s",
		}
		return env, args
	})

	// The demo's lifecycle, as scripts/demo.sh sends it.
	files, _ := filepath.Glob(demoAlertsGlob)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no files match %s", demoAlertsGlob)
	}
	handled := func() float64 {
		m := col.Exposition(t)
		return m.Sum("otelcol_exporter_pagerduty_events") + m.Sum("otelcol_exporter_pagerduty_suppressed")
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		before := handled()
		col.SendJSON(t, body)
		e2etest.Eventually(t, landTimeout, func() bool { return handled() > before },
			"the exporter to handle %s", filepath.Base(f))
	}

	// A burst of 14 change events on one key: the limiter (burst 10, 120 a
	// minute) makes the last ones wait.
	var burst []e2etest.Alert
	for i := range 14 {
		burst = append(burst, e2etest.Alert{EventType: "change", Summary: fmt.Sprintf("Deployed inventory v1.%d", i)})
	}
	sendUntimed(t, col, map[string]string{"service.name": "deployer", "host.name": "ci-runner-2"}, burst...)
	waitMetric(t, col, 1e-9, "otelcol_exporter_pagerduty_rate_limit_wait", "routing=default")
	waitMetric(t, col, 1+14, "otelcol_exporter_pagerduty_events", "event_action=change", "outcome=accepted")

	// A 429: throttled, then accepted on retry.
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 429}})
	sendUntimed(t, col, map[string]string{"service.name": "payments", "host.name": "pay-03"},
		e2etest.Alert{Fingerprint: "payments-gateway-timeouts", Status: "firing", Severity: "error", Summary: "Payment gateway timeouts 4%"})
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_throttled", "routing=payments")
	sim.Control(t, map[string]any{"reject_keys": map[string]int{}})
	waitMetric(t, col, 2, "otelcol_exporter_pagerduty_events", "routing=payments", "outcome=accepted", "event_action=trigger")

	// A 503 until the retries give up: failed events, send_failed_log_records.
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyDemoDefault: 503}})
	sendUntimed(t, col, map[string]string{"service.name": "inventory", "host.name": "inv-01"},
		e2etest.Alert{Fingerprint: "inventory-sync-stalled", Status: "firing", Severity: "warning", Summary: "Inventory sync stalled for 15m"})
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_events", "routing=default", "outcome=failed")
	// Each route and priority has its own queue, named pagerduty/<route>/<priority>.
	waitMetric(t, col, 1, "otelcol_exporter_send_failed_log_records", "exporter=pagerduty/default/warning")
	sim.Control(t, map[string]any{"reject_keys": map[string]int{}})

	// A 400: rejected by the API, dropped.
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyCheckout: 400}})
	sendUntimed(t, col, map[string]string{"service.name": "checkout", "host.name": "web-02"},
		e2etest.Alert{Fingerprint: "checkout-cart-errors", Status: "firing", Severity: "error", Summary: "Cart API 5xx at 2%"})
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_records_rejected", "reason=api_rejected")
	sim.Control(t, map[string]any{"reject_keys": map[string]int{}})

	// An unmappable record (unknown status) and a repaired one (no severity,
	// no summary, no fingerprint).
	col.Send(t, e2etest.WithoutTimestamps(e2etest.NewPayload().
		Resource(map[string]string{"service.name": "checkout"}).
		Add(e2etest.Alert{Fingerprint: "checkout-odd", Status: "exploded", Summary: "?"}).
		Resource(map[string]string{"service.name": "search", "host.name": "search-01"}).
		Add(e2etest.Alert{Attrs: map[string]any{"alert.source": "search-01"}}).
		Logs()))
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_records_rejected", "reason=unknown_event_action")
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_records_repaired", "reason=severity_defaulted")

	// A connection reset (status class "transport"), then a retry that lands.
	sim.Control(t, map[string]any{"reset_rate": 1})
	sendUntimed(t, col, map[string]string{"service.name": "payments", "host.name": "pay-03"},
		e2etest.Alert{Fingerprint: "payments-gateway-timeouts", Status: "resolved"})
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_requests", "status_class=transport")
	sim.Control(t, map[string]any{"reset_rate": 0})
	waitMetric(t, col, 1, "otelcol_exporter_pagerduty_events", "event_action=resolve", "routing=payments", "outcome=accepted")

	// Scrape once nothing is queued or in flight any more.
	var raw []byte
	var live *e2etest.Exposition
	e2etest.Eventually(t, landTimeout, func() bool {
		raw = col.Scrape(t)
		var err error
		if live, err = e2etest.ParseExposition(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		return live.Sum("otelcol_exporter_queue_size") == 0 && live.Sum("otelcol_exporter_in_flight_requests") == 0
	}, "the sending queue to drain")
	used := checkDashboardAgainst(t, loadDashboard(t), live, "the live scrape")
	_, declared := ourMetrics(t)
	for name, kind := range declared {
		if kind == "histogram" {
			name += "_bucket"
		}
		if _, ok := live.Labels[name]; !ok {
			t.Errorf("%s is not in the live scrape: the scenario does not exercise it", name)
		}
	}
	t.Logf("the dashboard uses %d metrics, all in the live scrape", len(used))
	if *update && !t.Failed() {
		if err := os.WriteFile(scrapePath, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", scrapePath, len(raw))
	}
}

// ============================================================================
// 2. Kubernetes
// ============================================================================

// k8sExamples are the Kubernetes examples: one collector, and the
// load-balanced replicas behind a front tier.
var k8sExamples = []string{k8sDir, k8sLBDir}

// k8sObject is the part of a manifest the tests read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`
	// RBAC objects have no spec.
	Rules []struct {
		APIGroups []string `yaml:"apiGroups"`
		Resources []string `yaml:"resources"`
		Verbs     []string `yaml:"verbs"`
	} `yaml:"rules"`
	RoleRef struct {
		Kind string `yaml:"kind"`
		Name string `yaml:"name"`
	} `yaml:"roleRef"`
	Subjects []rbacSubject `yaml:"subjects"`
}

type rbacSubject struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
}

// workloadSpec is the part of a Deployment's or a StatefulSet's spec the
// tests read.
type workloadSpec struct {
	Replicas *int `yaml:"replicas"`
	Strategy struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"` // Deployment
	ServiceName          string `yaml:"serviceName"` // StatefulSet
	VolumeClaimTemplates []struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	} `yaml:"volumeClaimTemplates"` // StatefulSet
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			ServiceAccountName           string      `yaml:"serviceAccountName"`
			AutomountServiceAccountToken *bool       `yaml:"automountServiceAccountToken"`
			Containers                   []container `yaml:"containers"`
			Volumes                      []struct {
				Name      string `yaml:"name"`
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
				Secret *struct {
					SecretName string `yaml:"secretName"`
				} `yaml:"secret"`
				PVC *struct {
					ClaimName string `yaml:"claimName"`
				} `yaml:"persistentVolumeClaim"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports          []containerPort `yaml:"ports"`
	LivenessProbe  *probe          `yaml:"livenessProbe"`
	ReadinessProbe *probe          `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

// hasEnvFromField reports whether c sets name from the downward API's
// fieldPath.
func (c *container) hasEnvFromField(name, fieldPath string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == fieldPath {
			return true
		}
	}
	return false
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

type serviceSpec struct {
	ClusterIP                string            `yaml:"clusterIP"`
	PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
	Selector                 map[string]string `yaml:"selector"`
	Ports                    []struct {
		Name       string    `yaml:"name"`
		Port       int       `yaml:"port"`
		TargetPort yaml.Node `yaml:"targetPort"`
	} `yaml:"ports"`
}

// collectorConfig is the part of a collector config the tests read.
type collectorConfig struct {
	Receivers struct {
		OTLP struct {
			Protocols map[string]struct {
				Endpoint string `yaml:"endpoint"`
				Auth     struct {
					Authenticator string `yaml:"authenticator"`
				} `yaml:"auth"`
			} `yaml:"protocols"`
		} `yaml:"otlp"`
	} `yaml:"receivers"`
	Exporters struct {
		// An otelcol-pagerduty collector (a single one, or a replica).
		PagerDuty *struct {
			SendingQueue struct {
				Storage string `yaml:"storage"`
			} `yaml:"sending_queue"`
			Routing struct {
				Attribute string `yaml:"attribute"`
			} `yaml:"routing"`
		} `yaml:"pagerduty"`
		// The front tier of the replicas.
		LoadBalancing *struct {
			RoutingKey        string   `yaml:"routing_key"`
			RoutingAttributes []string `yaml:"routing_attributes"`
			Resolver          struct {
				K8s *struct {
					Service         string `yaml:"service"`
					Ports           []int  `yaml:"ports"`
					ReturnHostnames bool   `yaml:"return_hostnames"`
				} `yaml:"k8s"`
			} `yaml:"resolver"`
		} `yaml:"load_balancing"`
	} `yaml:"exporters"`
	Extensions struct {
		HealthCheck struct {
			Endpoint string `yaml:"endpoint"`
			Path     string `yaml:"path"`
		} `yaml:"health_check"`
		FileStorage struct {
			Directory string `yaml:"directory"`
		} `yaml:"file_storage"`
		BearerTokenAuth *struct {
			Filename string `yaml:"filename"`
		} `yaml:"bearertokenauth"`
		HealthCheckV2 struct {
			UseV2           bool `yaml:"use_v2"`
			ComponentHealth struct {
				IncludeRecoverable bool   `yaml:"include_recoverable_errors"`
				IncludePermanent   bool   `yaml:"include_permanent_errors"`
				RecoveryDuration   string `yaml:"recovery_duration"`
			} `yaml:"component_health"`
			HTTP struct {
				Endpoint string `yaml:"endpoint"`
				Status   struct {
					Enabled bool   `yaml:"enabled"`
					Path    string `yaml:"path"`
				} `yaml:"status"`
			} `yaml:"http"`
		} `yaml:"healthcheckv2"`
	} `yaml:"extensions"`
	Service struct {
		Extensions []string `yaml:"extensions"`
	} `yaml:"service"`
}

// k8sWorkload is a Deployment or StatefulSet of an example: its one
// container, and the collector config that container reads.
type k8sWorkload struct {
	kind, name string
	spec       workloadSpec
	container  container
	configYAML string // the ConfigMap's config.yaml
	config     collectorConfig
	configPath string // the --config argument
}

func (w *k8sWorkload) String() string { return w.kind + "/" + w.name }

// k8sManifests are the objects of one example, read from the files its
// kustomization.yaml lists.
type k8sManifests struct {
	dir       string
	objects   []*k8sObject
	workloads []*k8sWorkload
}

// boundAccount reports whether a RoleBinding or ClusterRoleBinding of the
// example names the service account (never the default one, "").
func (m k8sManifests) boundAccount(name string) bool {
	if name == "" {
		return false
	}
	for _, kind := range []string{"RoleBinding", "ClusterRoleBinding"} {
		for _, b := range m.all(kind) {
			for _, s := range b.Subjects {
				if s.Kind == "ServiceAccount" && s.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// all returns the objects of kind.
func (m k8sManifests) all(kind string) []*k8sObject {
	return e2etest.Filter(m.objects, func(o *k8sObject) bool { return o.Kind == kind })
}

// named returns the object of kind called name, or nil.
func (m k8sManifests) named(kind, name string) *k8sObject {
	for _, o := range m.all(kind) {
		if o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

func loadK8s(t *testing.T, dir string) k8sManifests {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	m := k8sManifests{dir: dir}
	seen := map[string]bool{}
	for _, res := range kust.Resources {
		path := filepath.Join(dir, res)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var obj k8sObject
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if obj.Kind == "" {
				continue
			}
			if id := obj.Kind + "/" + obj.Metadata.Name; seen[id] {
				t.Fatalf("%s: a second %s", path, id)
			} else {
				seen[id] = true
			}
			m.objects = append(m.objects, &obj)
		}
	}
	for _, kind := range []string{"Secret", "ConfigMap", "Service"} {
		if len(m.all(kind)) == 0 {
			t.Fatalf("%s/kustomization.yaml lists no %s", dir, kind)
		}
	}
	for _, obj := range m.objects {
		if obj.Kind != "Deployment" && obj.Kind != "StatefulSet" {
			continue
		}
		w := &k8sWorkload{kind: obj.Kind, name: obj.Metadata.Name}
		if err := obj.Spec.Decode(&w.spec); err != nil {
			t.Fatalf("%s spec: %v", w, err)
		}
		m.workloads = append(m.workloads, w)
		if n := len(w.spec.Template.Spec.Containers); n != 1 {
			t.Fatalf("%s has %d containers, want 1", w, n)
		}
		w.container = w.spec.Template.Spec.Containers[0]

		// The config file the container reads: --config=<mountPath>/<key>
		// of a ConfigMap volume.
		for i, a := range w.container.Args {
			switch {
			case strings.HasPrefix(a, "--config="):
				w.configPath = strings.TrimPrefix(a, "--config=")
			case a == "--config" && i+1 < len(w.container.Args):
				w.configPath = w.container.Args[i+1]
			}
		}
		if w.configPath == "" {
			t.Fatalf("%s: container args %q name no --config", w, w.container.Args)
		}
		for _, v := range w.spec.Template.Spec.Volumes {
			if v.ConfigMap == nil || filepath.Dir(w.configPath) != w.mountPath(v.Name) {
				continue
			}
			cm := m.named("ConfigMap", v.ConfigMap.Name)
			if cm == nil {
				t.Fatalf("%s: volume %s mounts ConfigMap %q, which %s does not define", w, v.Name, v.ConfigMap.Name, dir)
			}
			w.configYAML = cm.Data[filepath.Base(w.configPath)]
		}
		if w.configYAML == "" {
			t.Fatalf("%s: --config=%s is no key of a ConfigMap the workload mounts there", w, w.configPath)
		}
		if err := yaml.Unmarshal([]byte(w.configYAML), &w.config); err != nil {
			t.Fatalf("%s: config: %v", w, err)
		}
	}
	if len(m.workloads) == 0 {
		t.Fatalf("%s/kustomization.yaml lists no Deployment or StatefulSet", dir)
	}
	return m
}

func (w *k8sWorkload) mountPath(volume string) string {
	for _, vm := range w.container.VolumeMounts {
		if vm.Name == volume {
			return vm.MountPath
		}
	}
	return ""
}

// containerPort resolves a probe or targetPort: a number, or the name of a
// container port.
func (w *k8sWorkload) containerPort(t *testing.T, n yaml.Node) int {
	t.Helper()
	if p, err := strconv.Atoi(n.Value); err == nil {
		return p
	}
	for _, p := range w.container.Ports {
		if p.Name == n.Value {
			return p.ContainerPort
		}
	}
	t.Errorf("%s: port %q is neither a number nor a container port name", w, n.Value)
	return 0
}

// secretEnv returns the container's variables that come from a Secret key.
func (w *k8sWorkload) secretEnv() map[string]string {
	out := map[string]string{}
	for _, e := range w.container.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out[e.Name] = e.ValueFrom.SecretKeyRef.Key
		}
	}
	return out
}

// receiverPorts are the ports the workload's OTLP receiver listens on.
func (w *k8sWorkload) receiverPorts(t *testing.T) map[int]bool {
	t.Helper()
	ports := map[int]bool{}
	for proto, p := range w.config.Receivers.OTLP.Protocols {
		ports[endpointPort(t, "otlp "+proto, p.Endpoint)] = true
	}
	return ports
}

// selects reports whether a Service's selector matches the workload's pods.
func (w *k8sWorkload) selects(selector map[string]string) bool {
	for k, v := range selector {
		if w.spec.Template.Metadata.Labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// podIP is how the examples' configs bind a listener to the pod's own
// address: the POD_IP variable the workloads set from the downward API.
const podIP = "${env:POD_IP}"

// endpointPort is the port of a listener's endpoint.
func endpointPort(t *testing.T, what, endpoint string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.Replace(endpoint, podIP, "pod", 1))
	if err != nil {
		t.Fatalf("%s endpoint %q: %v", what, endpoint, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("%s endpoint %q: port is not a number", what, endpoint)
	}
	return p
}

var envRefRE = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// TestKubernetesManifests checks, in each example, that the manifests fit
// together: the Secret's keys reach the configs through the workloads' env;
// liveness probes the health_check extension (never the component status,
// which a PagerDuty outage turns unhealthy) and readiness one of the two;
// every otelcol-pagerduty serves the component status, counting
// recoverable errors after a recovery_duration, on a container port, and
// keeps its queue on a volume of its own (one collector: a Deployment of
// one replica, replaced by Recreate; replicas: a StatefulSet with a volume
// claim template, behind a headless Service that publishes pods that are
// not ready); the front's k8s resolver watches that Service, on the
// replicas' OTLP/gRPC port, with the RBAC to do so, and routes by the
// replicas' routing attribute; each Service selects one workload and
// targets its OTLP receiver's ports.
func TestKubernetesManifests(t *testing.T) {
	for _, dir := range k8sExamples {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := loadK8s(t, dir)
			for _, w := range m.workloads {
				t.Run(w.String(), func(t *testing.T) { checkK8sWorkload(t, m, w) })
			}
			checkK8sServices(t, m)
		})
	}
}

func checkK8sWorkload(t *testing.T, m k8sManifests, w *k8sWorkload) {
	c := w.container
	pagerduty := w.config.Exporters.PagerDuty != nil

	// Secrets: every ${env:X} of the config is set by the workload, every
	// secretKeyRef names the Secret and one of its keys, and no key is
	// written into the config.
	setEnv := map[string]bool{}
	for _, e := range c.Env {
		setEnv[e.Name] = true
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			secret := m.named("Secret", ref.Name)
			if secret == nil {
				t.Errorf("env %s: secretKeyRef names Secret %q, which %s does not define", e.Name, ref.Name, m.dir)
				continue
			}
			if _, ok := secret.StringData[ref.Key]; !ok {
				t.Errorf("env %s: Secret %s has no key %q", e.Name, ref.Name, ref.Key)
			}
		}
	}
	used := map[string]bool{}
	for _, ref := range envRefRE.FindAllStringSubmatch(w.configYAML, -1) {
		used[ref[1]] = true
		if !setEnv[ref[1]] && ref[2] == "" {
			t.Errorf("the config reads ${env:%s}, which the %s does not set", ref[1], w.kind)
		}
	}
	for name := range w.secretEnv() {
		if !used[name] {
			t.Errorf("env %s carries a routing key the config never reads", name)
		}
	}
	if pagerduty && len(w.secretEnv()) == 0 {
		t.Errorf("the %s takes no routing key from the Secret", w.kind)
	}
	// What validate accepts as a key: 32 letters and digits.
	if regexp.MustCompile(`\b[0-9A-Za-z]{32}\b`).MatchString(w.configYAML) {
		t.Errorf("the ConfigMap contains what looks like an integration key")
	}
	// A pod that never calls the Kubernetes API mounts no token for it.
	if !m.boundAccount(w.spec.Template.Spec.ServiceAccountName) {
		if a := w.spec.Template.Spec.AutomountServiceAccountToken; a == nil || *a {
			t.Errorf("no Role is bound to its service account, yet it mounts the account's token: set automountServiceAccountToken: false")
		}
	}

	// Probes: liveness on the health_check extension, readiness on it or on
	// healthcheckv2's status endpoint (docs/health-and-probes.md).
	hc := w.config.Extensions.HealthCheck
	if !slices.Contains(w.config.Service.Extensions, "health_check") {
		t.Errorf("health_check is not in service.extensions")
	}
	hcPort := endpointPort(t, "health_check", hc.Endpoint)
	// Health, status and metrics listen on the pod's address only.
	if !strings.HasPrefix(hc.Endpoint, podIP+":") {
		t.Errorf("health_check endpoint %q: bind it to the pod's address, %s", hc.Endpoint, podIP)
	}
	if !strings.Contains(w.configYAML, "host: "+podIP+"\n") {
		t.Errorf("the metrics reader does not listen on the pod's address, %s", podIP)
	}
	if !w.container.hasEnvFromField("POD_IP", "status.podIP") {
		t.Errorf("the container does not set POD_IP from status.podIP")
	}
	hcPath := hc.Path
	if hcPath == "" {
		hcPath = "/" // the extension's default
	}
	v2 := w.config.Extensions.HealthCheckV2
	hasV2 := slices.Contains(w.config.Service.Extensions, "healthcheckv2")
	if pagerduty && !hasV2 {
		t.Errorf("healthcheckv2 is not in service.extensions: the exporter's component status is served nowhere")
	}
	statusPort := -1
	if hasV2 {
		if !v2.UseV2 || !v2.HTTP.Status.Enabled {
			t.Errorf("healthcheckv2 needs use_v2 and http.status.enabled for its status endpoint")
		}
		if ch := v2.ComponentHealth; !ch.IncludeRecoverable || ch.RecoveryDuration == "" || !ch.IncludePermanent {
			t.Errorf("healthcheckv2's component_health must count recoverable errors after a recovery_duration, and permanent errors: %+v", ch)
		}
		statusPort = endpointPort(t, "healthcheckv2", v2.HTTP.Endpoint)
		if !strings.HasPrefix(v2.HTTP.Endpoint, podIP+":") {
			t.Errorf("healthcheckv2 endpoint %q: bind it to the pod's address, %s", v2.HTTP.Endpoint, podIP)
		}
		if statusPort == hcPort {
			t.Errorf("health_check and healthcheckv2 both listen on %d", hcPort)
		}
		if !slices.ContainsFunc(c.Ports, func(p containerPort) bool { return p.ContainerPort == statusPort }) {
			t.Errorf("no container port for healthcheckv2's status endpoint (%d)", statusPort)
		}
	}
	onHealthCheck := func(p *probe) bool {
		return w.containerPort(t, p.HTTPGet.Port) == hcPort && p.HTTPGet.Path == hcPath
	}
	onStatus := func(p *probe) bool {
		path, _, _ := strings.Cut(p.HTTPGet.Path, "?")
		return hasV2 && w.containerPort(t, p.HTTPGet.Port) == statusPort && path == v2.HTTP.Status.Path
	}
	for name, p := range map[string]*probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe", name)
			continue
		}
		switch {
		case onHealthCheck(p):
		case name == "livenessProbe":
			t.Errorf("%s: %s on %s; want health_check's %s on %d: a PagerDuty outage must not restart the collector",
				name, p.HTTPGet.Path, p.HTTPGet.Port.Value, hcPath, hcPort)
		case !onStatus(p):
			t.Errorf("%s: %s on %s serves no health; want health_check (%s on %d) or healthcheckv2's status (%s on %d)",
				name, p.HTTPGet.Path, p.HTTPGet.Port.Value, hcPath, hcPort, v2.HTTP.Status.Path, statusPort)
		}
	}

	// Resources.
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Errorf("no memory limit")
	}

	if pagerduty {
		checkK8sQueue(t, m, w)
	}
	if w.config.Exporters.LoadBalancing != nil {
		checkK8sFront(t, m, w)
	}
}

// checkK8sQueue checks an otelcol-pagerduty workload's persistent queue:
// sending_queue -> file_storage -> a ReadWriteOnce volume of its own
// mounted at file_storage's directory.
func checkK8sQueue(t *testing.T, m k8sManifests, w *k8sWorkload) {
	if q := w.config.Exporters.PagerDuty.SendingQueue.Storage; q != "file_storage" {
		t.Errorf("exporters::pagerduty::sending_queue::storage is %q, want file_storage", q)
	}
	if !slices.Contains(w.config.Service.Extensions, "file_storage") {
		t.Errorf("file_storage is not in service.extensions")
	}
	var queueMount string
	switch w.kind {
	case "Deployment":
		for _, v := range w.spec.Template.Spec.Volumes {
			if v.PVC == nil {
				continue
			}
			if m.named("PersistentVolumeClaim", v.PVC.ClaimName) == nil {
				t.Errorf("volume %s claims %q, which %s does not define", v.Name, v.PVC.ClaimName, m.dir)
			}
			queueMount = w.mountPath(v.Name)
		}
		// One replica, replaced by Recreate: the volume is ReadWriteOnce
		// and the queue's file is locked by the collector that has it open.
		if r := w.spec.Replicas; r == nil || *r != 1 {
			t.Errorf("replicas must be 1 (one queue volume, one dedup cache); scale out with a StatefulSet behind a front tier (%s)", k8sLBDir)
		}
		if w.spec.Strategy.Type != "Recreate" {
			t.Errorf("strategy %q: want Recreate, so the old pod releases the queue volume first", w.spec.Strategy.Type)
		}
	case "StatefulSet":
		// Each replica its own volume, which a replaced pod of the same
		// name mounts again.
		for _, vct := range w.spec.VolumeClaimTemplates {
			if !slices.Equal(vct.Spec.AccessModes, []string{"ReadWriteOnce"}) {
				t.Errorf("volume claim template %s: access modes %v, want [ReadWriteOnce]: one replica's queue", vct.Metadata.Name, vct.Spec.AccessModes)
			}
			if mount := w.mountPath(vct.Metadata.Name); mount != "" {
				queueMount = mount
			}
		}
		// Stable pod names in DNS and in the EndpointSlices: a headless
		// Service that publishes pods that are not ready, so that a
		// restarting replica stays on the front's ring.
		svc := m.named("Service", w.spec.ServiceName)
		if svc == nil {
			t.Fatalf("serviceName %q names no Service of %s", w.spec.ServiceName, m.dir)
		}
		var spec serviceSpec
		if err := svc.Spec.Decode(&spec); err != nil {
			t.Fatal(err)
		}
		if spec.ClusterIP != "None" {
			t.Errorf("Service %s: clusterIP %q, want None (headless)", svc.Metadata.Name, spec.ClusterIP)
		}
		if !spec.PublishNotReadyAddresses {
			t.Errorf("Service %s: publishNotReadyAddresses is off: every restart of a replica would move its routing values", svc.Metadata.Name)
		}
		if !w.selects(spec.Selector) {
			t.Errorf("Service %s does not select the pods of %s", svc.Metadata.Name, w)
		}
	default:
		t.Errorf("an otelcol-pagerduty %s: want a Deployment or a StatefulSet", w.kind)
	}
	if dir := w.config.Extensions.FileStorage.Directory; queueMount == "" || queueMount != dir {
		t.Errorf("the queue volume is mounted at %q, file_storage's directory is %q", queueMount, dir)
	}
}

// checkK8sFront checks the front tier: its k8s resolver watches the
// replicas' headless Service on their OTLP/gRPC port, by pod names; it
// routes by the replicas' routing attribute; and its ServiceAccount may
// list and watch EndpointSlices.
func checkK8sFront(t *testing.T, m k8sManifests, w *k8sWorkload) {
	lb := w.config.Exporters.LoadBalancing
	res := lb.Resolver.K8s
	if res == nil {
		t.Fatalf("the load_balancing exporter does not use the k8s resolver")
	}
	var backend *k8sWorkload
	for _, b := range m.workloads {
		if b.kind == "StatefulSet" && b.spec.ServiceName == res.Service && b.config.Exporters.PagerDuty != nil {
			backend = b
		}
	}
	if backend == nil {
		t.Fatalf("the k8s resolver watches Service %q, the serviceName of no otelcol-pagerduty StatefulSet", res.Service)
	}
	grpc, ok := backend.config.Receivers.OTLP.Protocols["grpc"]
	if !ok {
		t.Fatalf("%s has no OTLP/gRPC receiver, the front's protocol", backend)
	}
	if want := endpointPort(t, "otlp grpc", grpc.Endpoint); !slices.Equal(res.Ports, []int{want}) {
		t.Errorf("the k8s resolver's ports are %v, want [%d], %s's OTLP/gRPC port", res.Ports, want, backend)
	}
	if !res.ReturnHostnames {
		t.Errorf("the k8s resolver puts pod addresses on the ring: a replica replaced under its name would come back as another member; set return_hostnames")
	}
	if attr := backend.config.Exporters.PagerDuty.Routing.Attribute; lb.RoutingKey != "attributes" || !slices.Equal(lb.RoutingAttributes, []string{attr}) {
		t.Errorf("the front routes by %s %v; want attributes [%s], the replicas' routing.attribute", lb.RoutingKey, lb.RoutingAttributes, attr)
	}

	// RBAC: the pod's ServiceAccount is bound to a Role that may list and
	// watch EndpointSlices.
	sa := w.spec.Template.Spec.ServiceAccountName
	if sa == "" || m.named("ServiceAccount", sa) == nil {
		t.Fatalf("serviceAccountName %q names no ServiceAccount of %s", sa, m.dir)
	}
	granted := false
	for _, rb := range m.all("RoleBinding") {
		if !slices.Contains(rb.Subjects, rbacSubject{Kind: "ServiceAccount", Name: sa}) {
			continue
		}
		role := m.named(rb.RoleRef.Kind, rb.RoleRef.Name)
		if role == nil {
			t.Errorf("RoleBinding %s refers to %s %s, which %s does not define", rb.Metadata.Name, rb.RoleRef.Kind, rb.RoleRef.Name, m.dir)
			continue
		}
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, "discovery.k8s.io") && slices.Contains(r.Resources, "endpointslices") &&
				slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
				granted = true
			}
		}
	}
	if !granted {
		t.Errorf("ServiceAccount %s may not list and watch endpointslices (discovery.k8s.io)", sa)
	}
}

// checkK8sServices checks that each Service selects the pods of exactly
// one workload and targets ports its OTLP receiver listens on.
func checkK8sServices(t *testing.T, m k8sManifests) {
	for _, svc := range m.all("Service") {
		var spec serviceSpec
		if err := svc.Spec.Decode(&spec); err != nil {
			t.Fatal(err)
		}
		selected := e2etest.Filter(m.workloads, func(w *k8sWorkload) bool { return w.selects(spec.Selector) })
		if len(selected) != 1 {
			t.Errorf("Service %s selects %v, want one workload", svc.Metadata.Name, selected)
			continue
		}
		w := selected[0]
		if len(spec.Ports) == 0 {
			t.Errorf("Service %s exposes no port", svc.Metadata.Name)
		}
		receiver := w.receiverPorts(t)
		for _, p := range spec.Ports {
			if target := w.containerPort(t, p.TargetPort); !receiver[target] {
				t.Errorf("Service %s port %s targets %d of %s, where no OTLP receiver listens", svc.Metadata.Name, p.Name, target, w)
			}
		}
	}
}

// TestDockerfile checks what can be checked of the Dockerfiles without
// Docker: the ocb release is the Makefile's, the manifest is the one of
// the distribution, and the binary copied is the one ocb writes.
func TestDockerfile(t *testing.T) {
	mk, err := os.ReadFile(makefilePath)
	if err != nil {
		t.Fatal(err)
	}
	mv := regexp.MustCompile(`(?m)^BUILDER_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if mv == nil {
		t.Fatalf("no BUILDER_VERSION in %s", makefilePath)
	}
	for _, tc := range []struct {
		dockerfile string
		manifest   string // relative to the repository root, as the Dockerfile names it
	}{
		{filepath.Join(k8sDir, "Dockerfile"), "builder-config.yaml"},
		{filepath.Join(k8sLBDir, "Dockerfile"), "examples/loadbalancing/builder-config.yaml"},
	} {
		t.Run(tc.dockerfile, func(t *testing.T) {
			df, err := os.ReadFile(tc.dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			if want := "go.opentelemetry.io/collector/cmd/builder@" + string(mv[1]); !bytes.Contains(df, []byte(want)) {
				t.Errorf("%s does not install %s (the Makefile's ocb)", tc.dockerfile, want)
			}
			if !bytes.Contains(df, []byte("--config "+tc.manifest)) {
				t.Errorf("%s does not build %s", tc.dockerfile, tc.manifest)
			}
			var manifest struct {
				Dist struct {
					Name       string `yaml:"name"`
					OutputPath string `yaml:"output_path"`
				} `yaml:"dist"`
			}
			readYAML(t, filepath.Join("..", filepath.FromSlash(tc.manifest)), &manifest)
			bin := filepath.ToSlash(filepath.Join("/src", manifest.Dist.OutputPath, manifest.Dist.Name))
			if !bytes.Contains(df, []byte("COPY --from=build "+bin+" ")) {
				t.Errorf("%s does not copy %s, the binary ocb writes", tc.dockerfile, bin)
			}
			if n := len(regexp.MustCompile(`(?m)^FROM `).FindAll(df, -1)); n != 2 {
				t.Errorf("%s has %d stages, want 2 (build, runtime)", tc.dockerfile, n)
			}
		})
	}
}

// TestKubernetesConfigValidates runs the built distributions' `validate`
// on every workload's config: otelcol-pagerduty's for the collectors that
// send to PagerDuty, with the Secret's variables set to fake 32-character
// keys (and, to check that the Secret's placeholders are refused, to
// them); the front tier's (loadbalancing/builder-config.yaml) for the
// front.
// TestKubernetesIntakeNeedsAToken: in both examples, every OTLP receiver of
// every workload (the alert sources' intake, and the replicas' receiver
// behind the front) requires a bearer token, checked by the bearertokenauth
// extension against a tokens file from a Secret the workload mounts.
func TestKubernetesIntakeNeedsAToken(t *testing.T) {
	for _, dir := range k8sExamples {
		m := loadK8s(t, dir)
		for _, w := range m.workloads {
			t.Run(filepath.Base(dir)+"/"+w.String(), func(t *testing.T) { checkIntakeToken(t, m, w) })
		}
	}
}

func checkIntakeToken(t *testing.T, m k8sManifests, w *k8sWorkload) {
	t.Helper()
	protocols := w.config.Receivers.OTLP.Protocols
	if len(protocols) == 0 {
		t.Fatal("no OTLP receiver")
	}
	for name, p := range protocols {
		if p.Auth.Authenticator != "bearertokenauth" {
			t.Errorf("otlp %s takes requests without a token (auth.authenticator %q)", name, p.Auth.Authenticator)
		}
	}
	auth := w.config.Extensions.BearerTokenAuth
	if auth == nil {
		t.Fatal("no bearertokenauth extension")
	}
	if !slices.Contains(w.config.Service.Extensions, "bearertokenauth") {
		t.Errorf("bearertokenauth is not in service::extensions %v", w.config.Service.Extensions)
	}
	var mounted string
	for _, vm := range w.container.VolumeMounts {
		if vm.MountPath == filepath.Dir(auth.Filename) {
			mounted = vm.Name
		}
	}
	var secret *k8sObject
	for _, v := range w.spec.Template.Spec.Volumes {
		if v.Name == mounted && v.Secret != nil {
			secret = m.named("Secret", v.Secret.SecretName)
		}
	}
	if secret == nil {
		t.Fatalf("the tokens file %s is not mounted from a Secret of the example", auth.Filename)
	}
	if _, ok := secret.StringData[filepath.Base(auth.Filename)]; !ok {
		t.Errorf("Secret %s has no key %s", secret.Metadata.Name, filepath.Base(auth.Filename))
	}
}

func TestKubernetesConfigValidates(t *testing.T) {
	requireE2E(t)
	for _, dir := range k8sExamples {
		m := loadK8s(t, dir)
		for _, w := range m.workloads {
			t.Run(filepath.Base(dir)+"/"+w.String(), func(t *testing.T) { validateK8sWorkload(t, m, w) })
		}
	}
}

func validateK8sWorkload(t *testing.T, m k8sManifests, w *k8sWorkload) {
	var bin string
	switch {
	case w.config.Exporters.PagerDuty != nil:
		bin = e2etest.CollectorBin(t)
	case w.config.Exporters.LoadBalancing != nil:
		bin = lbCollectorBin(t)
	default:
		t.Fatalf("the config has neither a pagerduty nor a load_balancing exporter")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(w.configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"validate", "--config", cfg}
	if slices.Contains(w.config.Service.Extensions, "file_storage") {
		// file_storage's validation requires its directory to exist; the
		// volume provides it in the pod. Here a temporary directory
		// stands in.
		queueDir := filepath.Join(dir, "file_storage")
		if err := os.Mkdir(queueDir, 0o700); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--set=extensions::file_storage::directory="+queueDir)
	}
	validate := func(env []string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	secretEnv := w.secretEnv()
	names := slices.Sorted(maps.Keys(secretEnv))
	var fake, placeholder []string
	for i, name := range names {
		fake = append(fake, fmt.Sprintf("%s=%032x", name, i+1))
		for _, e := range w.container.Env {
			if e.Name == name {
				placeholder = append(placeholder, name+"="+m.named("Secret", e.ValueFrom.SecretKeyRef.Name).StringData[secretEnv[name]])
			}
		}
	}
	out, err := validate(fake)
	if err != nil {
		t.Fatalf("validate with fake keys for %v: %v\n%s", names, err, out)
	}
	t.Logf("%s: validate with fake keys for %v: exit 0", filepath.Base(bin), names)
	if len(names) == 0 {
		return
	}

	out, err = validate(placeholder)
	if err == nil {
		t.Fatalf("validate accepted the Secret's placeholder keys:\n%s", out)
	}
	if !strings.Contains(out, "32-character") {
		t.Errorf("validate refused the placeholders without naming the key length:\n%s", out)
	}
}

// ============================================================================
// 3. Scale-out behind the load_balancing exporter
// ============================================================================

// TestLoadBalancedReplicas runs two otelcol-pagerduty replicas
// (loadbalancing/backend.yaml, events_per_minute: 120 each) behind one front
// collector with the contrib load_balancing exporter
// (loadbalancing/front.yaml), routing each log record by its routing
// attribute (service.name), against a simulator that answers 429 past 120
// events per key in any 60 s window.
//
// First, each of 20 alerts (10 per key) goes through trigger, a repeated
// trigger, an acknowledge from a chat bot (another host, the alert's
// service.name) and a resolve: every alert must end as exactly one resolved
// incident with exactly trigger, acknowledge, resolve applied, the repeat
// suppressed by the replica that holds the incident. Then 100 new alerts
// per key arrive at once: 130 events per key in all, more than a minute's
// worth, so the replicas' limiters must pace them. Each key's events must
// come from one replica, with no 429 and never more than 120 in any 60 s
// window at the simulator.
//
// The hash ring is built from the backends' random ports, so both keys may
// land on one replica; the test holds either way. The storm takes about
// 50 s in both cases: a replica queues records per route and priority
// (docs/lifecycle-and-delivery.md, "Ordering"), so one key's backlog does not hold the other's
// back.
func TestLoadBalancedReplicas(t *testing.T) {
	requireE2E(t)
	lbBin := lbCollectorBin(t)
	sim := e2etest.StartSim(t) // its rate limit: 120 per key in any 60 s window

	var backends []*e2etest.Collector
	for i := range 2 {
		storage := t.TempDir() // each replica's own file_storage
		backends = append(backends, e2etest.StartCollector(t, e2etest.CollectorBin(t), fmt.Sprintf("backend-%d", i+1), func(p e2etest.Ports) ([]string, []string) {
			return []string{
				fmt.Sprintf("BACKEND_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", p.OTLP),
				"BACKEND_STORAGE_DIR=" + storage,
				fmt.Sprintf("BACKEND_HEALTH_ENDPOINT=127.0.0.1:%d", p.Health),
				"BACKEND_METRICS_HOST=127.0.0.1",
				fmt.Sprintf("BACKEND_METRICS_PORT=%d", p.Metrics),
				"PAGERDUTY_ENDPOINT=" + sim.URL,
				"PAGERDUTY_ROUTING_KEY=" + keyDemoDefault,
				"PD_KEY_CHECKOUT=" + keyCheckout,
				"PD_KEY_PAYMENTS=" + keyPayments,
				// rate_limit as backend.yaml sets it: 120 a minute, burst 10.
			}, []string{"--config", filepath.Join(lbDir, "backend.yaml")}
		}))
	}
	front := e2etest.StartCollector(t, lbBin, "front", func(p e2etest.Ports) ([]string, []string) {
		return []string{
			fmt.Sprintf("LB_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", p.OTLP),
			fmt.Sprintf("LB_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", e2etest.FreePort(t)),
			fmt.Sprintf("LB_HEALTH_ENDPOINT=127.0.0.1:%d", p.Health),
			"LB_METRICS_HOST=127.0.0.1",
			fmt.Sprintf("LB_METRICS_PORT=%d", p.Metrics),
			fmt.Sprintf("LB_BACKEND_1=127.0.0.1:%d", backends[0].Ports.OTLP),
			fmt.Sprintf("LB_BACKEND_2=127.0.0.1:%d", backends[1].Ports.OTLP),
		}, []string{"--config", filepath.Join(lbDir, "front.yaml")}
	})

	const n = 20
	services := []string{"checkout", "payments"}
	wantKey := map[string]string{"checkout": keyCheckout, "payments": keyPayments}
	fingerprint := func(i int) string { return fmt.Sprintf("lb-alert-%02d", i) }
	service := func(i int) string { return services[i%2] }
	origin := func(i int) map[string]string {
		return map[string]string{"service.name": service(i), "host.name": fmt.Sprintf("host-%02d", i)}
	}
	firing := func(i int) (map[string]string, e2etest.Alert) {
		return origin(i), e2etest.Alert{
			Fingerprint: fingerprint(i), Status: "firing", Severity: "error",
			Summary: fmt.Sprintf("Alert %02d firing", i),
		}
	}
	// step sends one record per alert in a single OTLP request (one resource
	// per run of records with the same resource), so the front has to split
	// it.
	step := func(rec func(i int) (map[string]string, e2etest.Alert)) {
		p := e2etest.NewPayload()
		var last map[string]string
		for i := range n {
			res, a := rec(i)
			if i == 0 || !maps.Equal(res, last) {
				p.Resource(res)
				last = res
			}
			p.Add(a)
		}
		front.Send(t, p.Logs())
	}
	backendSum := func(name string, labels ...string) float64 {
		var total float64
		for _, b := range backends {
			total += b.Exposition(t).Sum(name, labels...)
		}
		return total
	}

	// 1. Lifecycles: affinity.
	step(firing)
	sim.WaitWithin(t, landTimeout, "20 triggers", func(s e2etest.Snapshot) bool { return s.CountActions("trigger") >= n })

	step(firing) // the repeat: suppressed by whichever replica holds the alert
	e2etest.Eventually(t, landTimeout, func() bool {
		extra := sim.Snapshot(t).CountActions("trigger") - n
		return backendSum("otelcol_exporter_pagerduty_suppressed", "reason=duplicate")+float64(extra) >= n
	}, "20 repeated triggers to be suppressed or sent")

	// The chat bot's acknowledge: another host, but the alert's service.name,
	// so the front routes it to the replica that holds the key.
	step(func(i int) (map[string]string, e2etest.Alert) {
		return map[string]string{"service.name": service(i), "host.name": "slack-bridge"},
			e2etest.Alert{Fingerprint: fingerprint(i), Status: "acknowledged", Attrs: map[string]any{"acknowledged_by": "chatops-bot"}}
	})
	sim.WaitWithin(t, landTimeout, "20 acknowledges", func(s e2etest.Snapshot) bool { return s.CountActions("acknowledge") >= n })

	step(func(i int) (map[string]string, e2etest.Alert) {
		return origin(i), e2etest.Alert{Fingerprint: fingerprint(i), Status: "resolved"}
	})
	snap := sim.WaitWithin(t, landTimeout, "20 resolves", func(s e2etest.Snapshot) bool { return s.CountActions("resolve") >= n })

	// Every alert: one incident, resolved, under its service's key, with
	// exactly trigger, acknowledge, resolve applied.
	for i := range n {
		incs := snap.IncidentsFor(fingerprint(i))
		if len(incs) != 1 {
			t.Errorf("%s: %d incidents, want 1", fingerprint(i), len(incs))
			continue
		}
		inc := incs[0]
		if inc.State != "resolved" {
			t.Errorf("%s: state %s, want resolved", fingerprint(i), inc.State)
		}
		if inc.RoutingKey != wantKey[service(i)] {
			t.Errorf("%s: routing key %q, want %s's", fingerprint(i), inc.RoutingKey, service(i))
		}
		if got, want := e2etest.Actions(inc.Events), []string{"trigger", "acknowledge", "resolve"}; !slices.Equal(got, want) {
			t.Errorf("%s: events %v, want %v", fingerprint(i), got, want)
		}
	}
	if got := backendSum("otelcol_exporter_pagerduty_suppressed", "reason=duplicate"); got != n {
		t.Errorf("%v repeated triggers suppressed, want %d: a repeat reached a replica that did not hold its alert", got, n)
	}

	// 2. A storm of new alerts on both keys at once: the rate limit.
	const storm = 100 // per key; with the 30 events of step 1, 130 per key
	p := e2etest.NewPayload()
	for _, svc := range services {
		for j := range storm {
			p.Resource(map[string]string{"service.name": svc, "host.name": fmt.Sprintf("%s-%03d", svc, j)}).Add(e2etest.Alert{
				Fingerprint: fmt.Sprintf("lb-storm-%s-%03d", svc, j), Status: "firing", Severity: "warning",
				Summary: fmt.Sprintf("Storm alert %d on %s", j, svc),
			})
		}
	}
	start := time.Now()
	front.Send(t, p.Logs())
	total := 3*n + len(services)*storm
	sim.WaitWithin(t, 3*time.Minute, fmt.Sprintf("%d events in all", total), func(s e2etest.Snapshot) bool { return len(s.Events) >= total })
	t.Logf("storm of %d alerts delivered in %v", len(services)*storm, time.Since(start).Round(time.Second))

	final := sim.Snapshot(t)
	if len(final.Events) != total {
		t.Errorf("%d alert events reached PagerDuty, want %d", len(final.Events), total)
	}
	if final.Dropped != 0 {
		t.Errorf("the simulator dropped %d events (an acknowledge or resolve under a key without the incident)", final.Dropped)
	}
	if throttled := final.Requests.Throttled; throttled != 0 {
		t.Errorf("the simulator answered %d requests with 429: a key's events were split between replicas, or a limiter let too many through", throttled)
	}
	byKey := map[string][]time.Time{}
	for _, ev := range final.Events {
		byKey[ev.RoutingKey] = append(byKey[ev.RoutingKey], ev.Time)
	}
	for _, svc := range services {
		times := byKey[wantKey[svc]]
		if want := 3*n/2 + storm; len(times) != want {
			t.Errorf("%s: %d events, want %d", svc, len(times), want)
		}
		most, at := lbBusiestWindow(times, time.Minute)
		t.Logf("%s: %d events, at most %d in a 60 s window (from %s)", svc, len(times), most, at.Format("15:04:05.000"))
		if most > 120 {
			t.Errorf("%s: %d events in the 60 s window from %s, PagerDuty allows 120", svc, most, at.Format("15:04:05.000"))
		}
		// Affinity of keys: one replica sent all of this key's events.
		var senders []string
		for i, b := range backends {
			if b.Exposition(t).Sum("otelcol_exporter_pagerduty_events", "routing="+svc) > 0 {
				senders = append(senders, fmt.Sprintf("backend-%d", i+1))
			}
		}
		t.Logf("%s: sent by %v", svc, senders)
		if len(senders) != 1 {
			t.Errorf("%s: events sent by %v, want exactly one replica", svc, senders)
		}
	}
	if waited := backendSum("otelcol_exporter_pagerduty_rate_limit_wait"); waited <= 0 {
		t.Errorf("the replicas' limiters never waited: the storm did not test the rate limit")
	}
	for i, b := range backends {
		m := b.Exposition(t)
		t.Logf("backend-%d: %v events sent, %v suppressed, %.1f s waited on the limiter, %v open incidents", i+1,
			m.Sum("otelcol_exporter_pagerduty_events"), m.Sum("otelcol_exporter_pagerduty_suppressed"),
			m.Sum("otelcol_exporter_pagerduty_rate_limit_wait"), m.Sum("otelcol_exporter_pagerduty_open_incidents"))
	}
}

// lbBusiestWindow returns the most times that fall in one window
// [start, start+width), and the start of the first such window.
func lbBusiestWindow(times []time.Time, width time.Duration) (int, time.Time) {
	sorted := slices.SortedFunc(slices.Values(times), time.Time.Compare)
	most, at := 0, time.Time{}
	lo := 0
	for hi, end := range sorted {
		for end.Sub(sorted[lo]) >= width {
			lo++
		}
		if n := hi - lo + 1; n > most {
			most, at = n, sorted[lo]
		}
	}
	return most, at
}

func TestLBBusiestWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		most  int
		from  float64
	}{
		{"none", nil, 0, 0},
		{"one", at(5), 1, 5},
		{"window is half-open", at(0, 60), 1, 0},
		{"just inside", at(0, 59.999), 2, 0},
		{"unsorted, later cluster", at(100, 0, 130, 159, 10), 3, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			most, from := lbBusiestWindow(tc.times, time.Minute)
			if most != tc.most {
				t.Errorf("most = %d, want %d", most, tc.most)
			}
			if tc.most > 0 && !from.Equal(t0.Add(time.Duration(tc.from*float64(time.Second)))) {
				t.Errorf("from = %v, want +%vs", from, tc.from)
			}
		})
	}
}

// ============================================================================
// Harness: internal/e2etest, shared with e2e/.
// ============================================================================

// Fake integration keys: the simulator accepts any 32 characters. The
// checkout and payments keys are the ones testdata/demo.yaml uses.
const (
	keyDemoDefault = "de000000000000000000000000000000"
	keyCheckout    = "c0000000000000000000000000000000"
	keyPayments    = "9a000000000000000000000000000000"
)

// landTimeout bounds each wait for an effect; the load-balanced records
// take two hops.
const landTimeout = 30 * time.Second

func requireE2E(t *testing.T) {
	t.Helper()
	e2etest.SkipUnlessE2E(t, "run `make e2e`, or `make build pdsim && PAGERDUTY_E2E=1 go test -count=1 -v ./examples/` "+
		"(binaries from $OTELCOL_BIN, $PDSIM_BIN and $OTELCOL_LB_BIN, default _build/otelcol-pagerduty, _build/pdsim, _build/lb/otelcol-pagerduty-lb)")
}

// lbCollectorBin is the front tier's distribution, built from
// loadbalancing/builder-config.yaml: $OTELCOL_LB_BIN, else
// _build/lb/otelcol-pagerduty-lb.
func lbCollectorBin(t *testing.T) string {
	t.Helper()
	return e2etest.Binary(t, "OTELCOL_LB_BIN", "_build/lb/otelcol-pagerduty-lb",
		"build it with `make build && .tools/builder --config examples/loadbalancing/builder-config.yaml`")
}

// waitMetric waits until the sum of the collector's series name whose
// labels include every "key=value" of labels reaches least.
func waitMetric(t *testing.T, col *e2etest.Collector, least float64, name string, labels ...string) {
	t.Helper()
	e2etest.Eventually(t, landTimeout, func() bool {
		return col.Exposition(t).Sum(name, labels...) >= least
	}, "%s%v >= %v", name, labels, least)
}

// sendUntimed posts alerts under one resource without timestamps, as the
// demo's samples are: the exporter times them when it first sees them.
func sendUntimed(t *testing.T, col *e2etest.Collector, resource map[string]string, alerts ...e2etest.Alert) {
	t.Helper()
	col.Send(t, e2etest.WithoutTimestamps(e2etest.NewPayload().Resource(resource).Add(alerts...).Logs()))
}

// readYAML decodes the YAML file at path into v.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// networkPolicySpec is the part of a NetworkPolicy the examples' test reads.
type networkPolicySpec struct {
	PodSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"podSelector"`
	PolicyTypes []string     `yaml:"policyTypes"`
	Ingress     []policyRule `yaml:"ingress"`
	Egress      []policyRule `yaml:"egress"`
}

type policyRule struct {
	From  []yaml.Node `yaml:"from"`
	To    []yaml.Node `yaml:"to"`
	Ports []struct {
		Port int `yaml:"port"`
	} `yaml:"ports"`
}

// ports lists the ports of rules.
func ports(rules []policyRule) []int {
	var out []int
	for _, r := range rules {
		for _, p := range r.Ports {
			out = append(out, p.Port)
		}
	}
	return out
}

// TestKubernetesNetworkPolicies: in both examples, every workload is
// selected by a NetworkPolicy that denies by default, in and out; lets in
// only its OTLP and metrics ports (and status where it serves one), each
// from named peers, never from anywhere; and lets out DNS and 443.
func TestKubernetesNetworkPolicies(t *testing.T) {
	for _, dir := range k8sExamples {
		m := loadK8s(t, dir)
		for _, w := range m.workloads {
			t.Run(filepath.Base(dir)+"/"+w.String(), func(t *testing.T) {
				var policy *networkPolicySpec
				for _, o := range m.all("NetworkPolicy") {
					var spec networkPolicySpec
					if err := o.Spec.Decode(&spec); err != nil {
						t.Fatalf("NetworkPolicy %s: %v", o.Metadata.Name, err)
					}
					if w.selects(spec.PodSelector.MatchLabels) {
						policy = &spec
					}
				}
				if policy == nil {
					t.Fatal("no NetworkPolicy selects it")
				}
				if !slices.Contains(policy.PolicyTypes, "Ingress") || !slices.Contains(policy.PolicyTypes, "Egress") {
					t.Errorf("policyTypes %v: deny both ways by default", policy.PolicyTypes)
				}
				for i, r := range policy.Ingress {
					if len(r.From) == 0 || len(r.Ports) == 0 {
						t.Errorf("ingress rule %d is open to any peer or any port", i)
					}
				}
				want := []int{8888}
				for _, p := range w.config.Receivers.OTLP.Protocols {
					want = append(want, endpointPort(t, "otlp", p.Endpoint))
				}
				if slices.Contains(w.config.Service.Extensions, "healthcheckv2") {
					want = append(want, endpointPort(t, "healthcheckv2", w.config.Extensions.HealthCheckV2.HTTP.Endpoint))
				}
				slices.Sort(want)
				got := ports(policy.Ingress)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("ingress ports %v, want %v", got, want)
				}
				out := ports(policy.Egress)
				if !slices.Contains(out, 53) || !slices.Contains(out, 443) {
					t.Errorf("egress ports %v: DNS and 443 must be let out", out)
				}
			})
		}
	}
}

// dockerignoreRule is one line of a .dockerignore: a pattern, and whether
// it lets paths back in (!).
type dockerignoreRule struct {
	re      *regexp.Regexp
	include bool
}

// readDockerignore reads the rules of a .dockerignore file.
func readDockerignore(t *testing.T, path string) []dockerignoreRule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rules []dockerignoreRule
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		pattern := strings.TrimSuffix(strings.TrimPrefix(line, "!"), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(pattern); i++ {
			switch {
			case strings.HasPrefix(pattern[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(pattern[i:], "**"):
				re.WriteString(".*")
				i++
			case pattern[i] == '*':
				re.WriteString("[^/]*")
			case pattern[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			}
		}
		re.WriteString("$")
		rules = append(rules, dockerignoreRule{regexp.MustCompile(re.String()), include})
	}
	return rules
}

// inContext reports whether the file path (relative to the context, with
// slashes) enters the build context: the last rule that matches it, or one
// of its directories, decides, as Docker's does.
func inContext(rules []dockerignoreRule, path string) bool {
	in := true
	for _, r := range rules {
		for p := path; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
			if r.re.MatchString(p) {
				in = r.include
				break
			}
		}
	}
	return in
}

// TestDockerBuildContext: the images' build contexts are allow-lists: the
// module files, the ocb manifests and the exporter's source go in; no
// secret.yaml (with real keys, once a user fills it in), no git history, no
// local build, no test file does, whatever is in the tree.
func TestDockerBuildContext(t *testing.T) {
	for _, ignore := range []string{
		filepath.Join(k8sDir, "Dockerfile.dockerignore"),
		filepath.Join(k8sLBDir, "Dockerfile.dockerignore"),
	} {
		t.Run(ignore, func(t *testing.T) {
			rules := readDockerignore(t, ignore)
			for _, path := range []string{"go.mod", "go.sum", "builder-config.yaml", "examples/loadbalancing/builder-config.yaml", "exporter/pagerdutyexporter/factory.go", "exporter/pagerdutyexporter/internal/road/admit.go"} {
				if !inContext(rules, path) {
					t.Errorf("%s is left out of the context, which the build needs", path)
				}
			}
			for _, path := range []string{
				"examples/kubernetes/secret.yaml", "examples/kubernetes/intake-secret.yaml", "examples/kubernetes/loadbalancing/secret.yaml",
				"secret.yaml", "exporter/secret.yaml", "exporter/pagerdutyexporter/my-secret.yaml",
				".git/config", "_build/otelcol-pagerduty", ".tools/builder", "README.md", "e2e/e2e_test.go",
				"exporter/pagerdutyexporter/factory_test.go", "exporter/pagerdutyexporter/testdata/config.yaml",
			} {
				if inContext(rules, path) {
					t.Errorf("%s enters the build context", path)
				}
			}
		})
	}
}
