package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeStartupLineAndShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-quiet", "-rate-limit", "1"}, pw, &stderr)
		pw.Close()
	}()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading startup line: %v (stderr %q)", err, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "pdsim listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("startup line %q", line)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain any further output

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %s", resp.Status)
	}
	// Flags reach the server: -rate-limit 1 lets one event through.
	for i, want := range []int{202, 429} {
		resp, err := http.Post(base+endpointEnqueue, "application/json", strings.NewReader(`{"routing_key":"`+keyA+`","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("event %d: %d, want %d", i, resp.StatusCode, want)
		}
	}

	cancel() // what SIGINT/SIGTERM do in main
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d, stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not shut down")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answering after shutdown")
	}
}

func TestFlagValidation(t *testing.T) {
	for _, args := range [][]string{
		{"-fail-rate", "1.5"},
		{"-throttle-rate", "-1"},
		{"-reset-rate", "2"},
		{"-fail-status", "404"},
		{"-rate-limit", "-5"},
		{"-retry-after", "soon"},
		{"-latency", "-1s"},
		{"-nope"},
		{"extra-arg"},
		{"-echo-rate", "1.1"},
		{"-echo-status", "302"},
		{"-echo-format", "xml"},
		{"-redirect-rate", "-0.5"},
		{"-redirect-status", "200"},
		{"-redirect-to", "not a url"},
		{"-retry-after-date", "2099"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 || stderr.Len() == 0 || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and a message", args, code, stdout.String(), stderr.String())
		}
	}
}

func TestListenError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-addr", "256.0.0.1:99999"}, &stdout, &stderr); code != 1 || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q; want 1 and no startup line", code, stdout.String())
	}
}
