package recordmap

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// maxFieldRunes caps the free-text fields PagerDuty documents no limit for
// (source, component, group, class, client, link and image texts), in
// UTF-16 code units as truncate counts, so that shedding custom details
// always brings a request under eventsapi.MaxRequestBytes.
const maxFieldRunes = 1024

// maxURLBytes bounds hrefs, image srcs and client_url. A URL is never cut
// (a cut URL points elsewhere): a longer one is dropped as invalid. 2048 is
// the length browsers and proxies have long been safe with.
const maxURLBytes = 2048

// timestampLayout writes payload.timestamp as ISO 8601 in UTC, to the
// millisecond, as PagerDuty's own examples do
// (https://developer.pagerduty.com/docs/events-api-v2-overview#pagerduty-common-event-format-pd-cef).
const timestampLayout = "2006-01-02T15:04:05.000Z"

// maxTime is the last record time that converts to a time.Time without
// wrapping (2262-04-11T23:47:16.854775807Z): a pcommon.Timestamp above it
// would be sent as a date before 1970. PagerDuty takes years up to 9999 and
// none before 1970, and a pcommon.Timestamp cannot be before 1970.
const maxTime = pcommon.Timestamp(math.MaxInt64)

// Options are the mapping's configured inputs.
type Options struct {
	// RoutingAttribute names the attribute whose value selects a routing
	// key; "" leaves Result.RoutingValue empty.
	RoutingAttribute string
	// DefaultSeverity is used when neither alert.severity nor the record's
	// SeverityNumber gives one. It must be a valid PagerDuty severity.
	DefaultSeverity string
	// Hostname is the last fallback for payload.source; "" falls back to
	// "unknown", as PagerDuty requires a source.
	Hostname string
	// Client is the client of trigger events whose record names none; ""
	// leaves the field out.
	Client string
	// ClientURL is the client_url of trigger events whose record names none;
	// "" leaves the field out. It must be an absolute http(s) URL, else it is
	// dropped as client_url_invalid.
	ClientURL string
}

// Result is a mapped record: an event without its routing key, plus what the
// exporter needs to route it and to consult the dedup cache.
type Result struct {
	// Event is the event to send once the exporter sets its RoutingKey.
	Event eventsapi.Event
	// RoutingValue is the record's value of Options.RoutingAttribute.
	RoutingValue string
	// PayloadHash covers severity and summary: a change in either must reach
	// PagerDuty even while a duplicate would be suppressed.
	PayloadHash uint64
	// Time is the record time in Unix nanoseconds: its Timestamp, else its
	// ObservedTimestamp, skipping a time out of range (time_out_of_range);
	// when only such a time was there, the arrival passed to IdentifyAt. 0
	// when the record has none (or only one out of range, and no arrival).
	Time int64
	// OrderingTime is the time the dedup cache orders the record by, in Unix
	// nanoseconds: Time, or the arrival passed to IdentifyAt when the record
	// has no time or claims one more than FutureTolerance ahead of its
	// arrival. The latter is a repair (RepairTimeInFuture): a trigger
	// stamped an hour ahead would otherwise make the correct, later resolve
	// look stale and keep the incident open; payload.timestamp keeps what
	// the source said. With no arrival (Identify), it is Time, unrepaired,
	// and 0 when the record has no time.
	OrderingTime int64
	// ResolveAfter is the record's alert.resolve_after, when HasResolveAfter:
	// the quiet period of its alert; 0 means never auto-resolve it.
	ResolveAfter    time.Duration
	HasResolveAfter bool
	// Repairs lists what was changed to fit PagerDuty's rules.
	Repairs Repairs

	rec      record
	opts     *Options
	bodyUsed bool
}

// Repairs is a set of Repair.
type Repairs uint32

// Repair is one kind of change made to fit a record to the Events API. Each
// is a bit of Repairs; String gives its name in metrics.
type Repair uint32

const (
	// RepairTruncated: a text field was cut, ending in an ellipsis: the
	// summary to eventsapi.MaxSummaryRunes, others to 1024 characters.
	RepairTruncated Repair = 1 << iota
	// RepairSeverityDefaulted: alert.severity was no severity word, or the
	// record gave none; SeverityNumber or Options.DefaultSeverity decided.
	RepairSeverityDefaulted
	// RepairSummarySynthesized: the record had no summary, string body or
	// alert.name, so one was made of the severity and source.
	RepairSummarySynthesized
	// RepairDedupKeyHashed: a dedup key longer than
	// eventsapi.MaxDedupKeyLen was replaced by its SHA-256 in hex.
	RepairDedupKeyHashed
	// RepairDedupKeyDerived: the record had no pagerduty.dedup_key or
	// alert.fingerprint, so the key was made of its name, source and
	// component.
	RepairDedupKeyDerived
	// RepairDetailsShed: custom_details members were dropped, largest
	// first, to fit eventsapi.MaxRequestBytes, and listed in their place.
	RepairDetailsShed
	// RepairLinksCapped: links or images beyond eventsapi.MaxLinks or
	// eventsapi.MaxImages were dropped, or all of them were, when the
	// request could not fit otherwise.
	RepairLinksCapped
	// RepairInvalidUTF8: invalid UTF-8 was replaced by U+FFFD.
	RepairInvalidUTF8
	// RepairTimeInFuture: the record's time was more than FutureTolerance
	// ahead of its arrival, so the record was ordered by its arrival.
	RepairTimeInFuture
	// RepairLinkInvalid: a link whose href was not an absolute http(s) URL
	// was dropped.
	RepairLinkInvalid
	// RepairImageInvalid: an image whose src was not an absolute https URL
	// was dropped, or an invalid href was dropped from its image.
	RepairImageInvalid
	// RepairClientURLInvalid: a client_url that was not an absolute http(s)
	// URL was dropped.
	RepairClientURLInvalid
	// RepairTimeOutOfRange: a record time past 2262-04-11T23:47:16Z, which
	// Unix nanoseconds in an int64 cannot hold, was ignored, as if absent.
	RepairTimeOutOfRange
	// RepairValueConverted: a value that is not a string was used as text.
	RepairValueConverted
	// RepairDuplicateKey: an attribute key repeated, or made equal to
	// another by replacing invalid UTF-8, was dropped; the first is kept.
	RepairDuplicateKey
	// RepairStatusDefaulted: pagerduty.event_action or alert.status was
	// present but empty or white space, and was read as absent: the action
	// came from alert.status, else was trigger.
	RepairStatusDefaulted
	// RepairSeverityTrimmed: alert.severity named a severity only once
	// control characters and white space were trimmed from its ends.
	RepairSeverityTrimmed
	// RepairResolveAfterInvalid: alert.resolve_after was no duration of
	// zero or more, so the configured quiet period applies.
	RepairResolveAfterInvalid
	// RepairDepthCapped: maps and lists in custom_details nested deeper
	// than maxDetailDepth were replaced, at that depth, by a note saying so.
	RepairDepthCapped
	// repairEnd is the first unused bit; Repair, a uint32, has room for 31.
	repairEnd
)

var repairNames = map[Repair]string{
	RepairTruncated:           "truncated",
	RepairSeverityDefaulted:   "severity_defaulted",
	RepairSummarySynthesized:  "summary_synthesized",
	RepairDedupKeyHashed:      "dedup_key_hashed",
	RepairDedupKeyDerived:     "dedup_key_derived",
	RepairDetailsShed:         "details_shed",
	RepairLinksCapped:         "links_capped",
	RepairInvalidUTF8:         "invalid_utf8",
	RepairTimeInFuture:        "time_in_future",
	RepairLinkInvalid:         "link_invalid",
	RepairImageInvalid:        "image_invalid",
	RepairClientURLInvalid:    "client_url_invalid",
	RepairTimeOutOfRange:      "time_out_of_range",
	RepairValueConverted:      "value_converted",
	RepairDuplicateKey:        "duplicate_key",
	RepairStatusDefaulted:     "status_defaulted",
	RepairSeverityTrimmed:     "severity_trimmed",
	RepairDepthCapped:         "depth_capped",
	RepairResolveAfterInvalid: "resolve_after_invalid",
}

// String returns the repair's name, as in metrics; "" when r is not a
// single Repair.
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

// Reasons a record is rejected: it asks for something the Events API has no
// meaning for, and a guess could page someone or close a live incident.
const (
	// RejectUnknownEventType: pagerduty.event_type is neither alert nor
	// change.
	RejectUnknownEventType = "unknown_event_type"
	// RejectUnknownEventAction: pagerduty.event_action or alert.status names
	// no action.
	RejectUnknownEventAction = "unknown_event_action"
)

// RejectError says why a record cannot become an event.
type RejectError struct {
	// Reason is one of the Reject constants, as in metrics.
	Reason string
	// Detail is for people: it quotes the offending value, cut to 64
	// characters.
	Detail string
}

// Error returns the reason and the detail.
func (e *RejectError) Error() string { return e.Reason + ": " + e.Detail }

// quoted quotes an attribute value for a RejectError, short enough for a log line.
func quoted(s string) string {
	s, _ = truncate(s, 64)
	return strconv.Quote(s)
}

// record reads a log record's attributes, falling back to its resource's.
type record struct {
	lr      plog.LogRecord
	res     pcommon.Resource
	repairs Repairs
	// attrs holds, where found has its bit, the value of each attribute the
	// mapping reads: the record's first of that name (as Map.Get finds it),
	// else the resource's first.
	attrs [attrCount]pcommon.Value
	found uint32
	// consumedAttrs counts the record's attributes that become fields of
	// their own, which custom_details leave out.
	consumedAttrs int
}

// index fills attrs in one pass over the record's attributes and one over
// the resource's. routing is Options.RoutingAttribute.
func (r *record) index(routing string) {
	r.indexMap(r.lr.Attributes(), routing, false)
	r.indexMap(r.res.Attributes(), routing, true)
}

func (r *record) indexMap(m pcommon.Map, routing string, resource bool) {
	for k, v := range m.All() {
		if a, ok := attrOf(k); ok && (resource || a < attrHostName) {
			r.put(a, v)
			if !resource && a.consumed() {
				r.consumedAttrs++
			}
		}
		if routing != "" && k == routing {
			r.put(attrRouting, v)
		}
	}
}

// put keeps the first value found for a.
func (r *record) put(a attr, v pcommon.Value) {
	if r.found&(1<<a) == 0 {
		r.found |= 1 << a
		r.attrs[a] = v
	}
}

func (r *record) get(a attr) (pcommon.Value, bool) {
	return r.attrs[a], r.found&(1<<a) != 0
}

// str returns the attribute as valid UTF-8 text, "" when absent.
func (r *record) str(a attr) string {
	v, ok := r.get(a)
	if !ok {
		return ""
	}
	return r.text(v)
}

// text returns v as valid UTF-8 text, counting the conversion of a value
// that is not a string (value_converted).
func (r *record) text(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
	case pcommon.ValueTypeEmpty:
		return ""
	default:
		r.repairs |= Repairs(RepairValueConverted)
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

// truncated passes on the string truncate returned, noting a cut as a
// repair: r.truncated(truncate(s, n)).
func (r *record) truncated(s string, cut bool) string {
	if cut {
		r.repairs |= Repairs(RepairTruncated)
	}
	return s
}

// Identify is IdentifyAt without an arrival time: a record time out of range
// is then dropped, as if the record had none.
func Identify(lr plog.LogRecord, res pcommon.Resource, opts *Options) (Result, error) {
	return IdentifyAt(lr, res, opts, 0)
}

// IdentifyAt decides what the event for lr, from resource res, is: its type,
// action, dedup key, severity, summary, source and time, the time the dedup
// cache orders it by, and the routing value. Complete adds the rest:
// splitting the two lets a record that the dedup cache will suppress skip
// the costly part. arrival is when the record reached the exporter; it
// replaces a record time that is absent, out of range or too far ahead (see
// Result.OrderingTime), and 0 means unknown. IdentifyAt returns a
// *RejectError when the record asks for something the Events API has no
// meaning for.
func IdentifyAt(lr plog.LogRecord, res pcommon.Resource, opts *Options, arrival pcommon.Timestamp) (out Result, err error) {
	// out, zero on entry, is built in place: Result is large, and a copy or
	// a second zeroing costs.
	out.opts = opts
	r := &out.rec
	r.lr, r.res = lr, res
	r.index(opts.RoutingAttribute)

	action, err := r.action()
	if err != nil {
		return out, err
	}
	ev := &out.Event
	ev.Action = action

	p := &ev.Payload
	p.Source = r.truncated(truncate(r.source(opts.Hostname), maxFieldRunes))
	summary, bodyUsed := r.summary()
	out.bodyUsed = bodyUsed
	if action != eventsapi.Change {
		p.Severity = r.severity(opts.DefaultSeverity)
		p.Component = r.truncated(truncate(r.str(attrComponent), maxFieldRunes))
		p.Group = r.truncated(truncate(r.str(attrGroup), maxFieldRunes))
		p.Class = r.truncated(truncate(r.str(attrClass), maxFieldRunes))
	}
	if summary == "" {
		summary = synthesizedSummary(p.Severity, p.Source)
		r.repairs |= Repairs(RepairSummarySynthesized)
	}
	p.Summary = r.truncated(truncate(summary, eventsapi.MaxSummaryRunes))

	out.Time = r.time(arrival)
	out.OrderingTime = r.orderingTime(out.Time, arrival)
	if action != eventsapi.Change {
		ev.DedupKey = r.dedupKey(p.Source, p.Component)
	}
	if opts.RoutingAttribute != "" {
		out.RoutingValue = r.str(attrRouting)
	}
	if action == eventsapi.Trigger {
		out.ResolveAfter, out.HasResolveAfter = r.resolveAfter()
	}
	out.PayloadHash = payloadHash(p.Severity, p.Summary)
	out.Repairs = r.repairs
	return out, nil
}

// resolveAfter reads alert.resolve_after: a Go duration, or "0" (never). A
// value that is no duration of zero or more is ignored and repaired
// (resolve_after_invalid).
func (r *record) resolveAfter() (time.Duration, bool) {
	v, ok := r.get(attrResolveAfter)
	if !ok {
		return 0, false
	}
	s := strings.TrimSpace(r.text(v))
	if s == "0" {
		return 0, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		r.repairs |= Repairs(RepairResolveAfterInvalid)
		return 0, false
	}
	return d, true
}

// RecordTime is when a record says it happened: its Timestamp, else its
// ObservedTimestamp, whichever is set and in range; 0 when neither is. The
// exporter stamps the time a record reached it as the ObservedTimestamp of
// a record without one, so that such records are ordered by arrival.
func RecordTime(lr plog.LogRecord) pcommon.Timestamp {
	for _, ts := range [...]pcommon.Timestamp{lr.Timestamp(), lr.ObservedTimestamp()} {
		if ts != 0 && ts <= maxTime {
			return ts
		}
	}
	return 0
}

// FutureTolerance is how far ahead of the time it reached the exporter a
// record's time may be before it is taken for clock skew (time_in_future).
// A minute allows for ordinary clock drift between hosts.
const FutureTolerance = time.Minute

// orderingTime is Result.OrderingTime for a record whose time is t (Unix
// nanoseconds, 0 for none) and that arrived at arrival (0: unknown).
func (r *record) orderingTime(t int64, arrival pcommon.Timestamp) int64 {
	arrived := nanos(arrival)
	switch {
	case arrival == 0:
		return t
	case t == 0:
		return arrived
	case t-arrived > int64(FutureTolerance): // both ≥ 0: no overflow
		r.repairs |= Repairs(RepairTimeInFuture)
		return arrived
	}
	return t
}

// Complete adds the timestamp, links, images and custom details to an
// identified event, and sheds details until the request fits.
func (out *Result) Complete() {
	r, ev := &out.rec, &out.Event
	if out.Time != 0 {
		ev.Payload.Timestamp = formatTimestamp(out.Time)
	}
	if ev.Action != eventsapi.Change {
		ev.Images = r.images()
	}
	if ev.Action == eventsapi.Trigger {
		ev.Client, ev.ClientURL = r.client(out.opts)
	}
	c := new(completion)
	ev.Links = r.links(c.links[:0])
	ev.Payload.Details = r.details(!out.bodyUsed, c)
	r.shed(ev)
	out.Repairs = r.repairs
}

// completion is the memory Complete needs for a typical record, taken in
// one allocation rather than three: the custom_details members, the links,
// and the buffer the members' values are encoded into. A record that needs
// more grows out of it as out of any slice.
type completion struct {
	details [8]eventsapi.Detail
	links   [2]eventsapi.Link
	buf     [detailsBufSize]byte
}

// formatTimestamp writes ns, Unix nanoseconds from 0 to maxTime, in
// timestampLayout. It is written out rather than left to time.Format, which
// reads its layout anew on every call: the years it meets (1970 to 2262)
// all have four digits.
func formatTimestamp(ns int64) string {
	t := time.Unix(0, ns).UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	var b [len(timestampLayout)]byte
	putDigits(b[0:4], year)
	b[4] = '-'
	putDigits(b[5:7], int(month))
	b[7] = '-'
	putDigits(b[8:10], day)
	b[10] = 'T'
	putDigits(b[11:13], hour)
	b[13] = ':'
	putDigits(b[14:16], minute)
	b[16] = ':'
	putDigits(b[17:19], second)
	b[19] = '.'
	putDigits(b[20:23], t.Nanosecond()/int(time.Millisecond))
	b[23] = 'Z'
	return string(b[:])
}

// putDigits writes the last len(b) decimal digits of n ≥ 0 into b.
func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}

// time returns RecordTime in Unix nanoseconds. A time out of range counts
// as absent and is repaired (time_out_of_range); when no usable time
// remains, arrival stands in for it. 0 means no time.
func (r *record) time(arrival pcommon.Timestamp) int64 {
	ts, observed := r.lr.Timestamp(), r.lr.ObservedTimestamp()
	if ts > maxTime || ts == 0 && observed > maxTime {
		r.repairs |= Repairs(RepairTimeOutOfRange)
		if RecordTime(r.lr) == 0 {
			return nanos(arrival)
		}
	}
	return nanos(RecordTime(r.lr))
}

// nanos is ts in Unix nanoseconds, 0 for a time beyond maxTime, which has
// no int64.
func nanos(ts pcommon.Timestamp) int64 {
	if ts > maxTime {
		return 0
	}
	return int64(ts)
}

// HasTime reports whether lr carries a time the mapping uses: a Timestamp
// or ObservedTimestamp within range. A record without one is timed by its
// arrival.
func HasTime(lr plog.LogRecord) bool { return RecordTime(lr) != 0 }

// client returns a trigger's client and client_url: pagerduty.client, else
// the configured client; the first absolute http(s) URL of
// pagerduty.client_url, alert.generator_url and the configured client_url.
// A candidate URL that is not one is dropped (client_url_invalid).
func (r *record) client(opts *Options) (client, clientURL string) {
	var fallback, fallbackURL string
	if opts != nil {
		fallback, fallbackURL = opts.Client, strings.TrimSpace(opts.ClientURL)
	}
	client = r.str(attrClient)
	if client == "" {
		client = r.valid(strings.TrimSpace(fallback))
	}
	client = r.truncated(truncate(client, maxFieldRunes))
	for _, u := range [...]string{r.str(attrClientURL), r.str(attrGeneratorURL), r.valid(fallbackURL)} {
		if u == "" {
			continue
		}
		if r.isURL(u, eventsapi.IsHTTPURL) {
			return client, u
		}
		r.repairs |= Repairs(RepairClientURLInvalid)
	}
	return client, ""
}

// isURL applies a URL rule of the Events API, and the length bound.
func (r *record) isURL(s string, rule func(string) bool) bool {
	return len(s) <= maxURLBytes && rule(s)
}

// action reads the event type and action. An absent value means an alert
// trigger; a present but unknown one is rejected rather than guessed, since a
// wrong guess either pages someone or closes a live incident. An empty (or
// white space) event action or status is read as absent, and counted
// (status_defaulted): the record meant to say something and did not.
func (r *record) action() (eventsapi.Action, error) {
	switch t := strings.ToLower(r.str(attrEventType)); t {
	case "", "alert":
	case "change":
		return eventsapi.Change, nil
	default:
		return "", &RejectError{Reason: RejectUnknownEventType, Detail: fmt.Sprintf("%s %s is neither alert nor change", AttrEventType, quoted(t))}
	}
	if v, ok := r.get(attrEventAction); ok {
		if a := strings.ToLower(r.text(v)); a != "" {
			switch eventsapi.Action(a) {
			case eventsapi.Trigger, eventsapi.Acknowledge, eventsapi.Resolve:
				return eventsapi.Action(a), nil
			}
			return "", &RejectError{Reason: RejectUnknownEventAction, Detail: fmt.Sprintf("%s %s is not trigger, acknowledge or resolve", AttrEventAction, quoted(a))}
		}
		r.repairs |= Repairs(RepairStatusDefaulted)
	}
	var status string
	if v, ok := r.get(attrStatus); ok {
		if status = strings.ToLower(r.text(v)); status == "" {
			r.repairs |= Repairs(RepairStatusDefaulted)
		}
	}
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
	if s := r.str(attrSummary); s != "" {
		return s, false
	}
	if body := r.lr.Body(); body.Type() == pcommon.ValueTypeStr {
		if s := strings.TrimSpace(body.Str()); s != "" {
			return r.valid(s), true
		}
	}
	return r.str(attrName), false
}

func synthesizedSummary(severity, source string) string {
	if severity == "" {
		return "Change on " + source
	}
	return fmt.Sprintf("%s alert from %s (the record had no summary, body or alert.name)", severity, source)
}

func (r *record) source(hostname string) string {
	if s := r.str(attrSource); s != "" {
		return s
	}
	for _, a := range [...]attr{attrHostName, attrServiceName} {
		if v, ok := r.get(a); ok {
			if s := r.text(v); s != "" {
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
// configured default. An unknown alert.severity is never sent as is; one
// known only once control characters and white space are trimmed from its
// ends is counted (severity_trimmed).
func (r *record) severity(fallback string) string {
	if v, ok := r.get(attrSeverity); ok {
		var raw string // untrimmed, to tell whether trimming mattered
		if v.Type() == pcommon.ValueTypeStr {
			raw = r.valid(v.Str())
		} else {
			raw = r.text(v)
		}
		word := raw
		if raw == "" || !isPlainByte(raw[0]) || !isPlainByte(raw[len(raw)-1]) {
			word = strings.TrimFunc(raw, isPadding)
		}
		if eventsapi.ValidSeverity(word) && len(word) == len(raw) {
			return word // most records name one of the four as PagerDuty spells it
		}
		if s, known := severityAliases[strings.ToLower(word)]; known {
			if len(word) != len(raw) {
				r.repairs |= Repairs(RepairSeverityTrimmed)
			}
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

// isPadding reports whether c is trimmed from the ends of a severity word:
// control characters and white space, which senders leave behind (a C
// string's NUL, a line's end) and which never change the word meant.
func isPadding(c rune) bool { return unicode.IsControl(c) || unicode.IsSpace(c) }

// isPlainByte reports whether a string that begins or ends with c cannot
// begin or end with padding: c is printable ASCII other than a space.
func isPlainByte(c byte) bool { return c > ' ' && c < 0x7f }

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
	key := r.str(attrDedupKey)
	if key == "" {
		key = r.str(attrFingerprint)
	}
	if key == "" {
		name := r.str(attrName)
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

// links keeps the links whose href is an absolute http(s) URL; an empty
// href is no link, any other is dropped (link_invalid). They are appended
// to links, which is empty.
func (r *record) links(links []eventsapi.Link) []eventsapi.Link {
	add := func(href, text string) {
		if href == "" {
			return
		}
		if !r.isURL(href, eventsapi.IsHTTPURL) {
			r.repairs |= Repairs(RepairLinkInvalid)
			return
		}
		if len(links) == eventsapi.MaxLinks {
			r.repairs |= Repairs(RepairLinksCapped)
			return
		}
		links = append(links, eventsapi.Link{Href: href, Text: r.truncated(truncate(text, maxFieldRunes))})
	}
	add(r.str(attrRunbookURL), "Runbook")
	add(r.str(attrDashboardURL), "Dashboard")
	if v, ok := r.get(attrLinks); ok {
		r.eachItem(v, func(item pcommon.Value) {
			if item.Type() == pcommon.ValueTypeMap {
				add(r.field(item.Map(), "href"), r.field(item.Map(), "text"))
			} else {
				add(r.text(item), "")
			}
		})
	}
	if len(links) == 0 {
		return nil // not empty: an event without links equals one built without them
	}
	return links
}

// images keeps the images whose src is an absolute https URL, the only ones
// PagerDuty serves; an empty src is no image, any other is dropped
// (image_invalid). An href that is not an absolute http(s) URL is dropped
// from its image, which stays (image_invalid too).
func (r *record) images() []eventsapi.Image {
	v, ok := r.get(attrImages)
	if !ok {
		return nil
	}
	var images []eventsapi.Image
	r.eachItem(v, func(item pcommon.Value) {
		var img eventsapi.Image
		if item.Type() == pcommon.ValueTypeMap {
			m := item.Map()
			img = eventsapi.Image{Src: r.field(m, "src"), Href: r.field(m, "href"), Alt: r.truncated(truncate(r.field(m, "alt"), maxFieldRunes))}
		} else {
			img.Src = r.text(item)
		}
		if img.Src == "" {
			return
		}
		if !r.isURL(img.Src, eventsapi.IsHTTPSURL) {
			r.repairs |= Repairs(RepairImageInvalid)
			return
		}
		if img.Href != "" && !r.isURL(img.Href, eventsapi.IsHTTPURL) {
			r.repairs |= Repairs(RepairImageInvalid)
			img.Href = ""
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

// field returns a member of a link or image map as text, "" when absent.
func (r *record) field(m pcommon.Map, name string) string {
	v, ok := m.Get(name)
	if !ok {
		return ""
	}
	return r.text(v)
}

// details builds custom_details: the record's other attributes, the resource
// attributes under "resource", the trace context, and the body when it did
// not become the summary. All values are encoded into one buffer.
//
// Keys are unique. Of attributes whose keys are equal (OTLP allows the same
// key twice, and replacing invalid UTF-8 can make two keys equal), the first
// is kept, as Map.Get finds it (duplicate_key). The exporter's own members
// never replace an attribute: each takes the first of its name, "_" + name,
// "__" + name, … that no attribute of the record has (see noteKey).
func (r *record) details(includeBody bool, c *completion) []eventsapi.Detail {
	attrs, res := r.lr.Attributes(), r.res.Attributes()
	// At most one member per attribute left in them and the four of the
	// exporter's own; ends[i] is where details[i]'s value ends in buf.
	details := c.details[:0]
	if most := attrs.Len() - r.consumedAttrs + 4; most > len(c.details) {
		details = make([]eventsapi.Detail, 0, most)
	}
	ends := make([]int, 0, 16)
	buf := c.buf[:0]
	var taken keySet
	for k, v := range attrs.All() {
		key := r.valid(k)
		if taken.add(key) {
			r.repairs |= Repairs(RepairDuplicateKey)
			continue
		}
		if !consumed(key) {
			buf = r.appendValue(buf, v, 1)
			details, ends = append(details, eventsapi.Detail{Key: key}), append(ends, len(buf))
		}
	}
	if body := r.lr.Body(); includeBody && body.Type() != pcommon.ValueTypeEmpty {
		buf = r.appendValue(buf, body, 1)
		details, ends = append(details, eventsapi.Detail{Key: noteKey("body", taken.has)}), append(ends, len(buf))
	}
	if id := r.lr.TraceID(); !id.IsEmpty() {
		buf = appendHexString(buf, id[:])
		details, ends = append(details, eventsapi.Detail{Key: noteKey("trace_id", taken.has)}), append(ends, len(buf))
	}
	if id := r.lr.SpanID(); !id.IsEmpty() {
		buf = appendHexString(buf, id[:])
		details, ends = append(details, eventsapi.Detail{Key: noteKey("span_id", taken.has)}), append(ends, len(buf))
	}
	if res.Len() > 0 {
		buf = r.appendMap(buf, res, consumed, 1)
		details, ends = append(details, eventsapi.Detail{Key: noteKey("resource", taken.has)}), append(ends, len(buf))
	}
	start := 0
	for i, end := range ends {
		details[i].JSON = buf[start:end:end]
		start = end
	}
	return details
}

// appendHexString appends id in hex as a JSON string, which needs no
// escaping.
func appendHexString(buf, id []byte) []byte {
	buf = hex.AppendEncode(append(buf, '"'), id)
	return append(buf, '"')
}

// detailsBufSize is the starting capacity of the buffer custom_details are
// encoded into, in bytes: a typical alert's details (200 to 400 bytes) fit,
// so that the buffer needs no allocation past the completion it is part of,
// and the completion, with the allocator's 8-byte header, fits its 896-byte
// size class (the next is 1024).
const detailsBufSize = 448

// noteKey returns the key of one of the exporter's own custom_details
// members: name, or the first of "_" + name, "__" + name, … that is not
// taken. None of the exporter's names starts with "_", so two of its
// members never meet either.
func noteKey(name string, taken func(string) bool) string {
	for taken(name) {
		name = "_" + name
	}
	return name
}

// payloadHash is the 64-bit FNV-1a hash of severity, a zero byte and
// summary, the hash the dedup cache has always stored. It is written out
// rather than taken from hash/fnv, whose hasher and byte slices cost more
// than the hashing on every record.
func payloadHash(severity, summary string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := range len(severity) {
		h = (h ^ uint64(severity[i])) * prime
	}
	h *= prime // the zero byte between the two
	for i := range len(summary) {
		h = (h ^ uint64(summary[i])) * prime
	}
	return h
}
