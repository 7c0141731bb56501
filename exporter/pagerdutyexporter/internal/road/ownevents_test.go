package road

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// TestFiringRecordWinsOverAnAutoResolve: a firing record that arrives after
// the exporter decided to resolve its alert, and before the resolve is
// sent, wins: the resolve is dropped as stale and the alert stays open.
func TestFiringRecordWinsOverAnAutoResolve(t *testing.T) {
	var mu sync.Mutex
	ahead := time.Duration(0)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(ahead)
	}
	r := newTestRoad(t, 2*time.Second, now)
	ctx := context.Background()

	require.NoError(t, r.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "declines")))
	require.Len(t, r.api.taken(), 1)
	at := time.Now().Add(4 * time.Second)
	mu.Lock()
	ahead = time.Until(at)
	mu.Unlock()
	quiet := r.cache.Quiet(ctx, at) // decided...
	require.Len(t, quiet, 1)
	require.NoError(t, r.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "declines"))) // ...then a firing record comes
	_, err := r.take(ctx, autoResolves(quiet, at), arrival{received: pcommon.NewTimestampFromTime(at), auto: true, run: r.run})
	require.NoError(t, err)
	assert.Empty(t, r.api.taken(), "neither the repeat nor the resolve is sent")
	assert.Equal(t, 1, r.cache.Stats().Open, "the alert is open")
	assert.Equal(t, map[string]int64{"resolve/stale": 1, "trigger/duplicate": 1}, r.suppressed(t))
}
