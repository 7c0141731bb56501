package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// fetchSnapshot gets GET /incidents from a running simulator.
func fetchSnapshot(ctx context.Context, baseURL string) (*Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/incidents", http.NoBody)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /incidents: %s", resp.Status)
	}
	var snap Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return nil, fmt.Errorf("decode /incidents: %w", err)
	}
	return &snap, nil
}

// printTable writes a compact fixed-width view of snap to out.
func printTable(out io.Writer, snap *Snapshot) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "INCIDENTS (%d)\n", len(snap.Incidents))
	if len(snap.Incidents) > 0 {
		fmt.Fprintln(tw, "#\tSTATE\tSEVERITY\tROUTING KEY\tDEDUP KEY\tEVENTS\tSUMMARY")
		for _, inc := range snap.Incidents {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", inc.Number, inc.State, inc.Severity,
				maskKey(inc.RoutingKey), truncate(inc.DedupKey, 36), len(inc.Events), truncate(inc.Summary, 60))
		}
	}
	fmt.Fprintf(tw, "\nCHANGE EVENTS (%d)\n", len(snap.ChangeEvents))
	if len(snap.ChangeEvents) > 0 {
		fmt.Fprintln(tw, "RECEIVED\tROUTING KEY\tSOURCE\tSUMMARY")
		for _, c := range snap.ChangeEvents {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", fmtTime(c.ReceivedAt), maskKey(c.RoutingKey),
				truncate(c.Source, 24), truncate(c.Summary, 60))
		}
	}
	r := snap.Requests
	fmt.Fprintf(tw, "\nREQUESTS total=%d throttled=%d rate_limited=%d injected_failures=%d rejected=%d resets=%d dropped_events=%d\n",
		r.Total, r.Throttled, r.RateLimited, r.InjectedFailures, r.Rejected, r.Resets, snap.Dropped)
	return tw.Flush()
}

// truncate shortens s to at most n runes, marking the cut with "…", and
// flattens tabs and newlines so the table stays aligned.
func truncate(s string, n int) string {
	s = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
