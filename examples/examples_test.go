// Package examples tests the deployment examples under examples/: the
// Grafana dashboard (grafana/), the Kubernetes manifests and Dockerfile
// (kubernetes/) and the load-balanced scale-out (loadbalancing/).
//
// Tests that only read files run with every `go test ./...`. Tests that run
// the built collector are skipped unless PAGERDUTY_E2E=1, as in e2e/; `make
// e2e` builds the binaries and runs them. By hand:
//
//	make build pdsim
//	.tools/builder --config examples/loadbalancing/builder-config.yaml   # only for TestLoadBalancedReplicas
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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
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

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	yaml "go.yaml.in/yaml/v3"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

var update = flag.Bool("update", false, "TestDashboardLiveScrape: rewrite grafana/testdata/scrape.txt from the live collector")

// Paths, relative to this package's directory.
const (
	dashboardPath   = "grafana/pagerduty-exporter.json"
	scrapePath      = "grafana/testdata/scrape.txt"
	metadataPath    = "../exporter/pagerdutyexporter/metadata.yaml"
	k8sDir          = "kubernetes"
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

// exposition is a Prometheus text exposition: per series name, the label
// names seen on it and the samples.
type exposition struct {
	types  map[string]string          // family name -> TYPE
	labels map[string]map[string]bool // series name -> label names
	lines  []sample
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

func parseExposition(r io.Reader) (*exposition, error) {
	e := &exposition{types: map[string]string{}, labels: map[string]map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if f := strings.Fields(line); len(f) >= 4 && f[1] == "TYPE" {
				e.types[f[2]] = f[3]
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n, line, err)
		}
		if e.labels[s.name] == nil {
			e.labels[s.name] = map[string]bool{}
		}
		for k := range s.labels {
			e.labels[s.name][k] = true
		}
		e.lines = append(e.lines, s)
	}
	return e, sc.Err()
}

// parseSample parses `name{k="v",...} value [timestamp]`.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, errors.New("no metric name")
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for {
			line = strings.TrimLeft(line, " ,")
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			eq := strings.Index(line, `="`)
			if eq <= 0 {
				return s, errors.New("malformed labels")
			}
			key := line[:eq]
			line = line[eq+2:]
			var val strings.Builder
			j := 0
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				val.WriteByte(line[j])
			}
			if j == len(line) {
				return s, errors.New("unterminated label value")
			}
			s.labels[key] = val.String()
			line = line[j+1:]
		}
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return s, errors.New("no value")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// sum adds the values of the series named name whose labels include want.
func (e *exposition) sum(name string, want map[string]string) float64 {
	var total float64
	for _, s := range e.lines {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			total += s.value
		}
	}
	return total
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

// promKeywords are PromQL words that are neither metrics nor functions.
var promKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true,
}

// promAggregations are PromQL's aggregation operators, which a by or
// without clause may separate from their parenthesis.
var promAggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// labelListKeywords are followed by a parenthesised list of label names.
var labelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// scanPromQL is a small PromQL scanner: it finds metric names (identifiers
// that are not functions, aggregations or keywords), the label names of
// their {...} matchers, and the label names of grouping clauses. It skips
// string literals, range and subquery brackets ([5m], [$__rate_interval])
// and numbers. It is not a parser: it does not check the syntax beyond
// balanced quotes, braces and brackets.
func scanPromQL(expr string) (promRefs, error) {
	var refs promRefs
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	skipSpace := func(i int) int {
		for i < len(expr) && (expr[i] == ' ' || expr[i] == '\t' || expr[i] == '\n') {
			i++
		}
		return i
	}
	skipString := func(i int) (int, error) { // expr[i] is the opening quote
		q := expr[i]
		for j := i + 1; j < len(expr); j++ {
			if expr[j] == '\\' && q != '`' {
				j++
				continue
			}
			if expr[j] == q {
				return j + 1, nil
			}
		}
		return 0, fmt.Errorf("unterminated string at %d", i)
	}
	ident := func(i int) (string, int) {
		j := i
		for j < len(expr) && isIdent(expr[j]) {
			j++
		}
		return expr[i:j], j
	}
	// matchers parses {name op "value", ...} starting at expr[i] == '{'.
	matchers := func(i int) ([]string, int, error) {
		var names []string
		i++
		for {
			i = skipSpace(i)
			if i >= len(expr) {
				return nil, 0, errors.New("unterminated {")
			}
			switch {
			case expr[i] == '}':
				return names, i + 1, nil
			case expr[i] == ',':
				i++
			case isIdentStart(expr[i]):
				var name string
				name, i = ident(i)
				names = append(names, name)
				i = skipSpace(i)
				for i < len(expr) && strings.ContainsRune("=!~", rune(expr[i])) {
					i++
				}
				i = skipSpace(i)
				if i >= len(expr) || !strings.ContainsRune("\"'`", rune(expr[i])) {
					return nil, 0, fmt.Errorf("label %s: expected a quoted value at %d", name, i)
				}
				var err error
				if i, err = skipString(i); err != nil {
					return nil, 0, err
				}
			default:
				return nil, 0, fmt.Errorf("unexpected %q in label matchers at %d", expr[i], i)
			}
		}
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			var err error
			if i, err = skipString(i); err != nil {
				return refs, err
			}
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return refs, fmt.Errorf("unterminated [ at %d", i)
			}
			i += j + 1
		case c == '{':
			return refs, fmt.Errorf("label matchers without a metric name at %d", i)
		case c == '$': // a Grafana variable outside a string
			_, i = ident(i + 1)
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			var word string
			word, i = ident(i)
			next := skipSpace(i)
			switch {
			case labelListKeywords[strings.ToLower(word)]:
				if next < len(expr) && expr[next] == '(' {
					end := strings.IndexByte(expr[next:], ')')
					if end < 0 {
						return refs, fmt.Errorf("unterminated %s( at %d", word, next)
					}
					for _, l := range strings.Split(expr[next+1:next+end], ",") {
						if l = strings.TrimSpace(l); l != "" {
							refs.grouping = append(refs.grouping, l)
						}
					}
					i = next + end + 1
				}
			case promKeywords[strings.ToLower(word)], promAggregations[strings.ToLower(word)]:
			case next < len(expr) && expr[next] == '(':
				// A function or an aggregation operator.
			default:
				sel := selector{metric: word}
				if next < len(expr) && expr[next] == '{' {
					names, end, err := matchers(next)
					if err != nil {
						return refs, fmt.Errorf("%s: %w", word, err)
					}
					sel.labels, i = names, end
				}
				refs.selectors = append(refs.selectors, sel)
			}
		default:
			i++
		}
	}
	return refs, nil
}

func TestScanPromQL(t *testing.T) {
	refs, err := scanPromQL(`histogram_quantile(0.95, sum by (le, endpoint) (rate(a_bucket{job=~"$job", x!="}"}[$__rate_interval]))) / on(instance) group_left(z) b or vector(0)`)
	if err != nil {
		t.Fatal(err)
	}
	want := promRefs{
		selectors: []selector{{metric: "a_bucket", labels: []string{"job", "x"}}, {metric: "b"}},
		grouping:  []string{"le", "endpoint", "instance", "z"},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Fatalf("got %+v, want %+v", refs, want)
	}
	for _, bad := range []string{`a{b="c"`, `{__name__="a"}`, `a{b=c}`, `a[5m`} {
		if _, err := scanPromQL(bad); err == nil {
			t.Errorf("scanPromQL(%q): no error", bad)
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
func checkDashboardAgainst(t *testing.T, queries []dashboardQuery, scrape *exposition, scrapeName string) map[string]bool {
	t.Helper()
	ours, _ := ourMetrics(t)
	used := map[string]bool{}
	hasLabel := func(metric, label string) bool {
		return slices.Contains(targetLabels, label) || scrape.labels[metric][label]
	}
	for _, q := range queries {
		refs, err := scanPromQL(q.expr)
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
			if _, ok := scrape.labels[sel.metric]; !ok {
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
				if _, ok := scrape.labels[m]; ok && !hasLabel(m, l) {
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

func loadScrape(t *testing.T) *exposition {
	t.Helper()
	f, err := os.Open(scrapePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := parseExposition(f)
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
		if _, ok := scrape.labels[m]; !ok {
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
		if _, ok := scrape.labels[series]; !ok {
			t.Errorf("%s (metadata.yaml) is not in %s: regenerate it (see the package doc)", series, scrapePath)
		}
		if !used[series] {
			t.Errorf("%s (metadata.yaml) is on no panel of %s", series, dashboardPath)
		}
		want := map[string]string{"sum": "counter", "gauge": "gauge", "histogram": "histogram"}[kind]
		if got := scrape.types[name]; got != want {
			t.Errorf("%s: TYPE %q in %s, want %q", name, got, scrapePath, want)
		}
		if _, ok := scrape.labels[name+"_total"]; ok {
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
	sim := startSim(t)
	simPort := sim.url[strings.LastIndexByte(sim.url, ':')+1:]
	col := startCollector(t, collectorBin(t), "demo-collector", func(p ports) ([]string, []string) {
		env := []string{
			"DEMO_SIM_PORT=" + simPort,
			"DEMO_DEFAULT_KEY=" + keyDemoDefault,
			fmt.Sprintf("DEMO_OTLP_PORT=%d", p.otlp),
			fmt.Sprintf("DEMO_HEALTH_PORT=%d", p.health),
			fmt.Sprintf("DEMO_METRICS_PORT=%d", p.metrics),
		}
		// The demo config, with retries cut short so that an exhausted
		// retry (send_failed_log_records) takes seconds, not a minute.
		args := []string{"--config", demoConfigPath,
			"--set=exporters::pagerduty::retry_on_failure::max_elapsed_time=2s"}
		return env, args
	})
	otlpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/logs", col.ports.otlp)

	// The demo's lifecycle, as scripts/demo.sh sends it.
	files, _ := filepath.Glob(demoAlertsGlob)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no files match %s", demoAlertsGlob)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		before := col.metrics(t).sum("otelcol_exporter_pagerduty_events", nil) + col.metrics(t).sum("otelcol_exporter_pagerduty_suppressed", nil)
		postOTLP(t, otlpURL, body)
		waitFor(t, "the exporter to handle "+filepath.Base(f), func() bool {
			m := col.metrics(t)
			return m.sum("otelcol_exporter_pagerduty_events", nil)+m.sum("otelcol_exporter_pagerduty_suppressed", nil) > before
		})
	}

	// A burst of 14 change events on one key: the limiter (burst 10, 120 a
	// minute) makes the last ones wait.
	var burst []alertRecord
	for i := range 14 {
		burst = append(burst, alertRecord{resource: map[string]string{"service.name": "deployer", "host.name": "ci-runner-2"},
			attrs: map[string]any{"pagerduty.event_type": "change", "alert.summary": fmt.Sprintf("Deployed inventory v1.%d", i)}})
	}
	postLogs(t, otlpURL, burst...)
	col.waitMetric(t, "otelcol_exporter_pagerduty_rate_limit_wait", map[string]string{"routing": "default"}, 1e-9)
	col.waitMetric(t, "otelcol_exporter_pagerduty_events", map[string]string{"event_action": "change", "outcome": "accepted"}, 1+14)

	// A 429: throttled, then accepted on retry.
	sim.control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 429}})
	postLogs(t, otlpURL, alertRecord{resource: map[string]string{"service.name": "payments", "host.name": "pay-03"},
		attrs: map[string]any{"alert.fingerprint": "payments-gateway-timeouts", "alert.status": "firing", "alert.severity": "error",
			"alert.summary": "Payment gateway timeouts 4%"}})
	col.waitMetric(t, "otelcol_exporter_pagerduty_throttled", map[string]string{"routing": "payments"})
	sim.control(t, map[string]any{"reject_keys": map[string]int{}})
	col.waitMetric(t, "otelcol_exporter_pagerduty_events", map[string]string{"routing": "payments", "outcome": "accepted", "event_action": "trigger"}, 2)

	// A 503 until the retries give up: failed events, send_failed_log_records.
	sim.control(t, map[string]any{"reject_keys": map[string]int{keyDemoDefault: 503}})
	postLogs(t, otlpURL, alertRecord{resource: map[string]string{"service.name": "inventory", "host.name": "inv-01"},
		attrs: map[string]any{"alert.fingerprint": "inventory-sync-stalled", "alert.status": "firing", "alert.severity": "warning",
			"alert.summary": "Inventory sync stalled for 15m"}})
	col.waitMetric(t, "otelcol_exporter_pagerduty_events", map[string]string{"routing": "default", "outcome": "failed"})
	col.waitMetric(t, "otelcol_exporter_send_failed_log_records", map[string]string{"exporter": "pagerduty"})
	sim.control(t, map[string]any{"reject_keys": map[string]int{}})

	// A 400: rejected by the API, dropped.
	sim.control(t, map[string]any{"reject_keys": map[string]int{keyCheckout: 400}})
	postLogs(t, otlpURL, alertRecord{resource: map[string]string{"service.name": "checkout", "host.name": "web-02"},
		attrs: map[string]any{"alert.fingerprint": "checkout-cart-errors", "alert.status": "firing", "alert.severity": "error",
			"alert.summary": "Cart API 5xx at 2%"}})
	col.waitMetric(t, "otelcol_exporter_pagerduty_records_rejected", map[string]string{"reason": "api_rejected"})
	sim.control(t, map[string]any{"reject_keys": map[string]int{}})

	// An unmappable record (unknown status) and a repaired one (no severity,
	// no summary, no fingerprint).
	postLogs(t, otlpURL,
		alertRecord{resource: map[string]string{"service.name": "checkout"},
			attrs: map[string]any{"alert.fingerprint": "checkout-odd", "alert.status": "exploded", "alert.summary": "?"}},
		alertRecord{resource: map[string]string{"service.name": "search", "host.name": "search-01"},
			attrs: map[string]any{"alert.source": "search-01"}})
	col.waitMetric(t, "otelcol_exporter_pagerduty_records_rejected", map[string]string{"reason": "unknown_event_action"})
	col.waitMetric(t, "otelcol_exporter_pagerduty_records_repaired", map[string]string{"reason": "severity_defaulted"})

	// A connection reset (status class "transport"), then a retry that lands.
	sim.control(t, map[string]any{"reset_rate": 1})
	postLogs(t, otlpURL, alertRecord{resource: map[string]string{"service.name": "payments", "host.name": "pay-03"},
		attrs: map[string]any{"alert.fingerprint": "payments-gateway-timeouts", "alert.status": "resolved"}})
	col.waitMetric(t, "otelcol_exporter_pagerduty_requests", map[string]string{"status_class": "transport"})
	sim.control(t, map[string]any{"reset_rate": 0})
	col.waitMetric(t, "otelcol_exporter_pagerduty_events", map[string]string{"event_action": "resolve", "routing": "payments", "outcome": "accepted"})

	// Scrape once nothing is queued or in flight any more.
	var raw []byte
	var live *exposition
	waitFor(t, "the sending queue to drain", func() bool {
		raw = col.scrape(t)
		var err error
		if live, err = parseExposition(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		return live.sum("otelcol_exporter_queue_size", nil) == 0 && live.sum("otelcol_exporter_in_flight_requests", nil) == 0
	})
	used := checkDashboardAgainst(t, loadDashboard(t), live, "the live scrape")
	_, declared := ourMetrics(t)
	for name, kind := range declared {
		if kind == "histogram" {
			name += "_bucket"
		}
		if _, ok := live.labels[name]; !ok {
			t.Errorf("%s is not in the live scrape: the scenario does not exercise it", name)
		}
	}
	t.Logf("the dashboard uses %d metrics, all in the live scrape", len(used))
	if *update && !t.Failed() {
		if err := os.WriteFile(scrapePath, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", scrapePath, len(raw))
	}
}

// ============================================================================
// 2. Kubernetes
// ============================================================================

// k8sObject is the part of a manifest the tests read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`
}

type deploymentSpec struct {
	Replicas *int `yaml:"replicas"`
	Strategy struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"`
	Template struct {
		Spec struct {
			Containers []container `yaml:"containers"`
			Volumes    []struct {
				Name      string `yaml:"name"`
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
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
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
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
			} `yaml:"protocols"`
		} `yaml:"otlp"`
	} `yaml:"receivers"`
	Exporters struct {
		PagerDuty struct {
			SendingQueue struct {
				Storage string `yaml:"storage"`
			} `yaml:"sending_queue"`
		} `yaml:"pagerduty"`
	} `yaml:"exporters"`
	Extensions struct {
		HealthCheck struct {
			Endpoint string `yaml:"endpoint"`
			Path     string `yaml:"path"`
		} `yaml:"health_check"`
		FileStorage struct {
			Directory string `yaml:"directory"`
		} `yaml:"file_storage"`
	} `yaml:"extensions"`
	Service struct {
		Extensions []string `yaml:"extensions"`
	} `yaml:"service"`
}

// k8sManifests are the objects of examples/kubernetes, by kind (one each),
// read from the files kustomization.yaml lists.
type k8sManifests struct {
	objects    map[string]*k8sObject
	deployment deploymentSpec
	container  container
	configYAML string // the ConfigMap's config.yaml
	config     collectorConfig
	configPath string // the --config argument
}

func loadK8s(t *testing.T) k8sManifests {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	readYAML(t, filepath.Join(k8sDir, "kustomization.yaml"), &kust)
	m := k8sManifests{objects: map[string]*k8sObject{}}
	for _, res := range kust.Resources {
		path := filepath.Join(k8sDir, res)
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
			if _, dup := m.objects[obj.Kind]; dup {
				t.Fatalf("%s: a second %s; the tests expect one of each kind", path, obj.Kind)
			}
			m.objects[obj.Kind] = &obj
		}
	}
	for _, kind := range []string{"Secret", "ConfigMap", "Deployment", "Service", "PersistentVolumeClaim"} {
		if _, ok := m.objects[kind]; !ok {
			t.Fatalf("kustomization.yaml lists no %s", kind)
		}
	}
	dep := m.objects["Deployment"]
	if err := dep.Spec.Decode(&m.deployment); err != nil {
		t.Fatalf("Deployment spec: %v", err)
	}
	if n := len(m.deployment.Template.Spec.Containers); n != 1 {
		t.Fatalf("Deployment has %d containers, want 1", n)
	}
	m.container = m.deployment.Template.Spec.Containers[0]

	// The config file the container reads: --config=<mountPath>/<key> of the
	// ConfigMap volume.
	for i, a := range m.container.Args {
		switch {
		case strings.HasPrefix(a, "--config="):
			m.configPath = strings.TrimPrefix(a, "--config=")
		case a == "--config" && i+1 < len(m.container.Args):
			m.configPath = m.container.Args[i+1]
		}
	}
	if m.configPath == "" {
		t.Fatalf("container args %q name no --config", m.container.Args)
	}
	cm := m.objects["ConfigMap"]
	for _, v := range m.deployment.Template.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		if v.ConfigMap.Name != cm.Metadata.Name {
			t.Errorf("volume %s mounts ConfigMap %q, the manifest's is %q", v.Name, v.ConfigMap.Name, cm.Metadata.Name)
		}
		mount := m.mountPath(v.Name)
		if filepath.Dir(m.configPath) != mount {
			t.Errorf("--config=%s is not in the ConfigMap's mount %s", m.configPath, mount)
		}
		m.configYAML = cm.Data[filepath.Base(m.configPath)]
	}
	if m.configYAML == "" {
		t.Fatalf("--config=%s is no key of ConfigMap %s mounted by the Deployment", m.configPath, cm.Metadata.Name)
	}
	if err := yaml.Unmarshal([]byte(m.configYAML), &m.config); err != nil {
		t.Fatalf("ConfigMap config: %v", err)
	}
	return m
}

func (m k8sManifests) mountPath(volume string) string {
	for _, vm := range m.container.VolumeMounts {
		if vm.Name == volume {
			return vm.MountPath
		}
	}
	return ""
}

// containerPort resolves a probe or targetPort: a number, or the name of a
// container port.
func (m k8sManifests) containerPort(t *testing.T, n yaml.Node) int {
	t.Helper()
	if p, err := strconv.Atoi(n.Value); err == nil {
		return p
	}
	for _, p := range m.container.Ports {
		if p.Name == n.Value {
			return p.ContainerPort
		}
	}
	t.Errorf("port %q is neither a number nor a container port name", n.Value)
	return 0
}

// secretEnv returns the container's variables that come from a Secret key.
func (m k8sManifests) secretEnv() map[string]string {
	out := map[string]string{}
	for _, e := range m.container.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out[e.Name] = e.ValueFrom.SecretKeyRef.Key
		}
	}
	return out
}

func endpointPort(t *testing.T, what, endpoint string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(endpoint)
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

// TestKubernetesManifests checks that the manifests fit together: the
// Secret's keys reach the config through the Deployment's env, the probes
// hit the health_check extension, the queue's volume is file_storage's
// directory, and the Service targets the OTLP receiver's ports.
func TestKubernetesManifests(t *testing.T) {
	m := loadK8s(t)
	c := m.container

	// Secrets: every ${env:X} of the config is set by the Deployment, every
	// secretKeyRef names the Secret and one of its keys, and no key is
	// written into the config.
	secret := m.objects["Secret"]
	setEnv := map[string]bool{}
	for _, e := range c.Env {
		setEnv[e.Name] = true
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if ref.Name != secret.Metadata.Name {
				t.Errorf("env %s: secretKeyRef names Secret %q, the manifest's is %q", e.Name, ref.Name, secret.Metadata.Name)
			}
			if _, ok := secret.StringData[ref.Key]; !ok {
				t.Errorf("env %s: Secret %s has no key %q", e.Name, secret.Metadata.Name, ref.Key)
			}
		}
	}
	used := map[string]bool{}
	for _, ref := range envRefRE.FindAllStringSubmatch(m.configYAML, -1) {
		used[ref[1]] = true
		if !setEnv[ref[1]] && ref[2] == "" {
			t.Errorf("the config reads ${env:%s}, which the Deployment does not set", ref[1])
		}
	}
	for name := range m.secretEnv() {
		if !used[name] {
			t.Errorf("env %s carries a routing key the config never reads", name)
		}
	}
	if len(m.secretEnv()) == 0 {
		t.Errorf("the Deployment takes no routing key from the Secret")
	}
	if regexp.MustCompile(`\b[0-9a-fA-F]{32}\b`).MatchString(m.configYAML) {
		t.Errorf("the ConfigMap contains what looks like an integration key")
	}

	// Probes: the health_check extension's port and path.
	hc := m.config.Extensions.HealthCheck
	if !slices.Contains(m.config.Service.Extensions, "health_check") {
		t.Errorf("health_check is not in service.extensions")
	}
	hcPort := endpointPort(t, "health_check", hc.Endpoint)
	hcPath := hc.Path
	if hcPath == "" {
		hcPath = "/" // the extension's default
	}
	for name, p := range map[string]*probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe on the health_check extension", name)
			continue
		}
		if got := m.containerPort(t, p.HTTPGet.Port); got != hcPort {
			t.Errorf("%s: port %d, health_check listens on %d", name, got, hcPort)
		}
		if p.HTTPGet.Path != hcPath {
			t.Errorf("%s: path %q, health_check serves %q", name, p.HTTPGet.Path, hcPath)
		}
	}

	// The persistent queue: sending_queue -> file_storage -> the PVC's mount.
	if q := m.config.Exporters.PagerDuty.SendingQueue.Storage; q != "file_storage" {
		t.Errorf("exporters::pagerduty::sending_queue::storage is %q, want file_storage", q)
	}
	if !slices.Contains(m.config.Service.Extensions, "file_storage") {
		t.Errorf("file_storage is not in service.extensions")
	}
	pvc := m.objects["PersistentVolumeClaim"]
	var pvcMount string
	for _, v := range m.deployment.Template.Spec.Volumes {
		if v.PVC != nil {
			if v.PVC.ClaimName != pvc.Metadata.Name {
				t.Errorf("volume %s claims %q, the manifest's PVC is %q", v.Name, v.PVC.ClaimName, pvc.Metadata.Name)
			}
			pvcMount = m.mountPath(v.Name)
		}
	}
	if dir := m.config.Extensions.FileStorage.Directory; pvcMount == "" || pvcMount != dir {
		t.Errorf("the PVC is mounted at %q, file_storage's directory is %q", pvcMount, dir)
	}
	// One replica, replaced by Recreate: the volume is ReadWriteOnce and the
	// queue's file is locked by the collector that has it open.
	if r := m.deployment.Replicas; r == nil || *r != 1 {
		t.Errorf("replicas must be 1 (one queue volume, one dedup cache); scale out with examples/loadbalancing")
	}
	if m.deployment.Strategy.Type != "Recreate" {
		t.Errorf("strategy %q: want Recreate, so the old pod releases the queue volume first", m.deployment.Strategy.Type)
	}

	// Resources.
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Errorf("no memory limit (memory_limiter reads it)")
	}

	// The Service: OTLP ports reach the receiver's.
	var svc serviceSpec
	if err := m.objects["Service"].Spec.Decode(&svc); err != nil {
		t.Fatal(err)
	}
	receiverPorts := map[int]bool{}
	for proto, p := range m.config.Receivers.OTLP.Protocols {
		receiverPorts[endpointPort(t, "otlp "+proto, p.Endpoint)] = true
	}
	if len(svc.Ports) == 0 {
		t.Errorf("the Service exposes no port")
	}
	for _, p := range svc.Ports {
		if target := m.containerPort(t, p.TargetPort); !receiverPorts[target] {
			t.Errorf("Service port %s targets %d, where no OTLP receiver listens", p.Name, target)
		}
	}
	var tmpl struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
		} `yaml:"template"`
	}
	if err := m.objects["Deployment"].Spec.Decode(&tmpl); err != nil {
		t.Fatal(err)
	}
	for k, v := range svc.Selector {
		if tmpl.Template.Metadata.Labels[k] != v {
			t.Errorf("Service selector %s=%s does not match the pod template", k, v)
		}
	}
}

// TestDockerfile checks what can be checked of the Dockerfile without
// Docker: the ocb release is the Makefile's, the manifest is the
// repository's, and the binary copied is the one ocb writes.
func TestDockerfile(t *testing.T) {
	df, err := os.ReadFile(filepath.Join(k8sDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(makefilePath)
	if err != nil {
		t.Fatal(err)
	}
	mv := regexp.MustCompile(`(?m)^BUILDER_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if mv == nil {
		t.Fatalf("no BUILDER_VERSION in %s", makefilePath)
	}
	if want := "go.opentelemetry.io/collector/cmd/builder@" + string(mv[1]); !bytes.Contains(df, []byte(want)) {
		t.Errorf("Dockerfile does not install %s (the Makefile's ocb)", want)
	}
	if !bytes.Contains(df, []byte("--config builder-config.yaml")) {
		t.Errorf("Dockerfile does not build the repository's builder-config.yaml")
	}
	var manifest struct {
		Dist struct {
			Name       string `yaml:"name"`
			OutputPath string `yaml:"output_path"`
		} `yaml:"dist"`
	}
	readYAML(t, builderManifest, &manifest)
	bin := filepath.ToSlash(filepath.Join("/src", manifest.Dist.OutputPath, manifest.Dist.Name))
	if !bytes.Contains(df, []byte("COPY --from=build "+bin+" ")) {
		t.Errorf("Dockerfile does not copy %s, the binary ocb writes", bin)
	}
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAll(df, -1)); n != 2 {
		t.Errorf("Dockerfile has %d stages, want 2 (build, runtime)", n)
	}
}

// TestKubernetesConfigValidates runs `otelcol-pagerduty validate` on the
// ConfigMap's config with the Secret's variables set to fake 32-character
// keys, and checks that the Secret's placeholders are refused.
func TestKubernetesConfigValidates(t *testing.T) {
	requireE2E(t)
	m := loadK8s(t)
	bin := collectorBin(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(m.configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	// file_storage's validation requires its directory to exist; the PVC
	// provides it in the pod. Here a temporary directory stands in.
	queueDir := filepath.Join(dir, "file_storage")
	if err := os.Mkdir(queueDir, 0o700); err != nil {
		t.Fatal(err)
	}
	validate := func(env []string) (string, error) {
		cmd := exec.Command(bin, "validate", "--config", cfg, "--set=extensions::file_storage::directory="+queueDir)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	names := slices.Sorted(maps.Keys(m.secretEnv()))
	var fake, placeholder []string
	for i, name := range names {
		fake = append(fake, fmt.Sprintf("%s=%032x", name, i+1))
		placeholder = append(placeholder, name+"="+m.objects["Secret"].StringData[m.secretEnv()[name]])
	}
	out, err := validate(fake)
	if err != nil {
		t.Fatalf("validate with fake keys for %v: %v\n%s", names, err, out)
	}
	t.Logf("validate with fake keys for %v: exit 0", names)

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
// 50 s with a key per replica, and about 100 s with both on one: a request
// holding both keys' records is worked through in order, so the second key
// waits for the first (README, "Quiet keys wait behind a rate-limited
// storm").
func TestLoadBalancedReplicas(t *testing.T) {
	requireE2E(t)
	lbBin := binary(t, "OTELCOL_LB_BIN", "_build/lb/otelcol-pagerduty-lb",
		"build it with `make build && .tools/builder --config examples/loadbalancing/builder-config.yaml`")
	sim := startSim(t) // its rate limit: 120 per key in any 60 s window

	var backends []*collector
	for i := range 2 {
		backends = append(backends, startCollector(t, collectorBin(t), fmt.Sprintf("backend-%d", i+1), func(p ports) ([]string, []string) {
			return []string{
				fmt.Sprintf("BACKEND_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", p.otlp),
				fmt.Sprintf("BACKEND_HEALTH_ENDPOINT=127.0.0.1:%d", p.health),
				"BACKEND_METRICS_HOST=127.0.0.1",
				fmt.Sprintf("BACKEND_METRICS_PORT=%d", p.metrics),
				"PAGERDUTY_ENDPOINT=" + sim.url,
				"PAGERDUTY_ROUTING_KEY=" + keyDemoDefault,
				"PD_KEY_CHECKOUT=" + keyCheckout,
				"PD_KEY_PAYMENTS=" + keyPayments,
				// rate_limit as backend.yaml sets it: 120 a minute, burst 10.
			}, []string{"--config", filepath.Join(lbDir, "backend.yaml")}
		}))
	}
	front := startCollector(t, lbBin, "front", func(p ports) ([]string, []string) {
		return []string{
			fmt.Sprintf("LB_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", p.otlp),
			fmt.Sprintf("LB_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", freePort(t)),
			fmt.Sprintf("LB_HEALTH_ENDPOINT=127.0.0.1:%d", p.health),
			"LB_METRICS_HOST=127.0.0.1",
			fmt.Sprintf("LB_METRICS_PORT=%d", p.metrics),
			fmt.Sprintf("LB_BACKEND_1=127.0.0.1:%d", backends[0].ports.otlp),
			fmt.Sprintf("LB_BACKEND_2=127.0.0.1:%d", backends[1].ports.otlp),
		}, []string{"--config", filepath.Join(lbDir, "front.yaml")}
	})
	otlpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/logs", front.ports.otlp)

	const n = 20
	services := []string{"checkout", "payments"}
	wantKey := map[string]string{"checkout": keyCheckout, "payments": keyPayments}
	fingerprint := func(i int) string { return fmt.Sprintf("lb-alert-%02d", i) }
	service := func(i int) string { return services[i%2] }
	firing := func(i int) alertRecord {
		return alertRecord{resource: map[string]string{"service.name": service(i), "host.name": fmt.Sprintf("host-%02d", i)},
			attrs: map[string]any{"alert.fingerprint": fingerprint(i), "alert.status": "firing", "alert.severity": "error",
				"alert.summary": fmt.Sprintf("Alert %02d firing", i)}}
	}
	// step sends one record per alert in a single OTLP request, so the
	// front has to split it.
	step := func(rec func(i int) alertRecord) {
		var recs []alertRecord
		for i := range n {
			r := rec(i)
			r.time = time.Now()
			recs = append(recs, r)
		}
		postLogs(t, otlpURL, recs...)
	}
	countActions := func(s simSnapshot, action string) int {
		c := 0
		for _, ev := range s.Events {
			if ev.Action == action {
				c++
			}
		}
		return c
	}
	backendSum := func(name string, labels map[string]string) float64 {
		var total float64
		for _, b := range backends {
			total += b.metrics(t).sum(name, labels)
		}
		return total
	}

	// 1. Lifecycles: affinity.
	step(firing)
	sim.waitFor(t, "20 triggers", func(s simSnapshot) bool { return countActions(s, "trigger") >= n })

	step(firing) // the repeat: suppressed by whichever replica holds the alert
	waitFor(t, "20 repeated triggers to be suppressed or sent", func() bool {
		extra := countActions(sim.snapshot(t), "trigger") - n
		return backendSum("otelcol_exporter_pagerduty_suppressed", map[string]string{"reason": "duplicate"})+float64(extra) >= n
	})

	step(func(i int) alertRecord {
		return alertRecord{resource: map[string]string{"service.name": service(i), "host.name": "slack-bridge"},
			attrs: map[string]any{"alert.fingerprint": fingerprint(i), "alert.status": "acknowledged", "acknowledged_by": "chatops-bot"}}
	})
	sim.waitFor(t, "20 acknowledges", func(s simSnapshot) bool { return countActions(s, "acknowledge") >= n })

	step(func(i int) alertRecord {
		return alertRecord{resource: map[string]string{"service.name": service(i), "host.name": fmt.Sprintf("host-%02d", i)},
			attrs: map[string]any{"alert.fingerprint": fingerprint(i), "alert.status": "resolved"}}
	})
	snap := sim.waitFor(t, "20 resolves", func(s simSnapshot) bool { return countActions(s, "resolve") >= n })

	// Every alert: one incident, resolved, under its service's key, with
	// exactly trigger, acknowledge, resolve applied.
	for i := range n {
		var incs []simIncident
		for _, inc := range snap.Incidents {
			if inc.DedupKey == fingerprint(i) {
				incs = append(incs, inc)
			}
		}
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
		var got []string
		for _, ev := range inc.Events {
			a := ev.Action
			if !ev.Applied {
				a += " (dropped: " + ev.Note + ")"
			}
			got = append(got, a)
		}
		if want := []string{"trigger", "acknowledge", "resolve"}; !slices.Equal(got, want) {
			t.Errorf("%s: events %v, want %v", fingerprint(i), got, want)
		}
	}
	if got := backendSum("otelcol_exporter_pagerduty_suppressed", map[string]string{"reason": "duplicate"}); got != n {
		t.Errorf("%v repeated triggers suppressed, want %d: a repeat reached a replica that did not hold its alert", got, n)
	}

	// 2. A storm of new alerts on both keys at once: the rate limit.
	const storm = 100 // per key; with the 30 events of step 1, 130 per key
	var recs []alertRecord
	for _, svc := range services {
		for j := range storm {
			recs = append(recs, alertRecord{resource: map[string]string{"service.name": svc, "host.name": fmt.Sprintf("%s-%03d", svc, j)},
				attrs: map[string]any{"alert.fingerprint": fmt.Sprintf("lb-storm-%s-%03d", svc, j), "alert.status": "firing",
					"alert.severity": "warning", "alert.summary": fmt.Sprintf("Storm alert %d on %s", j, svc)}, time: time.Now()})
		}
	}
	start := time.Now()
	postLogs(t, otlpURL, recs...)
	total := 3*n + len(recs)
	lbWaitFor(t, fmt.Sprintf("%d events in all", total), 3*time.Minute, func() bool { return len(lbEvents(t, sim)) >= total })
	t.Logf("storm of %d alerts delivered in %v", len(recs), time.Since(start).Round(time.Second))

	events := lbEvents(t, sim)
	if len(events) != total {
		t.Errorf("%d alert events reached PagerDuty, want %d", len(events), total)
	}
	final := sim.snapshot(t)
	if final.Dropped != 0 {
		t.Errorf("the simulator dropped %d events (an acknowledge or resolve under a key without the incident)", final.Dropped)
	}
	if throttled := lbThrottled(t, sim); throttled != 0 {
		t.Errorf("the simulator answered %d requests with 429: a key's events were split between replicas, or a limiter let too many through", throttled)
	}
	byKey := map[string][]time.Time{}
	for _, ev := range events {
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
			if b.metrics(t).sum("otelcol_exporter_pagerduty_events", map[string]string{"routing": svc}) > 0 {
				senders = append(senders, fmt.Sprintf("backend-%d", i+1))
			}
		}
		t.Logf("%s: sent by %v", svc, senders)
		if len(senders) != 1 {
			t.Errorf("%s: events sent by %v, want exactly one replica", svc, senders)
		}
	}
	if waited := backendSum("otelcol_exporter_pagerduty_rate_limit_wait", nil); waited <= 0 {
		t.Errorf("the replicas' limiters never waited: the storm did not test the rate limit")
	}
	for i, b := range backends {
		m := b.metrics(t)
		t.Logf("backend-%d: %v events sent, %v suppressed, %.1f s waited on the limiter, %v open incidents", i+1,
			m.sum("otelcol_exporter_pagerduty_events", nil), m.sum("otelcol_exporter_pagerduty_suppressed", nil),
			m.sum("otelcol_exporter_pagerduty_rate_limit_wait", nil), m.sum("otelcol_exporter_pagerduty_open_incidents", nil))
	}
}

// lbEvent is an alert event as the simulator recorded it, with what
// TestLoadBalancedReplicas needs beyond simEvent: its key and time.
type lbEvent struct {
	Action     string    `json:"action"`
	RoutingKey string    `json:"routing_key"`
	Time       time.Time `json:"time"`
}

// lbEvents returns every alert event the simulator recorded.
func lbEvents(t *testing.T, sim *simulator) []lbEvent {
	t.Helper()
	var snap struct {
		Events []lbEvent `json:"events"`
	}
	lbGetJSON(t, sim.url+"/incidents", &snap)
	return snap.Events
}

// lbThrottled returns how many requests the simulator answered with 429.
func lbThrottled(t *testing.T, sim *simulator) int {
	t.Helper()
	var snap struct {
		Requests struct {
			Throttled int `json:"throttled"`
		} `json:"requests"`
	}
	lbGetJSON(t, sim.url+"/incidents", &snap)
	return snap.Requests.Throttled
}

func lbGetJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// lbWaitFor is waitFor with its own deadline.
func lbWaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
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
// Harness: processes (internal/proctest), simulator, collectors, OTLP. A
// trimmed version of e2e/'s.
// ============================================================================

const envE2E = "PAGERDUTY_E2E"

// Fake integration keys: the simulator accepts any 32 characters. The
// checkout and payments keys are the ones testdata/demo.yaml uses.
const (
	keyDemoDefault = "de000000000000000000000000000000"
	keyCheckout    = "c0000000000000000000000000000000"
	keyPayments    = "9a000000000000000000000000000000"
)

const (
	startTimeout = 30 * time.Second
	landTimeout  = 30 * time.Second
	pollInterval = 25 * time.Millisecond
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv(envE2E) != "1" {
		t.Skipf("runs the built collector: run `make e2e`, or `make build pdsim && %s=1 go test -count=1 -v ./examples/` "+
			"(binaries from $OTELCOL_BIN, $PDSIM_BIN and $OTELCOL_LB_BIN, default _build/otelcol-pagerduty, _build/pdsim, _build/lb/otelcol-pagerduty-lb)", envE2E)
	}
}

// binary returns the absolute path of $env, else of rel under the
// repository root; it fails the test, saying how to build it, if that is no
// executable.
func binary(t *testing.T, env, rel, howto string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join("..", rel)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s is not an executable (%v): %s, or set %s", abs, err, howto, env)
	}
	return abs
}

func collectorBin(t *testing.T) string {
	return binary(t, "OTELCOL_BIN", "_build/otelcol-pagerduty", "build it with `make build`")
}

func pdsimBin(t *testing.T) string {
	return binary(t, "PDSIM_BIN", "_build/pdsim", "build it with `make pdsim`")
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(landTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", landTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// stopGrace is how long a stopped process has between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// startProc starts bin with its output in a file; the process is stopped at
// cleanup and its output printed if the test failed.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proctest.Proc {
	t.Helper()
	outPath := filepath.Join(t.TempDir(), name+".log")
	p, err := proctest.Start(name, bin, append(os.Environ(), env...), outPath, outPath, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(stopGrace)
		if t.Failed() {
			data, _ := os.ReadFile(outPath)
			if len(data) > 64<<10 {
				data = data[len(data)-64<<10:]
			}
			t.Logf("--- %s output:\n%s", name, data)
		}
	})
	return p
}

// ports are the loopback ports of one collector.
type ports struct{ otlp, health, metrics int }

type collector struct {
	proc       *proctest.Proc
	ports      ports
	metricsURL string
}

// startCollector starts bin with the env and args that setup returns for
// fresh ports, and waits for its health check. A lost port race is retried.
func startCollector(t *testing.T, bin, name string, setup func(ports) (env, args []string)) *collector {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p := ports{otlp: freePort(t), health: freePort(t), metrics: freePort(t)}
		env, args := setup(p)
		c := &collector{proc: startProc(t, fmt.Sprintf("%s-%d", name, attempt), bin, env, args...), ports: p,
			metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metrics)}
		healthURL := fmt.Sprintf("http://127.0.0.1:%d/", p.health)
		err := proctest.WaitHTTP(context.Background(), httpClient, healthURL, c.proc, startTimeout, pollInterval)
		if err == nil {
			return c
		}
		if attempt < 3 && strings.Contains(c.proc.Output(), "address already in use") {
			c.proc.Stop(stopGrace)
			continue
		}
		t.Fatalf("%s did not become healthy on %s (%v):\n%s", name, healthURL, err, c.proc.Output())
	}
}

func (c *collector) scrape(t *testing.T) []byte {
	t.Helper()
	resp, err := httpClient.Get(c.metricsURL)
	if err != nil {
		t.Fatalf("GET %s: %v", c.metricsURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %s", c.metricsURL, err, resp.Status)
	}
	return body
}

func (c *collector) metrics(t *testing.T) *exposition {
	t.Helper()
	e, err := parseExposition(bytes.NewReader(c.scrape(t)))
	if err != nil {
		t.Fatalf("%s: %v", c.metricsURL, err)
	}
	return e
}

// waitMetric waits until the sum of the matching series reaches min
// (default 1).
func (c *collector) waitMetric(t *testing.T, name string, labels map[string]string, min ...float64) {
	t.Helper()
	want := 1.0
	if len(min) > 0 {
		want = min[0]
	}
	waitFor(t, fmt.Sprintf("%s%v >= %v", name, labels, want), func() bool {
		return c.metrics(t).sum(name, labels) >= want
	})
}

// alertRecord is one log record and its resource.
type alertRecord struct {
	resource map[string]string
	attrs    map[string]any // string or float64 values
	time     time.Time
}

// postLogs sends the records as one OTLP/HTTP JSON request, one
// ResourceLogs per run of records with the same resource.
func postLogs(t *testing.T, url string, recs ...alertRecord) {
	t.Helper()
	ld := plog.NewLogs()
	var sl plog.ScopeLogs
	var last map[string]string
	for i, r := range recs {
		if i == 0 || !reflect.DeepEqual(r.resource, last) {
			rl := ld.ResourceLogs().AppendEmpty()
			for _, k := range slices.Sorted(maps.Keys(r.resource)) {
				rl.Resource().Attributes().PutStr(k, r.resource[k])
			}
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("examples-test")
			last = r.resource
		}
		lr := sl.LogRecords().AppendEmpty()
		if !r.time.IsZero() {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(r.time))
		}
		for _, k := range slices.Sorted(maps.Keys(r.attrs)) {
			switch v := r.attrs[k].(type) {
			case string:
				lr.Attributes().PutStr(k, v)
			case float64:
				lr.Attributes().PutDouble(k, v)
			default:
				t.Fatalf("attribute %s: unsupported type %T", k, v)
			}
		}
	}
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	postOTLP(t, url, body)
}

func postOTLP(t *testing.T, url string, body []byte) {
	t.Helper()
	resp, err := httpClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, out)
	}
}

// simulator is a running pdsim.
type simulator struct {
	proc *proctest.Proc
	url  string
}

type simSnapshot struct {
	Incidents []simIncident `json:"incidents"`
	Events    []simEvent    `json:"events"`
	Dropped   int           `json:"dropped"`
}

type simIncident struct {
	RoutingKey string     `json:"routing_key"`
	DedupKey   string     `json:"dedup_key"`
	State      string     `json:"state"`
	Events     []simEvent `json:"events"`
}

type simEvent struct {
	Action   string `json:"action"`
	Applied  bool   `json:"applied"`
	Note     string `json:"note"`
	DedupKey string `json:"dedup_key"`
}

var simListening = regexp.MustCompile(`pdsim listening on (http://\S+)`)

func startSim(t *testing.T) *simulator {
	t.Helper()
	p := startProc(t, "pdsim", pdsimBin(t), nil, "-addr", "127.0.0.1:0", "-seed", "1")
	s := &simulator{proc: p}
	deadline := time.Now().Add(startTimeout)
	for {
		if m := simListening.FindStringSubmatch(p.Output()); m != nil {
			s.url = m[1]
			return s
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("pdsim did not start:\n%s", p.Output())
		}
		time.Sleep(pollInterval)
	}
}

func (s *simulator) snapshot(t *testing.T) simSnapshot {
	t.Helper()
	resp, err := httpClient.Get(s.url + "/incidents")
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	defer resp.Body.Close()
	var snap simSnapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		t.Fatalf("simulator /incidents: %v", err)
	}
	return snap
}

func (s *simulator) waitFor(t *testing.T, what string, cond func(simSnapshot) bool) simSnapshot {
	t.Helper()
	var snap simSnapshot
	waitFor(t, what, func() bool {
		snap = s.snapshot(t)
		return cond(snap)
	})
	return snap
}

func (s *simulator) control(t *testing.T, update map[string]any) {
	t.Helper()
	body, _ := json.Marshal(update)
	resp, err := httpClient.Post(s.url+"/control", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /control: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /control %s: %s: %s", body, resp.Status, out)
	}
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
