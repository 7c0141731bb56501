package recordmap

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// TestLinkAndImageRules: only absolute http(s) hrefs and https image srcs
// reach PagerDuty; the record is sent without the rest.
func TestLinkAndImageRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   func(a pcommon.Map)
		links   []any
		images  []any
		repairs Repairs
	}{
		{
			name:  "valid link",
			build: func(a pcommon.Map) { a.PutStr(AttrRunbookURL, "http://wiki.internal/runbook") },
			links: []any{map[string]any{"href": "http://wiki.internal/runbook", "text": "Runbook"}},
		},
		{
			name: "relative, scheme-less and non-http links",
			build: func(a pcommon.Map) {
				a.PutStr(AttrRunbookURL, "/runbooks/disk")
				a.PutStr(AttrDashboardURL, "grafana.example.com/d/x")
				l := a.PutEmptySlice(AttrLinks)
				l.AppendEmpty().SetStr("javascript:alert(1)")
				l.AppendEmpty().SetStr("file:///etc/passwd")
				l.AppendEmpty().SetStr("https://ok.example.com/")
			},
			links:   []any{map[string]any{"href": "https://ok.example.com/"}},
			repairs: repairsOf(RepairLinkInvalid),
		},
		{
			name:    "link with white space",
			build:   func(a pcommon.Map) { a.PutEmptyMap(AttrLinks).PutStr("href", "https://example.com/a b") },
			repairs: repairsOf(RepairLinkInvalid),
		},
		{
			name:    "empty hrefs are no links and no repair",
			build:   func(a pcommon.Map) { a.PutStr(AttrRunbookURL, "  ") },
			repairs: 0,
		},
		{
			name: "image src must be https",
			build: func(a pcommon.Map) {
				i := a.PutEmptySlice(AttrImages)
				i.AppendEmpty().SetStr("http://img.example.com/a.png")
				i.AppendEmpty().SetStr("//img.example.com/b.png")
				i.AppendEmpty().SetStr("https://img.example.com/c.png")
			},
			images:  []any{map[string]any{"src": "https://img.example.com/c.png"}},
			repairs: repairsOf(RepairImageInvalid),
		},
		{
			name: "bad image href is dropped, the image kept",
			build: func(a pcommon.Map) {
				m := a.PutEmptyMap(AttrImages)
				m.PutStr("src", "https://img.example.com/c.png")
				m.PutStr("href", "data:text/html,<h1>x</h1>")
				m.PutStr("alt", "graph")
			},
			images:  []any{map[string]any{"src": "https://img.example.com/c.png", "alt": "graph"}},
			repairs: repairsOf(RepairImageInvalid),
		},
		{
			name: "http image href is fine",
			build: func(a pcommon.Map) {
				m := a.PutEmptyMap(AttrImages)
				m.PutStr("src", "https://img.example.com/c.png")
				m.PutStr("href", "http://grafana.internal/d/x")
			},
			images: []any{map[string]any{"src": "https://img.example.com/c.png", "href": "http://grafana.internal/d/x"}},
		},
		{
			name: "invalid items do not count toward the cap",
			build: func(a pcommon.Map) {
				l := a.PutEmptySlice(AttrLinks)
				for i := range 60 {
					l.AppendEmpty().SetStr(fmt.Sprintf("/bad/%d", i))
				}
				l.AppendEmpty().SetStr("https://ok.example.com/")
			},
			links:   []any{map[string]any{"href": "https://ok.example.com/"}},
			repairs: repairsOf(RepairLinkInvalid),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
				lr.Attributes().PutStr(AttrSeverity, "info")
				tc.build(lr.Attributes())
			})
			for name, want := range map[string][]any{"links": tc.links, "images": tc.images} {
				if want == nil {
					assert.NotContains(t, m.doc, name)
				} else {
					assert.Equal(t, want, m.doc[name])
				}
			}
			assert.Equal(t, repairNamesOf(tc.repairs), repairNamesOf(m.Repairs))
		})
	}
}

func TestBadInputLinksAndImages(t *testing.T) {
	runBadInput(t, []badInput{
		{
			name: "60 links are capped at 50",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrRunbookURL, "https://runbook")
				links := lr.Attributes().PutEmptySlice(AttrLinks)
				for i := range 59 {
					links.AppendEmpty().SetStr(fmt.Sprintf("https://l/%d", i))
				}
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				links, _ := m.doc["links"].([]any)
				require.Len(t, links, eventsapi.MaxLinks)
				assert.Equal(t, map[string]any{"href": "https://runbook", "text": "Runbook"}, links[0])
				assert.Equal(t, map[string]any{"href": "https://l/48"}, links[49])
				assert.True(t, m.Repairs.Has(RepairLinksCapped))
			},
		},
		{
			name: "60 images are capped at 50",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				images := lr.Attributes().PutEmptySlice(AttrImages)
				for i := range 60 {
					images.AppendEmpty().SetEmptyMap().PutStr("src", fmt.Sprintf("https://i/%d", i))
				}
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				images, _ := m.doc["images"].([]any)
				assert.Len(t, images, eventsapi.MaxImages)
				assert.True(t, m.Repairs.Has(RepairLinksCapped))
			},
		},
		{
			name: "link maps without href are dropped",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				links := lr.Attributes().PutEmptySlice(AttrLinks)
				links.AppendEmpty().SetEmptyMap().PutStr("text", "no href")
				links.AppendEmpty().SetStr("")
				ok := links.AppendEmpty().SetEmptyMap()
				ok.PutStr("href", "https://ok")
				ok.PutInt("text", 7)
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, []any{map[string]any{"href": "https://ok", "text": "7"}}, m.doc["links"])
			},
		},
	})
}

// TestDetailKeysAreUnique: whatever the record holds, no object in the
// request has a key twice (validateEvent checks every depth), the record's
// attributes keep their names, and of equal keys the first value is kept.
func TestDetailKeysAreUnique(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   builder
		want    map[string]any // members of custom_details
		repairs Repairs
	}{
		{
			name: "attributes named like the exporter's members",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Body().SetStr("the body")
				lr.SetTraceID(pcommon.TraceID{1, 2, 3})
				for _, k := range []string{"body", "trace_id", "_trace_id", "resource"} {
					lr.Attributes().PutStr(k, "attribute "+k)
				}
			},
			want: map[string]any{
				"body": "attribute body", "_body": "the body",
				"trace_id": "attribute trace_id", "_trace_id": "attribute _trace_id", "__trace_id": "01020300000000000000000000000000",
				"resource": "attribute resource", "_resource": map[string]any{AttrHostName: "h"},
			},
		},
		{
			name: "the details_shed note moves too",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr("details_shed", strings.Repeat("x", 600_000)) // itself shed
			},
			want: map[string]any{
				"_details_shed": map[string]any{"reason": "request over 512000 bytes", "keys": []any{"details_shed"}},
				"resource":      map[string]any{AttrHostName: "h"},
			},
			repairs: repairsOf(RepairDetailsShed),
		},
		{
			name: "keys equal once invalid UTF-8 is replaced: the first is kept",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr("lab\xffel", "first")
				lr.Attributes().PutStr("lab\xfeel", "second")
				n := lr.Attributes().PutEmptyMap("nested")
				n.PutStr("k\xff", "first")
				n.PutStr("k\xfe", "second")
			},
			want: map[string]any{
				"lab\uFFFDel": "first",
				"nested":      map[string]any{"k\uFFFD": "first"},
				"resource":    map[string]any{AttrHostName: "h"},
			},
			repairs: repairsOf(RepairInvalidUTF8, RepairDuplicateKey),
		},
		{
			name: "duplicates from the wire, on record, nested and resource: the first is kept",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				fromOTLP("duplicate_keys.json")(lr, res)
				lr.Attributes().PutStr(AttrHostName, "h") // the builder below expects it
			},
			want: map[string]any{
				"team":      "payments",
				"labels":    map[string]any{"env": "prod", "region": "eu-west-1"},
				"host.name": "h",
				"resource":  map[string]any{"host.name": "web-01", "k8s.namespace.name": "shop"},
			},
			repairs: repairsOf(RepairDuplicateKey),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
				lr.Attributes().PutStr(AttrSeverity, "info")
				res.Attributes().PutStr(AttrHostName, "h")
				tc.build(lr, res)
			}) // validateEvent fails on any key seen twice
			assert.Equal(t, tc.want, m.details())
			assert.Equal(t, repairNamesOf(tc.repairs), repairNamesOf(m.Repairs))
		})
	}
}

// TestOTLPKeepsDuplicateKeys checks the premise of the duplicate-key rule:
// the collector's OTLP decoding keeps both members of a duplicated key, and
// Map.Get, which the mapping reads contract attributes with, finds the first.
func TestOTLPKeepsDuplicateKeys(t *testing.T) {
	lr, res := plog.NewLogRecord(), pcommon.NewResource()
	fromOTLP("duplicate_keys.json")(lr, res)
	var teams []string
	for k, v := range lr.Attributes().All() {
		if k == "team" {
			teams = append(teams, v.Str())
		}
	}
	assert.Equal(t, []string{"payments", "checkout"}, teams)
	v, _ := lr.Attributes().Get("team")
	assert.Equal(t, "payments", v.Str())
	assert.Equal(t, 4, res.Attributes().Len())
}

// TestPayloadHash: the hash follows severity and summary and nothing else,
// so the dedup cache lets a changed alert through and suppresses a repeat.
func TestPayloadHash(t *testing.T) {
	alert := func(summary, severity, detail string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrSummary, summary)
			lr.Attributes().PutStr(AttrSeverity, severity)
			lr.Attributes().PutStr("detail", detail)
		}
	}
	base := mapOK(t, alert("disk 97%", "warning", "a")).PayloadHash
	assert.Equal(t, base, mapOK(t, alert("disk 97%", "warn", "b")).PayloadHash, "same severity and summary")
	assert.NotEqual(t, base, mapOK(t, alert("disk 98%", "warning", "a")).PayloadHash, "summary changed")
	assert.NotEqual(t, base, mapOK(t, alert("disk 97%", "critical", "a")).PayloadHash, "severity changed")
	// The separator keeps the boundary between the two fields.
	assert.NotEqual(t, payloadHash("ab", "c"), payloadHash("a", "bc"))
}

// TestPayloadHashIsFNV: hashes are kept in persistent dedup storage, so a
// new version must compute the same ones: 64-bit FNV-1a of severity, a zero
// byte and summary.
func TestPayloadHashIsFNV(t *testing.T) {
	for _, tc := range [][2]string{{"", ""}, {"critical", "disk 97%"}, {"info", "caf\u00e9 \xff"}, {"error", strings.Repeat("x", 2000)}} {
		h := fnv.New64a()
		h.Write([]byte(tc[0]))
		h.Write([]byte{0})
		h.Write([]byte(tc[1]))
		assert.Equal(t, h.Sum64(), payloadHash(tc[0], tc[1]), "%q", tc)
	}
}
