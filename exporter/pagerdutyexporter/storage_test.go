package pagerdutyexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// mapStorage is a storage extension double: one map shared by every client,
// so that a second exporter instance sees what the first one stored.
type mapStorage struct {
	component.StartFunc
	component.ShutdownFunc
	data map[string][]byte
}

func (m *mapStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return mapClient(m.data), nil
}

type mapClient map[string][]byte

func (c mapClient) Get(_ context.Context, k string) ([]byte, error) { return c[k], nil }
func (c mapClient) Set(_ context.Context, k string, v []byte) error { c[k] = v; return nil }
func (c mapClient) Delete(_ context.Context, k string) error        { delete(c, k); return nil }
func (c mapClient) Close(context.Context) error                     { return nil }
func (c mapClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		switch op.Type {
		case storage.Delete:
			_ = c.Delete(ctx, op.Key)
		case storage.Set:
			_ = c.Set(ctx, op.Key, op.Value)
		}
	}
	return nil
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
	require.NoError(t, first.exp.ConsumeLogs(ctx, alert("checkout", "alert.fingerprint", "x", "alert.summary", "down")))
	require.NoError(t, first.exp.Shutdown(ctx))

	second := startExporterOn(t, cfg, host)
	require.NoError(t, second.exp.ConsumeLogs(ctx, alert("checkout", "alert.fingerprint", "x", "alert.summary", "down")))
	require.NoError(t, second.exp.ConsumeLogs(ctx, alert("", "alert.fingerprint", "x", "alert.status", "resolved")))
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
		id   component.ID
		host component.Host
		want string
	}{
		"not configured": {missing, componenttest.NewNopHost(), `dedup.storage: extension "file_storage" is not configured`},
		"not a storage": {notStorage, extHost{notStorage: struct {
			component.StartFunc
			component.ShutdownFunc
		}{}}, `is not a storage extension`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(api)
			cfg.Dedup.Storage = &tc.id
			exp, err := NewFactory().CreateLogs(context.Background(), newSettings(t), cfg)
			require.NoError(t, err)
			require.ErrorContains(t, exp.Start(context.Background(), tc.host), tc.want)
			require.NoError(t, exp.Shutdown(context.Background()))
		})
	}
}

func TestDedupStorageDefaultsToTheQueuesStorage(t *testing.T) {
	queueStorage, dedupStorage := component.MustNewID("file_storage"), component.MustNewIDWithName("file_storage", "dedup")
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
		"dedup storage wins":   {func(c *Config) { withQueueStorage(c); c.Dedup.Storage = &dedupStorage }, &dedupStorage},
		"queue off, dedup set": {func(c *Config) { c.Dedup.Storage = &dedupStorage }, &dedupStorage},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			tc.mutate(cfg)
			e, err := newExporter(context.Background(), cfg, newSettings(t))
			require.NoError(t, err)
			defer e.tel.tb.Shutdown()
			assert.Equal(t, tc.want, e.dedupStorage())
		})
	}
}
