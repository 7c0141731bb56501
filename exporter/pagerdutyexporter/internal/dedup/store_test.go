package dedup

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// memStorage is a storage extension client double kept in a map; with walk
// set it also implements storage.Walker, as file_storage does.
type memStorage struct {
	mu     sync.Mutex
	data   map[string][]byte
	failed error
}

func (m *memStorage) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[key], m.failed
}

func (m *memStorage) Set(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[key] = value
	return m.failed
}

func (m *memStorage) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return m.failed
}

func (m *memStorage) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		switch op.Type {
		case storage.Delete:
			_ = m.Delete(ctx, op.Key)
		case storage.Set:
			_ = m.Set(ctx, op.Key, op.Value)
		case storage.Get:
			op.Value, _ = m.Get(ctx, op.Key)
		}
	}
	return m.failed
}

func (m *memStorage) Close(context.Context) error { return nil }

func (m *memStorage) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ks []string
	for k := range maps.Keys(m.data) {
		ks = append(ks, k)
	}
	return ks
}

type walkingStorage struct{ *memStorage }

func (w walkingStorage) Walk(ctx context.Context, fn storage.WalkFunc) error {
	w.mu.Lock()
	snapshot := maps.Clone(w.data)
	w.mu.Unlock()
	for k, v := range snapshot {
		ops, err := fn(k, v)
		if err != nil {
			return err
		}
		_ = w.Batch(ctx, ops...)
	}
	return nil
}

// routes maps keys to names as the exporter's router does.
var routes = map[string]string{keyA: "checkout", keyB: "default"}

func persistence(client storage.Client) Persistence {
	return Persistence{
		Client: client,
		Route:  func(k string) string { return routes[k] },
		Key: func(name string) string {
			for k, n := range routes {
				if n == name {
					return k
				}
			}
			return ""
		},
	}
}

func TestPersistenceSurvivesRestart(t *testing.T) {
	for _, walks := range []bool{true, false} {
		name := map[bool]string{true: "walking storage", false: "lookup on first sight"}[walks]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			mem := &memStorage{data: map[string][]byte{}}
			var client storage.Client = mem
			if walks {
				client = walkingStorage{mem}
			}
			clk := newClock()
			cfg := Config{TTL: time.Hour, MaxEntries: 10, RepeatInterval: time.Hour, StoreError: failOn(t)}
			before, err := Open(ctx, cfg, clk.now, persistence(client))
			require.NoError(t, err)
			record(before, "open", ev(eventsapi.Trigger, keyA, 7))
			record(before, "closed", ev(eventsapi.Trigger, keyA, 1))
			record(before, "closed", ev(eventsapi.Resolve, keyA, 0))
			require.NoError(t, before.Close(ctx))

			clk.advance(time.Minute)
			after, err := Open(ctx, cfg, clk.now, persistence(client))
			require.NoError(t, err)
			if walks {
				assert.Equal(t, Stats{Entries: 2, Open: 1}, after.Stats(), "loaded at start")
			}
			d := decide(after, "open", ev(eventsapi.Resolve, keyB, 0))
			assert.Equal(t, Decision{RoutingKey: keyA}, d, "resolve goes to the opening key")
			d = decide(after, "open", ev(eventsapi.Trigger, keyB, 7))
			assert.Equal(t, ReasonDuplicate, d.Reason, "suppression survives the restart")
			d = decide(after, "closed", ev(eventsapi.Resolve, keyB, 0))
			assert.Equal(t, ReasonAlreadyApplied, d.Reason)
		})
	}
}

func TestPersistenceStoresRouteNamesNotKeys(t *testing.T) {
	ctx := context.Background()
	mem := &memStorage{data: map[string][]byte{}}
	c, err := Open(ctx, Config{RepeatInterval: time.Hour, StoreError: failOn(t)}, nil, persistence(walkingStorage{mem}))
	require.NoError(t, err)
	record(c, "a", ev(eventsapi.Trigger, keyA, 1))
	record(c, "b", ev(eventsapi.Trigger, keyB, 1))
	for _, v := range mem.data {
		assert.NotContains(t, string(v), keyA)
		assert.NotContains(t, string(v), keyB)
	}
	assert.True(t, strings.HasSuffix(string(mem.data[entryPrefix+"a"]), "checkout"))

	// A route removed from the configuration: the resolve falls back to the
	// record's own key.
	delete(routes, keyA)
	defer func() { routes[keyA] = "checkout" }()
	after, err := Open(ctx, Config{RepeatInterval: time.Hour, StoreError: failOn(t)}, nil, persistence(walkingStorage{mem}))
	require.NoError(t, err)
	d := decide(after, "a", ev(eventsapi.Resolve, keyB, 0))
	assert.Equal(t, Decision{RoutingKey: keyB}, d)
}

func TestPersistenceDeletesWhatTheCacheDrops(t *testing.T) {
	ctx := context.Background()
	mem := &memStorage{data: map[string][]byte{}}
	clk := newClock()
	c, err := Open(ctx, Config{TTL: time.Hour, MaxEntries: 2, RepeatInterval: time.Hour, StoreError: failOn(t)}, clk.now, persistence(walkingStorage{mem}))
	require.NoError(t, err)
	record(c, "one", ev(eventsapi.Trigger, keyA, 1))
	record(c, "two", ev(eventsapi.Trigger, keyA, 1))
	record(c, "three", ev(eventsapi.Trigger, keyA, 1))
	assert.ElementsMatch(t, []string{entryPrefix + "two", entryPrefix + "three"}, mem.keys(), "the evicted entry is deleted")

	// Entries that expire while the collector is down are deleted at start;
	// so are entries that cannot be read.
	mem.data[entryPrefix+"garbage"] = []byte{9, 9}
	mem.data["someone-else"] = []byte("kept")
	clk.advance(2 * time.Hour)
	after, err := Open(ctx, Config{TTL: time.Hour, RepeatInterval: time.Hour}, clk.now, persistence(walkingStorage{mem}))
	require.ErrorContains(t, err, `dedup entry "garbage": unknown layout`)
	assert.Equal(t, []string{"someone-else"}, mem.keys())
	assert.Zero(t, after.Stats().Entries)
}

func TestPersistenceErrorsDoNotBlockDecisions(t *testing.T) {
	ctx := context.Background()
	mem := &memStorage{data: map[string][]byte{}, failed: errors.New("disk full")}
	var storeErrs []error
	cfg := Config{RepeatInterval: time.Hour, StoreError: func(err error) { storeErrs = append(storeErrs, err) }}
	c, err := Open(ctx, cfg, nil, persistence(mem))
	require.NoError(t, err)
	record(c, "a", ev(eventsapi.Trigger, keyA, 1))
	require.Len(t, storeErrs, 2, "the lookup and the write of a are reported")
	require.ErrorContains(t, storeErrs[1], "disk full")
	d := decide(c, "a", ev(eventsapi.Trigger, keyA, 1))
	assert.Len(t, storeErrs, 2, "a key in memory needs no storage")
	assert.Equal(t, ReasonDuplicate, d.Reason, "the in-memory cache is still current")
	d = decide(c, "b", ev(eventsapi.Trigger, keyA, 1))
	require.Len(t, storeErrs, 3)
	require.ErrorContains(t, storeErrs[2], "disk full")
	assert.Empty(t, d.Reason, "decided on what memory holds: send")
}

// failOn fails the test on any storage error.
func failOn(t *testing.T) func(error) {
	return func(err error) { t.Errorf("storage error: %v", err) }
}
