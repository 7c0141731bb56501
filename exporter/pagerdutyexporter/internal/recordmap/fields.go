package recordmap

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

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
