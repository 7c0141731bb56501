package storm

import (
	"context"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// memStore is a storage client in memory.
type memStore struct{ data map[string][]byte }

func newMemStore() *memStore { return &memStore{data: map[string][]byte{}} }

func (s *memStore) Get(_ context.Context, k string) ([]byte, error) { return s.data[k], nil }
func (s *memStore) Set(_ context.Context, k string, v []byte) error {
	s.data[k] = v
	return nil
}

func (s *memStore) Delete(_ context.Context, k string) error {
	delete(s.data, k)
	return nil
}

func (s *memStore) Batch(_ context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = s.data[op.Key]
		case storage.Set:
			s.data[op.Key] = op.Value
		case storage.Delete:
			delete(s.data, op.Key)
		}
	}
	return nil
}
func (s *memStore) Close(context.Context) error { return nil }

// digestCounts reads otelcol_exporter_pagerduty_storm_digests as
// "route/action" -> count, leaving out the series at zero.
func digestCounts(m metricdata.Metrics) map[string]int64 {
	out := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if dp.Value == 0 {
			continue
		}
		route, _ := dp.Attributes.Value("routing")
		action, _ := dp.Attributes.Value("event_action")
		out[route.AsString()+"/"+action.AsString()] += dp.Value
	}
	return out
}
