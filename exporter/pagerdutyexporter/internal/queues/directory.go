package queues // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pipeline"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// Directory lists, in the exporter's storage, the persistent queues
// that may hold records. Queues are built on first use, so without the list
// a start would not know which queues to read back; with it, a route that
// is not used opens no file. Each queue is a key of its own, so that
// listing one costs the same with 1 route or 1,000.
type Directory struct {
	client  storage.Client    // the dedup cache's
	storage storage.Extension // the sending queue's
	id      component.ID      // the exporter's
	routes  *routes.Router
	logger  *zap.Logger
	// upgraded: the storage held state before this start (see open).
	upgraded bool
	// stranded is set to the records open finds in the queues of routes no
	// longer configured: the stranded_records gauge.
	stranded *atomic.Int64
}

// NewDirectory keeps the directory in client, the dedup cache's storage,
// for the queues of the exporter id kept in the sending queue's storage;
// upgraded: client held state before this start (see HoldsState); stranded
// is set to the records found in queues of routes no longer configured.
func NewDirectory(client storage.Client, queueStorage storage.Extension, id component.ID, router *routes.Router, logger *zap.Logger, upgraded bool, stranded *atomic.Int64) *Directory {
	return &Directory{client: client, storage: queueStorage, id: id, routes: router, logger: logger, upgraded: upgraded, stranded: stranded}
}

// directoryKey marks a storage that has a directory; its value is the
// layout's version. The queues are listed under directoryPrefix, as
// <priority>/<route>.
const (
	directoryKey     = "queues"
	directoryPrefix  = directoryKey + "/"
	directoryVersion = "1"
)

// heldQueue is a persistent queue that holds records from before the start.
type heldQueue struct {
	key     routes.Queue
	records int // log records; 0 when its metadata could not be read
}

// open reads the directory and returns the listed queues of configured
// routes that hold records; the others it takes off the list, except the
// queues of routes no longer configured that still hold records: those stay
// listed, are counted in stranded, and named in one warning (see strand).
//
// A storage with no directory is new, or was written by a build that made
// every queue at start; every queue of a configured route is then looked
// into once. It is told apart by the dedup cache's state from before
// (upgraded), or else by the first queue that build started, which it
// left with metadata even when empty: a new storage costs that one file.
// A storage that cannot list its keys has every queue looked into.
func (d *Directory) open(ctx context.Context) ([]heldQueue, error) {
	listed, orphaned, found, err := d.load(ctx)
	if err != nil {
		return nil, err
	}
	// What the first queue was found to hold, when it was looked into to
	// tell an earlier build's storage from a new one: not looked into again.
	var first *look
	if listed == nil {
		upgraded := found || d.upgraded
		if !upgraded {
			l := d.look(ctx, routes.Queue{Route: d.routes.Queued[0].Name, Priority: 0})
			first, upgraded = &l, l.started || l.err != nil
		}
		if upgraded {
			for _, rt := range d.routes.Queued {
				for p := range routes.NumPriorities {
					listed = append(listed, routes.Queue{Route: rt.Name, Priority: p})
				}
			}
		}
	}
	// Held queues are listed again as they are built (see add).
	var held []heldQueue
	ops := []*storage.Operation{storage.SetOperation(directoryKey, []byte(directoryVersion))}
	for _, key := range listed {
		var l look
		if first != nil && key == first.key {
			l = *first
		} else {
			l = d.look(ctx, key)
		}
		n, err := l.records, l.err
		if err == nil && n == 0 {
			ops = append(ops, storage.DeleteOperation(directoryEntry(key)))
			continue
		}
		// Unreadable metadata: start the queue all the same, it reads its own.
		held = append(held, heldQueue{key, int(n)})
	}
	var stranded []look
	for _, key := range orphaned {
		l := d.look(ctx, key)
		if l.err == nil && l.records == 0 {
			ops = append(ops, storage.DeleteOperation(directoryEntry(key)))
			continue
		}
		stranded = append(stranded, l)
	}
	if err := d.client.Batch(ctx, ops...); err != nil {
		return nil, fmt.Errorf("saving the queue directory: %w", err)
	}
	d.strand(stranded)
	return held, nil
}

// maxStrandedRoutes bounds how many routes the stranded-queue warning names.
const maxStrandedRoutes = 20

// strand counts the records of queues whose route is no longer configured,
// and says once what to do about them. They stay in storage, listed: the
// route's return delivers them, at its first start.
func (d *Directory) strand(queues []look) {
	if len(queues) == 0 {
		return
	}
	var records int64
	unread := 0
	var routes []string
	for _, l := range queues {
		records += l.records
		if l.err != nil {
			unread++
		}
		routes = append(routes, l.key.Route)
	}
	d.stranded.Store(records)
	slices.Sort(routes)
	routes = slices.Compact(routes)
	fields := []zap.Field{zap.Int("queues", len(queues)), zap.Int64("records", records)}
	if unread > 0 {
		fields = append(fields, zap.Int("queues_unreadable", unread))
	}
	if len(routes) > maxStrandedRoutes {
		fields = append(fields, zap.Int("routes_not_named", len(routes)-maxStrandedRoutes))
		routes = routes[:maxStrandedRoutes]
	}
	fields = append(fields, zap.Strings("routes", routes))
	d.logger.Warn("Persistent queues of routes no longer in routing.keys hold log records, which are not delivered: "+
		"to deliver them, put the routes back in routing.keys; to drop them, stop the collector and delete those queues' files "+
		"from the storage directory (named after the route, as in exporter_pagerduty_<route>~002F<priority>_logs)",
		fields...)
}

// add lists key, before its queue takes a record. The caller, building the
// queue, calls it once per queue.
func (d *Directory) add(ctx context.Context, key routes.Queue) error {
	if err := d.client.Set(ctx, directoryEntry(key), []byte{}); err != nil {
		return fmt.Errorf("listing the %s queue of route %q: %w", key.Priority, key.Route, err)
	}
	return nil
}

// directoryEntry is the key that lists the queue of key.
func directoryEntry(key routes.Queue) string {
	return directoryPrefix + key.Priority.String() + "/" + key.Route
}

// load reads the directory: found is false when there is none, and listed
// nil when the storage cannot list it. Queues of routes no longer
// configured are listed apart, in orphaned.
func (d *Directory) load(ctx context.Context) (listed, orphaned []routes.Queue, found bool, err error) {
	version, err := d.client.Get(ctx, directoryKey)
	switch {
	case err != nil:
		return nil, nil, false, fmt.Errorf("reading the queue directory: %w", err)
	case version == nil:
		return nil, nil, false, nil
	case string(version) != directoryVersion:
		return nil, nil, false, fmt.Errorf("reading the queue directory: unknown layout %q", version)
	}
	walker, ok := d.client.(storage.Walker)
	if !ok {
		return nil, nil, true, nil
	}
	listed = []routes.Queue{}
	err = walker.Walk(ctx, func(k string, _ []byte) ([]*storage.Operation, error) {
		entry, ours := strings.CutPrefix(k, directoryPrefix)
		if !ours {
			return nil, nil
		}
		name, route, _ := strings.Cut(entry, "/")
		p, ok := routes.ParsePriority(name)
		switch {
		case !ok:
		case d.routes.Named(route) == d.routes.Unknown:
			orphaned = append(orphaned, routes.Queue{Route: route, Priority: p})
		default:
			listed = append(listed, routes.Queue{Route: route, Priority: p})
		}
		return nil, nil
	})
	if err != nil {
		return nil, nil, true, fmt.Errorf("reading the queue directory: %w", err)
	}
	return listed, orphaned, true, nil
}

// queueMetadataKey is where exporterhelper's persistent queue (v0.165)
// keeps its metadata, a PersistentMetadata protobuf whose field 1
// (sfixed64) is the number of items, here log records, it holds.
const queueMetadataKey = "qmv0"

// look is what a persistent queue was found to hold.
type look struct {
	key     routes.Queue
	records int64 // log records
	started bool  // the queue has metadata: it was started before
	err     error // its metadata could not be read
}

// look reads how many log records the persistent queue of key holds, from
// the storage client its exporterhelper will open.
func (d *Directory) look(ctx context.Context, key routes.Queue) look {
	l := look{key: key}
	client, err := d.storage.GetClient(ctx, component.KindExporter, queueID(d.id, key.Route, key.Priority), pipeline.SignalLogs.String())
	if err != nil {
		l.err = err
		return l
	}
	b, err := client.Get(ctx, queueMetadataKey)
	if l.err = errors.Join(err, client.Close(ctx)); l.err != nil {
		return l
	}
	l.records, l.err = itemsSize(b)
	l.started = b != nil
	return l
}

// itemsSize reads field 1 of a PersistentMetadata; 0 when absent.
func itemsSize(b []byte) (int64, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.Fixed64Type {
			v, m := protowire.ConsumeFixed64(b)
			if m < 0 {
				return 0, protowire.ParseError(m)
			}
			return int64(v), nil //nolint:gosec // sfixed64: the bits are an int64
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return 0, nil
}

// HoldsState reports whether client holds anything at all; true when it
// cannot tell.
func HoldsState(ctx context.Context, client storage.Client) bool {
	walker, ok := client.(storage.Walker)
	if !ok {
		return true
	}
	found := false
	err := walker.Walk(ctx, func(string, []byte) ([]*storage.Operation, error) {
		found = true
		return nil, storage.SkipAll
	})
	return found || err != nil
}
