package pagerdutyexporter

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// priorityNames are the priorities as queue IDs and the directory name them.
var priorityNames = []string{"critical", "ack_resolve", "error", "warning", "info", "change"}

// builtQueues lists the queues an exporter observed by tt has built, as
// route/priority: each reports its capacity under its own ID,
// pagerduty/<route>/<priority>.
func builtQueues(t *testing.T, tt *componenttest.Telemetry) []string {
	t.Helper()
	var names []string
	m, err := tt.GetMetric("otelcol_exporter_queue_capacity")
	if err != nil {
		return names // no queue was built
	}
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		id, _ := dp.Attributes.Value("exporter")
		name, ok := strings.CutPrefix(id.AsString(), "pagerduty/")
		require.True(t, ok, id.AsString())
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// queueClient is the name of the storage client of a route's queue of
// priority p, as the storage extension is asked for it.
func queueClient(route, p string) string { return "Exporter/pagerduty/" + route + "/" + p + "/logs" }

// listedQueues reads the queue directory from the exporter's storage data,
// as priority/route.
func listedQueues(t *testing.T, data map[string][]byte) []string {
	t.Helper()
	require.Equal(t, "1", string(data["queues"]), "the directory's layout")
	names := []string{}
	for k := range data {
		if entry, ok := strings.CutPrefix(k, "queues/"); ok {
			names = append(names, entry)
		}
	}
	slices.Sort(names)
	return names
}

// TestQueuesAreBuiltOnFirstUse: a route's queue of a priority exists once a
// record goes to it, and not before; an idle route costs no queue.
func TestQueuesAreBuiltOnFirstUse(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.QueueConfig = configoptional.Some(exporterhelper.NewDefaultQueueConfig())
	ctx := context.Background()
	set, tt, _ := observedSettings(t)
	e := newExporter(cfg, set)
	require.NoError(t, e.start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, e.shutdown(ctx)) }()
	assert.Empty(t, builtQueues(t, tt))

	require.NoError(t, e.layers.road.Admit(ctx, pdtest.Batch(
		pdtest.Alert("checkout", "alert.fingerprint", "a", "alert.severity", "critical"),
		pdtest.Alert("checkout", "alert.fingerprint", "b", "alert.severity", "critical"),
		pdtest.Alert("payments", "alert.fingerprint", "c", "alert.severity", "info"),
	)))
	assert.Equal(t, []string{"checkout/critical", "payments/info"}, builtQueues(t, tt))
	require.Eventually(t, func() bool { return len(api.requestsSoFar()) == 3 }, 5*time.Second, 10*time.Millisecond)
}

// TestPersistentQueuesAreReadBackAtStart: records left in a persistent queue
// at shutdown are counted in the backlog from the next start on, before any
// is delivered, and then delivered; the directory lists the queues that hold
// records, and a queue found empty at a start is neither opened nor listed.
func TestPersistentQueuesAreReadBackAtStart(t *testing.T) {
	api := newFakeEventsAPI(t)
	var down atomic.Bool
	down.Store(true)
	api.respond = func(apiRequest) (int, http.Header, string) {
		if down.Load() {
			return http.StatusServiceUnavailable, nil, ""
		}
		return http.StatusAccepted, nil, `{"status":"success","message":"Event processed"}`
	}
	storageID := component.MustNewID("file_storage")
	store := &mapStorage{data: map[string][]byte{}}
	host := extHost{storageID: store}
	cfg := testConfig(api)
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.StorageID = &storageID
	queue.NumConsumers = 1
	cfg.QueueConfig = configoptional.Some(queue)
	cfg.BackOffConfig.Enabled = true
	cfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 10 * time.Millisecond
	ctx := context.Background()
	// One ID across restarts, as in a collector; telemetry of each start's own.
	start := func(set exporter.Settings) *pagerdutyExporter {
		e := newExporter(cfg, set)
		require.NoError(t, e.start(ctx, host))
		return e
	}
	backlog := func(e *pagerdutyExporter) map[string]int64 {
		got := map[string]int64{}
		e.layers.road.ObserveBacklog(time.Now(), func(route string, n int64) { got[route] = n })
		return got
	}

	set, _, _ := observedSettings(t)
	first := start(set)
	sentinel := queueClient("default", "critical")
	assert.Equal(t, []string{sentinel}, store.clients(), "on a new storage, only the first queue is looked into")
	var records []plog.Logs
	for i := range 5 {
		records = append(records, pdtest.Alert("payments", "alert.fingerprint", fmt.Sprint("p-", i), "alert.severity", "warning"))
	}
	require.NoError(t, first.layers.road.Admit(ctx, pdtest.Batch(records...)))
	require.Eventually(t, func() bool { return len(api.requestsSoFar()) > 0 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, first.shutdown(ctx))
	assert.Equal(t, []string{"warning/payments"}, listedQueues(t, store.data))
	assert.Equal(t, []string{sentinel, queueClient("payments", "warning")}, store.clients())

	set, tt, _ := observedSettings(t)
	second := start(set)
	assert.Equal(t, map[string]int64{"checkout": 0, "default": 0, "payments": 5}, backlog(second), "counted from the start")
	assert.Equal(t, []string{"payments/warning"}, builtQueues(t, tt))
	api.taken()
	down.Store(false)
	require.Eventually(t, func() bool { return backlog(second)["payments"] == 0 }, 5*time.Second, 10*time.Millisecond)
	delivered := map[string]bool{}
	for _, r := range api.taken() {
		delivered[r.dedup()] = true
	}
	assert.Len(t, delivered, 5)
	require.NoError(t, second.shutdown(ctx))

	set, tt, _ = observedSettings(t)
	third := start(set)
	assert.Empty(t, builtQueues(t, tt), "an empty queue is not started")
	assert.Empty(t, listedQueues(t, store.data))
	require.NoError(t, third.shutdown(ctx))
}

// TestUpgradeLooksIntoEveryQueueOnce: a storage with no directory but the
// exporter's state, or the metadata of the first queue an earlier build
// started, was written by a build that made every queue at start; each
// queue of a configured route is looked into once, and only those that hold
// records are started. A new storage costs one queue's client, and starts
// nothing. The storage counts the clients opened per queue: one for the
// look, and one more for a queue that is started.
func TestUpgradeLooksIntoEveryQueueOnce(t *testing.T) {
	held := protowire.AppendTag(nil, 1, protowire.Fixed64Type) // items_size
	held = protowire.AppendFixed64(held, 1)
	for name, tc := range map[string]struct {
		dedup    map[string][]byte
		queues   map[string][]byte // metadata, by route/priority
		unlisted bool              // the storage cannot list its keys
		all      bool              // every queue is looked into, not only the first
		started  []string
	}{
		"new": {},
		"directory the storage cannot list": {
			dedup:    map[string][]byte{"queues": []byte("1")},
			queues:   map[string][]byte{"checkout/error": held},
			unlisted: true,
			all:      true, started: []string{"checkout/error"},
		},
		"dedup state": {
			dedup:  map[string][]byte{"limiter/checkout": {}},
			queues: map[string][]byte{"checkout/info": held},
			all:    true, started: []string{"checkout/info"},
		},
		"first queue started before": {
			queues: map[string][]byte{"default/critical": {}, "payments/ack_resolve": held},
			all:    true, started: []string{"payments/ack_resolve"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			api := newFakeEventsAPI(t)
			set, tt, _ := observedSettings(t)
			storageID := component.MustNewID("file_storage")
			store := &mapStorage{data: map[string][]byte{}, others: map[string]map[string][]byte{}}
			maps.Copy(store.data, tc.dedup)
			for name, meta := range tc.queues {
				route, p, _ := strings.Cut(name, "/")
				store.others[queueClient(route, p)] = map[string][]byte{"qmv0": meta}
			}
			cfg := testConfig(api)
			queue := exporterhelper.NewDefaultQueueConfig()
			queue.StorageID = &storageID
			cfg.QueueConfig = configoptional.Some(queue)
			ctx := context.Background()
			e := newExporter(cfg, set)
			var ext component.Component = store
			if tc.unlisted {
				ext = unlistedStorage{store}
			}
			require.NoError(t, e.start(ctx, extHost{storageID: ext}))

			// Clients opened, by route/priority.
			named := map[string]string{} // by owner
			for _, route := range []string{"checkout", "default", "payments"} {
				for _, p := range priorityNames {
					named[queueClient(route, p)] = route + "/" + p
				}
			}
			opened := map[string]int{}
			for o, n := range store.opened() {
				require.Contains(t, named, o, "a client of no configured queue")
				opened[named[o]] = n
			}
			want := map[string]int{"default/critical": 1} // the first queue
			if tc.all {
				for _, name := range named {
					want[name] = 1
				}
			}
			for _, name := range tc.started {
				want[name]++
			}
			assert.Equal(t, want, opened, "clients opened per queue: one look each, and one more per queue started")
			assert.Equal(t, tc.started, builtQueues(t, tt))
			assert.Len(t, listedQueues(t, store.data), len(tc.started))
			require.NoError(t, e.shutdown(ctx))
		})
	}
}

// TestQueuesOfRemovedRoutesAreStranded: the directory lists queues of a
// route since removed from routing.keys. Those that hold records are not
// started; they stay listed, their records are counted in
// stranded_records, and one warning says how many and what to do. One
// found empty is taken off the list, silently. With the route back, its
// queues are started and nothing is stranded.
func TestQueuesOfRemovedRoutesAreStranded(t *testing.T) {
	meta := func(n uint64) []byte {
		b := protowire.AppendTag(nil, 1, protowire.Fixed64Type) // items_size
		return protowire.AppendFixed64(b, n)
	}
	for name, tc := range map[string]struct {
		legacyRoute bool // the removed routes are configured again
		started     []string
		listed      []string
		stranded    int64
		warned      bool
	}{
		"removed": {
			started:  []string{"checkout/error"},
			listed:   []string{"critical/legacy", "error/checkout", "warning/legacy", "warning/old"},
			stranded: 3, warned: true,
		},
		"put back": {
			legacyRoute: true,
			started:     []string{"checkout/error", "legacy/critical", "legacy/warning", "old/warning"},
			listed:      []string{"critical/legacy", "error/checkout", "warning/legacy", "warning/old"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			api := newFakeEventsAPI(t)
			set, tt, logs := observedSettings(t)
			storageID := component.MustNewID("file_storage")
			store := &mapStorage{data: map[string][]byte{"queues": []byte("1")}, others: map[string]map[string][]byte{}}
			for _, q := range []struct {
				route string
				p     string
				meta  []byte // nil: no metadata at all, unreadable: not a protobuf
			}{
				{"checkout", "error", meta(1)},
				{"legacy", "critical", meta(1)},
				{"legacy", "warning", meta(2)},
				{"old", "warning", []byte{0xff}}, // unreadable: records unknown
				{"gone", "info", meta(0)},        // empty: forgotten
			} {
				store.data["queues/"+q.p+"/"+q.route] = []byte{}
				store.others[queueClient(q.route, q.p)] = map[string][]byte{"qmv0": q.meta}
			}
			cfg := testConfig(api)
			if tc.legacyRoute {
				cfg.Routing.Keys["legacy"] = "legacy0000000000000000000000000a"
				cfg.Routing.Keys["old"] = "old00000000000000000000000000000"
			}
			queue := exporterhelper.NewDefaultQueueConfig()
			queue.StorageID = &storageID
			cfg.QueueConfig = configoptional.Some(queue)
			ctx := context.Background()
			e := newExporter(cfg, set)
			require.NoError(t, e.start(ctx, extHost{storageID: store}))
			defer func() { require.NoError(t, e.shutdown(ctx)) }()

			assert.Equal(t, tc.started, builtQueues(t, tt))
			assert.Equal(t, tc.listed, listedQueues(t, store.data), "stranded queues stay listed; the empty one is forgotten")
			m, err := tt.GetMetric("otelcol_exporter_pagerduty_stranded_records")
			require.NoError(t, err)
			points := m.Data.(metricdata.Gauge[int64]).DataPoints
			require.Len(t, points, 1)
			assert.Equal(t, tc.stranded, points[0].Value)

			warnings := logs.FilterMessageSnippet("no longer in routing.keys").All()
			if !tc.warned {
				assert.Empty(t, warnings)
				return
			}
			require.Len(t, warnings, 1, "one warning for all of them")
			w := warnings[0]
			assert.Equal(t, zapcore.WarnLevel, w.Level)
			assert.Contains(t, w.Message, "put the routes back in routing.keys")
			assert.Contains(t, w.Message, "delete those queues' files from the storage directory")
			fields := w.ContextMap()
			assert.Equal(t, int64(3), fields["queues"])
			assert.Equal(t, int64(3), fields["records"])
			assert.Equal(t, int64(1), fields["queues_unreadable"])
			assert.Equal(t, []any{"legacy", "old"}, fields["routes"])
		})
	}
}

// unlistedStorage is a storage whose clients cannot walk their keys.
type unlistedStorage struct{ *mapStorage }

func (u unlistedStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := u.mapStorage.GetClient(ctx, kind, id, name)
	return struct{ storage.Client }{c}, err
}
