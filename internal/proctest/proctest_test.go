package proctest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

func TestStartStop(t *testing.T) {
	dir := t.TempDir()
	p, err := Start("sleep", lookPath(t, "sleep"), os.Environ(),
		filepath.Join(dir, "out.log"), filepath.Join(dir, "err.log"), "60")
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatalf("sleep 60 exited at once: %v", p.Err())
	}
	if err := p.ExitError(); err != nil {
		t.Fatalf("ExitError while running = %v, want nil", err)
	}
	start := time.Now()
	p.Stop(5 * time.Second)
	if !p.Exited() {
		t.Fatal("Exited() = false after Stop")
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("Stop took %v: SIGTERM was not enough for sleep", took)
	}
	// sleep dies of the SIGTERM: Wait reports the signal.
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Errorf("Err() = %v, want a termination by SIGTERM", err)
	}
	p.Stop(5 * time.Second) // a second Stop returns at once
}

// A process that ignores SIGTERM is killed after the grace period.
func TestStopKillsAfterGrace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sh.log")
	p, err := Start("sh", lookPath(t, "sh"), os.Environ(), out, out,
		"-c", `trap "" TERM; echo ready; while :; do sleep 0.05; done`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(time.Second) })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Output(), "ready") {
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("sh did not print ready: %q (exit %v)", p.Output(), p.ExitError())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	p.Stop(300 * time.Millisecond)
	took := time.Since(start)
	if !p.Exited() {
		t.Fatal("Exited() = false after Stop")
	}
	if took < 300*time.Millisecond {
		t.Errorf("Stop returned after %v, before the grace period", took)
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Err() = %v, want a SIGKILL", err)
	}
}

func TestOutputAndExitStatus(t *testing.T) {
	dir := t.TempDir()
	sh := lookPath(t, "sh")

	t.Run("separate files", func(t *testing.T) {
		p, err := Start("sh", sh, append(os.Environ(), "PROCTEST_WORD=hello"),
			filepath.Join(dir, "a.out"), filepath.Join(dir, "a.err"),
			"-c", `echo "out $PROCTEST_WORD"; echo err >&2`)
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		if got, want := p.Output(), "out hello\nerr\n"; got != want {
			t.Errorf("Output() = %q, want %q", got, want)
		}
		if err := p.Err(); err != nil {
			t.Errorf("Err() = %v, want nil for status 0", err)
		}
		if err := p.ExitError(); err == nil || err.Error() != "exited with status 0" {
			t.Errorf("ExitError() = %v, want \"exited with status 0\"", err)
		}
	})

	t.Run("one file", func(t *testing.T) {
		log := filepath.Join(dir, "b.log")
		p, err := Start("sh", sh, os.Environ(), log, log, "-c", `echo one; echo two >&2; exit 3`)
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		if got, want := p.Output(), "one\ntwo\n"; got != want {
			t.Errorf("Output() = %q, want %q", got, want)
		}
		if err := p.ExitError(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
			t.Errorf("ExitError() = %v, want exit status 3", err)
		}
	})
}

func TestStartMissingBinary(t *testing.T) {
	dir := t.TempDir()
	_, err := Start("nothing", filepath.Join(dir, "no-such-binary"), nil,
		filepath.Join(dir, "o"), filepath.Join(dir, "e"))
	if err == nil || !strings.Contains(err.Error(), "starting nothing") {
		t.Fatalf("Start of a missing binary: err = %v, want \"starting nothing: ...\"", err)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if port <= 0 || port > 65535 {
		t.Fatalf("FreePort() = %d", port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("port %d from FreePort is not bindable: %v", port, err)
	}
	ln.Close()
}

func TestWaitHTTP(t *testing.T) {
	ctx := context.Background()
	client := &http.Client{Timeout: 2 * time.Second}

	t.Run("answers", func(t *testing.T) {
		var calls int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls++ // the handler runs once at a time: WaitHTTP polls sequentially
			if calls < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		defer srv.Close()
		if err := WaitHTTP(ctx, client, srv.URL, nil, 5*time.Second, 10*time.Millisecond); err != nil {
			t.Fatalf("WaitHTTP: %v", err)
		}
		if calls != 3 {
			t.Errorf("WaitHTTP returned after %d requests, want 3 (two 503, then 200)", calls)
		}
	})

	t.Run("closed port", func(t *testing.T) {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
		start := time.Now()
		err = WaitHTTP(ctx, client, url, nil, 200*time.Millisecond, 10*time.Millisecond)
		if err == nil {
			t.Fatal("WaitHTTP on a closed port succeeded")
		}
		if time.Since(start) < 200*time.Millisecond {
			t.Errorf("WaitHTTP gave up after %v, before its timeout", time.Since(start))
		}
		for _, want := range []string{url, "within 200ms", "refused"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})

	t.Run("process exits", func(t *testing.T) {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		log := filepath.Join(dir, "false.log")
		p, err := Start("false", lookPath(t, "false"), os.Environ(), log, log)
		if err != nil {
			t.Fatal(err)
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
		err = WaitHTTP(ctx, client, url, p, 10*time.Second, 10*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "false exited before") || !strings.Contains(err.Error(), "exit status 1") {
			t.Fatalf("WaitHTTP with an exited process: err = %v, want \"false exited before ...: exit status 1\"", err)
		}
	})

	t.Run("context canceled", func(t *testing.T) {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err = WaitHTTP(cctx, client, "http://127.0.0.1:"+strconv.Itoa(port)+"/", nil, 10*time.Second, 10*time.Millisecond)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitHTTP with a canceled context: err = %v, want context.Canceled", err)
		}
	})
}
