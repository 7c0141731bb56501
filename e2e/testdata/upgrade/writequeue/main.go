// Command writequeue writes the queue fixture of e2e/upgrade_test.go: the
// file_storage directory a collector leaves behind when it is stopped while
// the Events API is down, so that a later build can be shown to deliver what
// an earlier one queued.
//
// It starts the simulator failing every request with 503, starts the given
// collector with ../collector.yaml and an empty storage directory, posts the
// alerts below, waits until the queues holding them are retrying, and stops
// the collector with SIGTERM: a persistent queue keeps what it holds on
// disk. Run from the repository root, with the collector of the build that
// is to write the fixture:
//
//	go run ./e2e/testdata/upgrade/writequeue -collector /path/to/otelcol-pagerduty -out e2e/testdata/upgrade/queue-<commit>
//
// The alerts, in 21 OTLP requests, each a queue entry of its own:
//
//   - upgrade-NN-<route>-<severity>, NN from 00 to 19: one firing record,
//     route checkout for even NN and payments for odd, severity critical,
//     error and warning in turn, summary "upgrade <dedup key>". Records 00
//     to 09 carry their own time; 10 to 19 carry none, so the exporter's
//     arrival stamp (the queue's scope attribute pagerduty.exporter.received
//     and the observed time it writes) is all that times them;
//   - upgrade-pair on checkout: a firing record (error) and its resolve, in
//     one request and without time, so they share a queue entry and its
//     order.
//
// e2e/upgrade_test.go states the same set; change both together.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
	"github.com/otelcol-pagerduty/pagerduty/internal/pdsimapi"
	"github.com/otelcol-pagerduty/pagerduty/internal/proctest"
)

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
	poll         = 50 * time.Millisecond
	// attemptsPerQueue is how many failed requests per occupied queue, on
	// average, the simulator must have answered before the stop, so that
	// the queues' consumers have taken their first requests and are
	// retrying them: the fixture holds requests taken as well as requests
	// waiting.
	attemptsPerQueue = 3
	// occupiedQueues is how many of the exporter's queues the alerts fill:
	// two routes times three severities (the pair shares its trigger's).
	occupiedQueues = 6
)

var client = &http.Client{Timeout: 10 * time.Second}

func main() {
	collector := flag.String("collector", "", "collector binary that writes the queue (required)")
	pdsim := flag.String("pdsim", "_build/pdsim", "Events API simulator binary")
	config := flag.String("config", "e2e/testdata/upgrade/collector.yaml", "collector config")
	out := flag.String("out", "", "storage directory to write; must not exist yet (required)")
	flag.Parse()
	if *collector == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*collector, *pdsim, *config, *out); err != nil {
		fmt.Fprintln(os.Stderr, "writequeue:", err)
		os.Exit(1)
	}
}

func run(collector, pdsim, config, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists: remove it first, the fixture must hold only this run's queue", out)
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		return err
	}
	logs, err := os.MkdirTemp("", "writequeue-")
	if err != nil {
		return err
	}
	fmt.Println("process logs in", logs)

	sim, simURL, err := startSim(pdsim, logs)
	if err != nil {
		return err
	}
	defer sim.Stop(5 * time.Second)

	col, otlpURL, err := startCollector(collector, config, out, simURL, logs)
	if err != nil {
		return err
	}
	defer col.Stop(5 * time.Second)

	requests := alertRequests()
	for _, ld := range requests {
		// The receiver answers once the records are written to their queues.
		if err = post(otlpURL, ld); err != nil {
			return err
		}
	}
	want := attemptsPerQueue * occupiedQueues
	err = waitFor(fmt.Sprintf("%d failed attempts", want), 60*time.Second, func() (bool, error) {
		s, serr := snapshot(simURL)
		return s.Requests.InjectedFailures >= want, serr
	})
	if err != nil {
		return err
	}

	if err = col.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-col.Done():
	case <-time.After(stopTimeout):
		return fmt.Errorf("collector still running %v after SIGTERM; see %s", stopTimeout, logs)
	}
	if err = col.Err(); err != nil {
		return fmt.Errorf("collector exited with %w; see %s", err, logs)
	}

	s, err := snapshot(simURL)
	if err != nil {
		return err
	}
	if len(s.Events) > 0 || len(s.ChangeEvents) > 0 || s.Requests.Total != s.Requests.InjectedFailures {
		return fmt.Errorf("the simulator accepted something; the fixture would miss it: %+v", s.Requests)
	}
	fmt.Printf("%d requests posted, %d attempts failed with 503; the collector stopped with them queued in %s:\n",
		len(requests), s.Requests.InjectedFailures, out)
	return filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			fmt.Printf("  %8d  %s\n", fi.Size(), path)
		}
		return err
	})
}

// alertRequests are the OTLP requests of the fixture (see the package
// comment).
func alertRequests() []plog.Logs {
	routes := []string{"checkout", "payments"}
	severities := []string{"critical", "error", "warning"}
	var reqs []plog.Logs
	for i := range 20 {
		route, severity := routes[i%len(routes)], severities[i%len(severities)]
		fp := fmt.Sprintf("upgrade-%02d-%s-%s", i, route, severity)
		ld := e2etest.NewPayload().Service(route).Add(firing(fp, severity)).Logs()
		if i >= 10 {
			e2etest.WithoutTimestamps(ld)
		}
		reqs = append(reqs, ld)
	}
	pair := e2etest.NewPayload().Service("checkout").
		Add(firing("upgrade-pair", "error"), e2etest.Alert{Fingerprint: "upgrade-pair", Status: "resolved"}).Logs()
	return append(reqs, e2etest.WithoutTimestamps(pair))
}

func firing(fp, severity string) e2etest.Alert {
	return e2etest.Alert{Fingerprint: fp, Status: "firing", Severity: severity, Summary: "upgrade " + fp, Name: "Upgrade " + fp}
}

var simListening = regexp.MustCompile(`pdsim listening on (http://\S+)`)

func startSim(bin, logs string) (*proctest.Proc, string, error) {
	p, err := proctest.Start("pdsim", bin, os.Environ(),
		filepath.Join(logs, "pdsim.stdout.log"), filepath.Join(logs, "pdsim.stderr.log"),
		"-addr", "127.0.0.1:0", "-seed", "1", "-rate-limit", "0", "-fail-rate", "1", "-fail-status", "503", "-quiet")
	if err != nil {
		return nil, "", err
	}
	var url string
	err = waitFor("the simulator to listen", startTimeout, func() (bool, error) {
		if m := simListening.FindStringSubmatch(p.Output()); m != nil {
			url = m[1]
			return true, nil
		}
		return false, p.ExitError()
	})
	return p, url, err
}

func startCollector(bin, config, storage, simURL, logs string) (*proctest.Proc, string, error) {
	abs, err := filepath.Abs(storage)
	if err != nil {
		return nil, "", err
	}
	ports := map[string]int{}
	for _, name := range []string{"UPGRADE_OTLP_PORT", "UPGRADE_HEALTH_PORT", "UPGRADE_METRICS_PORT"} {
		if ports[name], err = proctest.FreePort(); err != nil {
			return nil, "", err
		}
	}
	env := append(os.Environ(), "UPGRADE_SIM_URL="+simURL, "UPGRADE_STORAGE="+abs)
	for name, port := range ports {
		env = append(env, name+"="+strconv.Itoa(port))
	}
	p, err := proctest.Start("collector", bin, env,
		filepath.Join(logs, "collector.stdout.log"), filepath.Join(logs, "collector.stderr.log"), "--config", config)
	if err != nil {
		return nil, "", err
	}
	health := fmt.Sprintf("http://127.0.0.1:%d/", ports["UPGRADE_HEALTH_PORT"])
	if err := proctest.WaitHTTP(context.Background(), client, health, p, startTimeout, poll); err != nil {
		return p, "", fmt.Errorf("%w; see %s", err, logs)
	}
	return p, fmt.Sprintf("http://127.0.0.1:%d/v1/logs", ports["UPGRADE_OTLP_PORT"]), nil
}

func post(url string, ld plog.Logs) error {
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return err
	}
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, msg)
	}
	return nil
}

func snapshot(simURL string) (pdsimapi.Snapshot, error) {
	var s pdsimapi.Snapshot
	resp, err := client.Get(simURL + "/incidents")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /incidents: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

// waitFor polls cond until it holds, fails or timeout passes.
func waitFor(what string, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		switch {
		case err != nil:
			return fmt.Errorf("waiting for %s: %w", what, err)
		case ok:
			return nil
		case time.Now().After(deadline):
			return errors.New("timed out waiting for " + what)
		}
		time.Sleep(poll)
	}
}
