// Command pdsim is a local simulator of the PagerDuty Events API v2 for
// demos and end-to-end tests of the PagerDuty exporter.
//
// It owns everything a test or a person needs to see what would have paged:
//
//   - POST /v2/enqueue and POST /v2/change/enqueue, validated and answered as
//     PagerDuty documents them (status codes and body shapes included), with
//     PagerDuty's own error texts where they are public (validate.go names
//     where each was seen); custom_details must be an object, hrefs and
//     client_url absolute http(s) URLs, image srcs https URLs, and change
//     events are refused under ruleset keys (starting with R);
//   - alert state per (routing key, dedup key): trigger, acknowledge, resolve,
//     with dropped events recorded rather than applied;
//   - a per-routing-key sliding 60 s rate limit;
//   - fault injection (latency, 5xx, 429 with Retry-After in seconds or as an
//     HTTP date, connection resets, forced status per routing key, error
//     bodies that echo the request as a careless proxy's do, redirects to
//     another URL or to a captive portal at /portal that answers 200), set by
//     flags or POST /control;
//   - GET /incidents (JSON), GET / (HTML, masked keys), GET /healthz,
//     POST /reset, and the -print-table text view.
//
// It uses the standard library only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses flags and either serves until ctx is done or, with
// -print-table, prints a running simulator's state. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := FaultConfig{}
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	fs.IntVar(&cfg.RateLimit, "rate-limit", 120, "accepted events per routing key per sliding 60 s window (0 = off)")
	fs.Float64Var(&cfg.FailRate, "fail-rate", 0, "fraction (0..1) of requests answered with -fail-status")
	fs.IntVar(&cfg.FailStatus, "fail-status", http.StatusServiceUnavailable, "5xx status for -fail-rate")
	fs.Float64Var(&cfg.ThrottleRate, "throttle-rate", 0, "fraction (0..1) of requests answered 429")
	fs.Func("retry-after", "Retry-After seconds sent with injected 429s (0 = no header; \"2\" or \"2s\")", func(s string) error {
		n, err := parseSeconds(s)
		cfg.RetryAfter = n
		return err
	})
	fs.Func("retry-after-date", "Retry-After sent with injected 429s as this HTTP date (or RFC 3339) instead of seconds, e.g. \"Thu, 01 Jan 2099 00:00:00 GMT\"", func(s string) error {
		t, err := parseHTTPDate(s)
		cfg.RetryAfterDate = t
		return err
	})
	fs.Float64Var(&cfg.EchoRate, "echo-rate", 0, "fraction (0..1) of requests answered -echo-status with the request body (routing key included) quoted in the error body")
	fs.IntVar(&cfg.EchoStatus, "echo-status", defaultEchoStatus, "4xx or 5xx status for -echo-rate")
	fs.StringVar(&cfg.EchoFormat, "echo-format", defaultEchoFormat, "body of -echo-rate answers: json (PagerDuty's shape, the request in errors[]) or html (a proxy's page)")
	fs.Float64Var(&cfg.RedirectRate, "redirect-rate", 0, "fraction (0..1) of requests answered -redirect-status with a Location")
	fs.IntVar(&cfg.RedirectStatus, "redirect-status", defaultRedirectStatus, "301, 302, 303, 307 or 308 for -redirect-rate")
	fs.StringVar(&cfg.RedirectTo, "redirect-to", redirectPortal, "Location of -redirect-rate answers: an absolute http(s) URL, or \"portal\" for pdsim's own "+portalPath+", which answers 200 to anything")
	fs.DurationVar(&cfg.Latency, "latency", 0, "delay added to every Events API request")
	fs.Float64Var(&cfg.ResetRate, "reset-rate", 0, "fraction (0..1) of connections closed without a response")
	seed := fs.Uint64("seed", 0, "seed for fault choice (0 = random)")
	quiet := fs.Bool("quiet", false, "do not log each event to stderr")
	showKeys := fs.Bool("show-keys", false, "show routing keys whole in /incidents and /control (the tests' harness reads them); by default only their first and last four characters")
	table := fs.Bool("print-table", false, "print the state of a running simulator as a text table and exit")
	url := fs.String("url", "", "simulator base URL for -print-table (default http://<addr>)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pdsim: unexpected arguments: %v\n", fs.Args())
		return 2
	}

	if *table {
		base := *url
		if base == "" {
			base = "http://" + *addr
		}
		fetchCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		snap, err := fetchSnapshot(fetchCtx, base)
		if err == nil {
			err = printTable(stdout, snap)
		}
		if err != nil {
			fmt.Fprintf(stderr, "pdsim: %v\n", err)
			return 1
		}
		return 0
	}

	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "pdsim: %v\n", err)
		return 2
	}
	logger := log.New(stderr, "pdsim: ", log.LstdFlags)
	if *quiet {
		logger = nil
	}
	srv := NewServer(cfg, *seed, logger)
	srv.ShowKeys = *showKeys
	if err := serve(ctx, *addr, srv, stdout); err != nil {
		fmt.Fprintf(stderr, "pdsim: %v\n", err)
		return 1
	}
	return 0
}

// serve listens on addr, prints the startup line and serves until ctx is
// done, then shuts down gracefully.
func serve(ctx context.Context, addr string, s *Server, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "pdsim listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// ctx is done: the shutdown gets a deadline of its own.
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
