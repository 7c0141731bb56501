package clock // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Arrival is the exporter's clock of arrivals and quiet periods: Unix
// time as read at base, then advanced by the monotonic clock. A step of the
// wall clock (NTP, an operator) thus neither ages nor rejuvenates what the
// exporter times within one run, and a suspend of the machine, during which
// Linux's monotonic clock stands still, does not count. Times written to
// storage are on it too; a new run starts again from the wall clock, moved
// past the newest time its storage holds (see NotBefore and Save).
type Arrival struct {
	read  func() time.Time
	ahead atomic.Int64 // nanoseconds added to read's; only grows
	// down lists the times the exporter was not running, as Restore read
	// and extended them; set at start, before the ticker saves it.
	down [][2]int64
}

// NewArrival returns an arrival clock that starts from read (Wall, for the
// exporter; a test's own clock in tests).
func NewArrival(read func() time.Time) *Arrival {
	return &Arrival{read: read}
}

// Wall reads the wall clock as it was at base, advanced by the monotonic
// clock since.
func Wall(base time.Time) func() time.Time {
	return func() time.Time { return base.Add(time.Since(base)) }
}

// Now is the clock's reading.
func (c *Arrival) Now() time.Time {
	return c.read().Add(time.Duration(c.ahead.Load()))
}

// NotBefore moves the clock forward to t (Unix nanoseconds) if it is behind:
// after the wall clock stepped back across a restart, a new record must
// still arrive after what an earlier run stored, or it would be taken for
// stale.
func (c *Arrival) NotBefore(t int64) {
	if behind := t - c.Now().UnixNano(); behind > 0 {
		c.ahead.Add(behind)
	}
}

// clockKey is where the exporter's storage keeps the arrival clock: its
// reading, saved once a tick and at shutdown (8 bytes of Unix nanoseconds),
// 1 when saved by a clean shutdown (1 byte), and the times the exporter was
// not running (see down), 16 bytes each.
const clockKey = "clock"

// clockSaveGap bounds, in time of the clock, how far an arrival can be
// past the last reading saved: a tick, and as much again for a late tick.
const clockSaveGap = 2 * Tick

// maxDown bounds how many stops the clock remembers: a quiet period that
// spans more restarts counts the older ones' downtime as quiet.
const maxDown = 16

// Restore moves the clock past the reading an earlier run saved in client,
// and past any arrival it stamped after that save (clockSaveGap), so that a
// record that arrives now comes after every record that run queued, even
// when the wall clock stepped back across the restart. It returns the times
// the exporter was not running, the last one ending now (see
// dedup.Cache.Resume): from the earlier run's clean stop, or from the
// beginning of time after a kill or a crash, whose last firing records may
// not be stored.
func (c *Arrival) Restore(ctx context.Context, client storage.Client) ([][2]int64, error) {
	b, err := client.Get(ctx, clockKey)
	var stopped int64
	if err == nil && len(b) >= 9 && (len(b)-9)%16 == 0 {
		saved := int64(binary.LittleEndian.Uint64(b)) //nolint:gosec // G115: undoes save's bit-for-bit reinterpretation
		c.NotBefore(saved + int64(clockSaveGap))
		if b[8] == 1 {
			stopped = saved
		}
		for rest := b[9:]; len(rest) > 0; rest = rest[16:] {
			c.down = append(c.down, [2]int64{int64(binary.LittleEndian.Uint64(rest)), int64(binary.LittleEndian.Uint64(rest[8:]))}) //nolint:gosec // G115: as above
		}
	}
	c.down = append(c.down, [2]int64{stopped, c.Now().UnixNano()})
	if len(c.down) > maxDown {
		c.down = c.down[len(c.down)-maxDown:]
	}
	return c.down, err
}

// Save writes the clock's reading at now to client; clean marks the
// reading of a clean shutdown.
func (c *Arrival) Save(ctx context.Context, client storage.Client, now time.Time, clean bool) error {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 9+16*len(c.down)), uint64(now.UnixNano()))
	if clean {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, d := range c.down {
		b = binary.LittleEndian.AppendUint64(b, uint64(d[0])) //nolint:gosec // G115: as above
		b = binary.LittleEndian.AppendUint64(b, uint64(d[1])) //nolint:gosec // G115: as above
	}
	if err := client.Set(ctx, clockKey, b); err != nil {
		return fmt.Errorf("saving the arrival clock: %w", err)
	}
	return nil
}
