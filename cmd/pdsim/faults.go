package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// rateWindow is PagerDuty's sliding rate-limit window (reference §3).
const rateWindow = 60 * time.Second

// FaultConfig is the fault-injection and rate-limit configuration. It is set
// from flags at start-up and changed at run time through POST /control.
type FaultConfig struct {
	FailRate     float64        // fraction of requests answered FailStatus
	FailStatus   int            // 5xx status for injected failures
	ThrottleRate float64        // fraction of requests answered 429
	RetryAfter   int            // seconds for Retry-After on injected 429s; 0 = no header
	Latency      time.Duration  // delay added to every Events API request
	ResetRate    float64        // fraction of connections closed without a response
	RateLimit    int            // accepted events per routing key per 60 s; 0 = off
	RejectKeys   map[string]int // routing key -> status forced for every event

	// RetryAfterDate, when set, is sent as an HTTP date in Retry-After on
	// injected 429s instead of RetryAfter seconds.
	RetryAfterDate time.Time

	// Hostile middleboxes: a proxy, WAF or gateway that echoes the request
	// (routing key included) in its error body, and a captive portal or
	// misrouted proxy that redirects.
	EchoRate       float64 // fraction of requests answered EchoStatus, quoting the request body
	EchoStatus     int     // 4xx or 5xx for echoed answers; 0 = 400
	EchoFormat     string  // "json" (PagerDuty's shape, the body in errors[]; the default) or "html" (a proxy's page)
	RedirectRate   float64 // fraction of requests answered RedirectStatus with a Location
	RedirectStatus int     // 301, 302, 303, 307 or 308; 0 = 307
	RedirectTo     string  // Location: an absolute http(s) URL, or "portal" (or ""): pdsim's own /portal, which answers 200
}

// Defaults of the zero values of the hostile faults.
const (
	defaultEchoStatus     = http.StatusBadRequest
	defaultEchoFormat     = "json"
	defaultRedirectStatus = http.StatusTemporaryRedirect
	redirectPortal        = "portal"
	portalPath            = "/portal"
)

// echoStatus is the status of echoed answers.
func (c FaultConfig) echoStatus() int {
	if c.EchoStatus == 0 {
		return defaultEchoStatus
	}
	return c.EchoStatus
}

// redirectStatus is the status of injected redirects.
func (c FaultConfig) redirectStatus() int {
	if c.RedirectStatus == 0 {
		return defaultRedirectStatus
	}
	return c.RedirectStatus
}

// location is where an injected redirect points; host is the request's,
// for the portal.
func (c FaultConfig) location(host string) string {
	if c.RedirectTo == "" || c.RedirectTo == redirectPortal {
		return "http://" + host + portalPath
	}
	return c.RedirectTo
}

// retryAfter is the Retry-After value of injected 429s, "" for none.
func (c FaultConfig) retryAfter() string {
	switch {
	case !c.RetryAfterDate.IsZero():
		return c.RetryAfterDate.UTC().Format(http.TimeFormat)
	case c.RetryAfter > 0:
		return strconv.Itoa(c.RetryAfter)
	}
	return ""
}

func (c FaultConfig) validate() error {
	var errs []error
	for name, v := range map[string]float64{
		"fail_rate": c.FailRate, "throttle_rate": c.ThrottleRate, "reset_rate": c.ResetRate,
		"echo_rate": c.EchoRate, "redirect_rate": c.RedirectRate,
	} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			errs = append(errs, fmt.Errorf("%s must be between 0 and 1, got %v", name, v))
		}
	}
	if c.FailStatus < 500 || c.FailStatus > 599 {
		errs = append(errs, fmt.Errorf("fail_status must be a 5xx status, got %d", c.FailStatus))
	}
	if c.RetryAfter < 0 {
		errs = append(errs, fmt.Errorf("retry_after must not be negative, got %d", c.RetryAfter))
	}
	if c.Latency < 0 {
		errs = append(errs, fmt.Errorf("latency must not be negative, got %v", c.Latency))
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate_limit must not be negative, got %d", c.RateLimit))
	}
	if c.EchoStatus != 0 && (c.EchoStatus < 400 || c.EchoStatus > 599) {
		errs = append(errs, fmt.Errorf("echo_status must be a 4xx or 5xx status, got %d", c.EchoStatus))
	}
	if c.EchoFormat != "" && c.EchoFormat != "json" && c.EchoFormat != "html" {
		errs = append(errs, fmt.Errorf("echo_format must be json or html, got %q", c.EchoFormat))
	}
	switch c.RedirectStatus {
	case 0, http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		errs = append(errs, fmt.Errorf("redirect_status must be 301, 302, 303, 307 or 308, got %d", c.RedirectStatus))
	}
	if c.RedirectTo != "" && c.RedirectTo != redirectPortal {
		if u, err := url.Parse(c.RedirectTo); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("redirect_to must be an absolute http(s) URL or %q, got %q", redirectPortal, c.RedirectTo))
		}
	}
	for k, st := range c.RejectKeys {
		if st < 400 || st > 599 {
			errs = append(errs, fmt.Errorf("reject_keys[%q] must be a 4xx or 5xx status, got %d", k, st))
		}
	}
	return errors.Join(errs...)
}

func (c FaultConfig) clone() FaultConfig {
	keys := make(map[string]int, len(c.RejectKeys))
	for k, v := range c.RejectKeys {
		keys[k] = v
	}
	c.RejectKeys = keys
	return c
}

// controlJSON is the shape GET/POST /control return.
type controlJSON struct {
	FailRate       float64        `json:"fail_rate"`
	FailStatus     int            `json:"fail_status"`
	ThrottleRate   float64        `json:"throttle_rate"`
	RetryAfter     int            `json:"retry_after"`
	RetryAfterDate string         `json:"retry_after_date"` // HTTP date, "" when unset
	Latency        string         `json:"latency"`
	ResetRate      float64        `json:"reset_rate"`
	RateLimit      int            `json:"rate_limit"`
	RejectKeys     map[string]int `json:"reject_keys"`
	EchoRate       float64        `json:"echo_rate"`
	EchoStatus     int            `json:"echo_status"`
	EchoFormat     string         `json:"echo_format"`
	RedirectRate   float64        `json:"redirect_rate"`
	RedirectStatus int            `json:"redirect_status"`
	RedirectTo     string         `json:"redirect_to"`
}

func (c FaultConfig) toJSON() controlJSON {
	date := ""
	if !c.RetryAfterDate.IsZero() {
		date = c.RetryAfterDate.UTC().Format(http.TimeFormat)
	}
	format := c.EchoFormat
	if format == "" {
		format = defaultEchoFormat
	}
	to := c.RedirectTo
	if to == "" {
		to = redirectPortal
	}
	return controlJSON{
		c.FailRate, c.FailStatus, c.ThrottleRate, c.RetryAfter, date, c.Latency.String(),
		c.ResetRate, c.RateLimit, c.clone().RejectKeys,
		c.EchoRate, c.echoStatus(), format, c.RedirectRate, c.redirectStatus(), to,
	}
}

// controlUpdate is the body of POST /control. Absent fields keep their
// value; reject_keys, when present, replaces the whole map ({} clears it).
type controlUpdate struct {
	FailRate       *float64       `json:"fail_rate"`
	FailStatus     *int           `json:"fail_status"`
	ThrottleRate   *float64       `json:"throttle_rate"`
	RetryAfter     *flexSeconds   `json:"retry_after"`
	RetryAfterDate *httpDate      `json:"retry_after_date"`
	Latency        *flexDuration  `json:"latency"`
	ResetRate      *float64       `json:"reset_rate"`
	RateLimit      *int           `json:"rate_limit"`
	RejectKeys     map[string]int `json:"reject_keys"`
	EchoRate       *float64       `json:"echo_rate"`
	EchoStatus     *int           `json:"echo_status"`
	EchoFormat     *string        `json:"echo_format"`
	RedirectRate   *float64       `json:"redirect_rate"`
	RedirectStatus *int           `json:"redirect_status"`
	RedirectTo     *string        `json:"redirect_to"`
}

// applyControl returns cfg updated by the JSON body, or an error.
func applyControl(cfg FaultConfig, body []byte) (FaultConfig, error) {
	var u controlUpdate
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return cfg, fmt.Errorf("invalid control body: %w", err)
	}
	cfg = cfg.clone()
	setIfPresent(&cfg.FailRate, u.FailRate)
	setIfPresent(&cfg.FailStatus, u.FailStatus)
	setIfPresent(&cfg.ThrottleRate, u.ThrottleRate)
	setIfPresent(&cfg.ResetRate, u.ResetRate)
	setIfPresent(&cfg.RateLimit, u.RateLimit)
	setIfPresent(&cfg.EchoRate, u.EchoRate)
	setIfPresent(&cfg.EchoStatus, u.EchoStatus)
	setIfPresent(&cfg.EchoFormat, u.EchoFormat)
	setIfPresent(&cfg.RedirectRate, u.RedirectRate)
	setIfPresent(&cfg.RedirectStatus, u.RedirectStatus)
	setIfPresent(&cfg.RedirectTo, u.RedirectTo)
	if u.RetryAfterDate != nil {
		cfg.RetryAfterDate = time.Time(*u.RetryAfterDate)
	}
	if u.RetryAfter != nil {
		cfg.RetryAfter = int(*u.RetryAfter)
	}
	if u.Latency != nil {
		cfg.Latency = time.Duration(*u.Latency)
	}
	if u.RejectKeys != nil {
		cfg.RejectKeys = u.RejectKeys
	}
	return cfg, cfg.validate()
}

func setIfPresent[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// flexSeconds is a whole number of seconds given as 2, "2" or "2s".
type flexSeconds int

func (f *flexSeconds) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := parseSeconds(s)
	*f = flexSeconds(n)
	return err
}

// parseSeconds parses "2" or a Go duration such as "1500ms" (rounded up).
func parseSeconds(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither whole seconds nor a duration", s)
	}
	return int(math.Ceil(d.Seconds())), nil
}

// httpDate is a time given as an HTTP date ("Thu, 01 Jan 2099 00:00:00
// GMT") or in RFC 3339; "" clears it.
type httpDate time.Time

func (d *httpDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("retry_after_date must be a string: %w", err)
	}
	t, err := parseHTTPDate(s)
	*d = httpDate(t)
	return err
}

// parseHTTPDate parses an HTTP date or an RFC 3339 time; "" is the zero
// time.
func parseHTTPDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an HTTP date (Thu, 01 Jan 2099 00:00:00 GMT) nor RFC 3339", s)
}

// flexDuration is a duration given as a Go duration string ("250ms") or a
// number of seconds.
type flexDuration time.Duration

func (f *flexDuration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err == nil {
		*f = flexDuration(secs * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("latency must be a duration string or seconds: %w", err)
	}
	d, err := time.ParseDuration(s)
	*f = flexDuration(d)
	return err
}

// fault is the injected outcome chosen for one request.
type fault int

const (
	faultNone fault = iota
	faultReset
	faultFail
	faultThrottle
	faultEcho
	faultRedirect
)

// chooseFault maps one uniform draw u in [0,1) onto consecutive slices of
// the unit interval: reset, then fail, throttle, echo and redirect. Each
// fault thus hits exactly its configured fraction of requests while the
// rates sum to ≤ 1; beyond that, earlier faults win.
func chooseFault(c FaultConfig, u float64) fault {
	edge := 0.0
	for _, f := range []struct {
		rate  float64
		fault fault
	}{
		{c.ResetRate, faultReset},
		{c.FailRate, faultFail},
		{c.ThrottleRate, faultThrottle},
		{c.EchoRate, faultEcho},
		{c.RedirectRate, faultRedirect},
	} {
		edge += f.rate
		if u < edge {
			return f.fault
		}
	}
	return faultNone
}

// echoBody is an error answer that quotes the request, as some proxies,
// WAFs and API gateways do: in PagerDuty's shape with the request in
// errors[] (json), or as a proxy's HTML page (html). It returns the content
// type and the body.
func echoBody(format string, status int, request []byte) (string, []byte) {
	if format == "html" {
		var b bytes.Buffer
		fmt.Fprintf(&b, "<html><head><title>%d %s</title></head><body><h1>Request blocked</h1><pre>", status, http.StatusText(status))
		b.Write(request) // verbatim, as a careless proxy would
		b.WriteString("</pre></body></html>\n")
		return "text/html; charset=utf-8", b.Bytes()
	}
	body, _ := json.Marshal(pdResponse{
		Status:  strings.ToLower(http.StatusText(status)),
		Message: "Request rejected by an intermediary (pdsim echo)",
		Errors:  []string{"request body: " + string(request)},
	})
	return "application/json", append(body, '\n')
}

// injectedBody is a PagerDuty-shaped body for a forced status.
func injectedBody(status int, reason string) any {
	switch status {
	case http.StatusTooManyRequests:
		return throttleBody
	case http.StatusBadRequest:
		return invalid(reason).body
	default:
		return pdResponse{Status: strings.ToLower(http.StatusText(status)), Message: http.StatusText(status), Errors: []string{reason}}
	}
}

// throttleBody is the 429 body (go-pagerduty's fixture, reference §3).
var throttleBody = pdResponse{
	Status:  "throttle exceeded",
	Message: "Requests for this service are arriving too quickly.  Please retry later.",
	Errors:  []string{"Enhance Your Calm."},
}

// rateLimiter counts accepted events per routing key over a sliding window.
// It is not safe for concurrent use; Server serializes access.
type rateLimiter struct{ hits map[string][]time.Time }

// allow reports whether one more event for key fits in the window ending
// at now, and records it if so. Events older than rateWindow drop out.
func (l *rateLimiter) allow(key string, limit int, now time.Time) bool {
	if limit <= 0 {
		return true
	}
	if l.hits == nil {
		l.hits = map[string][]time.Time{}
	}
	hits := l.hits[key]
	cut := 0
	for cut < len(hits) && !hits[cut].After(now.Add(-rateWindow)) {
		cut++
	}
	hits = hits[cut:]
	if len(hits) >= limit {
		l.hits[key] = hits
		return false
	}
	l.hits[key] = append(hits, now)
	return true
}
