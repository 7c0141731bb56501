package recordmap

import (
	"encoding/hex"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// links keeps the links whose href is an absolute http(s) URL: the
// runbook, the dashboard, trace (see traceLink), then alert.links. An empty
// href is no link, any other is dropped (link_invalid). They are appended
// to links, which is empty.
func (r *record) links(links []eventsapi.Link, trace eventsapi.Link) []eventsapi.Link {
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
	add(trace.Href, trace.Text)
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
