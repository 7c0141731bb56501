package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// The documentation's YAML snippets are tested here: every ```yaml block of
// README.md, exporter/pagerdutyexporter/README.md and docs/*.md must pass
// `otelcol-pagerduty validate`, and the recipes of docs/recipes.md must open
// the incidents they promise.
//
// An HTML comment on the line (or lines) right above a fence annotates the
// snippet:
//
//	<!-- snippet: skip-validate REASON -->  only parsed as YAML, not validated:
//	                                        for snippets that need components
//	                                        the distribution does not include
//	<!-- snippet: id=NAME -->               names the snippet for TestRecipesWork
//
// A snippet is validated according to what it is:
//
//   - a complete collector config (it has service::pipelines): as it is;
//   - an ocb manifest fragment (list entries with gomod:): parsed, and each
//     entry must name a module and a version;
//   - a fragment of a collector config (receivers, processors, exporters,
//     extensions, service without pipelines): with a second config file that
//     adds what it lacks (an otlp receiver, a debug exporter) and a logs
//     pipeline using every component it defines. The collector merges the
//     --config files, so the snippet itself is validated as written.
//
// Variables the snippets read (${env:NAME}) are set to fake values: a
// 32-character integration key, or a URL for names containing ENDPOINT/URL.

// docSnippet is one ```yaml block of a Markdown file.
type docSnippet struct {
	file string // relative to the repository root
	line int    // line of the opening fence, from 1
	text string
	skip string // reason given by a skip-validate marker
	id   string // name given by an id= marker
}

func (s docSnippet) where() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

var (
	yamlFence   = regexp.MustCompile("^(\\s*)```\\s*ya?ml\\s*$")
	anyFence    = regexp.MustCompile("^\\s*```")
	fenceEnd    = regexp.MustCompile("^\\s*```\\s*$")
	snippetNote = regexp.MustCompile(`^<!--\s*snippet:\s*(.*?)\s*-->$`)
	envRef      = regexp.MustCompile(`\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}`)
)

// docFiles lists the Markdown files whose snippets are checked, relative to
// the repository root.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "exporter/pagerdutyexporter/README.md"}
	more, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	require.NoError(t, err)
	sort.Strings(more)
	for _, f := range more {
		rel, err := filepath.Rel("..", f)
		require.NoError(t, err)
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// readSnippets returns the ```yaml blocks of the Markdown file rel, with
// the markers right above each.
func readSnippets(t *testing.T, rel string) []docSnippet {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(rel)))
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	var (
		out   []docSnippet
		notes []string // markers since the last line of text
	)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if m := snippetNote.FindStringSubmatch(trimmed); m != nil {
			notes = append(notes, m[1])
			continue
		}
		if trimmed == "" {
			continue
		}
		m := yamlFence.FindStringSubmatch(line)
		if m == nil {
			if anyFence.MatchString(line) { // another language: skip its block
				i++
				for i < len(lines) && !fenceEnd.MatchString(lines[i]) {
					i++
				}
			}
			notes = nil
			continue
		}
		sn := docSnippet{file: rel, line: i + 1}
		for _, note := range notes {
			switch {
			case strings.HasPrefix(note, "skip-validate"):
				sn.skip = strings.TrimSpace(strings.TrimPrefix(note, "skip-validate"))
				if sn.skip == "" {
					t.Errorf("%s: a skip-validate marker must say why", sn.where())
				}
			case strings.HasPrefix(note, "id="):
				sn.id = strings.TrimPrefix(note, "id=")
			default:
				t.Errorf("%s: unknown snippet marker %q (skip-validate REASON or id=NAME)", sn.where(), note)
			}
		}
		notes = nil
		indent := m[1]
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			if fenceEnd.MatchString(lines[i]) {
				closed = true
				break
			}
			body = append(body, strings.TrimPrefix(lines[i], indent))
		}
		if !closed {
			t.Errorf("%s: the ```yaml fence is never closed", sn.where())
		}
		sn.text = strings.Join(body, "\n") + "\n"
		out = append(out, sn)
	}
	return out
}

// snippetKind is what a snippet holds.
type snippetKind int

const (
	kindConfig   snippetKind = iota // a complete collector config
	kindFragment                    // sections of a collector config
	kindManifest                    // part of an ocb manifest (builder-config.yaml)
)

// configSections are the top-level keys of a collector config.
var configSections = map[string]bool{
	"receivers": true, "processors": true, "exporters": true,
	"extensions": true, "connectors": true, "service": true,
}

// parseSnippet decodes a snippet and says what it is.
func parseSnippet(sn docSnippet) (map[string]any, snippetKind, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(sn.text), &doc); err != nil {
		return nil, 0, fmt.Errorf("not valid YAML: %w", err)
	}
	if len(doc) == 0 {
		return nil, 0, errors.New("empty snippet")
	}
	if isManifest(doc) {
		return doc, kindManifest, nil
	}
	for key := range doc {
		if !configSections[key] {
			return nil, 0, fmt.Errorf("top-level key %q: neither a collector config nor an ocb manifest; "+
				"mark it <!-- snippet: skip-validate REASON --> if it is meant to be something else", key)
		}
	}
	if svc, ok := doc["service"].(map[string]any); ok && svc["pipelines"] != nil {
		return doc, kindConfig, nil
	}
	return doc, kindFragment, nil
}

// isManifest reports whether doc is (part of) an ocb manifest: it has a
// dist or replaces section, or list entries with a gomod key.
func isManifest(doc map[string]any) bool {
	if doc["dist"] != nil || doc["replaces"] != nil {
		return true
	}
	for _, v := range doc {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		for _, item := range list {
			if m, ok := item.(map[string]any); ok && m["gomod"] != nil {
				return true
			}
		}
	}
	return false
}

// checkManifest checks that every component entry names a module and its
// version, as ocb requires.
func checkManifest(doc map[string]any) []string {
	var problems []string
	for _, section := range []string{"receivers", "processors", "exporters", "extensions", "connectors", "providers", "converters"} {
		list, ok := doc[section].([]any)
		if doc[section] != nil && !ok {
			problems = append(problems, section+": must be a list of {gomod: ...} entries")
			continue
		}
		for i, item := range list {
			m, _ := item.(map[string]any)
			gomod, _ := m["gomod"].(string)
			fields := strings.Fields(gomod)
			if len(fields) != 2 || !strings.HasPrefix(fields[1], "v") {
				problems = append(problems, fmt.Sprintf("%s[%d].gomod: %q is not \"<module> <version>\"", section, i, gomod))
			}
		}
	}
	return problems
}

// sectionNames returns the sorted component ids defined in a section.
func sectionNames(doc map[string]any, section string) []string {
	m, _ := doc[section].(map[string]any)
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// glueFor returns the config that completes a fragment: what it lacks of a
// receiver and an exporter, and a logs pipeline through every component it
// defines.
func glueFor(doc map[string]any) map[string]any {
	glue := map[string]any{}
	receivers := sectionNames(doc, "receivers")
	if len(receivers) == 0 {
		glue["receivers"] = map[string]any{"otlp": map[string]any{"protocols": map[string]any{"http": map[string]any{}}}}
		receivers = []string{"otlp"}
	}
	exporters := sectionNames(doc, "exporters")
	if len(exporters) == 0 {
		glue["exporters"] = map[string]any{"debug": map[string]any{}}
		exporters = []string{"debug"}
	}
	pipeline := map[string]any{"receivers": receivers, "exporters": exporters}
	if processors := sectionNames(doc, "processors"); len(processors) > 0 {
		pipeline["processors"] = processors
	}
	service := map[string]any{"pipelines": map[string]any{"logs/docs": pipeline}}
	snippetService, _ := doc["service"].(map[string]any)
	if extensions := sectionNames(doc, "extensions"); len(extensions) > 0 && snippetService["extensions"] == nil {
		service["extensions"] = extensions
	}
	glue["service"] = service
	return glue
}

// snippetEnv returns NAME=value for every variable the snippet reads.
func snippetEnv(text string) []string {
	seen := map[string]bool{}
	var env []string
	for _, idx := range envRef.FindAllStringSubmatchIndex(text, -1) {
		if idx[0] > 0 && text[idx[0]-1] == '$' { // $${...} is an escaped literal
			continue
		}
		name := text[idx[2]:idx[3]]
		if seen[name] {
			continue
		}
		seen[name] = true
		env = append(env, name+"="+fakeEnvValue(name))
	}
	return env
}

func fakeEnvValue(name string) string {
	upper := strings.ToUpper(name)
	switch {
	case strings.Contains(upper, "ENDPOINT"), strings.Contains(upper, "URL"):
		return "https://events.pagerduty.com"
	case strings.Contains(upper, "PORT"):
		return "4318"
	case strings.HasSuffix(upper, "_IP"):
		return "127.0.0.1"
	default:
		// The shape of an integration key, one per variable: validate
		// refuses one key under two route names.
		sum := sha256.Sum256([]byte(name))
		return hex.EncodeToString(sum[:16])
	}
}

// TestDocSnippetsValidate validates every ```yaml block of the docFiles
// with the collector's own `validate` command.
func TestDocSnippetsValidate(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	bin := e2etest.CollectorBin(t)

	total := 0
	for _, file := range docFiles(t) {
		for _, sn := range readSnippets(t, file) {
			total++
			t.Run(sn.where(), func(t *testing.T) {
				t.Parallel()
				doc, kind, err := parseSnippet(sn)
				if err != nil {
					t.Fatalf("%s: %v\n--- snippet:\n%s", sn.where(), err, sn.text)
				}
				if sn.skip != "" {
					t.Skipf("%s: parsed only, not validated: %s", sn.where(), sn.skip)
				}
				switch kind {
				case kindManifest:
					if problems := checkManifest(doc); len(problems) > 0 {
						t.Fatalf("%s: ocb manifest fragment:\n%s\n--- snippet:\n%s", sn.where(), strings.Join(problems, "\n"), sn.text)
					}
					return
				case kindConfig:
					validateConfigs(t, bin, sn, snippetEnv(sn.text), writeTemp(t, "snippet.yaml", sn.text))
				case kindFragment:
					glue, err := yaml.Marshal(glueFor(doc))
					require.NoError(t, err)
					validateConfigs(t, bin, sn, snippetEnv(sn.text),
						writeTemp(t, "snippet.yaml", sn.text), writeTemp(t, "glue.yaml", string(glue)))
				}
			})
		}
	}
	require.NotZero(t, total, "no ```yaml snippets found")
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// validateConfigs runs `otelcol-pagerduty validate` on the merged configs and
// fails the test, naming the snippet, unless it exits 0.
func validateConfigs(t *testing.T, bin string, sn docSnippet, env []string, configs ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"validate"}
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	if dir := fileStorageDirectory(t, sn); dir != "" {
		// file_storage's validation requires its directory, which the
		// production config expects on a volume: a scratch directory stands
		// in, as the README tells its readers to do.
		if _, err := os.Stat(dir); err != nil {
			args = append(args, "--set=extensions::file_storage::directory="+t.TempDir())
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(e2etest.BaseEnv(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var extra strings.Builder
		for _, c := range configs[1:] {
			data, _ := os.ReadFile(c)
			fmt.Fprintf(&extra, "--- merged with %s:\n%s", filepath.Base(c), data)
		}
		t.Fatalf("%s: otelcol-pagerduty validate failed (%v):\n%s\n--- snippet:\n%s%s",
			sn.where(), err, strings.TrimSpace(string(out)), sn.text, extra.String())
	}
}

// fileStorageDirectory returns the directory of the snippet's file_storage
// extension, "" when it has none.
func fileStorageDirectory(t *testing.T, sn docSnippet) string {
	t.Helper()
	var doc struct {
		Extensions map[string]struct {
			Directory       string `yaml:"directory"`
			CreateDirectory bool   `yaml:"create_directory"`
		} `yaml:"extensions"`
	}
	if err := yaml.Unmarshal([]byte(sn.text), &doc); err != nil {
		return ""
	}
	fs, ok := doc.Extensions["file_storage"]
	if !ok || fs.CreateDirectory {
		return ""
	}
	return fs.Directory
}

// recipeSnippets returns the snippets of docs/recipes.md by id.
func recipeSnippets(t *testing.T) map[string]docSnippet {
	t.Helper()
	out := map[string]docSnippet{}
	for _, sn := range readSnippets(t, "docs/recipes.md") {
		if sn.id != "" {
			require.NotContains(t, out, sn.id, "%s: id %q used twice", sn.where(), sn.id)
			out[sn.id] = sn
		}
	}
	return out
}

// startRecipe starts a simulator and a collector running the recipe, with a
// second config file that points the recipe's otlp receiver and pagerduty
// exporter at loopback ports and the simulator.
func startRecipe(t *testing.T, sn docSnippet) (*e2etest.Simulator, *e2etest.Collector) {
	t.Helper()
	doc, kind, err := parseSnippet(sn)
	require.NoError(t, err, sn.where())
	require.Equal(t, kindConfig, kind, "%s: a recipe must be a complete config", sn.where())
	// Any other receiver or exporter would escape the overlay below, and
	// could even send to the real PagerDuty.
	require.Equal(t, []string{"otlp"}, sectionNames(doc, "receivers"), "%s: receivers", sn.where())
	require.Equal(t, []string{"pagerduty"}, sectionNames(doc, "exporters"), "%s: exporters", sn.where())
	require.Empty(t, sectionNames(doc, "extensions"), "%s: extensions", sn.where())
	otlp, _ := doc["receivers"].(map[string]any)["otlp"].(map[string]any)
	protocols, _ := otlp["protocols"].(map[string]any)
	require.Equal(t, []string{"http"}, sectionNames(map[string]any{"p": protocols}, "p"), "%s: otlp protocols", sn.where())

	sim := e2etest.StartSim(t)
	recipe := writeTemp(t, "recipe.yaml", sn.text)
	overlay := func(p e2etest.Ports) string {
		return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  pagerduty:
    endpoint: %s
    routing_key: %s
    rate_limit:
      events_per_minute: 0
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 500ms
      max_elapsed_time: 30s
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
service:
  extensions: [health_check]
%s`, p.OTLP, sim.URL, keyDefault, p.Health, telemetryYAML(p.Metrics))
	}
	env := snippetEnv(sn.text)
	col := startCollector(t, collectorSpec{configFile: recipe, config: overlay, env: func(e2etest.Ports) []string { return env }})
	t.Cleanup(func() {
		// The recipes must run without OTTL errors on the sample records.
		out := col.Proc.Output()
		for _, bad := range []string{"failed to execute statement", "failed to eval condition"} {
			assert.NotContains(t, out, bad, "%s: the transform logged an OTTL error", sn.where())
		}
	})
	return sim, col
}

// docRecord builds a one-record request: resource attributes, record
// attributes, severity text and a body (a string or a map), without
// timestamps unless observed is set, as raw log shippers send them.
type docRecord struct {
	resource map[string]any
	attrs    map[string]any
	severity string
	body     any
	observed bool
}

func (r docRecord) logs(t *testing.T) plog.Logs {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	require.NoError(t, rl.Resource().Attributes().FromRaw(r.resource))
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	require.NoError(t, lr.Attributes().FromRaw(r.attrs))
	lr.SetSeverityText(r.severity)
	require.NoError(t, lr.Body().FromRaw(r.body))
	if r.observed {
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	}
	return ld
}

// payloadField reads one field of an incident's payload.
func payloadField(t *testing.T, inc e2etest.Incident, name string) any {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal(inc.Payload, &p), "payload %s", inc.Payload)
	return p[name]
}

// oneIncident waits for exactly one incident of dedupKey with n events.
func oneIncident(t *testing.T, sim *e2etest.Simulator, dedupKey string, n int) e2etest.Incident {
	t.Helper()
	s := sim.WaitFor(t, fmt.Sprintf("incident %q with %d events", dedupKey, n), func(s e2etest.Snapshot) bool {
		incs := s.IncidentsFor(dedupKey)
		return len(incs) == 1 && len(incs[0].Events) == n
	})
	return s.IncidentsFor(dedupKey)[0]
}

// waitMetric waits until the collector's metric reaches want.
func waitMetric(t *testing.T, col *e2etest.Collector, want float64, name string, labels ...string) {
	t.Helper()
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool { return col.Metric(t, name, labels...) == want },
		"%s%v to reach %v", name, labels, want)
}

// The Kubernetes recipes give the same incident for the same Event.
const (
	k8sBackOffKey     = "k8s/shop/Pod/checkout-7d9f/BackOff"
	k8sBackOffSummary = "shop/Pod/checkout-7d9f: Back-off restarting failed container app in pod checkout-7d9f"
	k8sBackOffMessage = "Back-off restarting failed container app in pod checkout-7d9f"
)

// TestRecipesWork runs the recipes of docs/recipes.md against the simulator.
func TestRecipesWork(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	recipes := recipeSnippets(t)

	cases := []struct {
		id  string
		run func(t *testing.T, sim *e2etest.Simulator, col *e2etest.Collector)
	}{
		{"filelog-errors", testRecipeFilelogErrors},
		{"k8sobjects-warnings", testRecipeK8sObjects},
		{"k8sevents-warnings", testRecipeK8sEvents},
		{"alertmanager-alert", testRecipeAlertmanagerAlert},
		{"alertmanager-group", testRecipeAlertmanagerGroup},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			sn, ok := recipes[tc.id]
			require.True(t, ok, "docs/recipes.md has no snippet marked <!-- snippet: id=%s -->", tc.id)
			sim, col := startRecipe(t, sn)
			tc.run(t, sim, col)
		})
	}
}

func testRecipeFilelogErrors(t *testing.T, sim *e2etest.Simulator, col *e2etest.Collector) {
	line := func(text string) plog.Logs {
		return docRecord{resource: map[string]any{"host.name": "web-07"}, body: text}.logs(t)
	}
	const key = "payment-gateway: connection pool exhausted (active=N)"

	col.Send(t, line("2026-11-28T12:00:00Z ERROR payment-gateway: connection pool exhausted (active=50)"))
	inc := oneIncident(t, sim, key, 1)
	assert.Equal(t, "payment-gateway: connection pool exhausted (active=50)", inc.Summary)
	assert.Equal(t, "error", inc.Severity)
	assert.Equal(t, "web-07", inc.Source)
	assert.Equal(t, "payment-gateway", payloadField(t, inc, "component"))
	assert.Equal(t, "2026-11-28T12:00:00.000Z", payloadField(t, inc, "timestamp"), "time taken from the line")

	// The same line again: same dedup key, suppressed as a duplicate.
	col.Send(t, line("2026-11-28T12:00:00Z ERROR payment-gateway: connection pool exhausted (active=50)"))
	waitMetric(t, col, 1, metricSuppressed, "event_action=trigger", "reason=duplicate")
	assert.Equal(t, 1, sim.Snapshot(t).Requests.Total, "the repeated line made a request")

	// Other numbers: the same incident, updated.
	col.Send(t, line("2026-11-28T12:00:01Z ERROR payment-gateway: connection pool exhausted (active=51)"))
	inc = oneIncident(t, sim, key, 2)
	assert.Equal(t, "payment-gateway: connection pool exhausted (active=51)", inc.Summary)

	// An INFO line is rejected by the guard, not sent.
	col.Send(t, line("2026-11-28T12:00:02Z INFO payment-gateway: request served in 12ms"))
	waitMetric(t, col, 1, metricRejected, "reason=unknown_event_type")

	// FATAL is critical.
	col.Send(t, line("2026-11-28T12:00:03Z FATAL ledger: cannot open journal 7"))
	fatal := oneIncident(t, sim, "ledger: cannot open journal N", 1)
	assert.Equal(t, "critical", fatal.Severity)
	assert.Equal(t, "ledger: cannot open journal 7", fatal.Summary)

	s := sim.Snapshot(t)
	assert.Len(t, s.Incidents, 2, "incidents:\n%s", s)
	assert.Equal(t, 3, s.Requests.Total)
}

// k8sEvent is a core/v1 Event as the k8sobjects receiver emits it.
func k8sEvent(eventType, reason, message, kind, name, namespace string) map[string]any {
	involved := map[string]any{"kind": kind, "name": name}
	if namespace != "" {
		involved["namespace"] = namespace
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata":       map[string]any{"name": name + ".17f3a", "namespace": "default"},
		"type":           eventType,
		"reason":         reason,
		"message":        message,
		"count":          3,
		"involvedObject": involved,
	}
}

func testRecipeK8sObjects(t *testing.T, sim *e2etest.Simulator, col *e2etest.Collector) {
	send := func(body map[string]any) {
		col.Send(t, docRecord{body: body, observed: true}.logs(t))
	}
	watch := func(watchType string, ev map[string]any) map[string]any {
		return map[string]any{"type": watchType, "object": ev}
	}
	backOff := k8sEvent("Warning", "BackOff", k8sBackOffMessage, "Pod", "checkout-7d9f", "shop")

	// pull mode: the body is the Event.
	send(backOff)
	inc := oneIncident(t, sim, k8sBackOffKey, 1)
	assert.Equal(t, k8sBackOffSummary, inc.Summary)
	assert.Equal(t, "warning", inc.Severity)
	assert.Equal(t, "shop/Pod/checkout-7d9f", inc.Source)
	assert.Equal(t, "Pod", payloadField(t, inc, "component"))
	assert.Equal(t, "shop", payloadField(t, inc, "group"))
	assert.Equal(t, "BackOff", payloadField(t, inc, "class"))

	// watch mode, the same Event repeated: same key, suppressed.
	send(watch("MODIFIED", backOff))
	waitMetric(t, col, 1, metricSuppressed, "event_action=trigger", "reason=duplicate")

	// Normal events and expired (DELETED) Events are rejected by the guard.
	send(watch("ADDED", k8sEvent("Normal", "Pulled", "Successfully pulled image", "Pod", "checkout-7d9f", "shop")))
	send(watch("DELETED", backOff))
	waitMetric(t, col, 2, metricRejected, "reason=unknown_event_type")

	// A cluster-scoped object.
	send(watch("ADDED", k8sEvent("Warning", "NodeNotReady", "Node worker-3 status is now: NodeNotReady", "Node", "worker-3", "")))
	node := oneIncident(t, sim, "k8s/Node/worker-3/NodeNotReady", 1)
	assert.Equal(t, "Node/worker-3", node.Source)
	assert.Equal(t, "Node/worker-3: Node worker-3 status is now: NodeNotReady", node.Summary)

	s := sim.Snapshot(t)
	assert.Len(t, s.Incidents, 2, "incidents:\n%s", s)
	assert.Equal(t, 2, s.Requests.Total)
}

func testRecipeK8sEvents(t *testing.T, sim *e2etest.Simulator, col *e2etest.Collector) {
	// As the k8sevents receiver emits an Event.
	event := func(eventType, reason, message string) plog.Logs {
		return docRecord{
			resource: map[string]any{
				"k8s.node.name": "worker-1", "k8s.object.kind": "Pod", "k8s.object.name": "checkout-7d9f",
				"k8s.object.uid": "4f1c", "k8s.object.fieldpath": "spec.containers{app}", "k8s.object.api_version": "v1",
			},
			attrs: map[string]any{
				"k8s.event.reason": reason, "k8s.event.action": "", "k8s.event.name": "checkout-7d9f.17f3a",
				"k8s.event.uid": "9e2d", "k8s.namespace.name": "shop", "k8s.event.count": 3,
			},
			severity: eventType,
			body:     message,
			observed: true,
		}.logs(t)
	}
	col.Send(t, event("Warning", "BackOff", k8sBackOffMessage))
	inc := oneIncident(t, sim, k8sBackOffKey, 1)
	assert.Equal(t, k8sBackOffSummary, inc.Summary, "the k8sobjects recipe gives the same summary")
	assert.Equal(t, "warning", inc.Severity)
	assert.Equal(t, "shop/Pod/checkout-7d9f", inc.Source)

	col.Send(t, event("Normal", "Pulled", "Successfully pulled image"))
	waitMetric(t, col, 1, metricRejected, "reason=unknown_event_type")

	s := sim.Snapshot(t)
	assert.Len(t, s.Incidents, 1, "incidents:\n%s", s)
	assert.Equal(t, 1, s.Requests.Total)
}

func testRecipeAlertmanagerAlert(t *testing.T, sim *e2etest.Simulator, col *e2etest.Collector) {
	alertJSON := func(status string) plog.Logs {
		body, err := json.Marshal(map[string]any{
			"status": status,
			"labels": map[string]any{"alertname": "HighErrorRate", "severity": "critical", "service": "checkout", "instance": "web-01:9090"},
			"annotations": map[string]any{
				"summary":     "checkout 5xx rate 7% over 5m",
				"runbook_url": "https://runbooks.example.com/checkout/errors",
			},
			"startsAt":     "2026-11-28T12:00:00Z",
			"generatorURL": "https://prometheus.example.com/graph?g0.expr=x",
			"fingerprint":  "c3a1f0e9b2d4a6c8",
		})
		require.NoError(t, err)
		return docRecord{body: string(body), observed: true}.logs(t)
	}
	const key = "c3a1f0e9b2d4a6c8"

	col.Send(t, alertJSON("firing"))
	inc := oneIncident(t, sim, key, 1)
	assert.Equal(t, "triggered", inc.State)
	assert.Equal(t, "checkout 5xx rate 7% over 5m", inc.Summary)
	assert.Equal(t, "critical", inc.Severity)
	assert.Equal(t, "web-01:9090", inc.Source)
	assert.Equal(t, []e2etest.Link{
		{Href: "https://runbooks.example.com/checkout/errors", Text: "Runbook"},
		{Href: "https://prometheus.example.com/graph?g0.expr=x", Text: "Dashboard"},
	}, inc.Links)
	details, _ := payloadField(t, inc, "custom_details").(map[string]any)
	assert.Equal(t, "HighErrorRate", details["labels.alertname"], "labels stay in custom_details")

	col.Send(t, alertJSON("resolved"))
	inc = oneIncident(t, sim, key, 2)
	assert.Equal(t, "resolved", inc.State)
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(inc.Events))

	col.Send(t, docRecord{body: "not an alert", observed: true}.logs(t))
	waitMetric(t, col, 1, metricRejected, "reason=unknown_event_type")
	assert.Equal(t, 2, sim.Snapshot(t).Requests.Total)
}

func testRecipeAlertmanagerGroup(t *testing.T, sim *e2etest.Simulator, col *e2etest.Collector) {
	const groupKey = `{}:{alertname="HighErrorRate"}`
	webhook := func(status string) plog.Logs {
		alert := func(instance string) map[string]any {
			return map[string]any{
				"status":      status,
				"labels":      map[string]any{"alertname": "HighErrorRate", "severity": "critical", "instance": instance},
				"annotations": map[string]any{"description": "5xx rate high on " + instance},
				"fingerprint": "fp-" + instance,
			}
		}
		body, err := json.Marshal(map[string]any{
			"version": "4", "groupKey": groupKey, "truncatedAlerts": 0, "status": status, "receiver": "otel",
			"groupLabels":       map[string]any{"alertname": "HighErrorRate"},
			"commonLabels":      map[string]any{"alertname": "HighErrorRate", "severity": "critical"},
			"commonAnnotations": map[string]any{},
			"externalURL":       "https://alertmanager.example.com",
			"alerts":            []any{alert("web-01:9090"), alert("web-02:9090")},
		})
		require.NoError(t, err)
		return docRecord{body: string(body), observed: true}.logs(t)
	}

	col.Send(t, webhook("firing"))
	inc := oneIncident(t, sim, groupKey, 1)
	assert.Equal(t, "HighErrorRate (2 alerts)", inc.Summary, "summary built when commonAnnotations has none")
	assert.Equal(t, "critical", inc.Severity)
	assert.Equal(t, []e2etest.Link{{Href: "https://alertmanager.example.com", Text: "Dashboard"}}, inc.Links)

	col.Send(t, webhook("resolved"))
	inc = oneIncident(t, sim, groupKey, 2)
	assert.Equal(t, "resolved", inc.State)
}
