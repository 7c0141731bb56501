package eventsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Paths of the two Events API endpoints, relative to the configured base URL.
const (
	EnqueuePath       = "/v2/enqueue"
	ChangeEnqueuePath = "/v2/change/enqueue"
)

// maxResponseBytes bounds how much of a response body is read: PagerDuty's
// bodies are small, and a misbehaving proxy must not make us buffer a page.
const maxResponseBytes = 64 * 1024

// Client sends events to one Events API base URL. It makes exactly one
// attempt per call: retries belong to the collector's retry sender.
type Client struct {
	http       *http.Client
	enqueueURL string
	changeURL  string
	userAgent  string
	bufs       sync.Pool
}

// NewClient returns a client for the Events API at baseURL (for example
// https://events.pagerduty.com), sending requests through httpClient.
func NewClient(httpClient *http.Client, baseURL, userAgent string) *Client {
	base := strings.TrimRight(baseURL, "/")
	return &Client{
		http:       httpClient,
		enqueueURL: base + EnqueuePath,
		changeURL:  base + ChangeEnqueuePath,
		userAgent:  userAgent,
	}
}

// Response is what a call learned of the server's answer.
type Response struct {
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Path is the endpoint path the event went to.
	Path string
}

// Send posts ev to its endpoint. The body is built afresh for this attempt.
//
// The error, when not nil, is permanent (consumererror.IsPermanent) when
// PagerDuty refused the event and a retry would be refused too, a throttle
// (exporterhelper.NewThrottleRetry) when the server asked for a delay, and
// plain (retryable) otherwise.
func (c *Client) Send(ctx context.Context, ev *Event) (Response, error) {
	resp := Response{Path: EnqueuePath}
	url := c.enqueueURL
	if ev.IsChange() {
		resp.Path, url = ChangeEnqueuePath, c.changeURL
	}

	buf, _ := c.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer c.bufs.Put(buf)
	*buf = ev.AppendJSON((*buf)[:0])

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(*buf))
	if err != nil {
		return resp, consumererror.NewPermanent(fmt.Errorf("building request to %s: %w", resp.Path, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	httpResp, err := c.http.Do(req)
	if err != nil {
		return resp, fmt.Errorf("sending event to %s: %w", resp.Path, err)
	}
	defer httpResp.Body.Close()
	resp.StatusCode = httpResp.StatusCode
	var body []byte
	if httpResp.StatusCode >= 200 && httpResp.StatusCode < 300 {
		// Drained, not read: the connection is reused and nothing is kept.
		_, _ = io.Copy(io.Discard, io.LimitReader(httpResp.Body, maxResponseBytes))
	} else {
		body, _ = io.ReadAll(io.LimitReader(httpResp.Body, maxResponseBytes))
	}
	return resp, responseError(httpResp, body, time.Now())
}

// responseError maps an Events API response to the collector's error kinds,
// following PagerDuty's retry table: 2xx is success; 429 is a throttle that
// honours Retry-After (or ratelimit-reset); 408 and 5xx are retryable; every
// other status is permanent, since resending the same event cannot succeed.
func responseError(resp *http.Response, body []byte, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err := &StatusError{Code: code, Messages: errorMessages(body)}
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if delay, ok := retryDelay(resp.Header, now); ok {
			return exporterhelper.NewThrottleRetry(err, delay)
		}
		return err
	case code == http.StatusRequestTimeout || code >= 500:
		return err
	default:
		return consumererror.NewPermanent(err)
	}
}

// StatusError is a non-2xx answer from the Events API.
type StatusError struct {
	Code int
	// Messages are PagerDuty's explanations, from either body shape it uses.
	Messages []string
}

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
