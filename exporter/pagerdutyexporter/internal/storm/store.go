package storm // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/storm"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// storePrefix namespaces the open digests in the exporter's storage, one
// key per route, under the route's name: 8 bytes of Unix nanoseconds, when
// the digest was last sent.
const storePrefix = "storm/"

// load reads back the digests an earlier run left open.
func (d *Digests) load(ctx context.Context) error {
	if d.store == nil {
		return nil
	}
	var errs []error
	for _, rt := range d.routes {
		b, err := d.store.Get(ctx, storePrefix+rt.Name)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("reading the storm digest of route %q: %w", rt.Name, err))
		case len(b) == 8:
			d.open[rt] = time.Unix(0, int64(binary.LittleEndian.Uint64(b))) //nolint:gosec // G115: undoes save's reinterpretation
		case b != nil:
			// Open, but when it was sent is lost: update it at once.
			d.open[rt] = time.Time{}
		}
	}
	return errors.Join(errs...)
}

// save keeps rt's digest open, last sent at sentAt.
func (d *Digests) save(ctx context.Context, rt *routes.Route, sentAt time.Time) error {
	if d.store == nil {
		return nil
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(sentAt.UnixNano()))
	if err := d.store.Set(ctx, storePrefix+rt.Name, b); err != nil {
		return fmt.Errorf("saving the storm digest: %w", err)
	}
	return nil
}

// forget notes that rt's digest is resolved.
func (d *Digests) forget(ctx context.Context, rt *routes.Route) error {
	if d.store == nil {
		return nil
	}
	if err := d.store.Delete(ctx, storePrefix+rt.Name); err != nil {
		return fmt.Errorf("forgetting the storm digest: %w", err)
	}
	return nil
}
