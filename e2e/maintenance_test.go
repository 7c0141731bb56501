package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

const metricFiltered = "otelcol_processor_filter_logs_filtered"

// TestMaintenanceWindowRecipe runs the maintenance windows of
// docs/recipes.md with their times moved onto now: in the weekly window no
// firing record pages, and a resolve still goes through; in the one-off
// window only the payments route is muted; outside both, payments pages.
func TestMaintenanceWindowRecipe(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sn, ok := recipeSnippets(t)["maintenance-windows"]
	require.True(t, ok, "docs/recipes.md has no snippet marked <!-- snippet: id=maintenance-windows -->")
	const (
		weekly      = "Weekday(Now()) == 6 and Hour(Now()) >= 2 and Hour(Now()) < 4"
		oneOffStart = `Time("2026-12-24T22:00:00Z"`
		oneOffEnd   = `Time("2026-12-25T02:00:00Z"`
	)
	for _, part := range []string{weekly, oneOffStart, oneOffEnd} {
		require.Contains(t, sn.text, part, "the recipe changed: move this test's windows with it")
	}
	// The weekly window is moved onto a whole day, which must not end
	// while the test runs.
	now := time.Now()
	if midnight := now.Truncate(24 * time.Hour).Add(24 * time.Hour); time.Until(midnight) < time.Minute {
		time.Sleep(time.Until(midnight) + time.Second)
		now = time.Now()
	}
	moved := func(weekday time.Weekday, from, to time.Time) docSnippet {
		text := strings.Replace(sn.text, weekly, fmt.Sprintf("Weekday(Now()) == %d and Hour(Now()) >= 0 and Hour(Now()) < 24", weekday), 1)
		text = strings.Replace(text, oneOffStart, `Time("`+from.UTC().Format("2006-01-02T15:04:05Z")+`"`, 1)
		text = strings.Replace(text, oneOffEnd, `Time("`+to.UTC().Format("2006-01-02T15:04:05Z")+`"`, 1)
		s := sn
		s.text = text
		return s
	}
	today, otherDay := now.Weekday(), (now.Weekday()+3)%7
	past, current := [2]time.Time{now.Add(-48 * time.Hour), now.Add(-47 * time.Hour)}, [2]time.Time{now.Add(-time.Hour), now.Add(time.Hour)}

	t.Run("weekly window", func(t *testing.T) {
		t.Parallel()
		sim, col := startRecipe(t, moved(today, past[0], past[1]))
		col.Send(t, records("checkout", firing("mw-weekly", "critical", "planned restart")))
		waitMetric(t, col, 1, metricFiltered, `filter=filter/maintenance`)
		col.Send(t, records("checkout", resolved("mw-weekly-earlier")))
		waitMetric(t, col, 1, metricEvents, "event_action=resolve", "outcome=accepted")
		s := sim.Snapshot(t)
		assert.Empty(t, s.IncidentsFor("mw-weekly"), "a firing record paged in the window")
		assert.Zero(t, col.Count(t, metricEvents, "event_action=trigger"))
	})
	t.Run("one-off window by route", func(t *testing.T) {
		t.Parallel()
		sim, col := startRecipe(t, moved(otherDay, current[0], current[1]))
		col.Send(t, records("payments", firing("mw-payments", "critical", "migration in progress")))
		col.Send(t, records("checkout", firing("mw-checkout", "critical", "not in maintenance")))
		s := sim.WaitFor(t, "the checkout alert", func(s e2etest.Snapshot) bool { return s.Has("mw-checkout") })
		waitMetric(t, col, 1, metricFiltered, `filter=filter/maintenance`)
		assert.Empty(t, s.IncidentsFor("mw-payments"), "the payments route paged in its window")
	})
	t.Run("outside the windows", func(t *testing.T) {
		t.Parallel()
		sim, col := startRecipe(t, moved(otherDay, past[0], past[1]))
		col.Send(t, records("payments", firing("mw-after", "critical", "after the migration")))
		sim.WaitFor(t, "the payments alert", func(s e2etest.Snapshot) bool { return s.Has("mw-after") })
		assert.Zero(t, col.Count(t, metricFiltered))
	})
}
