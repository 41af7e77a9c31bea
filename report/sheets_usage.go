package report

// The Usage sheet.

import (
	"fmt"
	"sort"

	"github.com/xuri/excelize/v2"
)

func (r *render) usage(s *sheet) {
	if r.noCalls(s) {
		return
	}
	st := r.s
	s.section("Calls and minutes per day")
	top := s.row
	days := make([][]any, 7)
	var total [2]count
	for d := range st.days {
		day := r.figs.Start.AddDate(0, 0, d)
		c, m := st.days[d].calls, st.days[d].meetings
		var avg any
		if c.n > 0 {
			avg = c.secs / float64(c.n)
		}
		days[d] = []any{day.Format("Mon 2 Jan"), c.n, m.n, c.secs, avg}
		addCount(&total[0], &c)
		addCount(&total[1], &m)
	}
	var avg any
	if total[0].n > 0 {
		avg = total[0].secs / float64(total[0].n)
	}
	p := s.table(1, table{
		cols: []column{{title: "Day", kind: kText}, {title: "Calls", kind: kInt}, {title: "Meetings", kind: kInt},
			{title: "Minutes", kind: kMinutes}, {title: "Average call", kind: kDur}},
		rows:  days,
		total: []any{"Week", total[0].n, total[1].n, total[0].secs, avg},
	})
	s.chart(7, top, &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{{
			Name: s.cellRef(2, p.head), Categories: s.ref(1, p.first, p.last), Values: s.ref(2, p.first, p.last),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colorSeries1}},
		}},
		Title:     chartTitle("Calls and minutes per day"),
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 560, Height: 300},
		YAxis:     excelize.ChartAxis{MajorGridLines: true, Title: chartTitle("Calls")},
		PlotArea:  excelize.ChartPlotArea{},
	}, &excelize.Chart{
		Type: excelize.Line,
		Series: []excelize.ChartSeries{{
			Name: s.cellRef(4, p.head), Categories: s.ref(1, p.first, p.last), Values: s.ref(4, p.first, p.last),
			Line:   excelize.LineOptions{Width: 2.25},
			Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colorSeries2}},
			Marker: excelize.ChartMarker{Symbol: "circle", Size: 6},
		}},
		YAxis: excelize.ChartAxis{Secondary: true, Title: chartTitle("Minutes")},
	})
	s.row = max(s.row, top+16)

	s.section("Busiest hours: calls started, by hour of day")
	busiest, bd, bh := int64(-1), 0, 0
	// Only the hours from the first to the last that had calls.
	first, last := 23, 0
	for d := range 7 {
		for h := range 24 {
			if st.hours[d][h] > 0 {
				first, last = min(first, h), max(last, h)
			}
		}
	}
	var grid [][]any
	for h := first; h <= last; h++ {
		row := []any{fmt.Sprintf("%02d:00–%02d:00", h, (h+1)%24)}
		var sum int64
		for d := range 7 {
			n := st.hours[d][h]
			row = append(row, n)
			sum += n
			if n > busiest {
				busiest, bd, bh = n, d, h
			}
		}
		grid = append(grid, append(row, sum))
	}
	if busiest > 0 {
		s.note(fmt.Sprintf("Darker cells had more calls. Busiest: %s %02d:00–%02d:00, %s calls.",
			r.figs.Start.AddDate(0, 0, bd).Format("Monday"), bh, (bh+1)%24, groupDigits(busiest)))
	}
	cols := []column{{title: "Hour", kind: kText}}
	for d := range 7 {
		cols = append(cols, column{title: r.figs.Start.AddDate(0, 0, d).Format("Mon"), kind: kCount0})
	}
	cols = append(cols, column{title: "All week", kind: kCount0})
	g := s.table(1, table{cols: cols, rows: grid})
	s.keep(s.f.SetConditionalFormat(s.name, cellName(2, g.first)+":"+cellName(8, g.last),
		[]excelize.ConditionalFormatOptions{{Type: "2_color_scale", Criteria: "=", MinType: "min", MaxType: "max",
			MinColor: "#FFFFFF", MaxColor: "#5B9BD5"}}))

	s.section("Users")
	users := r.activeUsers()
	s.note(fmt.Sprintf("All %s users active in the week, most time in calls first. Calls: calls in which they had a session; "+
		"time in calls: the length of their own sessions; meetings organised: group calls they organised.", groupDigits(int64(len(users)))))
	rows := make([][]any, 0, len(users))
	for _, u := range users {
		var avg any
		if u.v.calls > 0 {
			avg = u.v.secs / float64(u.v.calls)
		}
		rows = append(rows, []any{u.label, u.v.calls, u.v.organised, u.v.secs, avg})
	}
	ut := s.table(1, table{cols: []column{{title: "User", kind: kText}, {title: "Calls", kind: kInt},
		{title: "Meetings organised", kind: kInt}, {title: "Time in calls", kind: kDur}, {title: "Average per call", kind: kDur}},
		rows: rows})
	if len(rows) > 0 {
		s.filter = cellName(1, ut.head) + ":" + cellName(5, ut.last)
	}
}

// userRow is a user and the name the workbook shows.
type userRow struct {
	id, label string
	v         *userStat
}

// activeUsers lists the report week's users, most time in calls first. A
// display name two users share gets the user principal name (or id) added.
func (r *render) activeUsers() []userRow {
	var out []userRow
	names := map[string]int{}
	for id, u := range r.s.users {
		if u.active[cur] || u.organised > 0 {
			label := u.name
			if label == "" {
				label = u.upn
			}
			if label == "" {
				label = id
			}
			out = append(out, userRow{id: id, label: label, v: u})
			names[label]++
		}
	}
	for i := range out {
		if names[out[i].label] > 1 {
			extra := out[i].v.upn
			if extra == "" || extra == out[i].label {
				extra = out[i].id
			}
			out[i].label += " (" + extra + ")"
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].v, out[j].v
		if a.secs != b.secs {
			return a.secs > b.secs
		}
		if a.calls != b.calls {
			return a.calls > b.calls
		}
		return out[i].label < out[j].label
	})
	return out
}
