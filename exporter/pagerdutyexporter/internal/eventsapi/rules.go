package eventsapi

import (
	"net/url"
	"strings"
	"unicode"
)

// RejectChangeToRulesetKey is the reason a change event is dropped before
// sending when its routing key is a ruleset key: PagerDuty's Events API v2
// overview says "change events cannot be sent to ruleset integration keys
// (these keys begin with the character R)"
// (https://developer.pagerduty.com/docs/events-api-v2/overview).
const RejectChangeToRulesetKey = "change_to_ruleset_key"

// IsRulesetKey reports whether routingKey is a ruleset (global event
// routing) integration key, which takes alert events but no change events.
// Surrounding white space is ignored, as the router drops it.
func IsRulesetKey(routingKey string) bool {
	return strings.HasPrefix(strings.TrimSpace(routingKey), "R")
}

// IsHTTPURL reports whether s is an absolute http or https URL with a host
// and no white space or control characters: what a link's href, an image's
// href and client_url must be for PagerDuty to show them as links.
func IsHTTPURL(s string) bool { return validURL(s, false) }

// IsHTTPSURL reports whether s is an absolute https URL: PagerDuty serves
// an image's src only over HTTPS.
func IsHTTPSURL(s string) bool { return validURL(s, true) }

func validURL(s string, httpsOnly bool) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Hostname() == "" {
		return false
	}
	switch u.Scheme { // url.Parse lowercases it
	case "https":
		return true
	case "http":
		return !httpsOnly
	}
	return false
}
