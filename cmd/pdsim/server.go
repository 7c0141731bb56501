package main

import (
	"encoding/json"
	"io"
	"log"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/pdsimapi"
)

// Events API endpoints, also the keys of RequestStats.ByEndpoint.
const (
	endpointEnqueue = pdsimapi.EnqueuePath
	endpointChange  = pdsimapi.ChangePath
)

func newStats() RequestStats {
	return RequestStats{ByEndpoint: map[string]map[string]int{endpointEnqueue: {}, endpointChange: {}}}
}

// Server simulates the PagerDuty Events API v2 and records what it received.
type Server struct {
	now func() time.Time // injectable clock, used for the rate limit and records
	log *log.Logger
	// ShowKeys shows routing keys whole in /incidents and /control, as
	// tests need them; by default those show only a key's first and last
	// four characters, as the page and the log do.
	ShowKeys bool

	mu      sync.Mutex
	initial FaultConfig
	seed    uint64
	cfg     FaultConfig // replaced, never mutated in place
	rng     *rand.Rand
	limiter rateLimiter
	store   store
	stats   RequestStats
}

// NewServer returns a simulator with the given fault configuration. A zero
// seed picks a random one. logger may be nil.
func NewServer(cfg FaultConfig, seed uint64, logger *log.Logger) *Server {
	if seed == 0 {
		seed = rand.Uint64()
	}
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{now: time.Now, log: logger, initial: cfg.clone(), seed: seed}
	s.resetLocked()
	return s
}

// resetLocked restores the start-up state; s.mu must be held (or s unshared).
func (s *Server) resetLocked() {
	s.cfg = s.initial.clone()
	s.rng = rand.New(rand.NewPCG(s.seed, s.seed))
	s.limiter = rateLimiter{}
	s.store = newStore()
	s.stats = newStats()
}

// Handler returns the HTTP routes of the simulator.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+endpointEnqueue, func(w http.ResponseWriter, r *http.Request) {
		s.serveEvents(w, r, endpointEnqueue, s.processAlert)
	})
	mux.HandleFunc("POST "+endpointChange, func(w http.ResponseWriter, r *http.Request) {
		s.serveEvents(w, r, endpointChange, s.processChange)
	})
	mux.HandleFunc("GET /incidents", s.handleIncidents)
	mux.HandleFunc("GET /control", s.handleGetControl)
	mux.HandleFunc("POST /control", jsonOnly(s.handlePostControl))
	mux.HandleFunc("POST /reset", jsonOnly(s.handleReset))
	// The captive portal that injected redirects point to: it answers
	// every method 200, so a client that followed a redirect would count
	// the event as delivered. Hits are counted, and should stay 0.
	mux.HandleFunc(portalPath, s.handlePortal)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /{$}", s.handleHTML)
	return mux
}

// serveEvents applies latency and injected faults, then hands the body to
// process, which returns the status and JSON body to answer.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request, endpoint string, process func([]byte) (int, any)) {
	s.mu.Lock()
	cfg := s.cfg
	f := chooseFault(cfg, s.rng.Float64())
	s.mu.Unlock()

	if cfg.Latency > 0 {
		t := time.NewTimer(cfg.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	switch f {
	case faultReset:
		s.mu.Lock()
		s.stats.Resets++
		s.countLocked(endpoint, "reset")
		s.mu.Unlock()
		s.log.Printf("%s: injected connection reset", endpoint)
		resetConnection(w)
		return
	case faultFail:
		s.mu.Lock()
		s.stats.InjectedFailures++
		s.mu.Unlock()
		s.log.Printf("%s: injected %d", endpoint, cfg.FailStatus)
		s.reply(w, endpoint, cfg.FailStatus, injectedBody(cfg.FailStatus, "pdsim injected failure (fail_rate)"))
		return
	case faultThrottle:
		if ra := cfg.retryAfter(); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		s.log.Printf("%s: injected 429", endpoint)
		s.reply(w, endpoint, http.StatusTooManyRequests, throttleBody)
		return
	case faultEcho:
		request, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		status := cfg.echoStatus()
		if ra := cfg.retryAfter(); ra != "" && status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", ra)
		}
		contentType, body := echoBody(cfg.EchoFormat, status, request)
		s.mu.Lock()
		s.stats.Echoed++
		s.mu.Unlock()
		s.log.Printf("%s: injected %d echoing the request (%s)", endpoint, status, cfg.EchoFormat)
		s.replyRaw(w, endpoint, status, contentType, body)
		return
	case faultRedirect:
		status, location := cfg.redirectStatus(), cfg.location(r.Host)
		w.Header().Set("Location", location)
		s.mu.Lock()
		s.stats.Redirected++
		s.mu.Unlock()
		s.log.Printf("%s: injected %d to %s", endpoint, status, location)
		s.replyRaw(w, endpoint, status, "text/html; charset=utf-8",
			[]byte("<html><body>Moved: <a href=\""+location+"\">"+location+"</a></body></html>\n"))
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		s.reply(w, endpoint, http.StatusBadRequest, unrecognized().body)
		return
	}
	status, resp := process(body)
	s.reply(w, endpoint, status, resp)
}

func (s *Server) processAlert(body []byte) (int, any) {
	ev, apiErr := parseAlertEvent(body)
	if apiErr != nil {
		return apiErr.status, apiErr.body
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, body, rejected := s.rejectLocked(ev.RoutingKey); rejected {
		return status, body
	}
	if errs := validateAlertEvent(ev); len(errs) > 0 {
		return http.StatusBadRequest, invalid(errs...).body
	}
	now := s.now()
	if !s.limiter.allow(ev.RoutingKey, s.cfg.RateLimit, now) {
		s.stats.RateLimited++
		s.log.Printf("%s: rate limit exceeded for %s", endpointEnqueue, maskKey(ev.RoutingKey))
		return http.StatusTooManyRequests, throttleBody
	}
	rec, dedup := s.store.applyAlert(ev, now)
	if rec.Applied {
		s.log.Printf("%s %s dedup=%q -> incident #%d %q", rec.Action, maskKey(rec.RoutingKey), rec.DedupKey, rec.Incident, rec.Summary)
	} else {
		s.log.Printf("%s %s dedup=%q dropped: %s", rec.Action, maskKey(rec.RoutingKey), rec.DedupKey, rec.Note)
	}
	return http.StatusAccepted, pdResponse{Status: "success", Message: "Event processed", DedupKey: dedup}
}

func (s *Server) processChange(body []byte) (int, any) {
	var ev changeEvent
	if apiErr := decodeObject(body, &ev); apiErr != nil {
		return apiErr.status, apiErr.body
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, body, rejected := s.rejectLocked(ev.RoutingKey); rejected {
		return status, body
	}
	if apiErr := validateChangeEvent(&ev); apiErr != nil {
		return apiErr.status, apiErr.body
	}
	now := s.now()
	if !s.limiter.allow(ev.RoutingKey, s.cfg.RateLimit, now) {
		s.stats.RateLimited++
		return http.StatusTooManyRequests, throttleBody
	}
	ce := s.store.addChange(&ev, now)
	s.log.Printf("change %s %q", maskKey(ce.RoutingKey), ce.Summary)
	return http.StatusAccepted, pdResponse{Status: "success", Message: "Change event processed"}
}

// rejectLocked applies reject_keys; s.mu must be held.
func (s *Server) rejectLocked(routingKey string) (int, any, bool) {
	status, ok := s.cfg.RejectKeys[routingKey]
	if !ok {
		return 0, nil, false
	}
	s.stats.Rejected++
	return status, injectedBody(status, "routing key rejected by pdsim (reject_keys)"), true
}

func (s *Server) reply(w http.ResponseWriter, endpoint string, status int, body any) {
	s.countStatus(endpoint, status)
	writeJSON(w, status, body)
}

// replyRaw answers with a body that is already encoded.
func (s *Server) replyRaw(w http.ResponseWriter, endpoint string, status int, contentType string, body []byte) {
	s.countStatus(endpoint, status)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) countStatus(endpoint string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countLocked(endpoint, strconv.Itoa(status))
	if status == http.StatusTooManyRequests {
		s.stats.Throttled++
		if len(s.stats.ThrottledAt) == pdsimapi.MaxThrottledAt {
			s.stats.ThrottledAt = slices.Delete(s.stats.ThrottledAt, 0, 1)
		}
		s.stats.ThrottledAt = append(s.stats.ThrottledAt, s.now())
	}
}

func (s *Server) handlePortal(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBodyBytes))
	s.mu.Lock()
	s.stats.PortalHits++
	s.mu.Unlock()
	s.log.Printf("portal: %s %s answered 200", r.Method, r.URL.Path)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "<html><body><h1>Guest network</h1><p>Sign in to continue.</p></body></html>\n")
}

func (s *Server) countLocked(endpoint, code string) {
	s.stats.Total++
	s.stats.ByEndpoint[endpoint][code]++
}

// resetConnection closes the client connection without answering, with an
// RST where possible so the client sees "connection reset by peer".
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // e.g. HTTP/2: abort the stream instead
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// snapshot copies the recorded state for encoding outside the lock.
func (s *Server) snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	incs, changes, events := s.store.snapshot()
	stats := s.stats
	stats.ThrottledAt = slices.Clone(s.stats.ThrottledAt)
	stats.ByEndpoint = make(map[string]map[string]int, len(s.stats.ByEndpoint))
	for ep, codes := range s.stats.ByEndpoint {
		stats.ByEndpoint[ep] = make(map[string]int, len(codes))
		for c, n := range codes {
			stats.ByEndpoint[ep][c] = n
		}
	}
	return Snapshot{Incidents: incs, ChangeEvents: changes, Events: events, Requests: stats, Dropped: s.store.dropped}
}

func (s *Server) handleIncidents(w http.ResponseWriter, _ *http.Request) {
	snap := s.snapshot()
	if !s.ShowKeys {
		snap = maskSnapshot(snap)
	}
	writeJSON(w, http.StatusOK, snap)
}

// maskSnapshot masks every routing key of snap (see maskKey); its slices
// are the snapshot's own copies.
func maskSnapshot(snap Snapshot) Snapshot {
	for i := range snap.Incidents {
		inc := &snap.Incidents[i]
		inc.RoutingKey = maskKey(inc.RoutingKey)
		for j := range inc.Events {
			inc.Events[j].RoutingKey = maskKey(inc.Events[j].RoutingKey)
		}
	}
	for i := range snap.Events {
		snap.Events[i].RoutingKey = maskKey(snap.Events[i].RoutingKey)
	}
	for i := range snap.ChangeEvents {
		snap.ChangeEvents[i].RoutingKey = maskKey(snap.ChangeEvents[i].RoutingKey)
	}
	return snap
}

// shownControl is cfg as /control shows it: reject_keys' keys masked
// unless ShowKeys.
func (s *Server) shownControl(cfg controlJSON) controlJSON {
	if s.ShowKeys {
		return cfg
	}
	masked := make(map[string]int, len(cfg.RejectKeys))
	for key, status := range cfg.RejectKeys {
		masked[maskKey(key)] = status
	}
	cfg.RejectKeys = masked
	return cfg
}

func (s *Server) handleGetControl(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	cfg := s.cfg.toJSON()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.shownControl(cfg))
}

func (s *Server) handlePostControl(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.mu.Lock()
	cfg, err := applyControl(s.cfg, body)
	if err == nil {
		s.cfg = cfg
	}
	out := s.cfg.toJSON()
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	logged := out
	logged.RejectKeys = make(map[string]int, len(out.RejectKeys))
	for key, status := range out.RejectKeys {
		logged.RejectKeys[maskKey(key)] = status
	}
	s.log.Printf("control: %+v", logged)
	writeJSON(w, http.StatusOK, s.shownControl(out))
}

func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
	s.log.Printf("reset")
	writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonOnly refuses a state-changing request whose body is not declared as
// JSON, with 415. A web page open in a developer's browser can post a form
// (urlencoded, multipart or text/plain) to the simulator on loopback without
// asking; to send application/json it must ask first (a CORS preflight),
// which the simulator never grants.
func jsonOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send Content-Type: application/json"})
			return
		}
		next(w, r)
	}
}
