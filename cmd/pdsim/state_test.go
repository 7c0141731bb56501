package main

import (
	"net/http"
	"testing"
	"time"
)

type step struct {
	ev       map[string]any
	incident int // incident number the event should be recorded on, 0 = none
	applied  bool
}

func TestLifecycle(t *testing.T) {
	type wantIncident struct {
		number        int
		key, dedup    string
		state         string
		summary       string
		actions       []string
		appliedEvents []bool
	}
	cases := []struct {
		name    string
		steps   []step
		want    []wantIncident
		dropped int
	}{
		{
			name: "acknowledge and resolve of unknown alert are dropped",
			steps: []step{
				{ev: event(keyA, "acknowledge", "nope", "")},
				{ev: event(keyA, "resolve", "nope", "")},
			},
			dropped: 2,
		},
		{
			name: "trigger, acknowledge, resolve",
			steps: []step{
				{ev: event(keyA, "trigger", "d1", "cpu high"), incident: 1, applied: true},
				{ev: event(keyA, "acknowledge", "d1", ""), incident: 1, applied: true},
				{ev: event(keyA, "resolve", "d1", ""), incident: 1, applied: true},
			},
			want: []wantIncident{{
				1, keyA, "d1", stateResolved, "cpu high",
				[]string{"trigger", "acknowledge", "resolve"},
				[]bool{true, true, true},
			}},
		},
		{
			name: "other routing key cannot acknowledge or resolve",
			steps: []step{
				{ev: event(keyA, "trigger", "d1", "cpu high"), incident: 1, applied: true},
				{ev: event(keyB, "acknowledge", "d1", "")},
				{ev: event(keyB, "resolve", "d1", "")},
			},
			want:    []wantIncident{{1, keyA, "d1", stateTriggered, "cpu high", []string{"trigger"}, []bool{true}}},
			dropped: 2,
		},
		{
			name: "re-trigger updates the open alert and keeps it acknowledged",
			steps: []step{
				{ev: event(keyA, "trigger", "d1", "cpu 91%"), incident: 1, applied: true},
				{ev: event(keyA, "acknowledge", "d1", ""), incident: 1, applied: true},
				{ev: event(keyA, "trigger", "d1", "cpu 99%"), incident: 1, applied: true},
				{ev: event(keyA, "acknowledge", "d1", ""), incident: 1}, // already acknowledged
			},
			want: []wantIncident{{
				1, keyA, "d1", stateAcknowledged, "cpu 99%",
				[]string{"trigger", "acknowledge", "trigger", "acknowledge"},
				[]bool{true, true, true, false},
			}},
			dropped: 1,
		},
		{
			name: "after resolve: ack/resolve dropped, trigger opens a new incident",
			steps: []step{
				{ev: event(keyA, "trigger", "d1", "first"), incident: 1, applied: true},
				{ev: event(keyA, "resolve", "d1", ""), incident: 1, applied: true},
				{ev: event(keyA, "resolve", "d1", ""), incident: 1},
				{ev: event(keyA, "acknowledge", "d1", ""), incident: 1},
				{ev: event(keyA, "trigger", "d1", "second"), incident: 2, applied: true},
			},
			want: []wantIncident{
				{1, keyA, "d1", stateResolved, "first", []string{"trigger", "resolve", "resolve", "acknowledge"}, []bool{true, true, false, false}},
				{2, keyA, "d1", stateTriggered, "second", []string{"trigger"}, []bool{true}},
			},
			dropped: 2,
		},
		{
			name: "same dedup key under two routing keys is two alerts",
			steps: []step{
				{ev: event(keyA, "trigger", "d1", "on A"), incident: 1, applied: true},
				{ev: event(keyB, "trigger", "d1", "on B"), incident: 2, applied: true},
				{ev: event(keyB, "resolve", "d1", ""), incident: 2, applied: true},
			},
			want: []wantIncident{
				{1, keyA, "d1", stateTriggered, "on A", []string{"trigger"}, []bool{true}},
				{2, keyB, "d1", stateResolved, "on B", []string{"trigger", "resolve"}, []bool{true, true}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, baseConfig())
			for i, st := range tc.steps {
				env.clock.Set(t0.Add(time.Duration(i) * time.Second))
				r := env.post(t, endpointEnqueue, st.ev)
				wantShape(t, r, http.StatusAccepted, map[string]any{
					"status": "success", "message": "Event processed",
					"dedup_key": st.ev["dedup_key"],
				}, "status", "message", "dedup_key")
			}
			snap := env.snapshot(t)
			if len(snap.Events) != len(tc.steps) {
				t.Fatalf("event log has %d entries, want %d", len(snap.Events), len(tc.steps))
			}
			for i, st := range tc.steps {
				got := snap.Events[i]
				if got.Action != st.ev["event_action"] || got.Applied != st.applied || got.Incident != st.incident ||
					got.RoutingKey != st.ev["routing_key"] || !got.Time.Equal(t0.Add(time.Duration(i)*time.Second)) {
					t.Errorf("event %d = %+v, want action %v applied %v incident %d", i, got, st.ev["event_action"], st.applied, st.incident)
				}
				if !got.Applied && got.Note == "" {
					t.Errorf("dropped event %d has no note", i)
				}
			}
			if snap.Dropped != tc.dropped {
				t.Errorf("dropped = %d, want %d", snap.Dropped, tc.dropped)
			}
			if len(snap.Incidents) != len(tc.want) {
				t.Fatalf("%d incidents, want %d: %+v", len(snap.Incidents), len(tc.want), snap.Incidents)
			}
			for i, w := range tc.want {
				inc := snap.Incidents[i]
				if inc.Number != w.number || inc.RoutingKey != w.key || inc.DedupKey != w.dedup || inc.State != w.state ||
					inc.Summary != w.summary || inc.Severity != "critical" || inc.Source != "host-1" {
					t.Errorf("incident %d = %+v, want %+v", i, inc, w)
				}
				var actions []string
				var applied []bool
				for _, e := range inc.Events {
					actions = append(actions, e.Action)
					applied = append(applied, e.Applied)
				}
				if !equalJSON(actions, w.actions) || !equalJSON(applied, w.appliedEvents) {
					t.Errorf("incident %d history = %v %v, want %v %v", inc.Number, actions, applied, w.actions, w.appliedEvents)
				}
			}
		})
	}
}

func TestIncidentTimesAndPayload(t *testing.T) {
	env := newEnv(t, baseConfig())
	ev := trig(setP("custom_details", map[string]any{"disk": "/var"}), set("links", items(1, "href")))
	env.post(t, endpointEnqueue, ev)
	env.clock.Set(t0.Add(time.Minute))
	env.post(t, endpointEnqueue, event(keyA, "acknowledge", "srv01/HTTP", ""))
	env.clock.Set(t0.Add(2 * time.Minute))
	env.post(t, endpointEnqueue, event(keyA, "acknowledge", "srv01/HTTP", "")) // dropped: must not touch updated_at

	inc := env.snapshot(t).Incidents[0]
	if !inc.CreatedAt.Equal(t0) || !inc.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("created %v updated %v, want %v and %v", inc.CreatedAt, inc.UpdatedAt, t0, t0.Add(time.Minute))
	}
	if !equalJSON(inc.Payload, ev["payload"]) {
		t.Errorf("payload = %s, want %v", inc.Payload, ev["payload"])
	}
	if len(inc.Links) != 1 || inc.Links[0].Href != "https://example.com/0" {
		t.Errorf("links = %+v", inc.Links)
	}
}

func TestTriggersWithoutDedupKeyOpenSeparateIncidents(t *testing.T) {
	env := newEnv(t, baseConfig())
	r1 := env.post(t, endpointEnqueue, event(keyA, "trigger", "", "one"))
	r2 := env.post(t, endpointEnqueue, event(keyA, "trigger", "", "two"))
	if r1.body["dedup_key"] == r2.body["dedup_key"] {
		t.Fatalf("generated dedup keys are equal: %v", r1.body["dedup_key"])
	}
	snap := env.snapshot(t)
	if len(snap.Incidents) != 2 || snap.Incidents[0].DedupKey != r1.body["dedup_key"] || snap.Incidents[1].DedupKey != r2.body["dedup_key"] {
		t.Fatalf("incidents = %+v", snap.Incidents)
	}
	// The generated key addresses the alert like any other.
	env.post(t, endpointEnqueue, event(keyA, "resolve", snap.Incidents[0].DedupKey, ""))
	if got := env.snapshot(t).Incidents[0].State; got != stateResolved {
		t.Errorf("state = %s, want resolved", got)
	}
}

func TestChangeEvents(t *testing.T) {
	env := newEnv(t, baseConfig())
	env.post(t, endpointChange, chg(set("links", []map[string]string{{"href": "https://ci/1", "text": "build"}}),
		setP("custom_details", map[string]any{"version": "1.2.3"}), setP("timestamp", "2026-01-02T03:04:05Z")))
	env.clock.Set(t0.Add(time.Second))
	env.post(t, endpointChange, change(keyB, "second"))
	env.post(t, endpointChange, change(keyB, "")) // invalid: not recorded

	snap := env.snapshot(t)
	if len(snap.Incidents) != 0 || len(snap.Events) != 0 {
		t.Errorf("change events must not create incidents: %+v", snap.Incidents)
	}
	if len(snap.ChangeEvents) != 2 {
		t.Fatalf("change events = %+v, want 2", snap.ChangeEvents)
	}
	c := snap.ChangeEvents[0]
	if c.RoutingKey != keyA || c.Summary != "deployed v1.2.3" || c.Source != "ci" || c.Timestamp != "2026-01-02T03:04:05Z" ||
		!c.ReceivedAt.Equal(t0) || string(c.CustomDetails) != `{"version":"1.2.3"}` ||
		len(c.Links) != 1 || c.Links[0] != (link{Href: "https://ci/1", Text: "build"}) {
		t.Errorf("first change event = %+v", c)
	}
	if c := snap.ChangeEvents[1]; c.RoutingKey != keyB || c.Summary != "second" || !c.ReceivedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("second change event = %+v", c)
	}
	if got := snap.Requests.ByEndpoint[endpointChange]; got["202"] != 2 || got["400"] != 1 {
		t.Errorf("change endpoint counters = %v", got)
	}
}
