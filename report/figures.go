package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Figures are the headline numbers of a report, as its Summary sheet shows
// them: the report week's and the week before's.
type Figures struct {
	Week       Week
	Start, End time.Time // the report week in Options.Location: Monday 00:00 to the next Monday 00:00
	ThisWeek   Period
	LastWeek   Period
	// Headline is the Summary's sentence naming what changed most.
	Headline string
}

// Period is one week's figures. docs/report.md defines each.
type Period struct {
	Calls       int64   // calls rows that started in the week (all sources)
	Meetings    int64   // of which call_type groupCall
	Minutes     float64 // sum of the calls' duration_s / 60
	ActiveUsers int64   // distinct user ids seen as a session endpoint or a participant of kind user

	// PSTNMinutes is pstn_calls plus direct_routing_calls duration / 60;
	// HasPSTN is false when the lake has neither table.
	PSTNMinutes float64
	HasPSTN     bool

	// Streams of the week's calls by CQD class.
	GoodStreams, PoorStreams, UnclassifiedStreams int64

	// ListedIDs and MissedIDs sum reconcile's listed and missed over the
	// week's complete days that had a queue (missed is NULL without one);
	// HasReconcile is false when there are none.
	ListedIDs, MissedIDs int64
	HasReconcile         bool
}

// PoorStreamRate is poor / (good + poor); false when no stream was classified.
func (p Period) PoorStreamRate() (float64, bool) {
	if p.GoodStreams+p.PoorStreams == 0 {
		return 0, false
	}
	return float64(p.PoorStreams) / float64(p.GoodStreams+p.PoorStreams), true
}

// MissedNotificationRate is missed / listed over complete days; false when
// there is no complete reconciled day with listed IDs.
func (p Period) MissedNotificationRate() (float64, bool) {
	if !p.HasReconcile || p.ListedIDs == 0 {
		return 0, false
	}
	return float64(p.MissedIDs) / float64(p.ListedIDs), true
}

// periodOf computes week b's figures from the totals.
func periodOf(d *lakeData, b int) Period {
	s := d.s
	p := Period{
		Calls:               s.per[b].calls,
		Meetings:            s.per[b].meetings,
		Minutes:             s.per[b].secs / 60,
		PSTNMinutes:         s.per[b].pstnSecs / 60,
		HasPSTN:             s.present[tPSTN] || s.present[tDirect],
		GoodStreams:         s.per[b].streams.good,
		PoorStreams:         s.per[b].streams.poor,
		UnclassifiedStreams: s.per[b].streams.uncl,
	}
	for _, u := range s.users {
		if u.active[b] {
			p.ActiveUsers++
		}
	}
	for _, r := range d.recon {
		if r.week == b && r.complete && r.hasMissed { // a day without a queue has no missed figure
			p.ListedIDs += r.listed
			p.MissedIDs += r.missed
			p.HasReconcile = true
		}
	}
	return p
}

// kpi is one line of the Summary's table.
type kpi struct {
	name       string
	this, last float64
	ok         [2]bool  // whether each week has the figure
	kind       cellKind // kInt, kMinutes (in minutes) or kPct
	// lowerIsBetter colours a fall green and a rise red.
	lowerIsBetter bool
	def           string
}

// kpis lists the Summary's figures in order.
func kpis(f *Figures) []kpi {
	t, l := f.ThisWeek, f.LastWeek
	pr, pok := t.PoorStreamRate()
	lpr, lpok := l.PoorStreamRate()
	mr, mok := t.MissedNotificationRate()
	lmr, lmok := l.MissedNotificationRate()
	return []kpi{
		{name: "Calls", this: float64(t.Calls), last: float64(l.Calls), ok: [2]bool{true, true}, kind: kInt,
			def: "Call records that started in the week (Teams and RingCentral), by their start time in the report's time zone."},
		{name: "Meetings", this: float64(t.Meetings), last: float64(l.Meetings), ok: [2]bool{true, true}, kind: kInt,
			def: "Of those, group calls (Teams call type groupCall): scheduled and ad-hoc meetings."},
		{name: "Minutes", this: t.Minutes, last: l.Minutes, ok: [2]bool{true, true}, kind: kMinutes,
			def: "Total length of those calls (start to end), in minutes."},
		{name: "Active users", this: float64(t.ActiveUsers), last: float64(l.ActiveUsers), ok: [2]bool{true, true}, kind: kInt,
			def: "Distinct users (identity kind user) who were a caller or callee of a session, or a participant, in those calls."},
		{name: "PSTN minutes", this: t.PSTNMinutes, last: l.PSTNMinutes, ok: [2]bool{t.HasPSTN, l.HasPSTN}, kind: kMinutes,
			def: "Minutes of phone-network calls in the Teams PSTN (Calling Plans) and Direct Routing logs; n/a when the lake has neither."},
		{name: "Poor-stream rate", this: pr, last: lpr, ok: [2]bool{pok, lpok}, kind: kPct, lowerIsBetter: true,
			def: "Poor streams ÷ (good + poor streams) of those calls, by Microsoft CQD's thresholds (see Call quality). Unclassified streams are left out."},
		{name: "Missed-notification rate", this: mr, last: lmr, ok: [2]bool{mok, lmok}, kind: kPct, lowerIsBetter: true,
			def: "Call IDs the source listed that never arrived as a notification ÷ IDs listed, over reconciled complete days; n/a without reconciliation."},
	}
}

// headline names the figure that changed most, relative to the week before.
func headline(f *Figures) string {
	if f.ThisWeek.Calls == 0 {
		return fmt.Sprintf("No calls in week %s: the lake has no call records that started between %s.",
			f.Week, dateSpan(f.Start, f.End))
	}
	if f.LastWeek.Calls == 0 {
		return fmt.Sprintf("%s calls this week; the week before has no calls to compare with.", groupDigits(f.ThisWeek.Calls))
	}
	best, bestRel := -1, 0.0
	ks := kpis(f)
	for i, k := range ks {
		if !k.ok[0] || !k.ok[1] || k.last == 0 {
			continue
		}
		rel := math.Abs(k.this-k.last) / math.Abs(k.last)
		if rel > bestRel+1e-12 {
			best, bestRel = i, rel
		}
	}
	if best < 0 || bestRel < 0.005 {
		return "Hardly anything changed from the week before: no figure moved by more than 0.5%."
	}
	k := ks[best]
	verb := "rose"
	if k.this < k.last {
		verb = "fell"
	}
	if k.kind == kPct {
		return fmt.Sprintf("Biggest change: the %s %s from %.1f%% to %.1f%% (%+.1f pp).",
			strings.ToLower(k.name), verb, k.last*100, k.this*100, (k.this-k.last)*100)
	}
	return fmt.Sprintf("Biggest change: %s %s %.0f%% to %s (from %s the week before).",
		strings.ToLower(k.name), verb, bestRel*100, groupDigits(int64(math.Round(k.this))), groupDigits(int64(math.Round(k.last))))
}

// dateSpan writes a week as "Monday 16 November and Sunday 22 November 2026".
func dateSpan(start, end time.Time) string {
	last := end.AddDate(0, 0, -1)
	if start.Year() == last.Year() {
		return start.Format("Monday 2 January") + " and " + last.Format("Monday 2 January 2006")
	}
	return start.Format("Monday 2 January 2006") + " and " + last.Format("Monday 2 January 2006")
}
