package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"
)

// TestRouteCost measures what a route costs: for each number of routes, one
// exporter with a persistent sending queue (file_storage in a fresh
// directory) is started, left idle, then given 10,000 firing alerts spread
// over its routes while the Events API double is in an outage (503 to
// every request; with ROUTE_COST_API=hang it holds them instead), and
// stopped. It prints a markdown table (see docs/performance.md, "Route cost").
//
// Skipped unless PAGERDUTY_ROUTE_COST=1. ROUTES (e.g. "1,10,100") overrides
// the list of route counts; ROUTE_COST_OUT names a file to write the table to.
func TestRouteCost(t *testing.T) {
	if os.Getenv("PAGERDUTY_ROUTE_COST") != "1" {
		t.Skip("set PAGERDUTY_ROUTE_COST=1 to measure the cost of routes (about a minute)")
	}
	counts, err := routeCounts(os.Getenv("ROUTES"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []routeCost
	for _, n := range counts {
		t.Run(fmt.Sprintf("routes=%d", n), func(t *testing.T) {
			rows = append(rows, measureRoutes(t, n))
		})
	}
	table := routeCostTable(rows)
	t.Log("\n" + table)
	if out := os.Getenv("ROUTE_COST_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	// routeAttribute is routing.attribute; route i is selected by its value
	// team-<i>.
	routeAttribute = "team"
	// queuedRecords are queued over the routes, requestRecords per
	// ConsumeLogs.
	queuedRecords  = 10_000
	requestRecords = 100
	// idleSettle is how long the exporter is left alone after its start,
	// and at least how long the consumers get to take the queued requests.
	idleSettle = time.Second
)

// routeCounts parses ROUTES, a comma-separated list of route counts;
// "" is 1,10,100,1000.
func routeCounts(env string) ([]int, error) {
	if strings.TrimSpace(env) == "" {
		return []int{1, 10, 100, 1000}, nil
	}
	var counts []int
	for f := range strings.SplitSeq(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("ROUTES=%q: want a comma-separated list of positive route counts", env)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// snapshot is what the process holds at one moment.
type snapshot struct {
	goroutines int
	memory     int64 // HeapInuse + StackInuse after a GC
}

func takeSnapshot() snapshot {
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return snapshot{goroutines: runtime.NumGoroutine(), memory: int64(ms.HeapInuse + ms.StackInuse)} //nolint:gosec // a process's heap fits an int64
}

// quietSnapshot waits, up to 5 s, for the goroutine count to hold still for
// 300 ms (the previous round's connections and servers wind down), then
// takes a snapshot.
func quietSnapshot() snapshot {
	deadline := time.Now().Add(5 * time.Second)
	last, still := runtime.NumGoroutine(), 0
	for still < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if n := runtime.NumGoroutine(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	return takeSnapshot()
}

// doubleGoroutines counts the goroutines of the Events API double's
// connections: net/http's server runs two per request it holds, the
// connection's (which runs the handler) and its background read.
func doubleGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "net/http.(*conn).serve") || strings.Contains(g, "net/http.(*connReader).backgroundRead") {
			count++
		}
	}
	return count
}

// dirUsage is the number of regular files in a directory and their total
// (apparent) size; err when it could not be read.
type dirUsage struct {
	files int
	bytes int64
	err   error
}

// openDir is a directory opened once, up front, so that it can still be
// read once the process is out of file descriptors, as it may be with many
// routes: each request the double holds costs two, its client's and its
// server's connection.
type openDir struct{ f *os.File }

func openDirectory(t *testing.T, path string) openDir {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return openDir{f}
}

// entries reads the directory again from its start.
func (d openDir) entries() ([]os.DirEntry, error) {
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return d.f.ReadDir(-1)
}

// usage counts the regular files of the directory.
func (d openDir) usage() dirUsage {
	entries, err := d.entries()
	if err != nil {
		return dirUsage{err: err}
	}
	var u dirUsage
	for _, e := range entries {
		info, err := e.Info() // an lstat: no descriptor
		if err != nil {
			return dirUsage{err: err}
		}
		if info.Mode().IsRegular() {
			u.files++
			u.bytes += info.Size()
		}
	}
	return u
}

// routeCost is one row of the table: deltas against the snapshot taken
// right before the exporter was created.
type routeCost struct {
	routes              int
	start, shutdown     time.Duration
	queueing            time.Duration // the 100 ConsumeLogs calls
	inFlight            int64         // requests the double held with 10,000 queued
	doubleGoroutines    int           // the double's share of queued.goroutines
	fds                 int           // open file descriptors added with 10,000 queued; -1: unknown
	idle, queued        snapshot
	idleDir, queuedDir  dirUsage
	shutdownErr         error
	queuedErrs, records int
}

// blockingServer is an Events API double in an outage: with hang, it holds
// every request until release is closed, or the request is canceled;
// without, it answers 503 until release is closed.
type blockingServer struct {
	*httptest.Server
	release  chan struct{}
	inFlight atomic.Int64
}

// apiHangs reads ROUTE_COST_API: "hang" holds every request (each consumer
// then holds a connection); "down" (the default) answers 503, so that each
// consumer waits in retry_on_failure's back-off instead.
func apiHangs() bool { return os.Getenv("ROUTE_COST_API") == "hang" }

func newBlockingServer(hang bool) *blockingServer {
	s := &blockingServer{release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		default:
			if !hang {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
		}
		w.Header()["Content-Type"] = ctJSON
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(respBody)
	}))
	return s
}

// extensionHost is a component.Host with the given extensions.
type extensionHost map[component.ID]component.Component

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h }

// startFileStorage starts a file_storage extension on dir.
func startFileStorage(ctx context.Context, t *testing.T, dir string) extension.Extension {
	t.Helper()
	factory := filestorage.NewFactory()
	cfg := factory.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	cfg.Compaction.Directory = dir
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	ext, err := factory.Create(ctx, extensiontest.NewNopSettings(factory.Type()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ext.Start(ctx, extensionHost{}); err != nil {
		t.Fatal(err)
	}
	return ext
}

// routeKey is route i's integration key: 32 letters and digits, not
// starting with R (a ruleset key).
func routeKey(i int) configopaque.String {
	return configopaque.String(fmt.Sprintf("k%031d", i))
}

// routedConfig is the exporter's default config with n routes on
// routeAttribute, sending to url, its sending queue kept in storage.
func routedConfig(n int, url string, storage component.ID) *pagerdutyexporter.Config {
	cfg := pagerdutyexporter.NewFactory().CreateDefaultConfig().(*pagerdutyexporter.Config)
	cfg.ClientConfig.Endpoint = url
	cfg.Routing.Attribute = routeAttribute
	cfg.Routing.Keys = make(map[string]configopaque.String, n)
	for i := range n {
		cfg.Routing.Keys[fmt.Sprintf("team-%d", i)] = routeKey(i)
	}
	cfg.QueueConfig.Get().StorageID = &storage
	return cfg
}

// routedAlerts is a request of count firing alerts, record j of the whole
// run (first, first+1, ...) going to route j % routes.
func routedAlerts(first, count, routes int) plog.Logs {
	ld, sl := alertScope()
	for j := first; j < first+count; j++ {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(alertTime))
		a := lr.Attributes()
		a.PutStr("alert.status", "firing")
		a.PutStr("alert.fingerprint", nextFingerprint())
		a.PutStr("alert.summary", alertSummary)
		a.PutStr("alert.severity", "warning")
		a.PutStr(routeAttribute, fmt.Sprintf("team-%d", j%routes))
	}
	return ld
}

// measureRoutes runs one row of the table.
func measureRoutes(t *testing.T, n int) routeCost {
	ctx := context.Background()
	row := routeCost{routes: n}
	srv := newBlockingServer(apiHangs())
	defer srv.Close()
	released := false
	release := func() {
		if !released {
			close(srv.release)
			released = true
		}
	}
	defer release() // before srv.Close: it waits for the requests

	dir := t.TempDir()
	ext := startFileStorage(ctx, t, dir)
	defer func() {
		if err := ext.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	storageID := component.MustNewID("file_storage")
	host := extensionHost{storageID: ext}

	cfg := routedConfig(n, srv.URL, storageID)
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	set := exportertest.NewNopSettings(component.MustNewType("pagerduty"))
	// A metrics SDK, never collected, so that each route's series count.
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(ctx) }()
	set.MeterProvider = mp

	storageDir := openDirectory(t, dir)
	// The process's descriptors, where /proc lists them; this one among them.
	var fdDir *openDir
	if _, err := os.Stat("/proc/self/fd"); err == nil {
		d := openDirectory(t, "/proc/self/fd")
		fdDir = &d
	}
	openFiles := func() int {
		if fdDir == nil {
			return -1
		}
		fds, err := fdDir.entries()
		if err != nil {
			return -1
		}
		return len(fds)
	}

	base := quietSnapshot()
	baseFDs := openFiles()
	began := time.Now()
	exp, err := pagerdutyexporter.NewFactory().CreateLogs(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	row.start = time.Since(began)
	stopped := false
	defer func() {
		if !stopped {
			_ = exp.Shutdown(ctx)
		}
	}()

	time.Sleep(idleSettle)
	row.idle = takeSnapshot().minus(base)
	row.idleDir = storageDir.usage()

	began = time.Now()
	for first := 0; first < queuedRecords; first += requestRecords {
		row.records += requestRecords
		if err := exp.ConsumeLogs(ctx, routedAlerts(first, requestRecords, n)); err != nil {
			row.queuedErrs++
			if row.queuedErrs == 1 {
				t.Errorf("ConsumeLogs: %v", err)
			}
		}
	}
	row.queueing = time.Since(began)
	// The consumers take requests and hold in the double; wait until its
	// count holds still for half a second (at least idleSettle in all, at
	// most 20 s: the client's timeout is 30 s).
	settled, deadline := time.Now().Add(idleSettle), time.Now().Add(20*time.Second)
	last, still := srv.inFlight.Load(), 0
	for (still < 5 || time.Now().Before(settled)) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if cur := srv.inFlight.Load(); cur == last {
			still++
		} else {
			last, still = cur, 0
		}
	}
	row.inFlight = srv.inFlight.Load()
	row.queued = takeSnapshot().minus(base)
	row.doubleGoroutines = doubleGoroutines() // after the snapshot: the dump is large
	row.queuedDir = storageDir.usage()
	if row.fds = openFiles(); row.fds >= 0 && baseFDs >= 0 {
		row.fds -= baseFDs
	} else {
		row.fds = -1
	}

	began = time.Now()
	row.shutdownErr = exp.Shutdown(ctx)
	row.shutdown = time.Since(began)
	stopped = true
	if row.shutdownErr != nil {
		t.Logf("Shutdown: %v", row.shutdownErr)
	}
	t.Logf("%d routes: start %v, queueing %d records %v (%d requests failed), %d requests held by the double, shutdown %v",
		n, row.start, row.records, row.queueing, row.queuedErrs, row.inFlight, row.shutdown)
	return row
}

func (s snapshot) minus(base snapshot) snapshot {
	return snapshot{goroutines: s.goroutines - base.goroutines, memory: s.memory - base.memory}
}

// routeCostTable renders rows as markdown.
func routeCostTable(rows []routeCost) string {
	var b strings.Builder
	b.WriteString("| routes | start | goroutines idle | files idle | memory idle | goroutines 10k queued | files 10k queued | memory 10k queued | shutdown |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %+d | %s | %s | %+d (%d in the double) | %s | %s | %s |\n",
			r.routes, fmtDuration(r.start),
			r.idle.goroutines, fmtDir(r.idleDir), fmtBytes(r.idle.memory),
			r.queued.goroutines, r.doubleGoroutines, fmtDir(r.queuedDir), fmtBytes(r.queued.memory),
			fmtDuration(r.shutdown))
	}
	b.WriteString("\n| routes | time to queue 10,000 records | requests held by the double | open files 10k queued | ConsumeLogs errors | shutdown error |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		shutdownErr := "none"
		if r.shutdownErr != nil {
			shutdownErr = strings.ReplaceAll(r.shutdownErr.Error(), "\n", "; ")
			if len(shutdownErr) > 120 {
				shutdownErr = shutdownErr[:120] + "…"
			}
		}
		fds := "n/a"
		if r.fds >= 0 {
			fds = fmt.Sprintf("%+d", r.fds)
		}
		fmt.Fprintf(&b, "| %d | %s | %d | %s | %d of %d | %s |\n",
			r.routes, fmtDuration(r.queueing), r.inFlight, fds, r.queuedErrs, r.records/requestRecords, shutdownErr)
	}
	return b.String()
}

func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtBytes(n int64) string {
	const mib = 1 << 20
	if n > -mib && n < mib {
		return fmt.Sprintf("%+.0f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%+.1f MiB", float64(n)/mib)
}

func fmtDir(u dirUsage) string {
	if u.err != nil {
		return "n/a"
	}
	return fmt.Sprintf("%d (%s)", u.files, strings.TrimPrefix(fmtBytes(u.bytes), "+"))
}
