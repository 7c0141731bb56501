// Package pdsimapi is the JSON of the Events API simulator's state, the
// body of its GET /incidents: cmd/pdsim writes it, the test harness
// (internal/e2etest) reads it.
package pdsimapi

import (
	"encoding/json"
	"time"
)

// Events API endpoints, also the keys of RequestStats.ByEndpoint.
const (
	EnqueuePath = "/v2/enqueue"
	ChangePath  = "/v2/change/enqueue"
)

// Snapshot is the body of GET /incidents.
type Snapshot struct {
	Incidents    []Incident    `json:"incidents"`
	ChangeEvents []ChangeEvent `json:"change_events"`
	Events       []EventRecord `json:"events"` // every alert event in arrival order
	Requests     RequestStats  `json:"requests"`
	Dropped      int           `json:"dropped"` // acknowledge/resolve events that matched no open alert
}

// RequestStats counts Events API requests (the two enqueue endpoints only).
type RequestStats struct {
	Total int `json:"total"`
	// ByEndpoint maps endpoint -> status code (or "reset") -> count.
	ByEndpoint       map[string]map[string]int `json:"by_endpoint"`
	Throttled        int                       `json:"throttled"`         // every 429, injected or rate limit
	RateLimited      int                       `json:"rate_limited"`      // 429s from the rate limit
	InjectedFailures int                       `json:"injected_failures"` // 5xx from fail_rate
	Rejected         int                       `json:"rejected"`          // answers forced by reject_keys
	Resets           int                       `json:"resets"`            // connections closed by reset_rate
	Echoed           int                       `json:"echoed"`            // answers quoting the request, from echo_rate
	Redirected       int                       `json:"redirected"`        // 3xx answers, from redirect_rate
	PortalHits       int                       `json:"portal_hits"`       // requests to /portal, where redirects point by default
	// ThrottledAt is when the simulator answered each of its last
	// MaxThrottledAt 429s, oldest first: the gaps between a client's retries.
	ThrottledAt []time.Time `json:"throttled_at,omitempty"`
}

// MaxThrottledAt bounds RequestStats.ThrottledAt, so that a storm against
// the rate limit keeps the snapshot small.
const MaxThrottledAt = 1000

// EventRecord is one alert event as received, and what it did.
type EventRecord struct {
	Seq        int       `json:"seq"`
	Action     string    `json:"action"`
	Time       time.Time `json:"time"`
	Applied    bool      `json:"applied"`
	Note       string    `json:"note,omitempty"` // why a dropped event was dropped
	RoutingKey string    `json:"routing_key"`
	DedupKey   string    `json:"dedup_key"`
	Incident   int       `json:"incident,omitempty"` // 0 when no incident matched
	Summary    string    `json:"summary,omitempty"`  // triggers only
	Severity   string    `json:"severity,omitempty"` // triggers only
}

// Incident is one alert: opened by a trigger, closed by a resolve.
type Incident struct {
	Number     int             `json:"number"`
	RoutingKey string          `json:"routing_key"`
	DedupKey   string          `json:"dedup_key"`
	State      string          `json:"state"`
	Summary    string          `json:"summary"`
	Severity   string          `json:"severity"`
	Source     string          `json:"source"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	Payload    json.RawMessage `json:"payload,omitempty"` // last trigger payload, verbatim
	Links      []Link          `json:"links"`             // from the last trigger
	Images     []Image         `json:"images"`            // from the last trigger
	Client     string          `json:"client,omitempty"`
	ClientURL  string          `json:"client_url,omitempty"`
	Events     []EventRecord   `json:"events"`
}

// ChangeEvent is one accepted change event.
type ChangeEvent struct {
	Seq           int             `json:"seq"`
	ReceivedAt    time.Time       `json:"received_at"`
	RoutingKey    string          `json:"routing_key"`
	Summary       string          `json:"summary"`
	Source        string          `json:"source,omitempty"`
	Timestamp     string          `json:"timestamp,omitempty"`
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
	Links         []Link          `json:"links"`
}

// Link is an entry of the "links" array of an event.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Image is an entry of the "images" array of an alert event.
type Image struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}
