package recordmap

import (
	"math"
	"time"

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
	// TraceURL is the URL template of the trace link of triggers whose
	// record has a trace id (see CheckTraceURL); "" adds none, unless the
	// record has an alert.trace_url. TraceText is the link's text.
	TraceURL, TraceText string
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
	// the source said. With no arrival (0), it is Time, unrepaired,
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
	var trace eventsapi.Link
	if ev.Action == eventsapi.Trigger {
		trace = r.traceLink(out.opts)
	}
	ev.Links = r.links(c.links[:0], trace)
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

// HasTime reports whether lr carries a time the mapping uses: a Timestamp
// or ObservedTimestamp within range. A record without one is timed by its
// arrival.
func HasTime(lr plog.LogRecord) bool { return RecordTime(lr) != 0 }
