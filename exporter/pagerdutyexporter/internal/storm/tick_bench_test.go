package storm

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// BenchmarkIdleTick is what the digests cost once a second when no route
// has a storm: one tick over 100 routes, each reading its backlog.
func BenchmarkIdleTick(b *testing.B) {
	keys := map[string]string{}
	for i := range 100 {
		keys[fmt.Sprintf("route-%03d", i)] = fmt.Sprintf("%032d", i)
	}
	router := routes.NewRouter("", keys)
	idle := func(string) road.Waiting { return road.Waiting{} }
	d := newDigests(Config{After: 30 * time.Second, EventsPerMinute: 60}, router.Queued, idle, nil, nil, zap.NewNop(), nil)
	ctx, now := context.Background(), time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Tick(ctx, now); err != nil {
			b.Fatal(err)
		}
	}
}
