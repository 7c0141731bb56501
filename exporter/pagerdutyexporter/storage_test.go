package pagerdutyexporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// mapStorage is a storage extension double. Its clients named "dedup", the
// exporter's own, share data, so that a second exporter instance sees what
// the first one stored; every other client (a persistent queue's) has a map
// of its own, by kind, ID and name, as in file_storage.
type mapStorage struct {
	component.StartFunc
	component.ShutdownFunc
	data map[string][]byte

	mu     sync.Mutex
	others map[string]map[string][]byte
	opens  map[string]int // clients opened, by owner, "dedup" aside
}

func (m *mapStorage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if name == "dedup" {
		return &mapClient{mu: &m.mu, m: m.data}, nil
	}
	if m.others == nil {
		m.others = map[string]map[string][]byte{}
	}
	owner := fmt.Sprintf("%s/%s/%s", kind, id, name)
	if m.others[owner] == nil {
		m.others[owner] = map[string][]byte{}
	}
	if m.opens == nil {
		m.opens = map[string]int{}
	}
	m.opens[owner]++
	return &mapClient{mu: &m.mu, m: m.others[owner]}, nil
}

// clients lists the names of the clients other than "dedup" that were opened.
func (m *mapStorage) clients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.others))
}

// opened returns how many times each client other than "dedup" was opened.
func (m *mapStorage) opened() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.opens)
}

// mapClient is a client of mapStorage; mu is the storage's.
type mapClient struct {
	mu *sync.Mutex
	m  map[string][]byte
}

func (c *mapClient) Get(_ context.Context, k string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k], nil
}

func (c *mapClient) Set(ctx context.Context, k string, v []byte) error {
	return c.Batch(ctx, storage.SetOperation(k, v))
}

func (c *mapClient) Delete(ctx context.Context, k string) error {
	return c.Batch(ctx, storage.DeleteOperation(k))
}

func (c *mapClient) Close(context.Context) error { return nil }

// Walk visits the keys in order, as file_storage does.
func (c *mapClient) Walk(_ context.Context, fn storage.WalkFunc) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(c.m)) {
		ops, err := fn(k, c.m[k])
		if err != nil && !errors.Is(err, storage.SkipAll) {
			return err
		}
		c.apply(ops)
		if err != nil {
			return nil
		}
	}
	return nil
}

func (c *mapClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apply(ops)
	return nil
}

// apply carries out ops; c.mu must be held.
func (c *mapClient) apply(ops []*storage.Operation) {
	for _, op := range ops {
		switch op.Type {
		case storage.Delete:
			delete(c.m, op.Key)
		case storage.Set:
			c.m[op.Key] = slices.Clone(op.Value)
		case storage.Get:
			op.Value = slices.Clone(c.m[op.Key])
		}
	}
}

type extHost map[component.ID]component.Component

func (h extHost) GetExtensions() map[component.ID]component.Component { return h }

func TestDedupStorageKeepsAffinityAcrossRestart(t *testing.T) {
	api := newFakeEventsAPI(t)
	storageID := component.MustNewID("file_storage")
	host := extHost{storageID: &mapStorage{data: map[string][]byte{}}}
	cfg := testConfig(api)
	cfg.Dedup.Storage = &storageID
	ctx := context.Background()

	first := startExporterOn(t, cfg, host)
	require.NoError(t, first.exp.ConsumeLogs(ctx, pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.summary", "down")))
	require.NoError(t, first.exp.Shutdown(ctx))

	second := startExporterOn(t, cfg, host)
	require.NoError(t, second.exp.ConsumeLogs(ctx, pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.summary", "down")))
	require.NoError(t, second.exp.ConsumeLogs(ctx, pdtest.Alert("", "alert.fingerprint", "x", "alert.status", "resolved")))
	reqs := api.taken()
	require.Len(t, reqs, 2, "the repeat after the restart is suppressed")
	assert.Equal(t, "resolve", reqs[1].action())
	assert.Equal(t, checkoutKey, reqs[1].key(), "the resolve reaches the key that opened the incident")
}

func TestDedupStorageMisconfigured(t *testing.T) {
	api := newFakeEventsAPI(t)
	missing := component.MustNewID("file_storage")
	notStorage := component.MustNewID("health_check")
	for name, tc := range map[string]struct {
		id    component.ID
		host  component.Host
		queue bool // set as sending_queue.storage, not dedup.storage
		want  string
	}{
		"not configured": {missing, componenttest.NewNopHost(), false, `dedup.storage: extension "file_storage" is not configured`},
		"not a storage": {notStorage, extHost{notStorage: struct {
			component.StartFunc
			component.ShutdownFunc
		}{}}, false, `is not a storage extension`},
		"queue's not configured": {missing, componenttest.NewNopHost(), true, `sending_queue.storage (which keeps the dedup cache too): extension "file_storage" is not configured`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(api)
			if tc.queue {
				queue := exporterhelper.NewDefaultQueueConfig()
				queue.StorageID = &tc.id
				cfg.QueueConfig = configoptional.Some(queue)
			} else {
				cfg.Dedup.Storage = &tc.id
			}
			exp, err := NewFactory().CreateLogs(context.Background(), newSettings(t), cfg)
			require.NoError(t, err)
			require.ErrorContains(t, exp.Start(context.Background(), tc.host), tc.want)
			require.NoError(t, exp.Shutdown(context.Background()))
		})
	}
}

func TestDedupStorageDefaultsToTheQueuesStorage(t *testing.T) {
	queueStorage, dedupStore := component.MustNewID("file_storage"), component.MustNewIDWithName("file_storage", "dedup")
	withQueueStorage := func(c *Config) {
		q := c.QueueConfig.Get()
		q.StorageID = &queueStorage
	}
	for name, tc := range map[string]struct {
		mutate func(*Config)
		want   *component.ID
	}{
		"neither":              {func(*Config) {}, nil},
		"queue storage":        {withQueueStorage, &queueStorage},
		"dedup storage wins":   {func(c *Config) { withQueueStorage(c); c.Dedup.Storage = &dedupStore }, &dedupStore},
		"queue off, dedup set": {func(c *Config) { c.Dedup.Storage = &dedupStore }, &dedupStore},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			tc.mutate(cfg)
			assert.Equal(t, tc.want, dedupStorage(cfg))
		})
	}
}
