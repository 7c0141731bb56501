package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"sync"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// pending remembers, per dedup key with records still queued or in flight,
// the queue of the newest firing record among them, else of the first of
// them. An acknowledge follows it there: in a queue of its own it could
// overtake the trigger it acknowledges, reach PagerDuty before the incident
// exists and be dropped there, leaving the incident triggered. Memory grows
// only with the keys pending.
type pending struct {
	mu    sync.Mutex
	byKey map[string]pendingKey
}

type pendingKey struct {
	queue   routes.Queue
	records int
}

func newPending() *pending { return &pending{byKey: map[string]pendingKey{}} }

// add notes a record of dedupKey put on queue q, a firing record when
// firing is true.
func (p *pending) add(dedupKey string, q routes.Queue, firing bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k, ok := p.byKey[dedupKey]
	if !ok || firing {
		k.queue = q
	}
	k.records++
	p.byKey[dedupKey] = k
}

// done notes that a record of dedupKey settled; a key not pending is left
// as it is.
func (p *pending) done(dedupKey string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k, ok := p.byKey[dedupKey]
	switch {
	case !ok:
	case k.records > 1:
		k.records--
		p.byKey[dedupKey] = k
	default:
		delete(p.byKey, dedupKey)
	}
}

// queue returns the queue of dedupKey's pending records, if any.
func (p *pending) queue(dedupKey string) (routes.Queue, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k, ok := p.byKey[dedupKey]
	return k.queue, ok
}
