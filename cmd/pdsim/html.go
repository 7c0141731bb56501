package main

import (
	"html/template"
	"net/http"
	"time"
	"unicode/utf8"
)

// maskKey shows only the first and last four characters of a routing key.
func maskKey(k string) string {
	if utf8.RuneCountInString(k) <= 8 {
		return "…"
	}
	r := []rune(k)
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

// Views for the page carry only masked routing keys, so a full key can
// never reach the HTML.
type (
	pageView struct {
		Incidents []incidentView
		Changes   []changeView
		Unmatched []droppedView // dropped events that matched no incident
		Requests  RequestStats
		Dropped   int
		Now       string
	}
	incidentView struct {
		Number                                int
		State, Severity, Summary, Source, Key string
		DedupKey, Created, Updated            string
		Events                                []eventView
	}
	eventView struct {
		Action, Time, Note string
		Applied            bool
	}
	droppedView struct {
		Time, Action, Key, DedupKey, Note string
	}
	changeView struct {
		Time, Key, Source, Summary string
		Links                      []link
	}
)

func fmtTime(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func (s *Server) handleHTML(w http.ResponseWriter, _ *http.Request) {
	snap := s.snapshot()
	v := pageView{Requests: snap.Requests, Dropped: snap.Dropped, Now: s.now().UTC().Format(time.RFC3339)}
	for i := len(snap.Incidents) - 1; i >= 0; i-- { // newest first
		inc := snap.Incidents[i]
		iv := incidentView{
			Number: inc.Number, State: inc.State, Severity: inc.Severity, Summary: inc.Summary,
			Source: inc.Source, Key: maskKey(inc.RoutingKey), DedupKey: inc.DedupKey,
			Created: fmtTime(inc.CreatedAt), Updated: fmtTime(inc.UpdatedAt),
		}
		for _, e := range inc.Events {
			iv.Events = append(iv.Events, eventView{Action: e.Action, Time: fmtTime(e.Time), Note: e.Note, Applied: e.Applied})
		}
		v.Incidents = append(v.Incidents, iv)
	}
	for i := len(snap.ChangeEvents) - 1; i >= 0; i-- {
		c := snap.ChangeEvents[i]
		v.Changes = append(v.Changes, changeView{
			Time: fmtTime(c.ReceivedAt), Key: maskKey(c.RoutingKey),
			Source: c.Source, Summary: c.Summary, Links: c.Links,
		})
	}
	for _, e := range snap.Events {
		if !e.Applied && e.Incident == 0 {
			v.Unmatched = append(v.Unmatched, droppedView{
				Time: fmtTime(e.Time), Action: e.Action,
				Key: maskKey(e.RoutingKey), DedupKey: e.DedupKey, Note: e.Note,
			})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, v); err != nil {
		s.log.Printf("render page: %v", err)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>pdsim: PagerDuty Events API v2 simulator</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:.9em}ul{margin:0;padding-left:1.2em}
.triggered{background:#fde2e2}.acknowledged{background:#fff4cc}.resolved{background:#e3f6e3}.dropped{color:#999;text-decoration:line-through}
</style></head><body>
<h1>pdsim</h1>
<p>Local PagerDuty Events API v2 simulator. Updated {{.Now}} (refreshes every 2 s).
Requests: {{.Requests.Total}} · 429s: {{.Requests.Throttled}} · resets: {{.Requests.Resets}} · dropped events: {{.Dropped}}</p>
<h2>Incidents ({{len .Incidents}})</h2>
{{if .Incidents}}<table>
<tr><th>#</th><th>State</th><th>Severity</th><th>Summary</th><th>Source</th><th>Routing key</th><th>Dedup key</th><th>Created</th><th>Updated</th><th>Events</th></tr>
{{range .Incidents}}<tr class="{{.State}}"><td>{{.Number}}</td><td>{{.State}}</td><td>{{.Severity}}</td><td>{{.Summary}}</td><td>{{.Source}}</td>
<td><code>{{.Key}}</code></td><td><code>{{.DedupKey}}</code></td><td>{{.Created}}</td><td>{{.Updated}}</td>
<td><ul>{{range .Events}}<li{{if not .Applied}} class="dropped" title="{{.Note}}"{{end}}>{{.Time}} {{.Action}}{{if not .Applied}} (dropped: {{.Note}}){{end}}</li>{{end}}</ul></td></tr>
{{end}}</table>{{else}}<p>No incidents yet.</p>{{end}}
{{if .Unmatched}}<h2>Dropped events without an incident ({{len .Unmatched}})</h2>
<table><tr><th>Received</th><th>Action</th><th>Routing key</th><th>Dedup key</th><th>Why</th></tr>
{{range .Unmatched}}<tr class="dropped"><td>{{.Time}}</td><td>{{.Action}}</td><td><code>{{.Key}}</code></td><td><code>{{.DedupKey}}</code></td><td>{{.Note}}</td></tr>
{{end}}</table>{{end}}
<h2>Change events ({{len .Changes}})</h2>
{{if .Changes}}<table>
<tr><th>Received</th><th>Routing key</th><th>Source</th><th>Summary</th><th>Links</th></tr>
{{range .Changes}}<tr><td>{{.Time}}</td><td><code>{{.Key}}</code></td><td>{{.Source}}</td><td>{{.Summary}}</td>
<td>{{range .Links}}<a href="{{.Href}}">{{if .Text}}{{.Text}}{{else}}{{.Href}}{{end}}</a> {{end}}</td></tr>
{{end}}</table>{{else}}<p>No change events yet.</p>{{end}}
<p><a href="/incidents">/incidents</a> (JSON) · <a href="/control">/control</a></p>
</body></html>
`))
