package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
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
}

func (c FaultConfig) validate() error {
	var errs []error
	for name, v := range map[string]float64{"fail_rate": c.FailRate, "throttle_rate": c.ThrottleRate, "reset_rate": c.ResetRate} {
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
	FailRate     float64        `json:"fail_rate"`
	FailStatus   int            `json:"fail_status"`
	ThrottleRate float64        `json:"throttle_rate"`
	RetryAfter   int            `json:"retry_after"`
	Latency      string         `json:"latency"`
	ResetRate    float64        `json:"reset_rate"`
	RateLimit    int            `json:"rate_limit"`
	RejectKeys   map[string]int `json:"reject_keys"`
}

func (c FaultConfig) toJSON() controlJSON {
	return controlJSON{
		c.FailRate, c.FailStatus, c.ThrottleRate, c.RetryAfter, c.Latency.String(),
		c.ResetRate, c.RateLimit, c.clone().RejectKeys,
	}
}

// controlUpdate is the body of POST /control. Absent fields keep their
// value; reject_keys, when present, replaces the whole map ({} clears it).
type controlUpdate struct {
	FailRate     *float64       `json:"fail_rate"`
	FailStatus   *int           `json:"fail_status"`
	ThrottleRate *float64       `json:"throttle_rate"`
	RetryAfter   *flexSeconds   `json:"retry_after"`
	Latency      *flexDuration  `json:"latency"`
	ResetRate    *float64       `json:"reset_rate"`
	RateLimit    *int           `json:"rate_limit"`
	RejectKeys   map[string]int `json:"reject_keys"`
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
)

// chooseFault maps one uniform draw u in [0,1) onto consecutive slices of
// the unit interval: reset, then fail, then throttle. Each fault thus hits
// exactly its configured fraction of requests while the rates sum to ≤ 1;
// beyond that, earlier faults win.
func chooseFault(c FaultConfig, u float64) fault {
	switch {
	case u < c.ResetRate:
		return faultReset
	case u < c.ResetRate+c.FailRate:
		return faultFail
	case u < c.ResetRate+c.FailRate+c.ThrottleRate:
		return faultThrottle
	}
	return faultNone
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
