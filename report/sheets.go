package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// The sheets, in tab order.
const (
	shSummary   = "Summary"
	shUsage     = "Usage"
	shDevices   = "Devices"
	shQuality   = "Call quality"
	shTelephony = "Telephony"
	shHealth    = "Data health"
)

var sheetOrder = []string{shSummary, shUsage, shDevices, shQuality, shTelephony, shHealth}

// topN caps the ranked lists.
const topN = 25

// minStreams is how many classified streams a user or subnet needs to be ranked.
const minStreams = 10

// render holds what every sheet needs.
type render struct {
	f    *excelize.File
	st   *styles
	d    *lakeData
	s    *stats
	figs *Figures
	opts Options
}

func buildWorkbook(d *lakeData, figs *Figures, opts Options) (*excelize.File, error) {
	f := excelize.NewFile()
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	if err := f.SetSheetName("Sheet1", sheetOrder[0]); err != nil {
		return nil, err
	}
	for _, n := range sheetOrder[1:] {
		if _, err := f.NewSheet(n); err != nil {
			return nil, err
		}
	}
	f.SetActiveSheet(0)
	title := "Weekly call report " + figs.Week.String()
	if opts.Title != "" {
		title = cleanText(opts.Title) + " – " + title
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: title, Subject: "Calls, quality and telephony of week " + figs.Week.String(),
		Creator: "callstats", Description: figs.Headline, Language: "en-GB",
	}); err != nil {
		return nil, err
	}
	r := &render{f: f, st: &st, d: d, s: d.s, figs: figs, opts: opts}
	for _, sh := range []struct {
		name, title string
		fn          func(*sheet)
	}{
		{shSummary, "Weekly call report", r.summary},
		{shUsage, "Usage", r.usage},
		{shDevices, "Devices", r.devices},
		{shQuality, "Call quality", r.quality},
		{shTelephony, "Telephony", r.telephony},
		{shHealth, "Data health", r.health},
	} {
		s := newSheet(f, &st, sh.name)
		t := sh.title
		if opts.Title != "" {
			t = opts.Title + " – " + t
		}
		s.header(t, r.dates())
		sh.fn(s)
		if err := s.finish(t + " · " + figs.Week.String()); err != nil {
			return nil, err
		}
	}
	ok = true
	return f, nil
}

// dates is every sheet's second line: the week and its days.
func (r *render) dates() string {
	start, last := r.figs.Start, r.figs.End.AddDate(0, 0, -1)
	var span string
	switch {
	case start.Year() != last.Year():
		span = start.Format("Monday 2 January 2006") + " – " + last.Format("Monday 2 January 2006")
	case start.Month() != last.Month():
		span = start.Format("Monday 2 January") + " – " + last.Format("Monday 2 January 2006")
	default:
		span = start.Format("Monday 2") + " – " + last.Format("Monday 2 January 2006")
	}
	return fmt.Sprintf("Week %s: %s · times in %s", r.figs.Week, span, r.opts.Location)
}

// noCalls reports an empty week on a sheet that needs calls.
func (r *render) noCalls(s *sheet) bool {
	if r.figs.ThisWeek.Calls > 0 {
		return false
	}
	if !r.s.present[tCalls] {
		s.headline("No call data: this lake has no calls table yet (ingest has not written to it).")
	} else {
		s.headline("No calls in this week.")
	}
	return true
}

// ---- Summary ----

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

// ---- Usage ----

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

// ---- Devices ----

func (r *render) devices(s *sheet) {
	if r.noCalls(s) {
		return
	}
	st := r.s
	blocks := []struct {
		title, what, note string
		t                 tally[count]
		pretty            map[string]string
	}{
		{"Platforms", "Session endpoints", "Client platform of each caller and callee of the week's sessions (Microsoft services, such as meeting servers, have none).", st.platforms, platformNames},
		{"Product families", "Session endpoints", "", st.families, familyNames},
		{"Client versions", "Session endpoints", "", st.versions, nil},
		{"Microphones and cameras (capture devices)", "Audio segments", "Devices named in each audio stream's media, once per segment and side.", st.capture, nil},
		{"Speakers and headsets (render devices)", "Audio segments", "", st.render, nil},
	}
	for _, b := range blocks {
		s.section(b.title)
		if b.note != "" {
			s.note(b.note)
		}
		items := sortedBy(b.t, byCount)
		if len(items) == 0 {
			s.note("None reported this week.")
			continue
		}
		var total int64
		for _, it := range items {
			total += it.v.n
		}
		if len(items) > topN {
			s.note(fmt.Sprintf("The %d most common of %s; the other %s account for %.1f%%.", topN,
				groupDigits(int64(len(items))), groupDigits(int64(len(items)-topN)), 100*restShare(items[topN:], total)))
			items = items[:topN]
		}
		rows := make([][]any, len(items))
		for i, it := range items {
			rows[i] = []any{label(b.pretty, it.key), it.v.n, float64(it.v.n) / float64(total)}
		}
		top := s.row
		p := s.table(1, table{cols: []column{{title: strings.Split(b.title, " (")[0], kind: kText},
			{title: b.what, kind: kInt}, {title: "Share", kind: kPct}}, rows: rows})
		r.barChart(s, 5, top, b.title, p, 2, false)
	}
}

func restShare(rest []ranked[count], total int64) float64 {
	var n int64
	for _, r := range rest {
		n += r.v.n
	}
	return float64(n) / float64(total)
}

// barChart draws a horizontal bar chart of a table's column vcol (relative
// to the table) against its first column, beside the table, and moves the
// sheet's row below whichever is taller.
func (r *render) barChart(s *sheet, col, top int, title string, p placed, vcol int, pct bool) {
	n := p.last - p.first + 1
	h := max(170, 50+n*18)
	ch := &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{{
			Name: s.cellRef(p.col0+vcol-1, p.head), Categories: s.ref(p.col0, p.first, p.last), Values: s.ref(p.col0+vcol-1, p.first, p.last),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colorSeries1}},
		}},
		Title:     chartTitle(title),
		Legend:    excelize.ChartLegend{Position: "none"},
		Dimension: excelize.ChartDimension{Width: 480, Height: uint(h)},
		XAxis:     excelize.ChartAxis{ReverseOrder: true},
		YAxis:     excelize.ChartAxis{MajorGridLines: true},
		PlotArea:  excelize.ChartPlotArea{ShowVal: n <= 12},
	}
	if pct {
		ch.YAxis.NumFmt = excelize.ChartNumFmt{CustomNumFmt: "0%"}
		ch.PlotArea.NumFmt = excelize.ChartNumFmt{CustomNumFmt: "0.0%"}
	}
	s.chart(col, top, ch)
	s.row = max(s.row, top+int(math.Ceil(float64(h)/20))+1)
}

// ---- Call quality ----

func (r *render) quality(s *sheet) {
	if r.noCalls(s) {
		return
	}
	st := r.s
	all := st.per[cur].streams
	if all.good+all.poor+all.uncl == 0 {
		s.headline("No media streams in this week's calls.")
		r.thresholds(s)
		return
	}
	if rate, ok := all.rate(); ok {
		s.headline(fmt.Sprintf("%.1f%% of classified streams were poor (%s of %s).", rate*100,
			groupDigits(all.poor), groupDigits(all.classified())))
	}
	s.note(fmt.Sprintf("%s streams (%.1f%%) reported no metric their media type is judged by: they are unclassified, shown apart and never counted as good. "+
		"Rates are poor ÷ (good + poor). A stream is attributed to the endpoint that received it, or, when that is a Microsoft service, to the one that sent it.",
		groupDigits(all.uncl), 100*float64(all.uncl)/float64(all.good+all.poor+all.uncl)))

	qcols := func(first string) []column {
		return []column{{title: first, kind: kText}, {title: "Streams", kind: kInt}, {title: "Good", kind: kInt},
			{title: "Poor", kind: kInt}, {title: "Unclassified", kind: kInt}, {title: "Poor rate", kind: kPct, rate: true}}
	}
	qrow := func(name string, q *quality) []any {
		var rate any
		if v, ok := q.rate(); ok {
			rate = v
		}
		return []any{name, q.good + q.poor + q.uncl, q.good, q.poor, q.uncl, rate}
	}
	qtable := func(title, first string, t tally[quality], pretty map[string]string, chart bool) {
		s.section(title)
		items := sortedBy(t, func(a, b *quality) bool { return a.good+a.poor+a.uncl > b.good+b.poor+b.uncl })
		rows := make([][]any, len(items))
		var total quality
		for i, it := range items {
			rows[i] = qrow(label(pretty, it.key), it.v)
			addQuality(&total, it.v)
		}
		top := s.row
		p := s.table(1, table{cols: qcols(first), rows: rows, total: qrow("All", &total)})
		if chart {
			r.barChart(s, 8, top, "Poor-stream rate by "+strings.ToLower(first), p, 6, true)
		}
	}
	qtable("By media type", "Media", st.media, mediaNames, false)
	qtable("By platform", "Platform", st.platformQ, platformNames, true)
	qtable("By connection type", "Connection", st.connQ, connNames, true)

	worst := func(title, first string, rows []ranked[quality], name func(string) string) {
		s.section(title)
		var ok []ranked[quality]
		for _, it := range rows {
			if it.v.classified() >= minStreams && it.v.poor > 0 {
				ok = append(ok, it)
			}
		}
		sort.SliceStable(ok, func(i, j int) bool {
			a, _ := ok[i].v.rate()
			b, _ := ok[j].v.rate()
			if a != b {
				return a > b
			}
			return ok[i].v.poor > ok[j].v.poor
		})
		n := len(ok)
		if n == 0 {
			s.note(fmt.Sprintf("None with at least %d classified streams and a poor one.", minStreams))
			return
		}
		if n > topN {
			ok = ok[:topN]
		}
		if n > len(ok) {
			s.note(fmt.Sprintf("With at least %d classified streams and a poor one: the %d worst of %d.", minStreams, len(ok), n))
		} else {
			s.note(fmt.Sprintf("All %d with at least %d classified streams and a poor one.", n, minStreams))
		}
		out := make([][]any, len(ok))
		for i, it := range ok {
			rate, _ := it.v.rate()
			out[i] = []any{name(it.key), it.v.classified(), it.v.poor, rate}
		}
		s.table(1, table{cols: []column{{title: first, kind: kText}, {title: "Classified streams", kind: kInt},
			{title: "Poor", kind: kInt}, {title: "Poor rate", kind: kPct, rate: true}}, rows: out})
	}
	labels := map[string]string{}
	for _, u := range r.activeUsers() {
		labels[u.id] = u.label
	}
	var users []ranked[quality]
	for id, u := range st.users {
		users = append(users, ranked[quality]{id, &u.streams})
	}
	sort.Slice(users, func(i, j int) bool { return users[i].key < users[j].key })
	worst("Users with the highest poor-stream rate", "User", users, func(id string) string {
		if l, ok := labels[id]; ok {
			return l
		}
		return id
	})
	worst("Subnets with the highest poor-stream rate", "Subnet", sortedBy(st.subnetQ, func(a, b *quality) bool { return false }),
		func(s string) string { return s })

	s.section("Feedback ratings")
	ratings := sortedBy(st.ratings, func(a, b *count) bool { return false })
	sort.SliceStable(ratings, func(i, j int) bool { return ratingOrder(ratings[i].key) < ratingOrder(ratings[j].key) })
	if len(ratings) == 0 {
		s.note("No feedback this week.")
	} else {
		s.note(fmt.Sprintf("Ratings given at the end of %s sessions (by the caller, the callee or both).", groupDigits(st.feedbackSessions)))
		var total int64
		for _, it := range ratings {
			total += it.v.n
		}
		rows := make([][]any, len(ratings))
		for i, it := range ratings {
			rows[i] = []any{label(ratingNames, it.key), it.v.n, float64(it.v.n) / float64(total)}
		}
		s.table(1, table{cols: []column{{title: "Rating", kind: kText}, {title: "Ratings", kind: kInt},
			{title: "Share", kind: kPct}}, rows: rows, total: []any{"All", total, 1.0}})
	}

	s.section("Most reported feedback problems")
	tokens := sortedBy(st.tokens, byCount)
	if len(tokens) == 0 {
		s.note("No feedback problems reported this week.")
	} else {
		if len(tokens) > topN {
			s.note(fmt.Sprintf("The %d most reported of %d.", topN, len(tokens)))
			tokens = tokens[:topN]
		}
		rows := make([][]any, len(tokens))
		for i, it := range tokens {
			rows[i] = []any{splitWords(it.key), it.v.n}
		}
		s.table(1, table{cols: []column{{title: "Feedback token", kind: kText}, {title: "Times reported", kind: kInt}}, rows: rows})
	}
	r.thresholds(s)
}

// thresholds states how streams are classified.
func (r *render) thresholds(s *sheet) {
	s.section("How streams are classified (Microsoft Call Quality Dashboard thresholds)")
	s.note("A value exactly at a limit is within it. Colours of the rates: green below 3%, amber from 3%, red from 10% (this report's bands, not Microsoft's).")
	rows := [][]any{
		{"Audio", "Any reported metric crosses: network degradation > 1.0 or concealed samples > 7% (both not applied to the SATIN codecs), " +
			"round trip > 500 ms, packet loss > 10%, jitter > 30 ms.", "At least one of them reported, none crossed."},
		{"Video", "The first metric reported decides: frame loss > 50%; else frame rate (sent, or received when not reported) < 7 fps; else packet loss after error correction > 15%.",
			"The deciding metric within its limit."},
		{"Screen sharing (VBSS)", "As video, with a frame-rate limit of 2 fps.", "As video."},
		{"Other, or no metric", "Never classified.", "Unclassified: shown apart, never counted as good."},
	}
	// Written by hand: the long texts wrap in merged cells rather than widen
	// the columns the other tables use.
	st := r.st
	head := s.row
	s.text(1, head, "Media", st.header)
	s.text(2, head, "Poor when", st.header)
	s.text(6, head, "Good when", st.header)
	for _, c := range []int{3, 4, 5, 7} {
		s.style(c, head, st.header)
	}
	s.keep(s.f.MergeCell(s.name, cellName(2, head), cellName(5, head)))
	s.keep(s.f.MergeCell(s.name, cellName(6, head), cellName(7, head)))
	s.height(head, 19)
	for i, row := range rows {
		rr := head + 1 + i
		s.text(1, rr, row[0].(string), st.body[kText])
		s.fit(1, float64(len(row[0].(string)))+1)
		s.text(2, rr, row[1].(string), st.def)
		s.text(6, rr, row[2].(string), st.def)
		for _, c := range []int{3, 4, 5, 7} {
			s.style(c, rr, st.def)
		}
		s.keep(s.f.MergeCell(s.name, cellName(2, rr), cellName(5, rr)))
		s.keep(s.f.MergeCell(s.name, cellName(6, rr), cellName(7, rr)))
		lines := max(wrappedLines(row[1].(string), 48), wrappedLines(row[2].(string), 22))
		s.height(rr, float64(lines)*12+6)
	}
	s.row = head + 1 + len(rows)
	s.maxCol = max(s.maxCol, 7)
}

// ---- Telephony ----

// hasRingCentral is whether to show RingCentral: its rows are in either
// week, or the lake has its legs table.
func (r *render) hasRingCentral() bool {
	return r.s.rcSeen[cur] || r.s.rcSeen[prev] || r.s.present[tLegs]
}

func (r *render) hasTelephony() bool {
	return r.s.present[tPSTN] || r.s.present[tDirect] || r.hasRingCentral()
}

// noTelephony says why Telephony is empty.
const noTelephony = "No telephony: this lake has no Teams PSTN (pstn_calls) or Direct Routing (direct_routing_calls) table, " +
	"and no RingCentral calls in this week or the week before."

func (r *render) telephony(s *sheet) {
	st := r.s
	if !r.hasTelephony() {
		s.headline(noTelephony)
		return
	}
	mins := []column{{title: "Calls", kind: kInt}, {title: "Minutes", kind: kMinutes}}
	countRows := func(t tally[count], pretty map[string]string) ([][]any, count) {
		var total count
		items := sortedBy(t, byCount)
		rows := make([][]any, len(items))
		for i, it := range items {
			rows[i] = []any{label(pretty, it.key), it.v.n, it.v.secs}
			addCount(&total, it.v)
		}
		return rows, total
	}
	if st.present[tPSTN] {
		s.section("Teams Phone: Calling Plan calls (PSTN)")
		rows, total := countRows(st.pstnDir, nil)
		if total.n == 0 {
			s.note("No PSTN calls this week.")
		} else {
			s.table(1, table{cols: append([]column{{title: "Direction", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			s.row++
			keys := make([]pstnKey, 0, len(st.pstn))
			for k := range st.pstn {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				a, b := st.pstn[keys[i]], st.pstn[keys[j]]
				if a.n != b.n {
					return a.n > b.n
				}
				return keys[i].callType+keys[i].currency < keys[j].callType+keys[j].currency
			})
			out := make([][]any, len(keys))
			for i, k := range keys {
				v := st.pstn[k]
				out[i] = []any{label(nil, k.callType), label(nil, k.currency), v.n, v.secs, v.charge}
			}
			s.table(1, table{cols: []column{{title: "Call type", kind: kText}, {title: "Currency", kind: kCenter},
				{title: "Calls", kind: kInt}, {title: "Minutes", kind: kMinutes}, {title: "Charge", kind: kMoney}}, rows: out})
		}
	}
	if st.present[tDirect] {
		s.section("Teams Phone: Direct Routing")
		rows, total := countRows(st.drDir, nil)
		if total.n == 0 {
			s.note("No Direct Routing calls this week.")
		} else {
			if n := st.drOK[0] + st.drOK[1]; n > 0 {
				s.note(fmt.Sprintf("%s of %s calls succeeded (%.1f%%).", groupDigits(st.drOK[0]), groupDigits(n), 100*float64(st.drOK[0])/float64(n)))
			}
			s.table(1, table{cols: append([]column{{title: "Direction", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			s.row++
			keys := make([]sipKey, 0, len(st.drSIP))
			for k := range st.drSIP {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				a, b := st.drSIP[keys[i]], st.drSIP[keys[j]]
				if a.n != b.n {
					return a.n > b.n
				}
				return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
			})
			if len(keys) > topN {
				s.note(fmt.Sprintf("The %d most frequent outcomes of %d.", topN, len(keys)))
				keys = keys[:topN]
			}
			out := make([][]any, len(keys))
			for i, k := range keys {
				var code any
				if k.hasCode {
					code = k.code
				}
				out[i] = []any{label(map[string]string{"yes": "Yes", "no": "No"}, k.success), code, label(nil, k.phrase), st.drSIP[k].n, st.drSIP[k].secs}
			}
			s.table(1, table{cols: []column{{title: "Succeeded", kind: kCenter}, {title: "SIP code", kind: kInt},
				{title: "Reason", kind: kText}, {title: "Calls", kind: kInt}, {title: "Minutes", kind: kMinutes}}, rows: out})
		}
	}
	if r.hasRingCentral() {
		s.section("RingCentral")
		if st.rcCalls == 0 {
			s.note("No RingCentral calls this week.")
		} else {
			n := func(k string) int64 {
				if v := st.rcResults[k]; v != nil {
					return v.n
				}
				return 0
			}
			s.note(fmt.Sprintf("%s calls: %s missed, %s abandoned, %s to voicemail.", groupDigits(st.rcCalls),
				groupDigits(n("Missed")), groupDigits(n("Abandoned")), groupDigits(n("Voicemail"))))
			rows, total := countRows(st.rcResults, nil)
			s.table(1, table{cols: append([]column{{title: "Result", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			s.row++
			rows, total = countRows(st.rcDirections, nil)
			s.table(1, table{cols: append([]column{{title: "Direction", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			if len(st.rcCallerSt)+len(st.rcCalleeSt) > 0 {
				s.row++
				s.note("RingOut calls: the result of the leg to the caller's own phone and of the leg to the called party.")
				keys := map[string]bool{}
				for k := range st.rcCallerSt {
					keys[k] = true
				}
				for k := range st.rcCalleeSt {
					keys[k] = true
				}
				var ks []string
				for k := range keys {
					ks = append(ks, k)
				}
				sort.Strings(ks)
				get := func(t tally[count], k string) int64 {
					if v := t[k]; v != nil {
						return v.n
					}
					return 0
				}
				out := make([][]any, len(ks))
				for i, k := range ks {
					out[i] = []any{k, get(st.rcCallerSt, k), get(st.rcCalleeSt, k)}
				}
				s.table(1, table{cols: []column{{title: "Status", kind: kText}, {title: "Caller leg", kind: kInt},
					{title: "Callee leg", kind: kInt}}, rows: out})
			}
		}
		if len(st.legs) > 0 {
			s.row++
			s.note("Call-log legs by type (a call has one leg per hop: the caller, a queue, a forward, ...).")
			rows, total := countRows(st.legs, nil)
			s.table(1, table{cols: []column{{title: "Leg type", kind: kText}, {title: "Legs", kind: kInt},
				{title: "Minutes", kind: kMinutes}}, rows: rows, total: []any{"All", total.n, total.secs}})
		}
	}
}

// ---- Data health ----

func (r *render) health(s *sheet) {
	if !r.s.present[tReconcile] {
		s.headline("Reconciliation has not run on this lake (no reconcile table): missed notifications cannot be shown.")
		s.note("callstats reconcile compares the calls each source lists with the notifications that arrived; its results appear here.")
		return
	}
	var rows [][]any
	type dayTotal struct{ listed, notified, missed, recovered int64 }
	perDay := map[time.Time]*dayTotal{}
	var t struct{ listed, notified, missed, recovered, deferred, failed int64 }
	for _, x := range r.d.recon {
		if x.week != cur {
			continue
		}
		var deferred, rate any
		if x.hasDeferred {
			deferred = x.deferred
		}
		if x.listed > 0 {
			rate = float64(x.missed) / float64(x.listed)
		}
		complete := "no"
		if x.complete {
			complete = "yes"
		}
		rows = append(rows, []any{x.day.Format("Mon 2 Jan 2006"), label(sourceNames, x.source), x.listed, x.notified, x.missed,
			x.recovered, deferred, x.failed, complete, rate})
		d := perDay[x.day]
		if d == nil {
			d = &dayTotal{}
			perDay[x.day] = d
		}
		d.listed += x.listed
		d.notified += x.notified
		d.missed += x.missed
		d.recovered += x.recovered
		t.listed += x.listed
		t.notified += x.notified
		t.missed += x.missed
		t.recovered += x.recovered
		t.deferred += x.deferred
		t.failed += x.failed
	}
	if len(rows) == 0 {
		s.headline("No reconciliation for this week's days yet.")
		return
	}
	if rate, ok := r.figs.ThisWeek.MissedNotificationRate(); ok {
		s.headline(fmt.Sprintf("%.2f%% of the calls the sources listed never arrived as a notification (%s of %s, complete days).",
			rate*100, groupDigits(r.figs.ThisWeek.MissedIDs), groupDigits(r.figs.ThisWeek.ListedIDs)))
	} else {
		s.headline("No complete reconciled day this week: the missed-notification rate is not known yet.")
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
		total: []any{"Week", "", t.listed, t.notified, t.missed, t.recovered, t.deferred, t.failed, "", totalRate}})
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
		drows[i] = []any{d.Format("Mon 2 Jan"), x.listed, x.notified, x.missed, x.recovered}
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

// ---- Labels ----

var (
	platformNames = map[string]string{
		"windows": "Windows", "macOS": "macOS", "iOS": "iOS", "android": "Android", "web": "Web browser",
		"ipPhone": "IP phone", "roomSystem": "Room system", "surfaceHub": "Surface Hub", "holoLens": "HoloLens",
		"unknown": "Unknown", "unknownFutureValue": "Other (newer value)",
	}
	familyNames = map[string]string{
		"teams": "Teams", "skypeForBusiness": "Skype for Business", "lync": "Lync", "teamsForLife": "Teams (personal)",
		"azureCommunicationServices": "Azure Communication Services", "unknown": "Unknown", "unknownFutureValue": "Other (newer value)",
	}
	connNames = map[string]string{
		"wired": "Wired", "wifi": "Wi-Fi", "mobile": "Mobile", "tunnel": "VPN tunnel", "unknown": "Unknown",
		"unknownFutureValue": "Other (newer value)",
	}
	mediaNames = map[string]string{
		"audio": "Audio", "video": "Video", "vbss": "Screen sharing (VBSS)", "other": "Other (data, not classified)",
	}
	ratingNames = map[string]string{
		"excellent": "Excellent", "good": "Good", "fair": "Fair", "poor": "Poor", "bad": "Bad", "notRated": "Not rated",
		"unknownFutureValue": "Other (newer value)",
	}
	sourceNames = map[string]string{"teams": "Teams", "ringcentral": "RingCentral"}
)

func ratingOrder(r string) int {
	for i, k := range []string{"excellent", "good", "fair", "poor", "bad", "notRated"} {
		if r == k {
			return i
		}
	}
	return 10
}

// label is the display name of a value; unknown values show as they are.
func label(pretty map[string]string, v string) string {
	if p, ok := pretty[v]; ok {
		return p
	}
	if v == "" {
		return notReported
	}
	return v
}

// splitWords turns a feedback token name into words: "DistortedSpeech" -> "Distorted speech".
func splitWords(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && r >= 'A' && r <= 'Z' && rs[i-1] >= 'a' && rs[i-1] <= 'z' {
			b.WriteByte(' ')
			if i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z' {
				r += 'a' - 'A'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
