package report

// The Summary sheet.

import (
	"fmt"
	"math"
)

func (r *render) summary(s *sheet) {
	s.noGrid = true
	s.headline(r.figs.Headline)
	s.row++
	st := r.st
	head := s.row
	for j, h := range []string{"Measure", "This week", "Last week", "Change", "How it is counted"} {
		style := st.headerNum
		switch j {
		case 0, 4:
			style = st.header
		case 3:
			style = st.headerCenter
		}
		s.text(1+j, head, h, style)
	}
	s.heads = append(s.heads, headRow{row: head, col0: 1, titles: []string{"Measure"}})
	s.row++
	for _, k := range kpis(r.figs) {
		row := s.row
		s.text(1, row, k.name, st.kpiLabel)
		for j, v := range []float64{k.this, k.last} {
			if !k.ok[j] {
				s.text(2+j, row, "n/a", st.na)
				continue
			}
			if k.kind == kMinutes {
				v *= 60 // value() takes seconds
			}
			s.value(2+j, row, k.kind, v, st.kpiValue[k.kind])
		}
		r.change(s, row, k)
		s.text(5, row, k.def, st.def)
		s.height(row, math.Max(24, float64(wrappedLines(k.def, 80))*12+8))
		s.row++
	}
	s.widths = map[int]float64{1: 30, 2: 14, 3: 14, 4: 14, 5: 70}
	s.maxCol = 5
	s.hasData = true

	t := r.figs.ThisWeek
	var notes []string
	if t.UnclassifiedStreams > 0 {
		notes = append(notes, fmt.Sprintf("%s streams of this week's calls had no quality metrics: they are unclassified, shown apart on Call quality and not counted as good.",
			groupDigits(t.UnclassifiedStreams)))
	}
	if !r.hasTelephony() {
		notes = append(notes, noTelephony)
	}
	if !r.s.present[tReconcile] {
		notes = append(notes, "Reconciliation has not run on this lake (no reconcile table): Data health is empty and the missed-notification rate is n/a.")
	}
	notes = append(notes, "Change: ▲ rise, ▼ fall; in % of last week's figure, or in percentage points (pp) for rates. Green is better, red is worse.")
	s.row++
	for _, n := range notes {
		s.note(n)
	}
}

// change writes the Change cell of a KPI row.
func (r *render) change(s *sheet, row int, k kpi) {
	st := r.st
	if !k.ok[0] || !k.ok[1] || (k.kind != kPct && k.last == 0) {
		s.text(4, row, "n/a", st.naCenter)
		return
	}
	var v float64
	if k.kind == kPct {
		v = (k.this - k.last) * 100
	} else {
		v = (k.this - k.last) / k.last
	}
	tone := 0 // neutral
	if k.lowerIsBetter {
		tone = 1 // good
		if v > 0 {
			tone = 2
		}
	}
	var style int
	switch {
	case math.Abs(v) < 0.0005 && k.kind != kPct, math.Abs(v) < 0.05 && k.kind == kPct:
		style = st.flat
		if k.kind == kPct {
			style = st.flatPP
		}
		v = 0
	case v > 0 && k.kind == kPct:
		style = st.upPP[tone]
	case v > 0:
		style = st.up[tone]
	case k.kind == kPct:
		style = st.downPP[tone]
	default:
		style = st.down[tone]
	}
	c := cellName(4, row)
	s.keep(s.f.SetCellFloat(s.name, c, math.Abs(v), -1, 64))
	s.style(4, row, style)
}
