package pagerdutyexporter

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/intentmodel"
)

// pdDouble is an Events API double that keeps PagerDuty's state per dedup
// key, and injects the faults its schedule sets.
type pdDouble struct {
	*httptest.Server
	mu     sync.Mutex
	rng    *rand.Rand
	keys   map[string]*intentmodel.PagerDuty
	faults pdFaults
	window map[string][]time.Time // accepted events per routing key, for 429s
	// history is, per dedup key, each request and its answer, for the
	// report of a failing schedule.
	history map[string][]string
}

// pdFaults are the double's faults: fractions of requests, and a per-key
// limit of accepted events per window (0: none).
type pdFaults struct {
	failBefore, failAfter, throttle float64
	perWindow                       int
	window                          time.Duration
}

// newPDDouble starts a double; the schedule closes it when it ends.
func newPDDouble(seed uint64) *pdDouble {
	d := &pdDouble{rng: rand.New(rand.NewPCG(seed, 1)), keys: map[string]*intentmodel.PagerDuty{}, window: map[string][]time.Time{}, history: map[string][]string{}}
	d.Server = httptest.NewServer(http.HandlerFunc(d.serve))
	return d
}

func (d *pdDouble) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	status := http.StatusAccepted
	defer func() {
		d.history[body.DedupKey] = append(d.history[body.DedupKey], fmt.Sprintf("%s %d", body.EventAction, status))
	}()
	roll := d.rng.Float64()
	now := time.Now()
	if f := d.faults; f.perWindow > 0 {
		recent := d.window[body.RoutingKey][:0]
		for _, at := range d.window[body.RoutingKey] {
			if now.Sub(at) < f.window {
				recent = append(recent, at)
			}
		}
		d.window[body.RoutingKey] = recent
		if len(recent) >= f.perWindow {
			status = http.StatusTooManyRequests
			w.WriteHeader(status)
			return
		}
	}
	switch f := d.faults; {
	case roll < f.throttle:
		status = http.StatusTooManyRequests
		w.WriteHeader(status)
		return
	case roll < f.throttle+f.failBefore:
		status = http.StatusServiceUnavailable
		w.WriteHeader(status)
		return
	}
	d.window[body.RoutingKey] = append(d.window[body.RoutingKey], now)
	pd := d.keys[body.DedupKey]
	if pd == nil {
		pd = &intentmodel.PagerDuty{}
		d.keys[body.DedupKey] = pd
	}
	pd.Apply(map[string]intentmodel.Action{"trigger": intentmodel.Trigger, "acknowledge": intentmodel.Acknowledge, "resolve": intentmodel.Resolve}[body.EventAction])
	if roll < d.faults.throttle+d.faults.failBefore+d.faults.failAfter {
		// Applied, and the answer lost: the exporter cannot know.
		status = http.StatusBadGateway
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`)
}

func (d *pdDouble) setFaults(f pdFaults) {
	d.mu.Lock()
	d.faults = f
	d.mu.Unlock()
}

func (d *pdDouble) events(dedupKey string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.history[dedupKey], ", ")
}

func (d *pdDouble) state(dedupKey string) intentmodel.PagerDuty {
	d.mu.Lock()
	defer d.mu.Unlock()
	if pd := d.keys[dedupKey]; pd != nil {
		return *pd
	}
	return intentmodel.PagerDuty{}
}
