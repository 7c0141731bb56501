package e2e

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
)

// Endpoints of the Events API, as keyed in snapshot.Requests.ByEndpoint.
const (
	enqueuePath = "/v2/enqueue"
	changePath  = "/v2/change/enqueue"
)

// snapshot is the body of the simulator's GET /incidents.
type snapshot struct {
	Incidents    []incident    `json:"incidents"`
	ChangeEvents []changeEvent `json:"change_events"`
	Events       []eventRecord `json:"events"`
	Requests     requestStats  `json:"requests"`
	Dropped      int           `json:"dropped"`

	raw []byte // the body as received
}

type requestStats struct {
	Total            int                       `json:"total"`
	ByEndpoint       map[string]map[string]int `json:"by_endpoint"`
	Throttled        int                       `json:"throttled"`
	RateLimited      int                       `json:"rate_limited"`
	InjectedFailures int                       `json:"injected_failures"`
	Rejected         int                       `json:"rejected"`
	Resets           int                       `json:"resets"`
	Echoed           int                       `json:"echoed"`
	Redirected       int                       `json:"redirected"`
	PortalHits       int                       `json:"portal_hits"`
}

type eventRecord struct {
	Seq        int       `json:"seq"`
	Action     string    `json:"action"`
	Time       time.Time `json:"time"` // when the simulator applied (or dropped) it
	Applied    bool      `json:"applied"`
	Note       string    `json:"note"`
	RoutingKey string    `json:"routing_key"`
	DedupKey   string    `json:"dedup_key"`
	Incident   int       `json:"incident"`
	Summary    string    `json:"summary"`
	Severity   string    `json:"severity"`
}

type incident struct {
	Number     int             `json:"number"`
	RoutingKey string          `json:"routing_key"`
	DedupKey   string          `json:"dedup_key"`
	State      string          `json:"state"`
	Summary    string          `json:"summary"`
	Severity   string          `json:"severity"`
	Source     string          `json:"source"`
	Payload    json.RawMessage `json:"payload"`
	Links      []link          `json:"links"`
	Events     []eventRecord   `json:"events"`
}

type changeEvent struct {
	Seq           int             `json:"seq"`
	RoutingKey    string          `json:"routing_key"`
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Timestamp     string          `json:"timestamp"`
	CustomDetails json.RawMessage `json:"custom_details"`
	Links         []link          `json:"links"`
}

type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// count returns the number of requests to endpoint answered with code.
func (s snapshot) count(endpoint string, code int) int {
	return s.Requests.ByEndpoint[endpoint][fmt.Sprint(code)]
}

// incidentsFor returns the incidents of a dedup key, oldest first.
func (s snapshot) incidentsFor(dedupKey string) []incident {
	var out []incident
	for _, inc := range s.Incidents {
		if inc.DedupKey == dedupKey {
			out = append(out, inc)
		}
	}
	return out
}

// has reports whether exactly one incident exists for each dedup key.
func (s snapshot) has(dedupKeys ...string) bool {
	for _, k := range dedupKeys {
		if len(s.incidentsFor(k)) != 1 {
			return false
		}
	}
	return true
}

// eventsFor returns every alert event received for a dedup key, applied or
// dropped.
func (s snapshot) eventsFor(dedupKey string) []eventRecord {
	var out []eventRecord
	for _, ev := range s.Events {
		if ev.DedupKey == dedupKey {
			out = append(out, ev)
		}
	}
	return out
}

func (s snapshot) String() string {
	var b bytes.Buffer
	if err := json.Indent(&b, s.raw, "", "  "); err != nil {
		return string(s.raw)
	}
	return b.String()
}

// actions lists the actions of events, and whether each was applied.
func actions(events []eventRecord) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Action
		if !ev.Applied {
			out[i] += " (dropped: " + ev.Note + ")"
		}
	}
	return out
}

// simulator is a running pdsim.
type simulator struct {
	proc *proc
	url  string // base URL, http://127.0.0.1:PORT
}

var simListening = regexp.MustCompile(`pdsim listening on (http://\S+)`)

// startSim starts pdsim on a free loopback port with the given extra flags
// and waits for its startup line.
func startSim(t *testing.T, flags ...string) *simulator {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-seed", "1"}, flags...)
	p := startProc(t, "pdsim", pdsimBin(t), nil, args...)
	s := &simulator{proc: p}
	// On failure, show what the simulator holds. Registered after the
	// process's own cleanup, so it runs first, while pdsim still serves.
	t.Cleanup(func() {
		if t.Failed() && s.url != "" && !p.Exited() {
			if snap, err := s.fetch(); err == nil {
				t.Logf("--- simulator state at failure:\n%s", snap)
			}
		}
	})
	deadline := time.Now().Add(startTimeout)
	for s.url == "" {
		if m := simListening.FindStringSubmatch(p.Output()); m != nil {
			s.url = m[1]
			break
		}
		if err := p.ExitError(); err != nil {
			t.Fatalf("pdsim exited before listening (%v):\n%s", err, p.Output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("pdsim printed no startup line within %v:\n%s", startTimeout, p.Output())
		}
		time.Sleep(pollInterval)
	}
	return s
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (s *simulator) fetch() (snapshot, error) {
	resp, err := httpClient.Get(s.url + "/incidents")
	if err != nil {
		return snapshot{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return snapshot{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return snapshot{}, fmt.Errorf("GET /incidents: %s: %s", resp.Status, body)
	}
	var snap snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		return snapshot{}, fmt.Errorf("decoding /incidents: %w", err)
	}
	snap.raw = body
	return snap, nil
}

// snapshot returns the simulator's current state.
func (s *simulator) snapshot(t *testing.T) snapshot {
	t.Helper()
	snap, err := s.fetch()
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	return snap
}

// waitFor polls /incidents until cond holds and returns that snapshot.
func (s *simulator) waitFor(t *testing.T, what string, cond func(snapshot) bool) snapshot {
	t.Helper()
	return s.waitWithin(t, landTimeout, what, cond)
}

// waitWithin is waitFor with a timeout of its own, for waits that are long
// by design (a rate limit, a backlog).
func (s *simulator) waitWithin(t *testing.T, timeout time.Duration, what string, cond func(snapshot) bool) snapshot {
	t.Helper()
	var last snapshot
	var lastErr error
	deadline := time.Now().Add(timeout)
	for {
		last, lastErr = s.fetch()
		if lastErr == nil && cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				t.Fatalf("waiting %v for %s: simulator: %v", timeout, what, lastErr)
			}
			t.Fatalf("waiting %v for %s; last simulator state:\n%s", timeout, what, last)
		}
		time.Sleep(pollInterval)
	}
}

// control changes the simulator's faults through POST /control.
func (s *simulator) control(t *testing.T, update map[string]any) {
	t.Helper()
	body, err := json.Marshal(update)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Post(s.url+"/control", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /control: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /control %s: %s: %s", body, resp.Status, strings.TrimSpace(string(out)))
	}
}
