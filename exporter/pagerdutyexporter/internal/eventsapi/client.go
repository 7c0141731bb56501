package eventsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Paths of the two Events API endpoints, relative to the configured base URL
// (https://events.pagerduty.com, or https://events.eu.pagerduty.com for
// accounts in the EU service region).
const (
	// EnqueuePath takes alert events
	// (https://developer.pagerduty.com/docs/send-alert-event).
	EnqueuePath = "/v2/enqueue"
	// ChangeEnqueuePath takes change events
	// (https://developer.pagerduty.com/docs/send-change-event).
	ChangeEnqueuePath = "/v2/change/enqueue"
)

// maxResponseBytes bounds how much of a response body is read: PagerDuty's
// bodies are small, and a misbehaving proxy must not make us buffer a page.
const maxResponseBytes = 64 * 1024

// Client sends events to one Events API base URL. It makes exactly one
// attempt per call: retries belong to the collector's retry sender.
type Client struct {
	http          *http.Client
	enqueueURL    string
	changeURL     string
	userAgent     string
	maxRetryAfter time.Duration
	redact        *Redactor
	bufs          sync.Pool
}

// Option configures a Client.
type Option func(*Client)

// WithRedactor makes the client remove routing keys (see Redactor) from the
// errors it returns: from the server's messages, whether PagerDuty's or an
// echoing proxy's, and from transport errors.
func WithRedactor(r *Redactor) Option {
	return func(c *Client) { c.redact = r }
}

// NewClient returns a client for the Events API at baseURL (for example
// https://events.pagerduty.com), sending requests through httpClient.
//
// maxRetryAfter caps the delay a server may ask for with Retry-After; 0
// means no cap. Without one, a proxy answering `Retry-After: 999999` would
// make the retry sender give up on the event at once.
//
// The client never follows redirects: it sets httpClient.CheckRedirect. The
// Events API does not redirect, so a 3xx means something is in the way (a
// captive portal, a misrouted proxy), and following it would hand the
// routing key and any configured headers to another host.
func NewClient(httpClient *http.Client, baseURL, userAgent string, maxRetryAfter time.Duration, opts ...Option) *Client {
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := strings.TrimRight(baseURL, "/")
	c := &Client{
		http:          httpClient,
		enqueueURL:    base + EnqueuePath,
		changeURL:     base + ChangeEnqueuePath,
		userAgent:     userAgent,
		maxRetryAfter: maxRetryAfter,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Outcome is what became of one event sent to the Events API, decided once,
// from the response, by classify.
type Outcome uint8

const (
	// Accepted: PagerDuty answered 2xx and has the event.
	Accepted Outcome = iota
	// Rejected: PagerDuty refused the event and would refuse it again:
	// resending the same event cannot succeed.
	Rejected
	// Throttled: PagerDuty answered 429: it refused the event for now, and
	// Result.RetryAfter holds the delay it asked for, if any.
	Throttled
	// Failed: no answer, a 408, a 5xx or a redirect: the event may not have
	// arrived, and resending it may succeed.
	Failed
)

var outcomeNames = [...]string{Accepted: "accepted", Rejected: "rejected", Throttled: "throttled", Failed: "failed"}

// String is the outcome's name in metrics.
func (o Outcome) String() string { return outcomeNames[o] }

// Outcomes lists every outcome, for telemetry that is prepared ahead.
var Outcomes = [...]Outcome{Accepted, Rejected, Throttled, Failed}

// Result is what one Send learned of the server's answer. It says what
// happened, not what to do about it: whether and when to retry is the
// caller's decision, made from Outcome and RetryAfter.
type Result struct {
	// Outcome is what became of the event.
	Outcome Outcome
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Path is the endpoint path the event went to.
	Path string
	// Err is nil when Accepted, else what went wrong: a *StatusError when
	// the server answered, the transport's error when it did not. It never
	// holds a routing key when the client has a Redactor.
	Err error
	// RetryAfter is the delay the server asked for before a retry
	// (Retry-After or ratelimit-reset on a 429 or 503), capped by the
	// client's maxRetryAfter. 0 when it asked for none, and also when it
	// asked to retry at once: either way the caller's own back-off applies.
	RetryAfter time.Duration
}

// Unknown reports whether a failed event may have reached PagerDuty all the
// same: no answer came once the request could have been written (a timeout,
// a reset connection), or the server or a gateway failed midway (408, 500,
// 502, 504). A refused connection, a redirect, 429 and 503 are answers given
// before the event was taken, and Accepted and Rejected are known.
func (r Result) Unknown() bool {
	if r.Outcome != Failed {
		return false
	}
	switch r.StatusCode {
	case 0:
		var opErr *net.OpError
		return !errors.As(r.Err, &opErr) || opErr.Op != "dial"
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Send posts ev to its endpoint, once. The body is built afresh for this
// attempt.
func (c *Client) Send(ctx context.Context, ev *Event) Result {
	path, url := EnqueuePath, c.enqueueURL
	if ev.IsChange() {
		path, url = ChangeEnqueuePath, c.changeURL
	}

	buf, _ := c.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer c.bufs.Put(buf)
	*buf = ev.AppendJSON((*buf)[:0])

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(*buf))
	if err != nil {
		return Result{Outcome: Rejected, Path: path, Err: fmt.Errorf("building request to %s: %w", path, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	httpResp, err := c.http.Do(req)
	if err != nil {
		return Result{Outcome: Failed, Path: path, Err: c.redact.Error(fmt.Errorf("sending event to %s: %w", path, err))}
	}
	defer httpResp.Body.Close()
	var body []byte
	if httpResp.StatusCode >= 200 && httpResp.StatusCode < 300 {
		// Drained, not read: the connection is reused and nothing is kept.
		_, _ = io.Copy(io.Discard, io.LimitReader(httpResp.Body, maxResponseBytes))
	} else {
		body, _ = io.ReadAll(io.LimitReader(httpResp.Body, maxResponseBytes))
	}
	res := classify(httpResp, body, time.Now(), c.maxRetryAfter, c.redact)
	res.Path = path
	return res
}

// classify maps an Events API response to an outcome, following PagerDuty's
// retry table
// (https://developer.pagerduty.com/docs/events-api-v2-overview#response-codes--retry-logic):
// 2xx is Accepted; 429 is Throttled, with the delay Retry-After (or
// ratelimit-reset) asks for up to maxRetryAfter (0: no cap); 408 and 5xx
// have Failed, and a 503 that asks for a delay carries it too; a 3xx has
// Failed and names only the host it pointed to; every other status is
// Rejected, since resending the same event cannot succeed. The table names only 202, 400,
// 429, 5xx and network errors; other statuses are read by their HTTP
// meaning: any 2xx is an acceptance, a 408 says nothing of the event, and
// the table's "no retry" for 400 extends to every other 4xx, which resending
// the same body cannot change. The Events API documents no Retry-After; a
// proxy in front of it may send one, and PagerDuty's REST API sends
// ratelimit-reset (https://developer.pagerduty.com/docs/rest-api-rate-limits).
//
// The error's messages pass through redact (nil: none): the body before it
// is parsed or cut to an excerpt, so that no cut leaves part of a key behind,
// and each message after parsing, since JSON escapes may have hidden a key
// from the first pass.
func classify(resp *http.Response, body []byte, now time.Time, maxRetryAfter time.Duration, redact *Redactor) Result {
	code := resp.StatusCode
	res := Result{StatusCode: code}
	if code >= 200 && code < 300 {
		res.Outcome = Accepted
		return res
	}
	if redact != nil && len(body) > 0 {
		body = []byte(redact.Redact(string(body)))
	}
	err := &StatusError{Code: code, Messages: redact.Strings(errorMessages(body))}
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		res.Outcome, res.Err = Failed, err
		if code == http.StatusTooManyRequests {
			res.Outcome = Throttled
		}
		if delay, ok := retryDelay(resp.Header, now); ok {
			if maxRetryAfter > 0 {
				delay = min(delay, maxRetryAfter)
			}
			res.RetryAfter = delay
		}
	case code >= 300 && code < 400:
		// The body and the full Location may carry what the redirecting host
		// echoed back; its name is enough to find it.
		err.Messages = []string{"redirect refused"}
		if loc, locErr := resp.Location(); locErr == nil && loc.Host != "" {
			err.Messages[0] = "redirect to " + redact.Redact(loc.Host) + " refused"
		}
		res.Outcome, res.Err = Failed, err
	case code == http.StatusRequestTimeout || code >= 500:
		res.Outcome, res.Err = Failed, err
	default:
		res.Outcome, res.Err = Rejected, err
	}
	return res
}

// StatusError is a non-2xx answer from the Events API.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Messages are PagerDuty's explanations, from either body shape it uses.
	Messages []string
}

// Error gives the status and PagerDuty's messages, which never hold a
// routing key when the client has a Redactor.
func (e *StatusError) Error() string {
	if len(e.Messages) == 0 {
		return fmt.Sprintf("events API responded %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("events API responded %d %s: %s", e.Code, http.StatusText(e.Code), strings.Join(e.Messages, "; "))
}

// errorMessages reads PagerDuty's error bodies, which come in two shapes:
// {"status","message","errors":[...]} on the alert endpoint and
// {"error":[...]} (or {"error":"..."}) on some change-event validations.
// Anything else, such as a proxy's HTML page, yields a trimmed excerpt.
func errorMessages(body []byte) []string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	var parsed struct {
		Status  string          `json:"status"`
		Message string          `json:"message"`
		Errors  []string        `json:"errors"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		const excerpt = 200
		s := strings.ToValidUTF8(string(body), "\uFFFD")
		if len(s) > excerpt {
			s = s[:excerpt] + "…"
		}
		return []string{s}
	}
	var msgs []string
	if parsed.Message != "" {
		msgs = append(msgs, parsed.Message)
	} else if parsed.Status != "" {
		msgs = append(msgs, parsed.Status)
	}
	msgs = append(msgs, parsed.Errors...)
	if len(parsed.Error) > 0 {
		var list []string
		var one string
		switch {
		case json.Unmarshal(parsed.Error, &list) == nil:
			msgs = append(msgs, list...)
		case json.Unmarshal(parsed.Error, &one) == nil:
			msgs = append(msgs, one)
		default:
			msgs = append(msgs, string(parsed.Error))
		}
	}
	return msgs
}

// retryDelay reads how long the server asked us to wait: Retry-After as
// delay-seconds or an HTTP date, else ratelimit-reset in seconds, which
// PagerDuty's REST API sends.
func retryDelay(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if date, err := http.ParseTime(v); err == nil {
			return max(date.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("Ratelimit-Reset")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
	}
	return 0, false
}
