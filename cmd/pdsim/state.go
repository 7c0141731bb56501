package main

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/pdsimapi"
)

// Alert states.
const (
	stateTriggered    = "triggered"
	stateAcknowledged = "acknowledged"
	stateResolved     = "resolved"
)

// The state as GET /incidents shows it; its types are shared with the test
// harness that reads it (internal/pdsimapi).
type (
	Snapshot     = pdsimapi.Snapshot
	RequestStats = pdsimapi.RequestStats
	EventRecord  = pdsimapi.EventRecord
	Incident     = pdsimapi.Incident
	ChangeEvent  = pdsimapi.ChangeEvent
	link         = pdsimapi.Link
	image        = pdsimapi.Image
)

type alertKey struct{ routingKey, dedupKey string }

// store holds the alert and change-event state. It is not safe for
// concurrent use; Server serializes access.
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
			inc = &Incident{
				Number: len(s.incidents) + 1, RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey,
				State: stateTriggered, CreatedAt: now,
			}
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
	ce := ChangeEvent{
		Seq: s.seq, ReceivedAt: now, RoutingKey: ev.RoutingKey, Summary: ev.Payload.Summary,
		Source: ev.Payload.Source, Timestamp: ev.Payload.Timestamp, CustomDetails: ev.Payload.CustomDetails,
		Links: ev.Links,
	}
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
