// Package e2e holds the end-to-end tests of the otelcol-pagerduty
// distribution: the collector binary built by ocb runs as a real process,
// receives OTLP/HTTP JSON logs and exports them to the local Events API
// simulator (cmd/pdsim), whose /incidents state the tests assert.
//
// The tests are skipped unless PAGERDUTY_E2E=1, so `go test ./...` stays
// fast. Run them with `make e2e`, which builds both binaries first, or with
//
//	make build pdsim && PAGERDUTY_E2E=1 go test -count=1 -v ./e2e/
//
// OTELCOL_BIN and PDSIM_BIN override the binaries' paths (default
// _build/otelcol-pagerduty and _build/pdsim). PAGERDUTY_E2E_FULL=1
// (`make e2e-full`) runs the load tests of delivery_test.go and
// storm_test.go at full size, which takes minutes.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

const envE2E = "PAGERDUTY_E2E"

// Timeouts. They are generous on purpose: every test runs its own collector
// and simulator, in parallel, on machines with as few as two cores.
const (
	startTimeout = 30 * time.Second // a process until it serves
	landTimeout  = 20 * time.Second // an event until the simulator has it
	pollInterval = 25 * time.Millisecond
)

// requireE2E skips the test unless the end-to-end tests were asked for.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv(envE2E) != "1" {
		t.Skipf("end-to-end test: run `make e2e`, or `make build pdsim && %s=1 go test -count=1 -v ./e2e/` "+
			"(binaries from $OTELCOL_BIN and $PDSIM_BIN, default _build/otelcol-pagerduty and _build/pdsim)", envE2E)
	}
}

// binary returns the absolute path of a binary: $env if set, else
// _build/name at the repository root.
func binary(t *testing.T, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join("..", "_build", name)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatalf("resolving %s: %v", p, err)
	}
	fi, err := os.Stat(abs)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s is not an executable (%v): run `make build pdsim` (or `make e2e`), or set %s", abs, err, env)
	}
	return abs
}

func collectorBin(t *testing.T) string { return binary(t, "OTELCOL_BIN", "otelcol-pagerduty") }
func pdsimBin(t *testing.T) string     { return binary(t, "PDSIM_BIN", "pdsim") }

// eventually polls cond until it returns true or timeout passes, then fails
// the test with msgAndArgs (a format string and its arguments).
func eventually(t *testing.T, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %s", timeout, describe(msgAndArgs))
		}
		time.Sleep(pollInterval)
	}
}

// consistently polls cond for the whole duration and fails the test as soon
// as it returns false. It proves that something does not happen, such as a
// retry, once the thing it would follow has been observed.
func consistently(t *testing.T, d time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if !cond() {
			t.Fatalf("condition stopped holding within %v: %s", d, describe(msgAndArgs))
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(pollInterval)
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

// freePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before we do; startCollector retries on such a clash.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	return port
}

// stopGrace is how long a stopped process has between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// proc is a child process whose stdout and stderr go to files in the test's
// temporary directory. It is stopped at cleanup, and its output is printed
// when the test failed.
type proc struct {
	*proctest.Proc
}

// startProc starts bin with args and env (added to the test's environment
// minus the demo's variables), in dir's files named after name.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	dir := t.TempDir() // registered before our cleanup, so removed after it
	pp, err := proctest.Start(name, bin, append(baseEnv(), env...),
		filepath.Join(dir, name+".stdout.log"), filepath.Join(dir, name+".stderr.log"), args...)
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{pp}
	t.Cleanup(func() {
		p.Stop(stopGrace)
		if t.Failed() {
			p.dumpLogs(t)
		}
	})
	return p
}

// baseEnv is the test's environment without the variables the demo config
// reads, so that a developer's shell cannot change what a test asserts.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DEMO_") {
			env = append(env, kv)
		}
	}
	return env
}

// maxDump bounds how much of each log file a failure prints.
const maxDump = 256 << 10

func (p *proc) dumpLogs(t *testing.T) {
	t.Helper()
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
			t.Logf("--- %s: %v", f, err)
			continue
		}
		note := ""
		if len(data) > maxDump {
			note = fmt.Sprintf(" (last %d of %d bytes)", maxDump, len(data))
			data = data[len(data)-maxDump:]
		}
		t.Logf("--- %s (%s, %s)%s:\n%s", filepath.Base(f), p.Name, status, note, data)
	}
}

// kill sends SIGKILL, as a crash or an OOM kill would, and waits for the
// process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if p.Exited() {
		t.Fatalf("%s exited before it could be killed: %v", p.Name, p.Err())
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", p.Name, err)
	}
	<-p.Done()
}

// terminate sends SIGTERM and waits up to timeout for the process to
// exit. It returns how long the exit took and the exit error (nil for
// status 0); exited is false when the process still ran at timeout (it is
// then left to the cleanup, which kills it).
func (p *proc) terminate(t *testing.T, timeout time.Duration) (took time.Duration, exited bool, err error) {
	t.Helper()
	start := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.Name, err)
	}
	select {
	case <-p.Done():
		return time.Since(start), true, p.Err()
	case <-time.After(timeout):
		return time.Since(start), false, nil
	}
}
