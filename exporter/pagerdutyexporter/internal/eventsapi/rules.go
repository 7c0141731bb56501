package eventsapi

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RejectChangeToRulesetKey is the reason a change event is dropped before
// sending when its routing key is a ruleset key: "change events cannot be
// sent to ruleset integration keys (these keys begin with the character R)"
// (https://developer.pagerduty.com/docs/events-api-v2-overview#getting-started).
// Checking before sending spends neither a request nor a slot of the key's
// rate limit on an event PagerDuty would not take.
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

// IsHTTPSURL reports whether s is an absolute https URL: an image's src
// "must be served via HTTPS"
// (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty).
func IsHTTPSURL(s string) bool { return validURL(s, true) }

// validURL checks, without allocating, that s is scheme "://" host
// [":" port] [path] ["?" query] ["#" fragment] with an http or https scheme
// (any case). The host is a name of letters, digits, "-", ".", "_", "~" and
// non-ASCII characters, or a bracketed IPv6 address; the port is digits. No
// white space or control characters anywhere, and every "%" is followed by
// two hex digits. These rules are a subset of what net/url parses (the fuzz
// test holds them to it): user information ("user:password@") and IPv6
// zones are refused, as alerts have no use for either.
func validURL(s string, httpsOnly bool) bool {
	var rest string
	switch {
	case hasPrefixFold(s, "https://"):
		rest = s[len("https://"):]
	case !httpsOnly && hasPrefixFold(s, "http://"):
		rest = s[len("http://"):]
	default:
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f:
			return false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
				return false
			}
			i += size - 1
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		}
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return false
		}
		addr, err := netip.ParseAddr(host[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return false
		}
		port = host[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
	} else {
		if i := strings.IndexByte(host, ':'); i >= 0 {
			host, port = host[:i], host[i:]
		}
		if host == "" {
			return false
		}
		for i := 0; i < len(host); i++ {
			if c := host[i]; c < utf8.RuneSelf && !isHostByte(c) {
				return false
			}
		}
	}
	return port == "" || strings.Trim(port[1:], "0123456789") == ""
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
