package eventsapi

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsRulesetKey(t *testing.T) {
	for key, want := range map[string]bool{
		"R0212P1QXGEIQE2NMTQ7L7WXD00DWHIN":    true, // the form PagerDuty's Rulesets API returns
		" R0212P1QXGEIQE2NMTQ7L7WXD00DWHIN\n": true, // read with ${file:...}
		"0123456789abcdef0123456789abcdef":    false,
		"r0212p1qxgeiqe2nmtq7l7wxd00dwhin":    false, // only a capital R marks a ruleset key
		"":                                    false,
	} {
		assert.Equal(t, want, IsRulesetKey(key), "IsRulesetKey(%q)", key)
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
	} {
		assert.Equal(t, tc.http, IsHTTPURL(tc.in), "IsHTTPURL(%q)", tc.in)
		assert.Equal(t, tc.https, IsHTTPSURL(tc.in), "IsHTTPSURL(%q)", tc.in)
	}
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
