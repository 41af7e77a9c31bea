package report

// The Data health sheet.

import (
	"fmt"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"
)

func (r *render) health(s *sheet) {
	if !r.s.present[tReconcile] {
		s.headline("Reconciliation has not run on this lake (no reconcile table): missed notifications cannot be shown.")
		s.note("callstats reconcile compares the calls each source lists with the notifications that arrived; its results appear here.")
		return
	}
	var rows [][]any
	perDay := map[time.Time]*reconTotal{}
	var t reconTotal
	noQueue := 0 // rows of days without a queue: notified and missed are n/a
	for _, x := range r.d.recon {
		if x.week != cur {
			continue
		}
		var deferred any
		if x.hasDeferred {
			deferred = x.deferred
		}
		var rate any
		switch {
		case !x.hasMissed:
			rate = notApplicable
		case x.listed > 0:
			rate = float64(x.missed) / float64(x.listed)
		}
		if !x.hasNotified || !x.hasMissed {
			noQueue++
		}
		complete := "no"
		if x.complete {
			complete = "yes"
		}
		rows = append(rows, []any{x.day.Format("Mon 2 Jan 2006"), label(sourceNames, x.source), x.listed,
			orNA(x.notified, x.hasNotified), orNA(x.missed, x.hasMissed), x.recovered, deferred, x.failed, complete, rate})
		d := perDay[x.day]
		if d == nil {
			d = &reconTotal{}
			perDay[x.day] = d
		}
		d.add(x)
		t.add(x)
	}
	if len(rows) == 0 {
		s.headline("No reconciliation for this week's days yet.")
		return
	}
	if rate, ok := r.figs.ThisWeek.MissedNotificationRate(); ok {
		s.headline(fmt.Sprintf("%.2f%% of the calls the sources listed never arrived as a notification (%s of %s, complete days).",
			rate*100, groupDigits(r.figs.ThisWeek.MissedIDs), groupDigits(r.figs.ThisWeek.ListedIDs)))
	} else if noQueue == len(rows) {
		s.headline("No queue this week: calls are found by listing each day, so no notification is received and the missed-notification rate does not apply.")
	} else {
		s.headline("No complete reconciled day this week: the missed-notification rate is not known yet.")
	}
	if noQueue > 0 {
		s.note("n/a: the day had no queue (calls are found by listing each day), so no notification was received and none counts as missed; " +
			"those days are left out of the missed rate and of the notified and missed totals.")
	}
	s.note("Listed: calls the source's own log lists for the day. Notified: notifications received. Missed: listed but never notified; " +
		"recovered: missed calls fetched anyway; deferred: not fetchable yet, retried on a later run; failed: given up. " +
		"Complete: the whole day has been reconciled; the week's missed rate counts complete days only. Days are the sources' UTC days. " +
		"Missed rate: green below 3%, amber from 3%, red from 10%.")
	s.row++
	var totalRate any // over complete days, as on the Summary
	if rate, ok := r.figs.ThisWeek.MissedNotificationRate(); ok {
		totalRate = rate
	}
	p := s.table(1, table{cols: []column{{title: "Day", kind: kText}, {title: "Source", kind: kText}, {title: "Listed", kind: kInt},
		{title: "Notified (received)", kind: kInt}, {title: "Missed", kind: kInt}, {title: "Recovered", kind: kInt},
		{title: "Deferred", kind: kInt}, {title: "Failed", kind: kInt}, {title: "Complete", kind: kCenter},
		{title: "Missed rate", kind: kPct, rate: true}}, rows: rows,
		total: []any{"Week", "", t.listed, t.notifiedOrNA(), t.missedOrNA(), t.recovered, t.deferred, t.failed, "", totalRate}})
	s.freeze = p.head
	s.filter = cellName(1, p.head) + ":" + cellName(10, p.last)

	// A per-day view of all sources, for the chart.
	s.section("Per day, all sources")
	var ds []time.Time
	for d := range perDay {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Before(ds[j]) })
	drows := make([][]any, len(ds))
	for i, d := range ds {
		x := perDay[d]
		drows[i] = []any{d.Format("Mon 2 Jan"), x.listed, x.notifiedOrNA(), x.missedOrNA(), x.recovered}
	}
	top := s.row
	q := s.table(1, table{cols: []column{{title: "Day", kind: kText}, {title: "Listed", kind: kInt},
		{title: "Notified (received)", kind: kInt}, {title: "Missed", kind: kInt}, {title: "Recovered", kind: kInt}}, rows: drows})
	series := func(col int, color string) excelize.ChartSeries {
		return excelize.ChartSeries{Name: s.cellRef(col, q.head), Categories: s.ref(1, q.first, q.last), Values: s.ref(col, q.first, q.last),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}}
	}
	s.chart(7, top, &excelize.Chart{
		Type:      excelize.Col,
		Series:    []excelize.ChartSeries{series(4, colorSeries2), series(5, colorSeries1)},
		Title:     chartTitle("Missed and recovered notifications per day"),
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 520, Height: 280},
		YAxis:     excelize.ChartAxis{MajorGridLines: true},
	})
	s.row = max(s.row, top+15)
}

// notApplicable is shown for a figure that has no meaning, as a NULL
// notified or missed count of a day without a queue.
const notApplicable = "n/a"

// orNA is v, or n/a when it is not set.
func orNA(v int64, ok bool) any {
	if !ok {
		return notApplicable
	}
	return v
}

// reconTotal sums reconcile rows. Notified and missed sum only the rows
// that have them (days with a queue); hasNotified and hasMissed say
// whether any did.
type reconTotal struct {
	listed, notified, missed, recovered, deferred, failed int64
	hasNotified, hasMissed                                bool
}

func (t *reconTotal) add(x reconRow) {
	t.listed += x.listed
	t.recovered += x.recovered
	t.deferred += x.deferred
	t.failed += x.failed
	if x.hasNotified {
		t.notified += x.notified
		t.hasNotified = true
	}
	if x.hasMissed {
		t.missed += x.missed
		t.hasMissed = true
	}
}

func (t *reconTotal) notifiedOrNA() any { return orNA(t.notified, t.hasNotified) }
func (t *reconTotal) missedOrNA() any   { return orNA(t.missed, t.hasMissed) }
