// Package proctest runs child processes for tests and load runs: it starts
// a binary with its output captured to files, stops it (SIGTERM, then
// SIGKILL after a grace period), tells whether it exited, finds a free
// loopback port and waits for an HTTP endpoint to answer.
//
// The end-to-end tests (e2e/), the examples tests (examples/) and the load
// harness (cmd/pdload) start the collector and the Events API simulator
// with it. On Linux a child is killed by the kernel when its parent dies.
package proctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Proc is a running (or exited) child process whose stdout and stderr go to
// files.
type Proc struct {
	Name   string // used in messages
	Stdout string // path of the file stdout goes to
	Stderr string // path of the file stderr goes to; may equal Stdout

	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait; read only after done is closed
}

// Start starts bin with args and exactly the environment env (as
// exec.Cmd.Env). Its stdout is written to the file stdout and its stderr to
// the file stderr, both created (truncated) by Start; when the two paths are
// equal, both streams go to one file. On Linux the child gets SIGKILL when
// the calling process dies.
func Start(name, bin string, env []string, stdout, stderr string, args ...string) (*Proc, error) {
	outF, err := os.Create(stdout)
	if err != nil {
		return nil, err
	}
	errF := outF
	if stderr != stdout {
		if errF, err = os.Create(stderr); err != nil {
			outF.Close()
			return nil, err
		}
	}
	closeFiles := func() {
		outF.Close()
		if errF != outF {
			errF.Close()
		}
	}
	p := &Proc{Name: name, Stdout: stdout, Stderr: stderr, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = outF, errF
	p.cmd.SysProcAttr = childAttrs()
	if err := p.cmd.Start(); err != nil {
		closeFiles()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		closeFiles()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and its output files are
// closed.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is what waiting for the process returned: nil for exit status 0, and
// nil while the process runs.
func (p *Proc) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// ExitError is nil while the process runs; once it has exited, it is Err,
// or an error saying so for exit status 0.
func (p *Proc) ExitError() error {
	if !p.Exited() {
		return nil
	}
	if p.err == nil {
		return errors.New("exited with status 0")
	}
	return p.err
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop asks the process to terminate (SIGTERM) and kills it if it has not
// exited within grace. It returns once the process is gone.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Output returns what the process wrote so far: stdout, then stderr (once
// when both go to one file).
func (p *Proc) Output() string {
	out, _ := os.ReadFile(p.Stdout)
	if p.Stderr != p.Stdout {
		errOut, _ := os.ReadFile(p.Stderr)
		out = append(out, errOut...)
	}
	return string(out)
}

// FreePort returns a loopback TCP port that nothing listened on a moment
// ago. Another process may take it before the caller does.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitHTTP polls url with GET requests through client, every interval,
// until it answers 200 OK. It fails when timeout passes first, when ctx is
// done (with ctx's error) or, if p is not nil, when p exits.
func WaitHTTP(ctx context.Context, client *http.Client, url string, p *Proc, timeout, interval time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before %s answered: %w", p.Name, url, p.ExitError())
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 OK from %s within %v (last: %w)", url, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
