package pagerdutyexporter

import (
	"encoding"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// The tests here keep the Markdown pages of the repository true to the
// code: the README's configuration table, the validation messages the
// pages quote, the repairs table, the production config, the links between
// pages, and no test names or commit hashes in the pages users read.

// repoRoot is the repository root, relative to this package.
var repoRoot = filepath.Join("..", "..")

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	require.NoError(t, err)
	return string(data)
}

// markdownFiles lists every Markdown file of the repository that people
// read, relative to its root.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".tools", "_build", "_demo", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

// mdLine is one line of a Markdown file, with the fenced code block it
// sits in; the fences themselves are left out.
type mdLine struct {
	n     int // line number, from 1
	text  string
	block string // "" outside a code block, else its opening fence ("```yaml")
}

func markdownLines(doc string) []mdLine {
	var out []mdLine
	block := ""
	for i, text := range strings.Split(doc, "\n") {
		if fence := strings.TrimSpace(text); strings.HasPrefix(fence, "```") {
			if block == "" {
				block = fence
			} else {
				block = ""
			}
			continue
		}
		out = append(out, mdLine{n: i + 1, text: text, block: block})
	}
	return out
}

// section returns the lines outside code blocks of the Markdown section
// under heading (a whole heading line, such as "## Configuration"), up to
// the next heading of the same or a higher level.
func section(t *testing.T, doc, heading string) []string {
	t.Helper()
	level := strings.Index(heading, " ")
	var out []string
	in := false
	for _, line := range markdownLines(doc) {
		if line.block != "" {
			continue
		}
		if strings.HasPrefix(line.text, "#") {
			l := strings.Index(line.text, " ")
			if in && l > 0 && l <= level {
				break
			}
			if line.text == heading {
				in = true
				continue
			}
		}
		if in {
			out = append(out, line.text)
		}
	}
	require.NotEmpty(t, out, "no section %q", heading)
	return out
}

// tableRows returns the cells of each body row of the Markdown tables in
// lines: a table's header is the row above its |---| line.
func tableRows(lines []string) [][]string {
	var rows [][]string
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "|---"):
			rows = rows[:len(rows)-1]
		case strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		}
	}
	return rows
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// configKeys returns every key the exporter's configuration has, at every
// depth, as the README writes them: "rate_limit.burst".
func configKeys() map[string]bool {
	keys := map[string]bool{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if inner, ok := optionalOf(t); ok {
			keys[prefix+"enabled"] = true
			walk(inner, prefix)
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			switch {
			case name == "-":
			case strings.Contains(opts, "squash"):
				walk(f.Type, prefix)
			case name != "":
				keys[prefix+name] = true
				walk(f.Type, prefix+name+".")
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return keys
}

// optionalOf reports the T of a configoptional.Optional[T].
func optionalOf(t reflect.Type) (reflect.Type, bool) {
	if !strings.HasPrefix(t.Name(), "Optional[") {
		return nil, false
	}
	f, ok := t.FieldByName("value")
	if !ok {
		return nil, false
	}
	return f.Type, true
}

// defaultAt returns the value of key in cfg, following mapstructure's tags:
// an invalid Value when an unset optional holds it; ok is false when cfg
// has no such key.
func defaultAt(cfg *Config, key string) (reflect.Value, bool) {
	v := reflect.ValueOf(cfg).Elem()
	for part := range strings.SplitSeq(key, ".") {
		_, optional := optionalOf(v.Type())
		inner, set := unwrapOptional(v)
		if part == "enabled" && optional {
			return reflect.ValueOf(set), true
		}
		if !set {
			return reflect.Value{}, true
		}
		next, ok := fieldByKey(inner, part)
		if !ok {
			return reflect.Value{}, false
		}
		v = next
	}
	inner, set := unwrapOptional(v)
	if !set {
		return reflect.Value{}, true
	}
	return inner, true
}

// unwrapOptional returns the T of a configoptional.Optional[T] value, and
// whether it is set; any other value as it is.
func unwrapOptional(v reflect.Value) (reflect.Value, bool) {
	if _, ok := optionalOf(v.Type()); !ok {
		return v, true
	}
	if !v.Addr().MethodByName("HasValue").Call(nil)[0].Bool() {
		return reflect.Value{}, false
	}
	return v.Addr().MethodByName("Get").Call(nil)[0].Elem(), true
}

func fieldByKey(v reflect.Value, name string) (reflect.Value, bool) {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		switch {
		case strings.Contains(opts, "squash"):
			if found, ok := fieldByKey(v.Field(i), name); ok {
				return found, true
			}
		case tag == name:
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// renderDefault writes a default as the README does: "24h", "120",
// "requests"; zero reports a zero, empty or unset value.
func renderDefault(v reflect.Value) (text string, zero bool) {
	if v.IsValid() && v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() || v.IsZero() || (v.Kind() == reflect.Map && v.Len() == 0) {
		return "", true
	}
	if d, ok := v.Interface().(time.Duration); ok {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s, false
	}
	marshaler := v
	if v.CanAddr() {
		marshaler = v.Addr() // MarshalText may have a pointer receiver
	}
	if m, ok := marshaler.Interface().(encoding.TextMarshaler); ok {
		if b, err := m.MarshalText(); err == nil {
			return string(b), false
		}
	}
	return fmt.Sprint(v.Interface()), false
}

// TestREADMEConfigurationTable keeps the README's configuration table true:
// every key of the exporter's configuration (as the collector marshals its
// default, plus sending_queue.enabled) has a row, with the default that
// createDefaultConfig sets, and every key the table names exists.
func TestREADMEConfigurationTable(t *testing.T) {
	rows := tableRows(section(t, readDoc(t, "README.md"), "## Configuration"))
	require.NotEmpty(t, rows, "the README's Configuration section has no table")

	cfg := createDefaultConfig().(*Config)
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	want := []string{"sending_queue.enabled"}
	for _, k := range conf.AllKeys() {
		want = append(want, strings.ReplaceAll(k, confmap.KeyDelimiter, "."))
	}
	sort.Strings(want)

	rowOf := map[string][]string{}
	known := configKeys()
	for _, row := range rows {
		require.GreaterOrEqual(t, len(row), 3, "row %q", row)
		for _, m := range codeSpan.FindAllStringSubmatch(row[0], -1) {
			key := m[1]
			assert.True(t, known[key], "the README's configuration table names %q, which is no key of the exporter's configuration", key)
			assert.NotContains(t, rowOf, key, "the README's configuration table names %q twice", key)
			rowOf[key] = row
		}
	}

	for _, key := range want {
		row, ok := rowOf[key]
		if !assert.True(t, ok, "the README's configuration table has no row for %q", key) {
			continue
		}
		v, found := defaultAt(cfg, key)
		require.True(t, found, "%q: marshaled from the default config, but not found in it", key)
		text, zero := renderDefault(v)
		keysInRow := len(codeSpan.FindAllString(row[0], -1))
		switch {
		case zero && keysInRow == 1:
			assert.Regexp(t, "^(none|`0`|`false`)", row[1], "%q: the default is unset or zero, which the table should say (none, `0` or `false`)", key)
		case zero: // a row of several keys names only the defaults that are set
		case keysInRow == 1:
			assert.Contains(t, row[1], "`"+text+"`", "%q: the default is %s", key, text)
		default:
			last := key[strings.LastIndex(key, ".")+1:]
			assert.Contains(t, row[1], "`"+last+": "+text+"`", "%q: the default is %s", key, text)
		}
	}
}

// invalidConfigs are configurations `validate` refuses, one or more of its
// messages each: every validation message the docs quote must be one of
// theirs.
var invalidConfigs = []string{
	`routing_key: ""`,
	`{routing_key: "  ", routing: {attribute: service.name, keys: {checkout: b0000000000000000000000000000000}}}`,
	`{routing: {attribute: service.name, keys: {checkout: ""}}}`,
	`routing_key: abc`,
	`routing_key: "a0000000000000000000000000000000a"`,
	`routing_key: "a000000000000000 000000000000000"`,
	`routing_key: "a000000000000000` + "\\n" + `00000000000000"`,
	`routing_key: "a00000000000000000000000000000` + "\\u0001" + `0"`,
	`routing_key: "é0000000000000000000000000000000"`,
	`routing_key: "-0000000000000000000000000000000"`,
	`{routing: {attribute: service.name, keys: {checkout: "-b00000000000000000000000000000b"}}}`,
	`{routing: {attribute: service.name, keys: {checkout: abc}}}`,
	`{routing: {attribute: service.name, keys: {checkout: "b000000000000000 000000000000000"}}}`,
	`{routing: {attribute: service.name, keys: {checkout: b0000000000000000000000000000000, payments: b0000000000000000000000000000000}}}`,
	`{routing: {attribute: service.name, keys: {checkout: a0000000000000000000000000000000}}}`,
	`{routing: {attribute: service.name, keys: {default: b0000000000000000000000000000000}}}`,
	`{routing: {attribute: service.name, keys: {unknown: b0000000000000000000000000000000}}}`,
	`{routing: {attribute: service.name, keys: {"": b0000000000000000000000000000000}}}`,
	`{routing: {keys: {checkout: b0000000000000000000000000000000}}}`,
	`{rate_limit: {events_per_minute: -1}}`,
	`{rate_limit: {events_per_minute: 5000000}}`,
	`{rate_limit: {events_per_minute: 1e+20}}`,
	`{rate_limit: {events_per_minute: 5}}`,
	`{rate_limit: {burst: 1.5}}`,
	`{dedup: {ttl: -1s, max_entries: -1, repeat_interval: -1s}}`,
	`{dedup: {max_entries: 1e+20}}`,
	`{dedup: {max_entries: 1.5}}`,
	`{auto_resolve: {after: -1s}}`,
	`{auto_resolve: {after: 500ms}}`,
	`{auto_resolve: {after: 48h}}`,
	`{storm: {digest_after: -1s}}`,
	`{storm: {digest_after: 30s}, rate_limit: {events_per_minute: 0}}`,
	`timeout: 0s`,
	`{sending_queue: {num_consumers: 1000}}`,
	`default_severity: high`,
	`endpoint: ""`,
	`endpoint: events.pagerduty.com`,
	`endpoint: http://events.pagerduty.com`,
	`endpoint: "https://events.pagerduty.com?token=x"`,
	`endpoint: "https://events.pagerduty.com#x"`,
	`endpoint: "https://user:password@events.pagerduty.com"`,
	`endpoint: https://events.pagerduty.com/v2/enqueue`,
	`endpoint: https://events.pagerduty.com/v2/change/enqueue`,
	`client_url: ftp://example.com`,
	`client_url: /relative`,
	`{links: {trace_url: "https://jaeger.example.com/trace"}}`,
	`{links: {trace_url: "https://jaeger.example.com/trace/{traceId}"}}`,
	`{links: {trace_url: "{trace_id}"}}`,
	`{links: {trace_url: "ftp://example.com/{trace_id}"}}`,
}

// validationMessages returns, one per line, what decoding and validating
// each of invalidConfigs says.
func validationMessages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, text := range invalidConfigs {
		var raw map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(text), &raw), text)
		if _, ok := raw["routing_key"]; !ok {
			raw["routing_key"] = "a0000000000000000000000000000000"
		}
		cfg := createDefaultConfig().(*Config)
		err := confmap.NewFromStringMap(raw).Unmarshal(cfg)
		if err == nil {
			err = confmap.Validate(cfg)
		}
		require.Error(t, err, "validate accepts %s", text)
		for line := range strings.SplitSeq(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

var (
	quoteDuration = regexp.MustCompile(`(\d+(\.\d+)?(ns|us|µs|ms|h|m|s))+\b`)
	quoteNumber   = regexp.MustCompile(`\d+(\.\d+)?([eE][+-]?\d+)?`)
	quoteString   = regexp.MustCompile(`"[^"]*"`)
	quoteRouteKey = regexp.MustCompile(`routing\.keys::[A-Za-z0-9_-]+`)
)

// normalizeMessage hides what varies between two instances of one message:
// numbers, durations, quoted values and route names.
func normalizeMessage(s string) string {
	s = quoteRouteKey.ReplaceAllString(s, "routing.keys::R")
	s = quoteString.ReplaceAllString(s, `"S"`)
	s = quoteDuration.ReplaceAllString(s, "N")
	return quoteNumber.ReplaceAllString(s, "N")
}

// docQuote is a validation message quoted in a Markdown file.
type docQuote struct {
	where, text string
}

// validationQuotes returns the validation messages the Markdown files quote:
// code spans and lines of code blocks that start with a key of the
// exporter's configuration and go on for a sentence (at least three words,
// so that a setting such as `endpoint: https://…` is no message).
func validationQuotes(t *testing.T) []docQuote {
	t.Helper()
	var fields []string
	for key := range configKeys() {
		fields = append(fields, regexp.QuoteMeta(key))
	}
	fields = append(fields, `routing\.keys::[A-Za-z0-9_-]+`, `sending_queue::num_consumers`, `'(?:rate_limit|dedup)' [a-z_]+`)
	sort.Slice(fields, func(i, j int) bool { return len(fields[i]) > len(fields[j]) })
	message := regexp.MustCompile(`^(?:Error: exporters::pagerduty: )?((?:` + strings.Join(fields, "|") + `): (.*))$`)

	var quotes []docQuote
	for _, file := range markdownFiles(t) {
		for _, line := range markdownLines(readDoc(t, file)) {
			if strings.HasPrefix(line.block, "```y") { // configuration, validated by e2e's TestDocSnippetsValidate
				continue
			}
			candidates := []string{strings.TrimSpace(line.text)}
			if line.block == "" {
				candidates = nil
				for _, m := range codeSpan.FindAllStringSubmatch(line.text, -1) {
					candidates = append(candidates, m[1])
				}
			}
			for _, c := range candidates {
				m := message.FindStringSubmatch(c)
				if len(m) < 3 || len(strings.Fields(m[2])) < 3 || strings.ContainsAny(m[2][:1], "{[$") {
					continue
				}
				quotes = append(quotes, docQuote{where: fmt.Sprintf("%s:%d", file, line.n), text: m[1]})
			}
		}
	}
	return quotes
}

// TestDocsQuoteOnlyMessagesTheCodePrints fails when a page quotes a
// validation message the exporter no longer prints: each quote, with its
// numbers, durations, quoted values and route names left open and "…"
// standing for anything, must be found in what validate says about one of
// invalidConfigs.
func TestDocsQuoteOnlyMessagesTheCodePrints(t *testing.T) {
	printed := validationMessages(t)
	for i := range printed {
		printed[i] = normalizeMessage(printed[i])
	}
	quotes := validationQuotes(t)
	require.NotEmpty(t, quotes, "the docs quote no validation message")
	for _, q := range quotes {
		var pattern strings.Builder
		for j, part := range strings.Split(normalizeMessage(q.text), "…") {
			if j > 0 {
				pattern.WriteString(".*")
			}
			pattern.WriteString(regexp.QuoteMeta(part))
		}
		re := regexp.MustCompile(pattern.String())
		found := slices.ContainsFunc(printed, re.MatchString)
		assert.True(t, found, "%s quotes a validation message the exporter does not print:\n  %s", q.where, q.text)
	}
}

// TestRepairsTableNamesEveryRepair keeps the record contract's repairs
// table equal to the repairs the mapping counts.
func TestRepairsTableNamesEveryRepair(t *testing.T) {
	var documented []string
	for _, row := range tableRows(section(t, readDoc(t, "docs/record-contract.md"), "## Repairs")) {
		if m := codeSpan.FindStringSubmatch(row[0]); m != nil {
			documented = append(documented, m[1])
		}
	}
	var counted []string
	for r := range recordmap.Repairs(math.MaxUint32).All() {
		counted = append(counted, r.String())
	}
	sort.Strings(documented)
	sort.Strings(counted)
	assert.Equal(t, counted, documented, "docs/record-contract.md, Repairs: the table and the repairs the mapping counts differ")
}

// TestProductionConfigIsTheKubernetesOne keeps the README's production
// config the one the Kubernetes example runs.
func TestProductionConfigIsTheKubernetesOne(t *testing.T) {
	var configMap struct {
		Data map[string]string `yaml:"data"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(readDoc(t, "examples/kubernetes/configmap.yaml")), &configMap))
	k8s, ok := configMap.Data["config.yaml"]
	require.True(t, ok, "examples/kubernetes/configmap.yaml has no config.yaml")

	readme := readDoc(t, "README.md")
	_, after, ok := strings.Cut(readme, "<!-- snippet: id=production -->\n```yaml\n")
	require.True(t, ok, "the README has no yaml block marked <!-- snippet: id=production -->")
	snippet, _, ok := strings.Cut(after, "```\n")
	require.True(t, ok, "the README's production config is not closed")
	assert.Equal(t, k8s, snippet, "the README's production config and examples/kubernetes/configmap.yaml's config.yaml differ")
}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading  = regexp.MustCompile(`^#{1,6} (.+)$`)
	slugDrop   = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	inlineCode = regexp.MustCompile("`[^`]*`")
)

// anchors returns the anchors GitHub makes of a Markdown file's headings.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range markdownLines(doc) {
		m := mdHeading.FindStringSubmatch(line.text)
		if line.block != "" || m == nil {
			continue
		}
		slug := strings.ReplaceAll(slugDrop.ReplaceAllString(strings.ToLower(m[1]), ""), " ", "-")
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// TestDocLinksResolve follows every relative link of every Markdown file:
// its file must exist, and its anchor be a heading of that file.
func TestDocLinksResolve(t *testing.T) {
	anchorsOf := map[string]map[string]bool{} // by file, read once
	for _, file := range markdownFiles(t) {
		for _, line := range markdownLines(readDoc(t, file)) {
			if line.block != "" {
				continue
			}
			n := line.n
			for _, m := range mdLink.FindAllStringSubmatch(inlineCode.ReplaceAllString(line.text, ""), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				dest := file
				if path != "" {
					dest = filepath.ToSlash(filepath.Join(filepath.Dir(file), path))
					if _, err := os.Stat(filepath.Join(repoRoot, dest)); err != nil {
						t.Errorf("%s:%d: the link %q leads to %s, which does not exist", file, n, target, dest)
						continue
					}
				}
				if anchor == "" || !strings.HasSuffix(dest, ".md") {
					continue
				}
				if anchorsOf[dest] == nil {
					anchorsOf[dest] = anchors(readDoc(t, dest))
				}
				if !anchorsOf[dest][anchor] {
					t.Errorf("%s:%d: the link %q: %s has no heading #%s", file, n, target, dest, anchor)
				}
			}
		}
	}
}

// contributorPages may name tests and commits: they are for whoever changes
// the code. Every other page is read by users.
var contributorPages = []string{
	"CONTRIBUTING.md", "BENCHMARKS.md", "docs/architecture.md", "docs/performance.md",
	"bench/README.md", "e2e/testdata/upgrade/README.md",
}

var (
	testName   = regexp.MustCompile(`\b(Test|Benchmark|Fuzz)[A-Z][A-Za-z0-9_]*`)
	commitHash = regexp.MustCompile(`\b[0-9a-f]{7,12}\b`)
	hasDigit   = regexp.MustCompile(`\d`)
	hasLetter  = regexp.MustCompile(`[a-f]`)
)

// TestUserPagesNameNoTestsOrCommits keeps test names and commit hashes out
// of the pages users read.
func TestUserPagesNameNoTestsOrCommits(t *testing.T) {
	for _, file := range markdownFiles(t) {
		if slices.Contains(contributorPages, file) {
			continue
		}
		for i, line := range strings.Split(readDoc(t, file), "\n") {
			if m := testName.FindString(line); m != "" {
				t.Errorf("%s:%d names the test %s: say what it shows, and name it in CONTRIBUTING.md", file, i+1, m)
			}
			for _, h := range commitHash.FindAllString(line, -1) {
				if hasDigit.MatchString(h) && hasLetter.MatchString(h) {
					t.Errorf("%s:%d names the commit %s: say what that build was", file, i+1, h)
				}
			}
		}
	}
}
