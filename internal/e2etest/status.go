package e2etest

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// ComponentStatus is one node of the status tree that healthcheckv2's
// status endpoint returns with ?verbose: the whole collector, a pipeline
// or a component.
type ComponentStatus struct {
	// Healthy is the node's health under the extension's component_health
	// settings (a recoverable error turns unhealthy once it is older than
	// recovery_duration).
	Healthy bool `json:"healthy"`
	// Status is the componentstatus name, such as StatusOK or
	// StatusRecoverableError.
	Status string `json:"status"`
	// Error is the error's message, "" for a status without one.
	Error string `json:"error"`
	// Time is when the status was reported; for an error, when it began.
	Time time.Time `json:"status_time"`
	// Components are the node's children by name: "pipeline:logs" under
	// the collector, "exporter:pagerduty" under a pipeline.
	Components map[string]*ComponentStatus `json:"components"`
}

// Find returns the node at path below s (names of Components, one level
// each), nil when there is none.
func (s *ComponentStatus) Find(path ...string) *ComponentStatus {
	for _, name := range path {
		if s == nil {
			return nil
		}
		s = s.Components[name]
	}
	return s
}

// Status reads the collector's healthcheckv2 status endpoint (StatusURL,
// verbose): the HTTP status it answered (200 healthy, 500 unhealthy, 503
// starting or stopping) and the status tree. It fails the test when the
// endpoint cannot be read.
func (c *Collector) Status(tb testing.TB) (int, *ComponentStatus) {
	tb.Helper()
	code, st, err := c.FetchStatus()
	if err != nil {
		tb.Fatal(err)
	}
	return code, st
}

// FetchStatus is Status returning its error.
func (c *Collector) FetchStatus() (int, *ComponentStatus, error) {
	url := c.StatusURL + "?verbose"
	resp, err := HTTPClient.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("reading %s: %w", url, err)
	}
	st := &ComponentStatus{}
	if err := json.Unmarshal(body, st); err != nil {
		return 0, nil, fmt.Errorf("GET %s: %s: decoding %q: %w", url, resp.Status, body, err)
	}
	return resp.StatusCode, st, nil
}
