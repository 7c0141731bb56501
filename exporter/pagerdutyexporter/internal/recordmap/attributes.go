// Package recordmap turns one log record into one Events API event. It owns
// the record contract (which attributes feed which PagerDuty field) and the
// repairs that keep every event within PagerDuty's rules: truncation,
// hashing, defaulting and shedding custom details.
package recordmap // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"

// Record attributes of the contract. Each is looked up on the record first,
// then on its resource. Values that are not strings are used as text
// (value_converted); attributes that do not become a field of their own go
// to custom_details.
const (
	// AttrEventType is "alert" (the default) or "change"; any other value
	// rejects the record.
	AttrEventType = "pagerduty.event_type"
	// AttrEventAction is trigger, acknowledge or resolve, and takes
	// precedence over AttrStatus; any other value rejects the record.
	AttrEventAction = "pagerduty.event_action"
	// AttrDedupKey is the dedup_key, as it is. Longer than
	// eventsapi.MaxDedupKeyLen, it is replaced by its SHA-256 in hex.
	AttrDedupKey = "pagerduty.dedup_key"
	// AttrClient and AttrClientURL are a trigger's client and client_url.
	AttrClient    = "pagerduty.client"
	AttrClientURL = "pagerduty.client_url"
	// AttrStatus gives the action in the words alerting tools use: firing,
	// acknowledged, resolved and their synonyms. Absent means trigger; any
	// other value rejects the record.
	AttrStatus = "alert.status"
	// AttrFingerprint is the dedup_key when AttrDedupKey is absent.
	AttrFingerprint = "alert.fingerprint"
	// AttrName names the alert: the summary when there is neither
	// AttrSummary nor a string body, and part of a derived dedup_key.
	AttrName = "alert.name"
	// AttrSummary is payload.summary.
	AttrSummary = "alert.summary"
	// AttrSeverity is payload.severity, in PagerDuty's words or a synonym
	// (crit, warn, P1, ...).
	AttrSeverity = "alert.severity"
	// AttrSource is payload.source.
	AttrSource = "alert.source"
	// AttrComponent, AttrGroup and AttrClass are payload.component, group
	// and class.
	AttrComponent = "alert.component"
	AttrGroup     = "alert.group"
	AttrClass     = "alert.class"
	// AttrRunbookURL and AttrDashboardURL are links titled Runbook and
	// Dashboard.
	AttrRunbookURL   = "alert.runbook_url"
	AttrDashboardURL = "alert.dashboard_url"
	// AttrLinks adds links: a URL, a list of URLs, or maps with href and
	// text.
	AttrLinks = "alert.links"
	// AttrImages adds images: an https URL, a list of them, or maps with
	// src, href and alt.
	AttrImages = "alert.images"
	// AttrGeneratorURL is the URL of what raised the alert (Prometheus'
	// generatorURL, a Grafana rule): client_url when the record has no
	// pagerduty.client_url. It stays in custom_details, like alert.name.
	AttrGeneratorURL = "alert.generator_url"
	// AttrResolveAfter is a firing alert's quiet period, a Go duration
	// ("15m", "90s"): the exporter resolves the alert once no firing record
	// of it has come for that long. "0s" or "0": never.
	AttrResolveAfter = "alert.resolve_after"
	// AttrTraceURL is the URL template of a trigger's trace link, in place
	// of Options.TraceURL: {trace_id} and {span_id} are filled in from the
	// record's trace context. "" adds no trace link to its trigger.
	AttrTraceURL = "alert.trace_url"

	// Resource attributes used as fallbacks for payload.source.
	AttrHostName    = "host.name"
	AttrServiceName = "service.name"
)

// consumed reports whether an attribute becomes a PagerDuty field of its own
// and so is left out of custom_details. alert.name stays in the details: it
// names the alert even when the summary came from elsewhere; so does
// alert.generator_url.
func consumed(name string) bool {
	a, ok := attrOf(name)
	return ok && a.consumed()
}

// attr is the index of an attribute the mapping reads in record.attrs.
// Looking each up by name would scan the record's and the resource's
// attributes once per name, most of them absent: one pass over both finds
// them all.
type attr uint8

const (
	attrEventType attr = iota
	attrEventAction
	attrDedupKey
	attrClient
	attrClientURL
	attrStatus
	attrFingerprint
	attrName
	attrSummary
	attrSeverity
	attrSource
	attrComponent
	attrGroup
	attrClass
	attrRunbookURL
	attrDashboardURL
	attrLinks
	attrImages
	attrGeneratorURL
	attrResolveAfter
	attrTraceURL
	// The record contract's attributes come before attrRouting.

	// attrRouting is Options.RoutingAttribute, whatever its name.
	attrRouting
	// attrHostName and attrServiceName are read on the resource only: they
	// name the resource, not the record.
	attrHostName
	attrServiceName
	attrCount
)

// consumed reports whether the record attribute a becomes a PagerDuty
// field of its own (see the function consumed).
func (a attr) consumed() bool { return a < attrRouting && a != attrName && a != attrGeneratorURL }

// attrOf returns the index of a contract attribute, false for any other
// name.
func attrOf(name string) (attr, bool) {
	switch name {
	case AttrEventType:
		return attrEventType, true
	case AttrEventAction:
		return attrEventAction, true
	case AttrDedupKey:
		return attrDedupKey, true
	case AttrClient:
		return attrClient, true
	case AttrClientURL:
		return attrClientURL, true
	case AttrStatus:
		return attrStatus, true
	case AttrFingerprint:
		return attrFingerprint, true
	case AttrName:
		return attrName, true
	case AttrSummary:
		return attrSummary, true
	case AttrSeverity:
		return attrSeverity, true
	case AttrSource:
		return attrSource, true
	case AttrComponent:
		return attrComponent, true
	case AttrGroup:
		return attrGroup, true
	case AttrClass:
		return attrClass, true
	case AttrRunbookURL:
		return attrRunbookURL, true
	case AttrDashboardURL:
		return attrDashboardURL, true
	case AttrLinks:
		return attrLinks, true
	case AttrImages:
		return attrImages, true
	case AttrGeneratorURL:
		return attrGeneratorURL, true
	case AttrResolveAfter:
		return attrResolveAfter, true
	case AttrTraceURL:
		return attrTraceURL, true
	case AttrHostName:
		return attrHostName, true
	case AttrServiceName:
		return attrServiceName, true
	}
	return 0, false
}
