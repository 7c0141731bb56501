package eventsapi

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsRulesetKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"R0212P1QXGEIQE2NMTQ7L7WXD00DWHIN", true},    // the form PagerDuty's Rulesets API returns
		{" R0212P1QXGEIQE2NMTQ7L7WXD00DWHIN\n", true}, // read with ${file:...}
		{"0123456789abcdef0123456789abcdef", false},
		{"r0212p1qxgeiqe2nmtq7l7wxd00dwhin", false}, // only a capital R marks a ruleset key
		{"", false},
	} {
		assert.Equal(t, tc.want, IsRulesetKey(tc.key), "IsRulesetKey(%q)", tc.key)
	}
}

func TestURLRules(t *testing.T) {
	for _, tc := range []struct {
		in          string
		http, https bool
	}{
		{"https://grafana.example.com/d/abc?orgId=1&var-x=a%20b#panel", true, true},
		{"HTTPS://EXAMPLE.COM/", true, true},
		{"http://prometheus:9090/graph?g0.expr=up", true, false},
		{"https://[::1]:8443/x", true, true},
		{"", false, false},
		{"/relative/path", false, false},
		{"example.com/no-scheme", false, false},
		{"ftp://example.com/file", false, false},
		{"javascript:alert(1)", false, false},
		{"data:image/png;base64,AAAA", false, false},
		{"mailto:oncall@example.com", false, false},
		{"https://", false, false},
		{"https://:443/no-host", false, false},
		{"https:opaque", false, false},
		{"https://example.com/a b", false, false},
		{"https://example.com/\x01", false, false},
		{" https://example.com/", false, false}, // callers trim; a space inside is never a URL
		{"https://exa mple.com/", false, false},
		{"http://%zz", false, false},
		{"https://h/%41%2f", true, true},
		{"https://h/%4", false, false},
		{"https://h/%4g?x", false, false},
		{"https://user:pw@h.example.com:8443/p", false, false}, // no credentials in links
		{"https://h.example.com:8443/p", true, true},
		{"https://h.example.com:8x/", false, false},
		{"https://h.example.com:/", true, true}, // an empty port is allowed, as net/url allows it
		{"https://h?q=1", true, true},
		{"https://h#frag", true, true},
		{"https://bücher.example/straße", true, true},
		{"https://h/\u00a0nbsp", false, false},
		{"https://h/\u2028", false, false},
		{"https://[fe80::1%25en0]:8080/", false, false}, // no zones
		{"https://[2001:db8::1]:8080/", true, true},
		{"https://[127.0.0.1]/", false, false},
		{"https://h:1:2/", false, false},
		{"https://h%41/", false, false},
		{"https://h_-.~/", true, true},
		{"https://h/\xff", false, false},
		{"https://[::1/", false, false},
		{"https://[example.com]/", false, false},
		{"https://[::1]x/", false, false},
		{"https://h\"x/", false, false},
		{"https://h/\"quoted\"", true, true}, // net/url takes it; JSON escapes it
		{"https://h/<tag>", true, true},
	} {
		assert.Equal(t, tc.http, IsHTTPURL(tc.in), "IsHTTPURL(%q)", tc.in)
		assert.Equal(t, tc.https, IsHTTPSURL(tc.in), "IsHTTPSURL(%q)", tc.in)
	}
}

// FuzzURLRulesAgreeWithNetURL: what IsHTTPURL accepts, net/url parses as an
// absolute http(s) URL with a host (the rules are written out by hand so
// that checking a link allocates nothing).
func FuzzURLRulesAgreeWithNetURL(f *testing.F) {
	for _, s := range []string{"https://a.example/x?y#z", "http://[::1]:80/", "https://h:1/%41", "HTTP://H", "https://h/<>\"", "https://[fe80::1]/", "https://bücher.example/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsHTTPURL(s) {
			assert.False(t, IsHTTPSURL(s), "https is a subset of http(s)")
			return
		}
		u, err := url.Parse(s)
		require.NoError(t, err, "%q", s)
		assert.Contains(t, []string{"http", "https"}, u.Scheme)
		assert.NotEmpty(t, u.Hostname(), "%q", s)
		assert.Equal(t, u.Scheme == "https", IsHTTPSURL(s), "%q", s)
		assert.False(t, strings.ContainsAny(s, " \t\r\n"), "%q", s)
	})
}

// TestClientOnTriggersOnly: PagerDuty reads client and client_url from
// triggers only, so no other event carries them on the wire.
func TestClientOnTriggersOnly(t *testing.T) {
	for _, tc := range []struct {
		action Action
		want   bool
	}{
		{Trigger, true},
		{Acknowledge, false},
		{Resolve, false},
		{Change, false},
	} {
		t.Run(string(tc.action), func(t *testing.T) {
			ev := testEvent(tc.action)
			ev.Client = "OpenTelemetry Collector"
			ev.ClientURL = "https://grafana.example.com/alerting/list"
			var got map[string]any
			require.NoError(t, json.Unmarshal(ev.AppendJSON(nil), &got))
			if tc.want {
				assert.Equal(t, "OpenTelemetry Collector", got["client"])
				assert.Equal(t, "https://grafana.example.com/alerting/list", got["client_url"])
			} else {
				assert.NotContains(t, got, "client")
				assert.NotContains(t, got, "client_url")
			}
		})
	}

	ev := testEvent(Trigger)
	var got map[string]any
	require.NoError(t, json.Unmarshal(ev.AppendJSON(nil), &got))
	assert.NotContains(t, got, "client", "an empty client is left out")
	assert.NotContains(t, got, "client_url", "an empty client_url is left out")
}

func TestAppendStringValid(t *testing.T) {
	for in, want := range map[string]struct {
		json  string
		valid bool
	}{
		"":              {`""`, true},
		"plain \"q\"\n": {`"plain \"q\"\n"`, true},
		"é 🚨":           {`"é 🚨"`, true},
		"a\xffb":        {`"a\ufffdb"`, false},
		"\xc3(":         {`"\ufffd("`, false},
	} {
		out, valid := AppendStringValid([]byte("x"), in)
		assert.Equal(t, "x"+want.json, string(out), "%q", in)
		assert.Equal(t, want.valid, valid, "%q", in)
	}
}
