package eventsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const otherKey = "R0ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"

// leaks returns the first RedactFragment-byte piece of a key found in s.
func leaks(s string, keys ...string) string {
	for _, key := range keys {
		for i := 0; i+RedactFragment <= len(key); i++ {
			if strings.Contains(s, key[i:i+RedactFragment]) {
				return key[i : i+RedactFragment]
			}
		}
	}
	return ""
}

func TestRedact(t *testing.T) {
	r := NewRedactor(testKey, " "+otherKey+"\n", "", "shortkey")
	tests := []struct {
		name, in, want string
	}{
		{name: "no key", in: "events API responded 400 Bad Request: Event object is invalid", want: "events API responded 400 Bad Request: Event object is invalid"},
		{name: "empty", in: "", want: ""},
		{name: "whole key", in: testKey, want: Redacted},
		{name: "key in JSON", in: `{"routing_key":"` + testKey + `","event_action":"trigger"}`, want: `{"routing_key":"[REDACTED]","event_action":"trigger"}`},
		{name: "key read with surrounding white space", in: "k=" + otherKey + ".", want: "k=[REDACTED]."},
		{name: "first 16 characters", in: "x" + testKey[:16] + "y", want: "x[REDACTED]y"},
		{name: "last 16 characters at the end of the text", in: "key ends in " + testKey[16:], want: "key ends in [REDACTED]"},
		{name: "16 characters from the middle", in: "(" + testKey[7:23] + ")", want: "([REDACTED])"},
		{name: "15 characters are kept", in: "(" + testKey[:15] + ")", want: "(" + testKey[:15] + ")"},
		{name: "two keys back to back are one run", in: "a" + testKey + otherKey + "b", want: "a[REDACTED]b"},
		{name: "a key repeated", in: testKey + " and " + testKey, want: "[REDACTED] and [REDACTED]"},
		{name: "fragments of two keys", in: testKey[:20] + "|" + otherKey[10:], want: "[REDACTED]|[REDACTED]"},
		{name: "a fragment inside a longer run of key characters", in: "0000" + testKey[3:25] + "ffff", want: "0000[REDACTED]ffff"},
		{name: "a key shorter than a fragment is removed whole", in: "a shortkey b shortke", want: "a [REDACTED] b shortke"},
		{name: "multi-byte text around a key", in: "é" + testKey + "…", want: "é[REDACTED]…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Redact(tc.in)
			assert.Equal(t, tc.want, got)
			assert.Empty(t, leaks(got, testKey, otherKey))
		})
	}
}

func TestRedactNilAndEmpty(t *testing.T) {
	var nilR *Redactor
	in := "x " + testKey
	assert.Equal(t, in, nilR.Redact(in))
	assert.Equal(t, in, NewRedactor().Redact(in))
	assert.Equal(t, in, NewRedactor("", "  ").Redact(in))
	assert.Equal(t, []string{in}, nilR.Strings([]string{in}))
	err := errors.New(in)
	assert.Same(t, err, nilR.Error(err))
	assert.NoError(t, NewRedactor(testKey).Error(nil))
}

// TestRedactRandomText hides fragments of random length at random places
// in random text built from the keys' own alphabet, and checks that no
// RedactFragment-byte piece of a key survives.
func TestRedactRandomText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{testKey, otherKey}
	r := NewRedactor(keys...)
	const alphabet = "0123456789abcdefABCDEFR {}\":,"
	for i := range 2000 {
		var b strings.Builder
		for range rng.IntN(6) {
			for range rng.IntN(40) {
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
			key := keys[rng.IntN(len(keys))]
			from := rng.IntN(len(key))
			to := from + rng.IntN(len(key)-from+1)
			b.WriteString(key[from:to])
		}
		in := b.String()
		if got := r.Redact(in); leaks(got, keys...) != "" {
			t.Fatalf("case %d: %q survives in %q (from %q)", i, leaks(got, keys...), got, in)
		}
	}
}

func TestRedactAllocatesNothingWithoutAKey(t *testing.T) {
	r := NewRedactor(testKey, otherKey)
	msg := strings.Repeat(`{"status":"invalid event","message":"Event object is invalid","errors":["'payload.source' is missing"]} `, 20)
	allocs := testing.AllocsPerRun(100, func() { _ = r.Redact(msg) })
	assert.Zero(t, allocs)
}

func TestRedactError(t *testing.T) {
	r := NewRedactor(testKey)
	plain := errors.New("no key here")
	assert.Same(t, plain, r.Error(plain), "an error without a key is returned as it is")

	inner := &StatusError{Code: 400, Messages: []string{"echo " + testKey}}
	kind := errors.New("kind")
	err := r.Error(fmt.Errorf("routing %q: %w: %w", "checkout", kind, inner))
	assert.Equal(t, `routing "checkout": kind: events API responded 400 Bad Request: echo [REDACTED]`, err.Error())
	require.ErrorIs(t, err, kind, "what wraps the error is still seen")
	var se *StatusError
	require.ErrorAs(t, err, &se, "still a StatusError")
	assert.Equal(t, 400, se.Code)
}

// TestSendRedactsEchoedKeys: a server (a proxy, a WAF, a gateway) that
// echoes the request, and with it the routing key, in its error body in any
// shape leaves no key and no RedactFragment-byte piece of one in the
// error, while the outcome stays what the status says.
func TestSendRedactsEchoedKeys(t *testing.T) {
	// Each shape writes the request body into the response.
	shapes := map[string]func(req string) (contentType, body string){
		"raw echo": func(req string) (string, string) { return "application/json", req },
		"PagerDuty shape quoting the request": func(req string) (string, string) {
			return "application/json", fmt.Sprintf(`{"status":"invalid event","message":"Event object is invalid","errors":[%q]}`, "request was: "+req)
		},
		"change shape quoting the request": func(req string) (string, string) {
			return "application/json", fmt.Sprintf(`{"error":[%q]}`, req)
		},
		"key hidden by JSON escapes": func(req string) (string, string) {
			var esc strings.Builder
			for _, c := range req {
				fmt.Fprintf(&esc, `\u%04x`, c)
			}
			return "application/json", `{"message":"blocked","errors":["` + esc.String() + `"]}`
		},
		"HTML page cutting the key at the excerpt's end": func(req string) (string, string) {
			// The excerpt is the first 200 bytes; the key starts 10 before
			// its end, so the cut leaves a piece shorter than a fragment.
			return "text/html", "<p>" + strings.Repeat("x", 190-3-len(`{"routing_key":"`)) + req + "</p>"
		},
		"plain text message": func(req string) (string, string) {
			return "text/plain", "Request blocked by policy 42. Request body: " + req
		},
	}
	statuses := []struct {
		status  int
		header  map[string]string
		outcome Outcome
	}{
		{400, nil, Rejected},
		{429, map[string]string{"Retry-After": "3"}, Throttled},
		{429, nil, Throttled},
		{500, nil, Failed},
		{502, nil, Failed},
		{503, map[string]string{"Retry-After": "1"}, Failed},
		{307, map[string]string{"Location": "http://" + testKey + ".example/?k=" + testKey}, Failed},
	}
	for _, st := range statuses {
		for name, shape := range shapes {
			t.Run(fmt.Sprintf("%d %v %s", st.status, st.header != nil, name), func(t *testing.T) {
				var echoed string
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					body, _ := io.ReadAll(req.Body)
					echoed = string(body)
					ct, out := shape(string(body))
					w.Header().Set("Content-Type", ct)
					for k, v := range st.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(st.status)
					_, _ = io.WriteString(w, out)
				}))
				defer srv.Close()

				ev := testEvent(Trigger)
				plain := NewClient(srv.Client(), srv.URL, "test", 0).Send(context.Background(), ev)
				require.Contains(t, echoed, testKey, "the request carries the key")
				if st.status != 307 && name != "raw echo" {
					// Without a redactor the key would be in the error: the
					// check below can fail.
					require.Contains(t, plain.Err.Error(), testKey[:10], "unredacted")
				}

				c := NewClient(srv.Client(), srv.URL, "test", 0, WithRedactor(NewRedactor(testKey, otherKey)))
				res := c.Send(context.Background(), ev)
				require.Error(t, res.Err)
				msg := res.Err.Error()
				assert.Empty(t, leaks(msg, testKey), "key fragment in %q", msg)
				assert.NotContains(t, msg, testKey[:10], "the body is redacted before it is cut to an excerpt")
				assert.Equal(t, st.outcome, res.Outcome)
				assert.Equal(t, st.status, res.StatusCode)
				var se *StatusError
				require.ErrorAs(t, res.Err, &se)
				for _, m := range se.Messages {
					assert.Empty(t, leaks(m, testKey))
				}
				if ra := st.header["Retry-After"]; ra != "" {
					assert.Equal(t, ra+"s", res.RetryAfter.String(), "the server's delay is kept")
				}
				if strings.Contains(name, "quoting") || name == "plain text message" {
					assert.Contains(t, msg, Redacted, "the message is quoted, the key replaced")
				}
			})
		}
	}
}

func TestSendRedactsTransportErrors(t *testing.T) {
	// A key in the endpoint (a misconfiguration validate refuses, but the
	// client does not rely on that) must not reach the error either.
	c := NewClient(&http.Client{}, "http://127.0.0.1:1/"+testKey, "test", 0, WithRedactor(NewRedactor(testKey)))
	res := c.Send(context.Background(), testEvent(Trigger))
	require.Error(t, res.Err)
	assert.Equal(t, Failed, res.Outcome)
	assert.Empty(t, leaks(res.Err.Error(), testKey), res.Err.Error())
	assert.Contains(t, res.Err.Error(), Redacted)
}

func BenchmarkRedact(b *testing.B) {
	r := NewRedactor(testKey, otherKey, "fedcba9876543210fedcba9876543210")
	for _, bc := range []struct{ name, text string }{
		{"message without key", `events API responded 400 Bad Request: Event object is invalid; 'payload.source' is missing or blank`},
		{"message with key", `events API responded 400 Bad Request: request was {"routing_key":"` + testKey + `","event_action":"trigger"}`},
		{"64KiB hex without key", strings.Repeat("13579bdf02468ace", 4096)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Redact(bc.text)
			}
		})
	}
}
