package clock // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Tick is how often the exporter's background work runs: the quiet clocks
// count whole seconds, and the send log is saved as often.
const Tick = time.Second

// Ticker runs the exporter's background work once a Tick, from Start to
// Shutdown: the events the exporter decides itself, and saving what must
// survive a restart.
type Ticker struct {
	logger *zap.Logger
	now    func() time.Time // the time each tick's jobs are given
	jobs   []Job
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// Job is one piece of work; a failure is logged with What, and the next
// tick tries again.
type Job struct {
	What string
	Run  func(ctx context.Context, now time.Time) error
}

// NewTicker runs jobs, in order, once a tick at the time now reads, from
// Start on; failures are logged to logger.
func NewTicker(logger *zap.Logger, now func() time.Time, jobs ...Job) *Ticker {
	return &Ticker{logger: logger, now: now, jobs: jobs}
}

// Start runs the jobs until Shutdown.
func (t *Ticker) Start() {
	ctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.done.Go(func() {
		tc := time.NewTicker(Tick)
		defer tc.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tc.C:
				t.RunOnce(ctx)
			}
		}
	})
}

// RunOnce runs every job once, as a tick does.
func (t *Ticker) RunOnce(ctx context.Context) {
	now := t.now()
	for _, job := range t.jobs {
		if err := job.Run(ctx, now); err != nil {
			t.logger.Warn(job.What, zap.Error(err))
		}
	}
}

// Shutdown ends the jobs; a Ticker never started has nothing to end.
func (t *Ticker) Shutdown() {
	if t != nil && t.stop != nil {
		t.stop()
		t.done.Wait()
	}
}
