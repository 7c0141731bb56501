package recordmap

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// maxFieldRunes caps the free-text fields PagerDuty documents no limit for
// (source, component, group, class, link and image texts), so that shedding
// custom details always brings a request under the size limit.
const maxFieldRunes = 1024

// timestampLayout writes payload.timestamp as ISO 8601 in UTC, to the
// millisecond, as PagerDuty's own examples do.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// Options are the mapping's configured inputs.
type Options struct {
	// RoutingAttribute names the attribute whose value selects a routing key.
	RoutingAttribute string
	// DefaultSeverity is used when neither alert.severity nor the record's
	// SeverityNumber gives one. It must be a valid PagerDuty severity.
	DefaultSeverity string
	// Hostname is the last fallback for payload.source.
	Hostname string
}

// Result is a mapped record: an event without its routing key, plus what the
// exporter needs to route it and to consult the dedup cache.
type Result struct {
	Event eventsapi.Event
	// RoutingValue is the record's value of Options.RoutingAttribute.
	RoutingValue string
	// PayloadHash covers severity and summary: a change in either must reach
	// PagerDuty even while a duplicate would be suppressed.
	PayloadHash uint64
	// Time is the record time in Unix nanoseconds, 0 when the record has none.
	Time int64
	// Repairs lists what was changed to fit PagerDuty's rules.
	Repairs Repairs

	rec      record
	bodyUsed bool
}

// Repairs is a set of Repair.
type Repairs uint16

// Repair is one kind of change made to fit a record to the Events API.
type Repair uint16

const (
	RepairTruncated Repair = 1 << iota
	RepairSeverityDefaulted
	RepairSummarySynthesized
	RepairDedupKeyHashed
	RepairDedupKeyDerived
	RepairDetailsShed
	RepairLinksCapped
	RepairInvalidUTF8
	RepairTimeInFuture
	repairEnd
)

var repairNames = map[Repair]string{
	RepairTruncated:          "truncated",
	RepairSeverityDefaulted:  "severity_defaulted",
	RepairSummarySynthesized: "summary_synthesized",
	RepairDedupKeyHashed:     "dedup_key_hashed",
	RepairDedupKeyDerived:    "dedup_key_derived",
	RepairDetailsShed:        "details_shed",
	RepairLinksCapped:        "links_capped",
	RepairInvalidUTF8:        "invalid_utf8",
	RepairTimeInFuture:       "time_in_future",
}

func (r Repair) String() string { return repairNames[r] }

// Has reports whether r is in the set.
func (rs Repairs) Has(r Repair) bool { return rs&Repairs(r) != 0 }

// All yields the repairs in the set.
func (rs Repairs) All() iter.Seq[Repair] {
	return func(yield func(Repair) bool) {
		for r := Repair(1); r < repairEnd; r <<= 1 {
			if rs.Has(r) && !yield(r) {
				return
			}
		}
	}
}

// Reasons a record is rejected.
const (
	RejectUnknownEventType   = "unknown_event_type"
	RejectUnknownEventAction = "unknown_event_action"
)

// RejectError says why a record cannot become an event.
type RejectError struct {
	Reason string
	Detail string
}

func (e *RejectError) Error() string { return e.Reason + ": " + e.Detail }

// quoted quotes an attribute value for a RejectError, short enough for a log line.
func quoted(s string) string {
	s, _ = truncateRunes(s, 64)
	return strconv.Quote(s)
}

// record reads a log record's attributes, falling back to its resource's.
type record struct {
	lr      plog.LogRecord
	res     pcommon.Resource
	repairs Repairs
}

func (r *record) get(name string) (pcommon.Value, bool) {
	if v, ok := r.lr.Attributes().Get(name); ok {
		return v, true
	}
	return r.res.Attributes().Get(name)
}

// str returns the attribute as valid UTF-8 text, "" when absent.
func (r *record) str(name string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	return r.valid(text(v))
}

func (r *record) valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r.repairs |= Repairs(RepairInvalidUTF8)
	return strings.ToValidUTF8(s, "\uFFFD")
}

func (r *record) capped(s string, n int) string {
	s, cut := truncateRunes(s, n)
	if cut {
		r.repairs |= Repairs(RepairTruncated)
	}
	return s
}

// Map turns lr, from resource res, into an event. It returns a *RejectError
// when the record asks for something the Events API has no meaning for.
func Map(lr plog.LogRecord, res pcommon.Resource, opts *Options) (Result, error) {
	out, err := Identify(lr, res, opts)
	if err == nil {
		out.Complete()
	}
	return out, err
}

// Identify does the part of Map that decides what the event is: its type,
// action, dedup key, severity, summary, source and time, and the routing
// value. Complete adds the rest. Splitting the two lets a record that the
// dedup cache will suppress skip the costly part.
func Identify(lr plog.LogRecord, res pcommon.Resource, opts *Options) (Result, error) {
	out := Result{rec: record{lr: lr, res: res}}
	r := &out.rec

	action, err := r.action()
	if err != nil {
		return out, err
	}
	ev := &out.Event
	ev.Action = action

	p := &ev.Payload
	p.Source = r.capped(r.source(opts.Hostname), maxFieldRunes)
	summary, bodyUsed := r.summary()
	out.bodyUsed = bodyUsed
	if action != eventsapi.Change {
		p.Severity = r.severity(opts.DefaultSeverity)
		p.Component = r.capped(r.str(AttrComponent), maxFieldRunes)
		p.Group = r.capped(r.str(AttrGroup), maxFieldRunes)
		p.Class = r.capped(r.str(AttrClass), maxFieldRunes)
	}
	if summary == "" {
		summary = synthesizedSummary(p.Severity, p.Source)
		r.repairs |= Repairs(RepairSummarySynthesized)
	}
	p.Summary = r.capped(summary, eventsapi.MaxSummaryRunes)

	out.Time = int64(RecordTime(lr))
	if action != eventsapi.Change {
		ev.DedupKey = r.dedupKey(p.Source, p.Component)
	}
	if opts.RoutingAttribute != "" {
		out.RoutingValue = r.str(opts.RoutingAttribute)
	}
	out.PayloadHash = payloadHash(p.Severity, p.Summary)
	out.Repairs = r.repairs
	return out, nil
}

// RecordTime is when a record says it happened: its Timestamp, else its
// ObservedTimestamp; 0 when it carries neither. The exporter stamps the time
// a record reached it as the ObservedTimestamp of a record with neither, so
// that such records are ordered by arrival.
func RecordTime(lr plog.LogRecord) pcommon.Timestamp {
	if ts := lr.Timestamp(); ts != 0 {
		return ts
	}
	return lr.ObservedTimestamp()
}

// FutureTolerance is how far ahead of the time it reached the exporter a
// record's time may be before it is taken for clock skew.
const FutureTolerance = time.Minute

// OrderingTime is the time the dedup cache orders the record by, in Unix
// nanoseconds: its own time, or received (when it reached the exporter) if
// it has none or claims to be more than FutureTolerance ahead of received.
// The latter is a repair (RepairTimeInFuture): a trigger stamped an hour
// ahead would otherwise make the correct, later resolve look stale and keep
// the incident open. payload.timestamp keeps what the source said.
func (out *Result) OrderingTime(received pcommon.Timestamp) int64 {
	switch {
	case out.Time == 0:
		return int64(received)
	case received != 0 && out.Time > int64(received)+int64(FutureTolerance):
		out.Repairs |= Repairs(RepairTimeInFuture)
		out.rec.repairs |= Repairs(RepairTimeInFuture)
		return int64(received)
	}
	return out.Time
}

// Complete adds the timestamp, links, images and custom details to an
// identified event, and sheds details until the request fits.
func (out *Result) Complete() {
	r, ev := &out.rec, &out.Event
	if out.Time != 0 {
		ev.Payload.Timestamp = pcommon.Timestamp(out.Time).AsTime().UTC().Format(timestampLayout)
	}
	if ev.Action != eventsapi.Change {
		ev.Images = r.images()
	}
	ev.Links = r.links()
	ev.Payload.Details = r.details(!out.bodyUsed)
	r.shed(ev)
	out.Repairs = r.repairs
}

// action reads the event type and action. An absent value means an alert
// trigger; a present but unknown one is rejected rather than guessed, since a
// wrong guess either pages someone or closes a live incident.
func (r *record) action() (eventsapi.Action, error) {
	switch t := strings.ToLower(r.str(AttrEventType)); t {
	case "", "alert":
	case "change":
		return eventsapi.Change, nil
	default:
		return "", &RejectError{Reason: RejectUnknownEventType, Detail: fmt.Sprintf("%s %s is neither alert nor change", AttrEventType, quoted(t))}
	}
	if a := strings.ToLower(r.str(AttrEventAction)); a != "" {
		switch eventsapi.Action(a) {
		case eventsapi.Trigger, eventsapi.Acknowledge, eventsapi.Resolve:
			return eventsapi.Action(a), nil
		}
		return "", &RejectError{Reason: RejectUnknownEventAction, Detail: fmt.Sprintf("%s %s is not trigger, acknowledge or resolve", AttrEventAction, quoted(a))}
	}
	status := strings.ToLower(r.str(AttrStatus))
	switch status {
	case "", "firing", "trigger", "triggered", "alerting", "problem", "open":
		return eventsapi.Trigger, nil
	case "acknowledged", "acknowledge", "ack", "acked":
		return eventsapi.Acknowledge, nil
	case "resolved", "resolve", "ok", "normal", "recovered", "cleared", "closed":
		return eventsapi.Resolve, nil
	}
	return "", &RejectError{Reason: RejectUnknownEventAction, Detail: fmt.Sprintf("%s %s is not firing, acknowledged or resolved", AttrStatus, quoted(status))}
}

// summary returns alert.summary, else a string body, else alert.name, and
// whether the body was used.
func (r *record) summary() (string, bool) {
	if s := r.str(AttrSummary); s != "" {
		return s, false
	}
	if body := r.lr.Body(); body.Type() == pcommon.ValueTypeStr {
		if s := strings.TrimSpace(body.Str()); s != "" {
			return r.valid(s), true
		}
	}
	return r.str(AttrName), false
}

func synthesizedSummary(severity, source string) string {
	if severity == "" {
		return "Change on " + source
	}
	return fmt.Sprintf("%s alert from %s (the record had no summary, body or alert.name)", severity, source)
}

func (r *record) source(hostname string) string {
	if s := r.str(AttrSource); s != "" {
		return s
	}
	for _, name := range []string{AttrHostName, AttrServiceName} {
		if v, ok := r.res.Attributes().Get(name); ok {
			if s := r.valid(text(v)); s != "" {
				return s
			}
		}
	}
	if hostname != "" {
		return hostname
	}
	return "unknown"
}

// severity reads alert.severity, then the record's SeverityNumber, then the
// configured default. An unknown alert.severity is never sent as is.
func (r *record) severity(fallback string) string {
	if v, ok := r.get(AttrSeverity); ok {
		if s, known := severityAliases[strings.ToLower(text(v))]; known {
			return s
		}
		r.repairs |= Repairs(RepairSeverityDefaulted)
	}
	switch n := r.lr.SeverityNumber(); {
	case n >= plog.SeverityNumberFatal:
		return eventsapi.SeverityCritical
	case n >= plog.SeverityNumberError:
		return eventsapi.SeverityError
	case n >= plog.SeverityNumberWarn:
		return eventsapi.SeverityWarning
	case n >= plog.SeverityNumberTrace:
		return eventsapi.SeverityInfo
	}
	r.repairs |= Repairs(RepairSeverityDefaulted)
	return fallback
}

// severityAliases maps the severity words monitoring tools use to
// PagerDuty's four.
var severityAliases = map[string]string{
	"critical": eventsapi.SeverityCritical, "crit": eventsapi.SeverityCritical,
	"fatal": eventsapi.SeverityCritical, "emergency": eventsapi.SeverityCritical,
	"emerg": eventsapi.SeverityCritical, "alert": eventsapi.SeverityCritical,
	"high": eventsapi.SeverityCritical, "p1": eventsapi.SeverityCritical,
	"disaster": eventsapi.SeverityCritical, "page": eventsapi.SeverityCritical,
	"error": eventsapi.SeverityError, "err": eventsapi.SeverityError,
	"major": eventsapi.SeverityError, "p2": eventsapi.SeverityError,
	"warning": eventsapi.SeverityWarning, "warn": eventsapi.SeverityWarning,
	"medium": eventsapi.SeverityWarning, "minor": eventsapi.SeverityWarning,
	"average": eventsapi.SeverityWarning, "p3": eventsapi.SeverityWarning,
	"info": eventsapi.SeverityInfo, "informational": eventsapi.SeverityInfo,
	"information": eventsapi.SeverityInfo, "notice": eventsapi.SeverityInfo,
	"low": eventsapi.SeverityInfo, "debug": eventsapi.SeverityInfo,
	"none": eventsapi.SeverityInfo, "ok": eventsapi.SeverityInfo,
	"p4": eventsapi.SeverityInfo, "p5": eventsapi.SeverityInfo,
}

// dedupKey returns pagerduty.dedup_key, else alert.fingerprint, else a key
// derived from the alert's name, source and component. Keys PagerDuty would
// refuse as too long are replaced by their SHA-256.
func (r *record) dedupKey(source, component string) string {
	key := r.str(AttrDedupKey)
	if key == "" {
		key = r.str(AttrFingerprint)
	}
	if key == "" {
		name := r.str(AttrName)
		if name == "" {
			name, _ = r.summary()
		}
		key = name + "/" + source
		if component != "" {
			key += "/" + component
		}
		r.repairs |= Repairs(RepairDedupKeyDerived)
	}
	if len(key) > eventsapi.MaxDedupKeyLen {
		sum := sha256.Sum256([]byte(key))
		key = hex.EncodeToString(sum[:])
		r.repairs |= Repairs(RepairDedupKeyHashed)
	}
	return key
}

func (r *record) links() []eventsapi.Link {
	var links []eventsapi.Link
	add := func(href, text string) {
		if href == "" {
			return
		}
		if len(links) == eventsapi.MaxLinks {
			r.repairs |= Repairs(RepairLinksCapped)
			return
		}
		links = append(links, eventsapi.Link{Href: r.capped(href, maxFieldRunes), Text: r.capped(text, maxFieldRunes)})
	}
	add(r.str(AttrRunbookURL), "Runbook")
	add(r.str(AttrDashboardURL), "Dashboard")
	if v, ok := r.get(AttrLinks); ok {
		r.eachItem(v, func(item pcommon.Value) {
			if item.Type() == pcommon.ValueTypeMap {
				add(r.field(item.Map(), "href"), r.field(item.Map(), "text"))
			} else {
				add(r.valid(text(item)), "")
			}
		})
	}
	return links
}

func (r *record) images() []eventsapi.Image {
	v, ok := r.get(AttrImages)
	if !ok {
		return nil
	}
	var images []eventsapi.Image
	r.eachItem(v, func(item pcommon.Value) {
		var img eventsapi.Image
		if item.Type() == pcommon.ValueTypeMap {
			m := item.Map()
			img = eventsapi.Image{Src: r.field(m, "src"), Href: r.field(m, "href"), Alt: r.field(m, "alt")}
		} else {
			// Capped like a map's src: a data: URI must not outgrow the request.
			img.Src = r.capped(r.valid(text(item)), maxFieldRunes)
		}
		if img.Src == "" {
			return
		}
		if len(images) == eventsapi.MaxImages {
			r.repairs |= Repairs(RepairLinksCapped)
			return
		}
		images = append(images, img)
	})
	return images
}

// eachItem calls fn for each element of a slice, or once for a scalar or map.
func (r *record) eachItem(v pcommon.Value, fn func(pcommon.Value)) {
	if v.Type() != pcommon.ValueTypeSlice {
		fn(v)
		return
	}
	for _, item := range v.Slice().All() {
		fn(item)
	}
}

func (r *record) field(m pcommon.Map, name string) string {
	v, ok := m.Get(name)
	if !ok {
		return ""
	}
	return r.capped(r.valid(text(v)), maxFieldRunes)
}

// details builds custom_details: the record's other attributes, the resource
// attributes under "resource", the trace context, and the body when it did
// not become the summary. All values are encoded into one buffer.
func (r *record) details(includeBody bool) []eventsapi.Detail {
	type span struct {
		key        string
		start, end int
	}
	var (
		buf   []byte
		spans []span
	)
	add := func(key string, appendJSON func([]byte) []byte) {
		start := len(buf)
		buf = appendJSON(buf)
		spans = append(spans, span{key, start, len(buf)})
	}
	for k, v := range r.lr.Attributes().All() {
		if !consumed(k) {
			add(k, func(b []byte) []byte { return appendValue(b, v) })
		}
	}
	// The members below are the exporter's own; an attribute of the same name
	// already stands in the details and wins, so no key appears twice.
	free := func(key string) bool {
		_, taken := r.lr.Attributes().Get(key)
		return !taken
	}
	if includeBody && r.lr.Body().Type() != pcommon.ValueTypeEmpty && free("body") {
		add("body", func(b []byte) []byte { return appendValue(b, r.lr.Body()) })
	}
	if id := r.lr.TraceID(); !id.IsEmpty() && free("trace_id") {
		add("trace_id", func(b []byte) []byte { return eventsapi.AppendString(b, id.String()) })
	}
	if id := r.lr.SpanID(); !id.IsEmpty() && free("span_id") {
		add("span_id", func(b []byte) []byte { return eventsapi.AppendString(b, id.String()) })
	}
	if res := r.res.Attributes(); res.Len() > 0 && free("resource") {
		add("resource", func(b []byte) []byte {
			b = append(b, '{')
			first := true
			for k, v := range res.All() {
				if consumed(k) {
					continue
				}
				if !first {
					b = append(b, ',')
				}
				first = false
				b = eventsapi.AppendString(b, k)
				b = append(b, ':')
				b = appendValue(b, v)
			}
			return append(b, '}')
		})
	}
	details := make([]eventsapi.Detail, len(spans))
	for i, s := range spans {
		details[i] = eventsapi.Detail{Key: r.valid(s.key), JSON: buf[s.start:s.end:s.end]}
	}
	return details
}

func payloadHash(severity, summary string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(severity))
	h.Write([]byte{0})
	h.Write([]byte(summary))
	return h.Sum64()
}
