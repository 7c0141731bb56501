// Package recordmap turns one log record into one Events API event. It owns
// the record contract (which attributes feed which PagerDuty field) and the
// repairs that keep every event within PagerDuty's rules: truncation,
// hashing, defaulting and shedding custom details.
package recordmap // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"

// Record attributes of the contract. Each is looked up on the record first,
// then on its resource.
const (
	AttrEventType    = "pagerduty.event_type"
	AttrEventAction  = "pagerduty.event_action"
	AttrDedupKey     = "pagerduty.dedup_key"
	AttrClient       = "pagerduty.client"
	AttrClientURL    = "pagerduty.client_url"
	AttrStatus       = "alert.status"
	AttrFingerprint  = "alert.fingerprint"
	AttrName         = "alert.name"
	AttrSummary      = "alert.summary"
	AttrSeverity     = "alert.severity"
	AttrSource       = "alert.source"
	AttrComponent    = "alert.component"
	AttrGroup        = "alert.group"
	AttrClass        = "alert.class"
	AttrRunbookURL   = "alert.runbook_url"
	AttrDashboardURL = "alert.dashboard_url"
	AttrLinks        = "alert.links"
	AttrImages       = "alert.images"
	// AttrGeneratorURL is the URL of what raised the alert (Prometheus'
	// generatorURL, a Grafana rule): client_url when the record has no
	// pagerduty.client_url. It stays in custom_details, like alert.name.
	AttrGeneratorURL = "alert.generator_url"

	// Resource attributes used as fallbacks for payload.source.
	AttrHostName    = "host.name"
	AttrServiceName = "service.name"
)

// consumed reports whether an attribute becomes a PagerDuty field of its own
// and so is left out of custom_details. alert.name stays in the details: it
// names the alert even when the summary came from elsewhere.
func consumed(name string) bool {
	switch name {
	case AttrEventType, AttrEventAction, AttrDedupKey, AttrClient, AttrClientURL, AttrStatus, AttrFingerprint,
		AttrSummary, AttrSeverity, AttrSource, AttrComponent, AttrGroup, AttrClass,
		AttrRunbookURL, AttrDashboardURL, AttrLinks, AttrImages:
		return true
	}
	return false
}
