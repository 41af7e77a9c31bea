package report

import (
	"fmt"
	"math"

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
