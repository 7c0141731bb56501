package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

// stopGrace is how long a stopped child has between SIGTERM and SIGKILL.
const stopGrace = 10 * time.Second

// startProc starts bin with args, its output going to logDir/name.log. On
// Linux the child dies with pdload; elsewhere the children are stopped on
// the way out. (CPU and memory figures need Linux's /proc anyway and are
// reported as n/a.)
func startProc(name, logDir, bin string, env []string, args ...string) (*proctest.Proc, error) {
	logPath := filepath.Join(logDir, name+".log")
	return proctest.Start(name, bin, append(os.Environ(), env...), logPath, logPath, args...)
}

// exited reports an early exit with the tail of the process's log.
func exited(p *proctest.Proc) error {
	if !p.Exited() {
		return nil
	}
	return fmt.Errorf("%s exited (%w); last lines of %s:\n%s", p.Name, p.ExitError(), p.Stdout, tail(p.Stdout, 15))
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHTTP polls url until it answers 200 OK, p exits, or timeout passes.
func waitHTTP(ctx context.Context, p *proctest.Proc, url string, timeout time.Duration) error {
	err := proctest.WaitHTTP(ctx, http.DefaultClient, url, p, timeout, 50*time.Millisecond)
	if err == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	if perr := exited(p); perr != nil {
		return perr
	}
	return fmt.Errorf("%s: %w; see %s", p.Name, err, p.Stdout)
}

func freePorts(n int) ([]int, error) {
	// Hold all listeners until every port is chosen, so they differ.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime is the user+system CPU time a process has used so far
// (utime+stime of /proc/<pid>/stat).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it start
	// behind the last ')': state is field 3, utime 14, stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * clockTick, nil
}

// statusKB reads a "kB" field (VmHWM, VmRSS) of /proc/<pid>/status.
func statusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// systemBusy is the CPU time all processes of the machine have used so far,
// idle and iowait excluded (first line of /proc/stat).
func systemBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, errors.New("empty /proc/stat")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, errors.New("malformed /proc/stat")
	}
	var busy int64
	// user nice system idle iowait irq softirq steal
	for i, v := range fields[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// loadAvg is the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// copyFile copies the executable src to dst (created with its folder).
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// timeWaitTo returns the machine's TCP sockets in TIME_WAIT whose remote
// port is port, by local address: connections to that port that this side
// closed in the last minute (the kernel keeps them 60 s). For the
// simulator's port these are connections its clients opened and dropped
// instead of keeping alive.
func timeWaitTo(port int) map[string]bool {
	socks := map[string]bool{}
	want := fmt.Sprintf(":%04X", port)
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Fields(line)
			// sl local_address rem_address st ...; st 06 is TIME_WAIT.
			if len(f) > 3 && f[3] == "06" && strings.HasSuffix(f[2], want) {
				socks[f[1]+">"+f[2]] = true
			}
		}
	}
	return socks
}

// closedSince counts the TIME_WAIT sockets to port that were not in before.
func closedSince(before map[string]bool, port int) int {
	n := 0
	for s := range timeWaitTo(port) {
		if !before[s] {
			n++
		}
	}
	return n
}
