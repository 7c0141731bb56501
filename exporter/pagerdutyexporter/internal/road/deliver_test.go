package road

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// TestStoppedDeliveryHandsRecordsBack: once shutdown stops delivery, a push
// sends nothing and hands every record back, counted for the shutdown's log
// line.
func TestStoppedDeliveryHandsRecordsBack(t *testing.T) {
	r := newTestRoad(t, 0, time.Now)
	r.stopDelivery()
	err := r.deliver(routes.Queue{Route: "checkout", Priority: routes.PriorityError})(context.Background(), pdtest.Batch(
		pdtest.Alert("checkout", "alert.fingerprint", "a"),
		pdtest.Alert("checkout", "alert.fingerprint", "b"),
	))
	require.ErrorIs(t, err, errShuttingDown)
	assert.Empty(t, r.api.taken(), "nothing was sent")
	assert.Equal(t, int64(2), r.unsentAtStop.Load())
}
