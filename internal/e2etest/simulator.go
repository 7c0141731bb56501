package e2etest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/pdsimapi"
)

// Endpoints of the Events API, as keyed in RequestStats.ByEndpoint.
const (
	EnqueuePath = pdsimapi.EnqueuePath
	ChangePath  = pdsimapi.ChangePath
)

// The simulator's state, as cmd/pdsim writes it.
type (
	RequestStats = pdsimapi.RequestStats
	Event        = pdsimapi.EventRecord // one alert event, applied or dropped
	Incident     = pdsimapi.Incident
	ChangeEvent  = pdsimapi.ChangeEvent
	Link         = pdsimapi.Link
)

// Snapshot is the body of the simulator's GET /incidents.
type Snapshot struct {
	pdsimapi.Snapshot

	// Raw is the body as received.
	Raw []byte `json:"-"`
}

// Filter returns the elements of xs that keep accepts.
func Filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// IncidentsFor returns the incidents of a dedup key, oldest first.
func (s Snapshot) IncidentsFor(dedupKey string) []Incident {
	return Filter(s.Incidents, func(inc Incident) bool { return inc.DedupKey == dedupKey })
}

// Has reports whether exactly one incident exists for each dedup key.
func (s Snapshot) Has(dedupKeys ...string) bool {
	for _, k := range dedupKeys {
		if len(s.IncidentsFor(k)) != 1 {
			return false
		}
	}
	return true
}

// EventsFor returns every alert event received for a dedup key, applied or
// dropped.
func (s Snapshot) EventsFor(dedupKey string) []Event {
	return Filter(s.Events, func(ev Event) bool { return ev.DedupKey == dedupKey })
}

// CountActions returns how many alert events of action the simulator
// received.
func (s Snapshot) CountActions(action string) int {
	return len(Filter(s.Events, func(ev Event) bool { return ev.Action == action }))
}

func (s Snapshot) String() string {
	var b bytes.Buffer
	if err := json.Indent(&b, s.Raw, "", "  "); err != nil {
		return string(s.Raw)
	}
	return b.String()
}

// Actions lists the actions of events, each followed by why it was dropped
// when it was not applied.
func Actions(events []Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Action
		if !ev.Applied {
			out[i] += " (dropped: " + ev.Note + ")"
		}
	}
	return out
}

// Simulator is a running pdsim.
type Simulator struct {
	Proc *Proc
	URL  string // base URL, http://127.0.0.1:PORT
}

var simListening = regexp.MustCompile(`pdsim listening on (http://\S+)`)

// StartSim starts pdsim on a free loopback port, with seed 1 and the given
// extra flags, and waits for its startup line. When the test fails, the
// simulator's state is printed.
func StartSim(tb testing.TB, flags ...string) *Simulator {
	tb.Helper()
	// The tests compare routing keys whole: pdsim masks them otherwise.
	args := append([]string{"-addr", "127.0.0.1:0", "-seed", "1", "-show-keys"}, flags...)
	p := StartProc(tb, "pdsim", PdsimBin(tb), nil, args...)
	s := &Simulator{Proc: p}
	// Registered after the process's own cleanup, so it runs first, while
	// pdsim still serves.
	tb.Cleanup(func() {
		if tb.Failed() && s.URL != "" && !p.Exited() {
			if snap, err := s.Fetch(); err == nil {
				tb.Logf("--- simulator state at failure:\n%s", snap)
			}
		}
	})
	deadline := time.Now().Add(StartTimeout)
	for {
		if m := simListening.FindStringSubmatch(p.Output()); m != nil {
			s.URL = m[1]
			return s
		}
		if err := p.ExitError(); err != nil {
			tb.Fatalf("pdsim exited before listening (%v):\n%s", err, p.Output())
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pdsim printed no startup line within %v:\n%s", StartTimeout, p.Output())
		}
		time.Sleep(PollInterval)
	}
}

// Port is the port the simulator listens on.
func (s *Simulator) Port() string { return s.URL[strings.LastIndexByte(s.URL, ':')+1:] }

// Fetch returns the simulator's current state.
func (s *Simulator) Fetch() (Snapshot, error) {
	resp, err := HTTPClient.Get(s.URL + "/incidents")
	if err != nil {
		return Snapshot{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Snapshot{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return Snapshot{}, fmt.Errorf("GET /incidents: %s: %s", resp.Status, body)
	}
	var snap Snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		return Snapshot{}, fmt.Errorf("decoding /incidents: %w", err)
	}
	snap.Raw = body
	return snap, nil
}

// Snapshot returns the simulator's current state, or fails the test.
func (s *Simulator) Snapshot(tb testing.TB) Snapshot {
	tb.Helper()
	snap, err := s.Fetch()
	if err != nil {
		tb.Fatalf("simulator: %v", err)
	}
	return snap
}

// WaitFor polls /incidents until cond holds, for up to LandTimeout, and
// returns that state.
func (s *Simulator) WaitFor(tb testing.TB, what string, cond func(Snapshot) bool) Snapshot {
	tb.Helper()
	return s.WaitWithin(tb, LandTimeout, what, cond)
}

// WaitWithin is WaitFor with a timeout of its own, for waits that are long
// by design (a rate limit, a backlog).
func (s *Simulator) WaitWithin(tb testing.TB, timeout time.Duration, what string, cond func(Snapshot) bool) Snapshot {
	tb.Helper()
	var last Snapshot
	var lastErr error
	deadline := time.Now().Add(timeout)
	for {
		last, lastErr = s.Fetch()
		if lastErr == nil && cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				tb.Fatalf("waiting %v for %s: simulator: %v", timeout, what, lastErr)
			}
			tb.Fatalf("waiting %v for %s; last simulator state:\n%s", timeout, what, last)
		}
		time.Sleep(PollInterval)
	}
}

// Control changes the simulator's faults through POST /control.
func (s *Simulator) Control(tb testing.TB, update map[string]any) {
	tb.Helper()
	body, err := json.Marshal(update)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := HTTPClient.Post(s.URL+"/control", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("POST /control: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST /control %s: %s: %s", body, resp.Status, strings.TrimSpace(string(out)))
	}
}
