// Package e2etest is the harness that the end-to-end tests (e2e/) and the
// examples tests (examples/) share: it finds the built binaries, starts the
// collector and the Events API simulator (cmd/pdsim) as child processes of
// the test (internal/proctest), posts OTLP/HTTP JSON logs to the collector,
// reads the collector's own metrics from its Prometheus endpoint and the
// simulator's state from its /incidents endpoint.
//
// Every process is stopped when its test ends, and its output is printed
// when the test failed.
package e2etest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

// EnvE2E must be 1 for the tests that run the built binaries.
const EnvE2E = "PAGERDUTY_E2E"

// Timeouts. They are generous on purpose: every test runs its own collector
// and simulator, in parallel, on machines with as few as two cores.
const (
	StartTimeout = 30 * time.Second      // a process until it serves
	LandTimeout  = 20 * time.Second      // an event until the simulator has it
	PollInterval = 25 * time.Millisecond // between two looks at a condition
	StopGrace    = 5 * time.Second       // a stopped process, between SIGTERM and SIGKILL
	maxDump      = 256 << 10             // bytes of each output file a failure prints
	httpTimeout  = 10 * time.Second      // one request of the harness
	modulePath   = "github.com/otelcol-pagerduty/pagerduty"
)

// HTTPClient is the client of every request the harness makes.
var HTTPClient = &http.Client{Timeout: httpTimeout}

// SkipUnlessE2E skips the test unless PAGERDUTY_E2E=1; how says how to run
// it.
func SkipUnlessE2E(tb testing.TB, how string) {
	tb.Helper()
	if os.Getenv(EnvE2E) != "1" {
		tb.Skipf("runs the built collector (%s=1 is not set): %s", EnvE2E, how)
	}
}

// RepoRoot returns the directory of the repository's root module: the
// nearest directory above the working directory whose go.mod declares it.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if isRoot(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func isRoot(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.TrimSpace(name) == modulePath
		}
	}
	return false
}

// Binary returns the absolute path of the binary $env names, else of rel
// (slash-separated, relative to the repository root). It fails the test,
// with howto (how to build it), when that is no executable.
func Binary(tb testing.TB, env, rel, howto string) string {
	tb.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(RepoRoot(tb), filepath.FromSlash(rel))
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		tb.Fatalf("resolving %s: %v", p, err)
	}
	fi, err := os.Stat(abs)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		tb.Fatalf("%s is not an executable (%v): %s, or set %s", abs, err, howto, env)
	}
	return abs
}

// CollectorBin is the otelcol-pagerduty distribution: $OTELCOL_BIN, else
// _build/otelcol-pagerduty.
func CollectorBin(tb testing.TB) string {
	tb.Helper()
	return Binary(tb, "OTELCOL_BIN", "_build/otelcol-pagerduty", "build it with `make build`")
}

// PdsimBin is the Events API simulator: $PDSIM_BIN, else _build/pdsim.
func PdsimBin(tb testing.TB) string {
	tb.Helper()
	return Binary(tb, "PDSIM_BIN", "_build/pdsim", "build it with `make pdsim`")
}

// FreePort returns a loopback TCP port that was free a moment ago. Another
// process may take it first; StartCollector retries on such a clash.
func FreePort(tb testing.TB) int {
	tb.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		tb.Fatalf("finding a free port: %v", err)
	}
	return port
}

// Eventually polls cond until it returns true, and fails the test if
// timeout passes first; msgAndArgs (a format and its arguments) say what
// was awaited.
func Eventually(tb testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %v: %s", timeout, describe(msgAndArgs))
		}
		time.Sleep(PollInterval)
	}
}

// Consistently polls cond for the whole duration d and fails the test as
// soon as it returns false. It proves that something does not happen, such
// as a retry, once the thing it would follow has been observed.
func Consistently(tb testing.TB, d time.Duration, cond func() bool, msgAndArgs ...any) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		if !cond() {
			tb.Fatalf("condition stopped holding within %v: %s", d, describe(msgAndArgs))
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(PollInterval)
	}
}

func describe(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return "(no description)"
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

// Proc is a child process of a test, whose stdout and stderr go to files in
// the test's temporary directory.
type Proc struct {
	*proctest.Proc
}

// StartProc starts bin with args and env added to BaseEnv, its output in
// files named after name. The process is stopped at the test's cleanup, and
// its output printed when the test failed.
func StartProc(tb testing.TB, name, bin string, env []string, args ...string) *Proc {
	tb.Helper()
	dir := tb.TempDir() // registered before our cleanup, so removed after it
	pp, err := proctest.Start(name, bin, append(BaseEnv(), env...),
		filepath.Join(dir, name+".stdout.log"), filepath.Join(dir, name+".stderr.log"), args...)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proc{pp}
	tb.Cleanup(func() {
		p.Stop(StopGrace)
		if tb.Failed() {
			p.dumpLogs(tb)
		}
	})
	return p
}

// BaseEnv is the test's environment without the variables the demo config
// reads (DEMO_*), so that a developer's shell cannot change what a test
// asserts.
func BaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DEMO_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *Proc) dumpLogs(tb testing.TB) {
	tb.Helper()
	status := "running"
	if p.Exited() {
		status = fmt.Sprintf("exited: %v", p.Err())
		if p.Err() == nil {
			status = "exited: 0"
		}
	}
	for _, f := range []string{p.Stdout, p.Stderr} {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Logf("--- %s: %v", f, err)
			continue
		}
		note := ""
		if len(data) > maxDump {
			note = fmt.Sprintf(" (last %d of %d bytes)", maxDump, len(data))
			data = data[len(data)-maxDump:]
		}
		tb.Logf("--- %s (%s, %s)%s:\n%s", filepath.Base(f), p.Name, status, note, data)
	}
}

// Kill sends SIGKILL, as a crash or an OOM kill would, and waits for the
// process to be gone.
func (p *Proc) Kill(tb testing.TB) {
	tb.Helper()
	if p.Exited() {
		tb.Fatalf("%s exited before it could be killed: %v", p.Name, p.Err())
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("SIGKILL %s: %v", p.Name, err)
	}
	<-p.Done()
}

// Terminate sends SIGTERM and waits up to timeout for the process to exit.
// It returns how long the exit took and the exit error (nil for status 0);
// exited is false when the process still ran at timeout (it is then left to
// the cleanup, which kills it).
func (p *Proc) Terminate(tb testing.TB, timeout time.Duration) (took time.Duration, exited bool, err error) {
	tb.Helper()
	start := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		tb.Fatalf("SIGTERM %s: %v", p.Name, err)
	}
	select {
	case <-p.Done():
		return time.Since(start), true, p.Err()
	case <-time.After(timeout):
		return time.Since(start), false, nil
	}
}
