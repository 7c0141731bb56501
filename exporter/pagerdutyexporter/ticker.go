package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// tick is how often the exporter's background work runs: the quiet clocks
// count whole seconds, and the send log is saved as often.
const tick = time.Second

// ticker runs the exporter's background work once a tick, from start to
// shutdown: resolving the alerts gone quiet, and saving the send log.
type ticker struct {
	logger *zap.Logger
	now    func() time.Time // the time each tick's jobs are given
	jobs   []tickJob
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// tickJob is one piece of work; a failure is logged with what, and the
// next tick tries again.
type tickJob struct {
	what string
	run  func(ctx context.Context, now time.Time) error
}

// start runs the jobs until shutdown.
func (t *ticker) start() {
	ctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	t.done.Go(func() {
		tc := time.NewTicker(tick)
		defer tc.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tc.C:
				now := t.now()
				for _, job := range t.jobs {
					if err := job.run(ctx, now); err != nil {
						t.logger.Warn(job.what, zap.Error(err))
					}
				}
			}
		}
	})
}

// shutdown ends the jobs.
func (t *ticker) shutdown() {
	if t.stop != nil {
		t.stop()
		t.done.Wait()
	}
}
