package examples

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// failoverRoute is one value of the routing attribute (service.name) and
// the integration key the replicas map it to.
type failoverRoute struct{ service, key string }

// failoverRoutes are six routing values, each with a key of its own, as
// backend.yaml asks ("List every value in routing.keys"). checkout and
// payments are backend.yaml's; the test adds the other four with --set.
var failoverRoutes = []failoverRoute{
	{"checkout", keyCheckout},
	{"payments", keyPayments},
	{"search", fakeKey("search")},
	{"inventory", fakeKey("inventory")},
	{"shipping", fakeKey("shipping")},
	{"identity", fakeKey("identity")},
}

// fakeKey pads name with zeros to an integration key's 32 letters and
// digits. It starts with a letter, so that YAML reads it as a string.
func fakeKey(name string) string { return name + strings.Repeat("0", 32-len(name)) }

// Sizes of the storm, per routing value: alerts that fire before the kill,
// and alerts that fire while the replica is down.
const (
	failoverWave1 = 16
	failoverWave2 = 8
	// failoverDowntime is how long the killed replica stays down.
	failoverDowntime = 30 * time.Second
)

// failoverRecord is one log record of the storm: an alert's trigger,
// acknowledge or resolve.
type failoverRecord struct {
	route  failoverRoute
	fp     string // alert.fingerprint: the dedup key
	action string // the Events API action it maps to
}

func (r failoverRecord) id() string { return r.fp + "/" + r.action }

var failoverStatus = map[string]string{"trigger": "firing", "acknowledge": "acknowledged", "resolve": "resolved"}

// failoverReplica is one backend collector, restartable on the same port
// (the front's static resolver names it) and the same storage directory.
type failoverReplica struct {
	name    string
	port    int // OTLP/gRPC
	storage string
	col     *e2etest.Collector
	routes  []string // routing values the front's hash ring gave it
}

// TestLoadBalancedFailover is the load-balanced recipe (loadbalancing/:
// front.yaml with three static replicas, backend.yaml with file_storage)
// losing a replica to kill -9 in the middle of a storm on six routing
// values, each with its own key, against the simulator's limit of 120
// events per key in any 60 s window, as PagerDuty's.
//
// Per routing value, 16 alerts fire at once. Once each value's burst has
// paged, 3 of the paged alerts are resolved and 3 acknowledged. As soon as
// the replicas have taken all of it, the replica that holds the most
// routing values is killed, its routes' backlog still in its persistent
// queue. While it is down, 2 of the acknowledged alerts are resolved, 2
// more paged alerts acknowledged, and 8 new alerts fire per routing value,
// in four requests 5 s apart. The replica is started again 30 s after the
// kill, on the same port and storage directory.
//
// Every alert must page, and end as exactly one incident under its routing
// value's key, in the state of its newest record: resolved, acknowledged or
// triggered; each routing value's events must leave one replica. The test
// logs what the failover cost: events PagerDuty received more than once,
// how long the killed replica's routes went without an event, when the
// records the front held for it arrived, how long records waited from the
// front to PagerDuty (the other routes' must not wait for the dead
// replica), and what the front did meanwhile.
func TestLoadBalancedFailover(t *testing.T) {
	requireE2E(t)
	began := time.Now()
	lbBin := lbCollectorBin(t)
	bin := e2etest.CollectorBin(t)
	sim := e2etest.StartSim(t, "-quiet") // 120 events per key in any 60 s window

	replicas := make([]*failoverReplica, 3)
	for i := range replicas {
		replicas[i] = &failoverReplica{name: fmt.Sprintf("backend-%d", i+1), port: e2etest.FreePort(t), storage: t.TempDir()}
	}
	start := func(r *failoverReplica) {
		r.col = e2etest.StartCollector(t, bin, r.name, func(p e2etest.Ports) ([]string, []string) {
			env := []string{
				fmt.Sprintf("BACKEND_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", r.port),
				fmt.Sprintf("BACKEND_HEALTH_ENDPOINT=127.0.0.1:%d", p.Health),
				"BACKEND_METRICS_HOST=127.0.0.1",
				fmt.Sprintf("BACKEND_METRICS_PORT=%d", p.Metrics),
				"BACKEND_STORAGE_DIR=" + r.storage,
				"PAGERDUTY_ENDPOINT=" + sim.URL,
				"PAGERDUTY_ROUTING_KEY=" + keyDemoDefault,
				"PD_KEY_CHECKOUT=" + keyCheckout,
				"PD_KEY_PAYMENTS=" + keyPayments,
			}
			args := []string{"--config", filepath.Join(lbDir, "backend.yaml")}
			for _, rt := range failoverRoutes[2:] {
				args = append(args, "--set=exporters::pagerduty::routing::keys::"+rt.service+"="+rt.key)
			}
			return env, args
		})
	}
	var hostnames []string
	for _, r := range replicas {
		start(r)
		hostnames = append(hostnames, fmt.Sprintf("127.0.0.1:%d", r.port))
	}
	front := e2etest.StartCollector(t, lbBin, "front", func(p e2etest.Ports) ([]string, []string) {
		env := []string{
			fmt.Sprintf("LB_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", p.OTLP),
			fmt.Sprintf("LB_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", e2etest.FreePort(t)),
			fmt.Sprintf("LB_HEALTH_ENDPOINT=127.0.0.1:%d", p.Health),
			"LB_METRICS_HOST=127.0.0.1",
			fmt.Sprintf("LB_METRICS_PORT=%d", p.Metrics),
			"LB_BACKEND_1=" + hostnames[0],
			"LB_BACKEND_2=" + hostnames[1],
		}
		args := []string{
			"--config", filepath.Join(lbDir, "front.yaml"),
			// front.yaml lists two replicas; this storm runs three.
			"--set=exporters::load_balancing::resolver::static::hostnames=[" + strings.Join(hostnames, ",") + "]",
			// Every retry of the front in its log, to count them:
			// sampling would keep only some.
			"--set=service::telemetry::logs::sampling::enabled=false",
		}
		return env, args
	})

	// The storm, and what each alert's newest record asks for.
	fp := func(rt failoverRoute, i int) string { return fmt.Sprintf("failover-%s-%02d", rt.service, i) }
	routeOf := map[string]failoverRoute{} // by dedup key
	newest := map[string]string{}         // by dedup key: the action of the alert's newest record
	sentAt := map[string]time.Time{}      // by record id
	send := func(recs []failoverRecord) {
		p := e2etest.NewPayload()
		var last string
		for _, r := range recs {
			if r.route.service != last {
				p.Service(r.route.service)
				last = r.route.service
			}
			a := e2etest.Alert{Fingerprint: r.fp, Status: failoverStatus[r.action]}
			if r.action == "trigger" {
				a.Severity, a.Summary = "error", "Failover storm: "+r.fp
			}
			p.Add(a)
			routeOf[r.fp], newest[r.fp] = r.route, r.action
		}
		front.Send(t, p.Logs())
		now := time.Now()
		for _, r := range recs {
			sentAt[r.id()] = now
		}
	}
	fire := func(from, to int) []failoverRecord {
		var recs []failoverRecord
		for _, rt := range failoverRoutes {
			for i := from; i < to; i++ {
				recs = append(recs, failoverRecord{route: rt, fp: fp(rt, i), action: "trigger"})
			}
		}
		return recs
	}
	// paged lists, per routing value, the alerts PagerDuty has opened, in
	// the order it opened them. Acknowledges and resolves go only to those:
	// a person acknowledges what paged them, and an alert resolves after it
	// fired. (One sent while its trigger still waits in the route's queue
	// can overtake it, docs/lifecycle-and-delivery.md's "Ordering" says; that is not failover.)
	paged := func(s e2etest.Snapshot) map[string][]string {
		out := map[string][]string{}
		for _, inc := range s.Incidents {
			svc := routeOf[inc.DedupKey].service
			out[svc] = append(out[svc], inc.DedupKey)
		}
		return out
	}
	follow := func(opened map[string][]string, from, to int, action string) []failoverRecord {
		var recs []failoverRecord
		for _, rt := range failoverRoutes {
			for _, key := range opened[rt.service][from:to] {
				recs = append(recs, failoverRecord{route: rt, fp: key, action: action})
			}
		}
		return recs
	}

	// 1. Wave 1 fires: each route's burst of 10 goes out at once, the rest
	// at 2 a second. Of the paged alerts, 3 per route are resolved and 3
	// acknowledged right away.
	stormAt := time.Now()
	send(fire(0, failoverWave1))
	const burst = 10 // backend.yaml's rate_limit.burst
	atBurst := sim.WaitFor(t, "each route's burst", func(s e2etest.Snapshot) bool {
		for _, rt := range failoverRoutes {
			if len(paged(s)[rt.service]) < burst {
				return false
			}
		}
		return true
	})
	opened := paged(atBurst)
	send(append(follow(opened, 0, 3, "resolve"), follow(opened, 3, 6, "acknowledge")...))
	took := len(sentAt)
	e2etest.Eventually(t, landTimeout, func() bool {
		var n float64
		for _, r := range replicas {
			n += r.col.Exposition(t).Sum("otelcol_receiver_accepted_log_records")
		}
		return n >= float64(took)
	}, "the replicas to take the %d records of wave 1", took)

	// Which replica holds which routing values: the one that sends its
	// events, the only one. Each replica's metrics are read on their own and
	// compared with the others': a value whose events left two replicas
	// stops the test here. Read just before the kill, so that they cover
	// the killed replica's sends, which its restart forgets.
	senders := sendersByRoute(t, replicas)
	for _, rt := range failoverRoutes {
		from := senders[rt.service]
		if len(from) != 1 {
			t.Fatalf("%s's events left %d replicas %v before the kill, want one", rt.service, len(from), replicaNames(from))
		}
		from[0].routes = append(from[0].routes, rt.service)
	}
	victim := slices.MaxFunc(replicas, func(a, b *failoverReplica) int { return len(a.routes) - len(b.routes) })
	onVictim := func(fp string) bool { return slices.Contains(victim.routes, routeOf[fp].service) }

	// 2. kill -9, with the victim's routes' backlog in its persistent queue.
	victim.col.Proc.Kill(t)
	killedAt := time.Now()
	atKill := sim.Snapshot(t)
	delivered, victimRecords := 0, 0
	for _, ev := range atKill.Events {
		if onVictim(ev.DedupKey) {
			delivered++
		}
	}
	for id := range sentAt {
		if onVictim(id[:strings.LastIndexByte(id, '/')]) {
			victimRecords++
		}
	}
	if delivered >= victimRecords {
		t.Fatalf("%s's routes %v had sent all %d records of wave 1 before the kill: no backlog to lose", victim.name, victim.routes, victimRecords)
	}
	t.Logf("killed %s (routes %v) %v after the storm began, %d of its %d records of wave 1 delivered",
		victim.name, victim.routes, killedAt.Sub(stormAt).Round(100*time.Millisecond), delivered, victimRecords)

	// 3. While it is down: 2 of the acknowledged alerts resolved, 2 more
	// acknowledged, and wave 2 in four requests 5 s apart.
	send(append(follow(opened, 3, 5, "resolve"), follow(opened, 6, 8, "acknowledge")...))
	const parts = 4
	for k := range parts {
		if k > 0 {
			time.Sleep(5 * time.Second)
		}
		from := failoverWave1 + k*failoverWave2/parts
		send(fire(from, from+failoverWave2/parts))
	}
	meanwhile := sim.Snapshot(t)
	time.Sleep(time.Until(killedAt.Add(failoverDowntime)))

	// 4. Back on the same port and storage, 30 s after the kill.
	restartedAt := time.Now()
	start(victim)
	t.Logf("%s restarted %v after the kill, healthy %v later", victim.name,
		restartedAt.Sub(killedAt).Round(100*time.Millisecond), time.Since(restartedAt).Round(100*time.Millisecond))

	// Every alert in the state of its newest record, each once.
	intent := map[string]string{"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}
	sim.WaitWithin(t, 3*time.Minute, "every alert in the state of its newest record", func(s e2etest.Snapshot) bool {
		for key, action := range newest {
			if incs := s.IncidentsFor(key); len(incs) != 1 || incs[0].State != intent[action] {
				return false
			}
		}
		return true
	})
	settledAt := time.Now()
	// Then nothing more to send: every replica's queues empty.
	e2etest.Eventually(t, landTimeout, func() bool {
		for _, r := range replicas {
			m := r.col.Exposition(t)
			if m.Sum("otelcol_exporter_queue_size") != 0 || m.Sum("otelcol_exporter_pagerduty_backlog") != 0 {
				return false
			}
		}
		return true
	}, "the replicas' queues to drain")
	// A late duplicate would still come: wait until PagerDuty has received
	// nothing for 3 s.
	var final e2etest.Snapshot
	count, quietSince := -1, time.Now()
	e2etest.Eventually(t, landTimeout, func() bool {
		final = sim.Snapshot(t)
		if len(final.Events) != count {
			count, quietSince = len(final.Events), time.Now()
		}
		return time.Since(quietSince) >= 3*time.Second
	}, "PagerDuty to receive nothing more for 3 s")

	// Delivery, intent, routing key.
	for _, key := range slices.Sorted(maps.Keys(newest)) {
		incs := final.IncidentsFor(key)
		if len(incs) != 1 {
			t.Errorf("%s: %d incidents, want 1", key, len(incs))
			continue
		}
		if want := intent[newest[key]]; incs[0].State != want {
			t.Errorf("%s: %s, want %s; events %v", key, incs[0].State, want, e2etest.Actions(incs[0].Events))
		}
		if rt := routeOf[key]; incs[0].RoutingKey != rt.key {
			t.Errorf("%s: under %q, want %s's key", key, incs[0].RoutingKey, rt.service)
		}
	}
	received := map[string][]time.Time{} // by record id: every arrival
	for _, ev := range final.Events {
		id := ev.DedupKey + "/" + ev.Action
		received[id] = append(received[id], ev.Time)
	}
	// Every alert paged. (An acknowledge can be left out: one that is still
	// queued when a newer resolve of its alert is sent is stale.)
	for _, key := range slices.Sorted(maps.Keys(newest)) {
		if len(received[key+"/trigger"]) == 0 {
			t.Errorf("%s: its trigger never reached PagerDuty", key)
		}
	}
	if final.Requests.Throttled != 0 {
		t.Errorf("%d answers were 429: a key's events left more than one replica, or a limiter let too many through", final.Requests.Throttled)
	}
	// Affinity: each routing value's events left the replica that held it
	// before the kill, and no other: the others' counts since their start,
	// the killed replica's since its restart.
	senders = sendersByRoute(t, replicas)
	for _, rt := range failoverRoutes {
		var held []*failoverReplica
		for _, r := range replicas {
			if slices.Contains(r.routes, rt.service) {
				held = append(held, r)
			}
		}
		if from := senders[rt.service]; !slices.Equal(replicaNames(from), replicaNames(held)) {
			t.Errorf("%s's events left %v, want only %v, which sent them before the kill", rt.service, replicaNames(from), replicaNames(held))
		}
	}

	// What the failover cost. Duplicates: arrivals of a record beyond its
	// first.
	dups := map[string]int{} // by action
	total, onVictimRoutes := 0, 0
	for id, times := range received {
		if n := len(times) - 1; n > 0 {
			cut := strings.LastIndexByte(id, '/')
			dups[id[cut+1:]] += n
			total += n
			if onVictim(id[:cut]) {
				onVictimRoutes += n
			}
		}
	}
	t.Logf("duplicates: %d of %d events (%d on the killed replica's routes; by action %v); %d acknowledges or resolves PagerDuty dropped; %d answers 429",
		total, len(final.Events), onVictimRoutes, dups, final.Dropped, final.Requests.Throttled)

	// Waits, per route: the longest stretch without an event, and the
	// longest a record took from the front to PagerDuty.
	for _, rt := range failoverRoutes {
		var times []time.Time
		for _, ev := range final.Events {
			if ev.RoutingKey == rt.key {
				times = append(times, ev.Time)
			}
		}
		slices.SortFunc(times, time.Time.Compare)
		var gap time.Duration
		for i := 1; i < len(times); i++ {
			gap = max(gap, times[i].Sub(times[i-1]))
		}
		var longest time.Duration
		for id, at := range sentAt {
			if routeOf[id[:strings.LastIndexByte(id, '/')]] == rt && len(received[id]) > 0 {
				longest = max(longest, slices.MinFunc(received[id], time.Time.Compare).Sub(at))
			}
		}
		drained := times[len(times)-1].Sub(stormAt)
		if !slices.Contains(victim.routes, rt.service) {
			t.Logf("%s: longest without an event %v, longest wait of a record %v, drained %v after the storm began",
				rt.service, gap.Round(100*time.Millisecond), longest.Round(100*time.Millisecond), drained.Round(100*time.Millisecond))
			// Its replica stayed up: its records wait behind their own
			// route's backlog only, at 2 a second (about 12 s of it).
			if longest > 25*time.Second {
				t.Errorf("%s, on a replica that stayed up, had a record wait %v", rt.service, longest)
			}
			if !slices.ContainsFunc(meanwhile.Events, func(ev e2etest.Event) bool { return ev.RoutingKey == rt.key && ev.Time.After(killedAt) }) {
				t.Errorf("%s sent nothing while %s was down", rt.service, victim.name)
			}
			continue
		}
		// The records the front held while the replica was down: the first
		// of them to arrive says when the front reached it again.
		var held time.Time
		for id, at := range sentAt {
			if at.After(killedAt) && routeOf[id[:strings.LastIndexByte(id, '/')]] == rt && len(received[id]) > 0 {
				if first := slices.MinFunc(received[id], time.Time.Compare); held.IsZero() || first.Before(held) {
					held = first
				}
			}
		}
		i := slices.IndexFunc(times, func(at time.Time) bool { return at.After(killedAt) })
		t.Logf("%s (killed replica): no event for %v, from %v before the kill to %v after the restart; the front's held records from %v after the restart; longest wait of a record %v, drained %v after the storm began",
			rt.service, gap.Round(100*time.Millisecond), killedAt.Sub(times[i-1]).Round(100*time.Millisecond),
			times[i].Sub(restartedAt).Round(100*time.Millisecond), held.Sub(restartedAt).Round(100*time.Millisecond),
			longest.Round(100*time.Millisecond), drained.Round(100*time.Millisecond))
	}

	// The front meanwhile: its in-memory queue for the killed replica held
	// the records and retried them; exporterhelper logs each retry.
	endpoint := fmt.Sprintf("127.0.0.1:%d", victim.port)
	retries, dropped := 0, 0
	var lastRetry string
	for _, line := range strings.Split(front.Proc.Output(), "\n") {
		if !strings.Contains(line, endpoint) {
			continue
		}
		switch {
		case strings.Contains(line, "Will retry"):
			retries++
			lastRetry, _, _ = strings.Cut(line, "\t")
		case strings.Contains(line, "Dropping data"):
			dropped++
		}
	}
	t.Logf("front: %d retries logged for %s (the last at %s), %d requests dropped", retries, endpoint, lastRetry, dropped)
	if retries == 0 {
		t.Errorf("the front logged no retry for %s while it was down", endpoint)
	}
	if dropped != 0 {
		t.Errorf("the front dropped %d requests for %s", dropped, endpoint)
	}
	t.Logf("every alert settled %v after the restart, %v after the storm began; the test took %v",
		settledAt.Sub(restartedAt).Round(100*time.Millisecond), settledAt.Sub(stormAt).Round(100*time.Millisecond), time.Since(began).Round(time.Second))
}

// sendersByRoute returns, for each routing value, the replicas that have
// sent any event of it, by their own metrics.
func sendersByRoute(t *testing.T, replicas []*failoverReplica) map[string][]*failoverReplica {
	t.Helper()
	out := make(map[string][]*failoverReplica, len(failoverRoutes))
	for _, rt := range failoverRoutes {
		out[rt.service] = nil
	}
	for _, r := range replicas {
		m := r.col.Exposition(t)
		for _, rt := range failoverRoutes {
			if m.Sum("otelcol_exporter_pagerduty_events", "routing="+rt.service) > 0 {
				out[rt.service] = append(out[rt.service], r)
			}
		}
	}
	return out
}

func replicaNames(rs []*failoverReplica) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.name
	}
	return names
}
