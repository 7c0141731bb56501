package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"
)

// Alert states.
const (
	stateTriggered    = "triggered"
	stateAcknowledged = "acknowledged"
	stateResolved     = "resolved"
)

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
	Links      []link          `json:"links"`             // from the last trigger
	Images     []image         `json:"images"`            // from the last trigger
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
	Links         []link          `json:"links"`
}

type alertKey struct{ routingKey, dedupKey string }

// store holds the alert and change-event state. It is not safe for
// concurrent use; Server serialises access.
type store struct {
	incidents []*Incident
	latest    map[alertKey]*Incident // newest incident per key, resolved or not
	events    []EventRecord          // every alert event, applied or dropped
	changes   []ChangeEvent
	dropped   int
	seq       int
}

func newStore() store { return store{latest: map[alertKey]*Incident{}} }

// applyAlert applies a validated alert event received at now and returns
// the dedup key to report back (generated for a trigger without one).
func (s *store) applyAlert(ev *alertEvent, now time.Time) (EventRecord, string) {
	s.seq++
	if ev.EventAction == "trigger" && ev.DedupKey == "" {
		ev.DedupKey = newUUID()
	}
	rec := EventRecord{Seq: s.seq, Action: ev.EventAction, Time: now, RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey}
	key := alertKey{ev.RoutingKey, ev.DedupKey}
	inc := s.latest[key]
	open := inc != nil && inc.State != stateResolved

	switch ev.EventAction {
	case "trigger":
		rec.Applied = true
		rec.Summary, rec.Severity = ev.Payload.Summary, ev.Payload.Severity
		if !open {
			inc = &Incident{Number: len(s.incidents) + 1, RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey,
				State: stateTriggered, CreatedAt: now}
			s.incidents = append(s.incidents, inc)
			s.latest[key] = inc
		}
		inc.Summary, inc.Severity, inc.Source = ev.Payload.Summary, ev.Payload.Severity, ev.Payload.Source
		inc.Payload, inc.Links, inc.Images = ev.rawPayload, ev.Links, ev.Images
		inc.Client, inc.ClientURL = ev.Client, ev.ClientURL
	case "acknowledge":
		switch {
		case !open:
			rec.Note = s.noOpenAlert(key, inc)
		case inc.State == stateAcknowledged:
			rec.Note = "alert is already acknowledged"
		default:
			rec.Applied = true
			inc.State = stateAcknowledged
		}
	case "resolve":
		if open {
			rec.Applied = true
			inc.State = stateResolved
		} else {
			rec.Note = s.noOpenAlert(key, inc)
		}
	}

	if inc != nil {
		rec.Incident = inc.Number
		if rec.Applied {
			inc.UpdatedAt = now
		}
		inc.Events = append(inc.Events, rec)
	}
	if !rec.Applied {
		s.dropped++
	}
	s.events = append(s.events, rec)
	return rec, ev.DedupKey
}

// noOpenAlert explains why an acknowledge or resolve matched nothing.
func (s *store) noOpenAlert(key alertKey, inc *Incident) string {
	if inc != nil {
		return "alert is already resolved"
	}
	for k, other := range s.latest {
		if k.dedupKey == key.dedupKey && other.State != stateResolved {
			return "no open alert for this dedup_key under this routing_key (it is open under another routing_key)"
		}
	}
	return "no open alert for this routing_key and dedup_key"
}

func (s *store) addChange(ev *changeEvent, now time.Time) ChangeEvent {
	s.seq++
	ce := ChangeEvent{Seq: s.seq, ReceivedAt: now, RoutingKey: ev.RoutingKey, Summary: ev.Payload.Summary,
		Source: ev.Payload.Source, Timestamp: ev.Payload.Timestamp, CustomDetails: ev.Payload.CustomDetails,
		Links: ev.Links}
	s.changes = append(s.changes, ce)
	return ce
}

// snapshot returns deep-enough copies for encoding outside the lock.
func (s *store) snapshot() ([]Incident, []ChangeEvent, []EventRecord) {
	incs := make([]Incident, len(s.incidents))
	for i, inc := range s.incidents {
		incs[i] = *inc
		incs[i].Events = append([]EventRecord{}, inc.Events...)
		incs[i].Links = nonNil(inc.Links)
		incs[i].Images = nonNil(inc.Images)
	}
	changes := append([]ChangeEvent{}, s.changes...)
	for i := range changes {
		changes[i].Links = nonNil(changes[i].Links)
	}
	return incs, changes, append([]EventRecord{}, s.events...)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newUUID returns a random version 4 UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
