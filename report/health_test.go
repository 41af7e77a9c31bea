package report

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// noQueueRecon is RingCentral's reconciliation of the report week's days
// without a queue (calls found by listing): notified and missed are NULL.
func noQueueRecon() []row {
	var out []row
	for d := 16; d <= 22; d++ {
		out = append(out, row{"source": "ringcentral", "day": time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC), "listed": 5,
			"recovered": 0, "deferred": 0, "failed": 0, "complete": true,
			"reconciled_at": time.Date(2026, 11, d+1, 2, 0, 0, 0, time.UTC)})
	}
	return out
}

func writeNoQueueRecon(t *testing.T, dir string) {
	t.Helper()
	for _, r := range noQueueRecon() {
		writeParquet(t, dir, "reconcile", r["day"].(time.Time).Format(time.DateOnly), "ringcentral", reconSchemaDate, []row{r})
	}
}

// healthRow returns the Data health row of day and source.
func healthRow(b *book, day, source string) []string {
	b.t.Helper()
	for _, r := range b.rows(shHealth) {
		if len(r) > 1 && r[0] == day && r[1] == source {
			return r
		}
	}
	b.t.Fatalf("no Data health row for %s %s", day, source)
	return nil
}

// TestHealthNoQueue: a day reconciled without a queue (notified and missed
// NULL) shows n/a for notified, missed and the missed rate, and counts in
// no notified or missed total and in no rate, beside days with a queue and
// alone.
func TestHealthNoQueue(t *testing.T) {
	t.Run("beside a queue", func(t *testing.T) {
		plain, _ := generate(t, handOptions(writeHandLake(t, true)))
		dir := writeHandLake(t, true)
		writeNoQueueRecon(t, dir)
		figs, b := generate(t, handOptions(dir))

		// The rate and its figures are those of the days with a queue.
		if figs.ThisWeek.ListedIDs != plain.ThisWeek.ListedIDs || figs.ThisWeek.MissedIDs != plain.ThisWeek.MissedIDs ||
			!figs.ThisWeek.HasReconcile {
			t.Errorf("figures listed %d missed %d (has %v), want those without the no-queue days: %d %d",
				figs.ThisWeek.ListedIDs, figs.ThisWeek.MissedIDs, figs.ThisWeek.HasReconcile, plain.ThisWeek.ListedIDs, plain.ThisWeek.MissedIDs)
		}
		for d := 16; d <= 22; d++ {
			day := time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC).Format("Mon 2 Jan 2006")
			if r := healthRow(b, day, "RingCentral"); r[2] != "5" || r[3] != "n/a" || r[4] != "n/a" || r[9] != "n/a" {
				t.Errorf("%s RingCentral: %v, want listed 5 and n/a notified, missed and rate", day, r)
			}
		}
		if r := healthRow(b, "Tue 17 Nov 2026", "Teams"); r[3] != "168" || r[4] != "3" {
			t.Errorf("17 Nov Teams: %v", r)
		}

		// The week's totals: listed counts every day, notified and missed
		// only the days with a queue (Teams).
		var listed, notified, missed int
		latest := map[time.Time]row{}
		for _, r := range handRecon() {
			d := r["day"].(time.Time)
			if old, ok := latest[d]; !ok || old["reconciled_at"].(time.Time).Before(r["reconciled_at"].(time.Time)) {
				latest[d] = r
			}
		}
		for d, r := range latest {
			if d.Day() >= 16 && d.Day() <= 22 {
				listed += r["listed"].(int)
				notified += r["notified"].(int)
				missed += r["missed"].(int)
			}
		}
		listed += 7 * 5
		want := []string{strconv.Itoa(listed), strconv.Itoa(notified), strconv.Itoa(missed)}
		if r := b.row(shHealth, "", "Week"); r[2] != want[0] || r[3] != want[1] || r[4] != want[2] ||
			!near(num(t, r[9]), float64(plain.ThisWeek.MissedIDs)/float64(plain.ThisWeek.ListedIDs)) {
			t.Errorf("week total %v, want listed, notified, missed %v and the rate of the days with a queue", r, want)
		}
		// Per day, all sources: 17 November sums Teams only for notified and missed.
		if r := b.row(shHealth, "Per day, all sources", "Tue 17 Nov"); r[1] != "176" || r[2] != "168" || r[3] != "3" {
			t.Errorf("per day 17 Nov: %v, want listed 176, notified 168, missed 3", r)
		}
		if !b.text(shHealth, "n/a: the day had no queue") {
			t.Error("no note explains n/a")
		}
	})

	t.Run("alone", func(t *testing.T) {
		dir := writeHandLake(t, true)
		if err := os.RemoveAll(filepath.Join(dir, "reconcile")); err != nil {
			t.Fatal(err)
		}
		writeNoQueueRecon(t, dir)
		figs, b := generate(t, handOptions(dir))
		if figs.ThisWeek.HasReconcile || figs.ThisWeek.ListedIDs != 0 || figs.ThisWeek.MissedIDs != 0 {
			t.Errorf("figures %+v count days without a queue", figs.ThisWeek)
		}
		if _, ok := figs.ThisWeek.MissedNotificationRate(); ok {
			t.Error("a missed-notification rate without a queue")
		}
		if r := b.row(shHealth, "", "Week"); r[2] != "35" || r[3] != "n/a" || r[4] != "n/a" {
			t.Errorf("week total %v, want listed 35 and n/a notified and missed", r)
		}
		if r := b.row(shHealth, "Per day, all sources", "Wed 18 Nov"); r[1] != "5" || r[2] != "n/a" || r[3] != "n/a" {
			t.Errorf("per day 18 Nov: %v", r)
		}
		if !b.text(shHealth, "No queue this week") {
			t.Error("the headline does not say there is no queue")
		}
		if r := b.row(shSummary, "Measure", "Missed-notification rate"); r[1] != "n/a" {
			t.Errorf("Summary's missed rate %v, want n/a", r)
		}
	})
}
