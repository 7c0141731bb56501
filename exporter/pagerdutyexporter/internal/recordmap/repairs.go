package recordmap

import (
	"iter"
	"strconv"
)

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
