package report

import (
	"archive/zip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// book is a generated workbook read back.
type book struct {
	t    testing.TB
	f    *excelize.File
	path string
}

func generate(t testing.TB, opts Options) (*Figures, *book) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out", FileName(opts.Week))
	figs, err := Generate(context.Background(), opts, path)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("reading the workbook back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return figs, &book{t: t, f: f, path: path}
}

// rows is a sheet's raw cell values.
func (b *book) rows(sheet string) [][]string {
	b.t.Helper()
	rs, err := b.f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		b.t.Fatalf("reading sheet %s: %v", sheet, err)
	}
	return rs
}

// row returns the first row of sheet whose column A is label (the row after
// the first one whose column A is after, when after is set).
func (b *book) row(sheet, after, label string) []string {
	b.t.Helper()
	seen := after == ""
	for _, r := range b.rows(sheet) {
		if len(r) == 0 {
			continue
		}
		if !seen {
			seen = r[0] == after
			continue
		}
		if r[0] == label {
			return r
		}
	}
	b.t.Fatalf("sheet %s: no row %q (after %q)", sheet, label, after)
	return nil
}

// text reports whether sheet holds a cell whose text contains s.
func (b *book) text(sheet, s string) bool {
	for _, r := range b.rows(sheet) {
		for _, c := range r {
			if strings.Contains(c, s) {
				return true
			}
		}
	}
	return false
}

func num(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("cell %q is not a number", s)
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func handOptions(dir string) Options {
	return Options{LakeDir: dir, Week: hWeek, Location: berlin, Title: "Kestrel Bay"}
}

// TestHandLakeFigures checks every headline figure of both weeks, and the
// Summary's cells, against the model's independent computation.
func TestHandLakeFigures(t *testing.T) {
	t.Parallel()
	dir := writeHandLake(t, true)
	figs, b := generate(t, handOptions(dir))
	if !figs.Start.Equal(hStart) || !figs.End.Equal(hEnd) || figs.Week != hWeek {
		t.Errorf("figures are for %s %s–%s, want %s %s–%s", figs.Week, figs.Start, figs.End, hWeek, hStart, hEnd)
	}
	for _, tc := range []struct {
		name string
		got  Period
		want hExpect
	}{
		{"this week", figs.ThisWeek, handExpect(hStart, hEnd)},
		{"last week", figs.LastWeek, handExpect(hPrevStart, hStart)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, w := tc.got, tc.want
			if g.Calls != w.calls || g.Meetings != w.meetings || !near(g.Minutes, w.secs/60) || g.ActiveUsers != int64(len(w.users)) {
				t.Errorf("calls %d meetings %d minutes %v users %d; want %d %d %v %d",
					g.Calls, g.Meetings, g.Minutes, g.ActiveUsers, w.calls, w.meetings, w.secs/60, len(w.users))
			}
			if g.GoodStreams != w.good || g.PoorStreams != w.poor || g.UnclassifiedStreams != w.uncl {
				t.Errorf("streams good %d poor %d unclassified %d; want %d %d %d",
					g.GoodStreams, g.PoorStreams, g.UnclassifiedStreams, w.good, w.poor, w.uncl)
			}
			if !g.HasPSTN || !near(g.PSTNMinutes, w.pstnSecs/60) {
				t.Errorf("PSTN minutes %v (has %v), want %v", g.PSTNMinutes, g.HasPSTN, w.pstnSecs/60)
			}
			if !g.HasReconcile || g.ListedIDs != w.listed || g.MissedIDs != w.missed {
				t.Errorf("reconcile listed %d missed %d (has %v), want %d %d", g.ListedIDs, g.MissedIDs, g.HasReconcile, w.listed, w.missed)
			}
		})
	}

	// The Summary shows them: this week in B, last week in C.
	this, last := figs.ThisWeek, figs.LastWeek
	pr, _ := this.PoorStreamRate()
	lpr, _ := last.PoorStreamRate()
	mr, _ := this.MissedNotificationRate()
	lmr, _ := last.MissedNotificationRate()
	for _, c := range []struct {
		label      string
		this, last float64
	}{
		{"Calls", float64(this.Calls), float64(last.Calls)},
		{"Meetings", float64(this.Meetings), float64(last.Meetings)},
		{"Minutes", this.Minutes, last.Minutes},
		{"Active users", float64(this.ActiveUsers), float64(last.ActiveUsers)},
		{"PSTN minutes", this.PSTNMinutes, last.PSTNMinutes},
		{"Poor-stream rate", pr, lpr},
		{"Missed-notification rate", mr, lmr},
	} {
		r := b.row(shSummary, "Measure", c.label)
		if !near(num(t, r[1]), c.this) || !near(num(t, r[2]), c.last) {
			t.Errorf("Summary %s: %s | %s, want %v | %v", c.label, r[1], r[2], c.this, c.last)
		}
	}
}

// TestPreviousWeekComparison checks the Change column: the relative change
// (or percentage points for rates), its arrow, and its colour.
func TestPreviousWeekComparison(t *testing.T) {
	t.Parallel()
	figs, b := generate(t, handOptions(writeHandLake(t, true)))
	this, last := figs.ThisWeek, figs.LastWeek
	pr, _ := this.PoorStreamRate()
	lpr, _ := last.PoorStreamRate()
	for _, c := range []struct {
		label  string
		change float64 // signed
		pp     bool
		tone   string // "" neutral, good, bad
	}{
		{"Calls", float64(this.Calls-last.Calls) / float64(last.Calls), false, ""},
		{"Minutes", (this.Minutes - last.Minutes) / last.Minutes, false, ""},
		{"Active users", float64(this.ActiveUsers-last.ActiveUsers) / float64(last.ActiveUsers), false, ""},
		{"Poor-stream rate", (pr - lpr) * 100, true, map[bool]string{true: "bad", false: "good"}[pr > lpr]},
	} {
		t.Run(c.label, func(t *testing.T) {
			r := b.row(shSummary, "Measure", c.label)
			if !near(num(t, r[3]), math.Abs(c.change)) {
				t.Errorf("change %s, want %v", r[3], math.Abs(c.change))
			}
			cell := fmt.Sprintf("D%d", rowIndex(b, shSummary, c.label))
			id, err := b.f.GetCellStyle(shSummary, cell)
			if err != nil {
				t.Fatal(err)
			}
			st, err := b.f.GetStyle(id)
			if err != nil || st.CustomNumFmt == nil {
				t.Fatalf("style of %s: %v", cell, err)
			}
			arrow := "▲"
			if c.change < 0 {
				arrow = "▼"
			}
			if !strings.Contains(*st.CustomNumFmt, arrow) || strings.Contains(*st.CustomNumFmt, "pp") != c.pp {
				t.Errorf("number format %q, want %s (pp %v)", *st.CustomNumFmt, arrow, c.pp)
			}
			ink := map[string]string{"": colorGrey, "good": colorGoodInk, "bad": colorBadInk}[c.tone]
			if st.Font == nil || !strings.EqualFold(strings.TrimPrefix(st.Font.Color, "FF"), ink) {
				t.Errorf("font %+v, want colour %s", st.Font, ink)
			}
		})
	}
	// The headline names a change of one of the figures with its old and new value.
	if !strings.HasPrefix(figs.Headline, "Biggest change:") || !b.text(shSummary, figs.Headline) {
		t.Errorf("headline %q is not on the Summary", figs.Headline)
	}
}

func rowIndex(b *book, sheet, label string) int {
	for i, r := range b.rows(sheet) {
		if len(r) > 0 && r[0] == label {
			return i + 1
		}
	}
	b.t.Fatalf("no row %q", label)
	return 0
}

// TestHandLakeSheets checks cells of every sheet against the model.
func TestHandLakeSheets(t *testing.T) {
	t.Parallel()
	_, b := generate(t, handOptions(writeHandLake(t, true)))

	t.Run("usage per day", func(t *testing.T) {
		// Tuesday 17 November: c2, a one-hour meeting.
		r := b.row(shUsage, "Day", "Tue 17 Nov")
		if r[1] != "1" || r[2] != "1" || !near(num(t, r[3]), 60) || !near(num(t, r[4]), 3600.0/86400) {
			t.Errorf("Tue 17 Nov: %v", r)
		}
		// Monday holds c1 (00:15 Berlin, 15 Nov UTC); Sunday c3 (23:30) but not c4.
		if r := b.row(shUsage, "Day", "Mon 16 Nov"); r[1] != "1" {
			t.Errorf("Mon 16 Nov: %v", r)
		}
		if r := b.row(shUsage, "Day", "Sun 22 Nov"); r[1] != "1" || !near(num(t, r[3]), 2) {
			t.Errorf("Sun 22 Nov: %v", r)
		}
		w := handExpect(hStart, hEnd)
		if r := b.row(shUsage, "Day", "Week"); num(t, r[1]) != float64(w.calls) || !near(num(t, r[3]), w.secs/60) {
			t.Errorf("week total %v, want %d calls %v minutes", r, w.calls, w.secs/60)
		}
	})
	t.Run("busiest hours", func(t *testing.T) {
		r := b.row(shUsage, "Hour", "10:00–11:00") // c2, Tuesday
		if len(r) < 9 || r[2] != "1" || r[8] != "1" {
			t.Errorf("10:00 row %v", r)
		}
	})
	t.Run("usage per user", func(t *testing.T) {
		want := handUsers()
		for _, name := range sortedNames(want) {
			w := want[name]
			r := b.row(shUsage, "User", name)
			if num(t, r[1]) != w[0] || !near(num(t, r[3]), w[1]/86400) || num(t, r[2]) != w[2] {
				t.Errorf("user %s: %v, want calls %v secs %v organised %v", name, r, w[0], w[1], w[2])
			}
		}
		// Users of the next week's call are not listed.
		for _, name := range []string{hu5.name, hu6.name, hg1.name} {
			if b.text(shUsage, name) {
				t.Errorf("%s is listed", name)
			}
		}
	})
	t.Run("devices", func(t *testing.T) {
		// Session endpoints of the week: c1 windows+macOS, c2 windows+web+iOS+web(guest),
		// c3 macOS+android, c7 macOS+windows.
		for p, n := range map[string]string{"Windows": "3", "macOS": "3", "Web browser": "2", "iOS": "1", "Android": "1"} {
			if r := b.row(shDevices, "Platforms", p); r[1] != n {
				t.Errorf("platform %s: %v, want %s", p, r, n)
			}
		}
		// App versions: c2's partition has none (older schema); c1, c3 "1.0" twice each; c7 "2.0".
		if r := b.row(shDevices, "Client versions", "1.0"); r[1] != "4" {
			t.Errorf("version 1.0: %v", r)
		}
		if r := b.row(shDevices, "Client versions", "2.0"); r[1] != "2" {
			t.Errorf("version 2.0: %v", r)
		}
		if b.text(shDevices, "3.0") {
			t.Error("a version from a file without the column is shown")
		}
		if r := b.row(shDevices, "Microphones and cameras", "Jabra"); r[1] != "1" {
			t.Errorf("Jabra: %v", r)
		}
	})
	t.Run("call quality", func(t *testing.T) {
		// This week's streams by media: c1 audio good+poor, video uncl; c2 audio
		// good, good, poor, vbss good, other uncl; c3 audio good; c7 audio good.
		for _, c := range []struct {
			media                    string
			streams, good, poor, unc string
		}{
			{"Audio", "7", "5", "2", "0"},
			{"Video", "1", "0", "0", "1"},
			{"Screen sharing (VBSS)", "1", "1", "0", "0"},
			{"Other (data, not classified)", "1", "0", "0", "1"},
		} {
			r := b.row(shQuality, "Media", c.media)
			if r[1] != c.streams || r[2] != c.good || r[3] != c.poor || r[4] != c.unc {
				t.Errorf("%s: %v", c.media, r)
			}
		}
		if r := b.row(shQuality, "Media", "Video"); len(r) > 5 && r[5] != "" {
			t.Errorf("video has a poor rate %q without classified streams", r[5])
		}
		// Connection of the receiving client: c1's poor stream was received by
		// u1 on a wired network; c2's poor one by the server, so the sender's (wifi).
		if r := b.row(shQuality, "Connection", "Wi-Fi"); r[3] != "1" {
			t.Errorf("Wi-Fi: %v", r)
		}
		if r := b.row(shQuality, "Connection", "Wired"); r[3] != "1" {
			t.Errorf("Wired: %v", r)
		}
		if r := b.row(shQuality, "Rating", "Poor"); r[1] != "1" {
			t.Errorf("rating poor: %v", r)
		}
		if r := b.row(shQuality, "Feedback token", "Distorted speech"); r[1] != "1" {
			t.Errorf("token: %v", r)
		}
		for _, s := range []string{"> 500 ms", "< 7 fps", "2 fps", "never counted as good"} {
			if !b.text(shQuality, s) {
				t.Errorf("the thresholds do not say %q", s)
			}
		}
	})
	t.Run("telephony", func(t *testing.T) {
		if r := b.row(shTelephony, "Direction", "Outbound"); r[1] != "1" || !near(num(t, r[2]), 3) {
			t.Errorf("PSTN outbound: %v", r)
		}
		if r := b.row(shTelephony, "Call type", "user_out"); r[1] != "EUR" || !near(num(t, r[4]), 0.12) {
			t.Errorf("PSTN user_out: %v", r)
		}
		if r := b.row(shTelephony, "Succeeded", "No"); r[1] != "487" || r[2] != "Request Terminated" {
			t.Errorf("Direct Routing failure: %v", r)
		}
		if r := b.row(shTelephony, "Result", "Missed"); r[1] != "1" {
			t.Errorf("RingCentral missed: %v", r)
		}
		if r := b.row(shTelephony, "Status", "Busy"); r[1] != "0" || r[2] != "1" {
			t.Errorf("RingCentral status: %v", r)
		}
		if r := b.row(shTelephony, "Leg type", "RingOutClientToCaller"); r[1] != "1" {
			t.Errorf("legs: %v", r)
		}
		if !b.text(shTelephony, "3 calls: 1 missed, 1 abandoned, 0 to voicemail") {
			t.Error("no RingCentral summary line")
		}
	})
	t.Run("data health", func(t *testing.T) {
		// 17 November was reconciled twice: the later row (3 missed) wins; the
		// day is a string in that file.
		r := b.row(shHealth, "Day", "Tue 17 Nov 2026")
		if r[2] != "171" || r[4] != "3" || r[7] != "1" || r[8] != "yes" {
			t.Errorf("17 Nov: %v", r)
		}
		if r := b.row(shHealth, "Day", "Sun 22 Nov 2026"); r[8] != "no" {
			t.Errorf("22 Nov: %v", r)
		}
		if r := b.row(shHealth, "Day", "Mon 16 Nov 2026"); r[6] != "" {
			t.Errorf("16 Nov has deferred %q from a file without the column", r[6])
		}
		if b.text(shHealth, "Mon 9 Nov 2026") {
			t.Error("a day of the week before is listed")
		}
	})
}

// TestFormulaLikeNamesStayText: display names that look like formulas are
// written as strings, and the workbook holds no formula at all.
func TestFormulaLikeNamesStayText(t *testing.T) {
	t.Parallel()
	_, b := generate(t, handOptions(writeHandLake(t, true)))
	for _, name := range []string{"=SUM(A1)", "+49 30 123", "@team", "-minus"} {
		n := rowIndex(b, shUsage, name) // exact raw value
		cell := fmt.Sprintf("A%d", n)
		typ, err := b.f.GetCellType(shUsage, cell)
		if err != nil || typ != excelize.CellTypeSharedString {
			t.Errorf("%s (%q): type %v, want a string (%v)", cell, name, typ, err)
		}
		if f, err := b.f.GetCellFormula(shUsage, cell); err != nil || f != "" {
			t.Errorf("%s (%q) has formula %q", cell, name, f)
		}
	}
	zr, err := zip.OpenReader(b.path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	formula := regexp.MustCompile(`<f[ >]`)
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") {
			continue
		}
		rc, _ := zf.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if formula.Match(data) {
			t.Errorf("%s holds a formula", zf.Name)
		}
	}
}

// TestEmptyWeek: a week without calls gives a workbook that says so.
func TestEmptyWeek(t *testing.T) {
	t.Parallel()
	opts := handOptions(writeHandLake(t, false))
	opts.Week = Week{2026, 30}
	figs, b := generate(t, opts)
	if figs.ThisWeek.Calls != 0 || figs.ThisWeek.ActiveUsers != 0 || figs.LastWeek.Calls != 0 {
		t.Errorf("figures %+v", figs)
	}
	if _, ok := figs.ThisWeek.PoorStreamRate(); ok {
		t.Error("an empty week has a poor-stream rate")
	}
	if !strings.HasPrefix(figs.Headline, "No calls in week 2026-W30") || !b.text(shSummary, figs.Headline) {
		t.Errorf("headline %q", figs.Headline)
	}
	if got := b.f.GetSheetList(); strings.Join(got, ",") != strings.Join(sheetOrder, ",") {
		t.Errorf("sheets %v", got)
	}
	for _, sh := range []string{shUsage, shDevices, shQuality} {
		if !b.text(sh, "No calls in this week.") {
			t.Errorf("%s does not say the week is empty", sh)
		}
	}
	if r := b.row(shSummary, "Measure", "Calls"); r[1] != "0" || r[3] != "n/a" {
		t.Errorf("Summary calls %v", r)
	}
}

// TestMissingOptionalTables: without PSTN, Direct Routing, legs and
// reconcile tables the report still works and hides those parts.
func TestMissingOptionalTables(t *testing.T) {
	t.Parallel()
	figs, b := generate(t, handOptions(writeHandLake(t, false)))
	if figs.ThisWeek.HasPSTN || figs.ThisWeek.HasReconcile {
		t.Errorf("figures claim PSTN %v / reconcile %v", figs.ThisWeek.HasPSTN, figs.ThisWeek.HasReconcile)
	}
	if _, ok := figs.ThisWeek.MissedNotificationRate(); ok {
		t.Error("a missed-notification rate without reconcile")
	}
	for _, label := range []string{"PSTN minutes", "Missed-notification rate"} {
		if r := b.row(shSummary, "Measure", label); r[1] != "n/a" || r[2] != "n/a" || r[3] != "n/a" {
			t.Errorf("%s: %v", label, r)
		}
	}
	if b.text(shTelephony, "Calling Plan") || b.text(shTelephony, "Direct Routing") {
		t.Error("Telephony shows a section for a table the lake does not have")
	}
	if !b.text(shTelephony, "RingCentral") {
		t.Error("the RingCentral section (calls rows) is missing")
	}
	if !b.text(shHealth, "no reconcile table") {
		t.Error("Data health does not say reconciliation is missing")
	}

	// A lake with Teams calls only: no telephony at all.
	dir := sharedGraphLake(t)
	_, b = generate(t, Options{LakeDir: dir, Week: Week{2026, 46}, Location: berlin})
	if !b.text(shTelephony, "No telephony: this lake has no Teams PSTN") {
		t.Error("Telephony does not say there is no telephony data")
	}

	// A lake with no tables at all.
	empty := t.TempDir()
	figs, b = generate(t, Options{LakeDir: empty, Week: Week{2026, 46}})
	if figs.ThisWeek.Calls != 0 || !b.text(shUsage, "no calls table") {
		t.Errorf("an empty lake: %+v", figs.ThisWeek)
	}
}

// TestGenerateErrors: a missing lake, an impossible week, a cancelled
// context and an unwritable path fail without leaving a file.
func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	dir := writeHandLake(t, false)
	out := t.TempDir()
	blocker := filepath.Join(out, "file")
	os.WriteFile(blocker, nil, 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		opts Options
		path string
		want string
	}{
		{"missing lake", context.Background(), Options{LakeDir: filepath.Join(out, "nope"), Week: hWeek}, filepath.Join(out, "a.xlsx"), "nope"},
		{"no such week", context.Background(), Options{LakeDir: dir, Week: Week{2026, 54}}, filepath.Join(out, "b.xlsx"), "2026-W54"},
		{"cancelled", ctx, handOptions(dir), filepath.Join(out, "c.xlsx"), "context canceled"},
		{"unwritable", context.Background(), handOptions(dir), filepath.Join(blocker, "d.xlsx"), "d.xlsx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate(c.ctx, c.opts, c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
			if _, err := os.Stat(c.path); !errors.Is(err, os.ErrNotExist) && c.name != "unwritable" {
				t.Errorf("%s exists after a failure", c.path)
			}
		})
	}
	names, _ := filepath.Glob(filepath.Join(out, ".*"))
	if len(names) > 0 {
		t.Errorf("temp files left: %v", names)
	}
}

// TestGenerateAtomic: the workbook replaces an older one in place, the
// directory is created, and no temp file remains.
func TestGenerateAtomic(t *testing.T) {
	t.Parallel()
	dir := writeHandLake(t, false)
	out := filepath.Join(t.TempDir(), "reports", "nested")
	path := filepath.Join(out, FileName(hWeek))
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("old"), 0o644)
	if _, err := Generate(context.Background(), handOptions(dir), path); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("the new workbook does not open: %v", err)
	}
	f.Close()
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != "callstats-2026-W47.xlsx" {
		t.Errorf("directory holds %v", entries)
	}
}

// TestWorkbookCraft checks the layout a manager relies on.
func TestWorkbookCraft(t *testing.T) {
	t.Parallel()
	_, b := generate(t, handOptions(writeHandLake(t, true)))
	f := b.f
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(sheetOrder, ",") {
		t.Errorf("tab order %v, want %v", got, sheetOrder)
	}
	for _, sh := range sheetOrder {
		rows := b.rows(sh)
		if len(rows) < 2 || !strings.HasPrefix(rows[0][0], "Kestrel Bay – ") || !strings.HasPrefix(rows[1][0], "Week 2026-W47: Monday 16 – Sunday 22 November 2026") {
			t.Errorf("%s: title rows %q", sh, rows[:min(2, len(rows))])
		}
		panes, err := f.GetPanes(sh)
		if err != nil || !panes.Freeze || panes.YSplit < 2 {
			t.Errorf("%s: panes %+v (%v)", sh, panes, err)
		}
		pl, err := f.GetPageLayout(sh)
		if err != nil || pl.Orientation == nil || *pl.Orientation != "landscape" || pl.FitToWidth == nil || *pl.FitToWidth != 1 {
			t.Errorf("%s: page layout %+v (%v)", sh, pl, err)
		}
		props, err := f.GetSheetProps(sh)
		if err != nil || props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fit to page %+v", sh, props)
		}
		view, err := f.GetSheetView(sh, -1)
		if err != nil || view.ShowGridLines == nil || *view.ShowGridLines {
			t.Errorf("%s: grid lines shown", sh)
		}
	}
	titles := map[string]bool{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" {
			titles[dn.Scope] = true
		}
	}
	if len(titles) != len(sheetOrder) {
		t.Errorf("print titles on %v", titles)
	}
	// Autofilters: the users list and the reconciliation table.
	zr, err := zip.OpenReader(b.path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	charts, filters := 0, 0
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			charts++
		}
		if strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			rc, _ := zf.Open()
			data, _ := io.ReadAll(rc)
			rc.Close()
			if strings.Contains(string(data), "<autoFilter ") {
				filters++
			}
		}
	}
	// Usage 1, Devices 5, Call quality 2, Data health 1.
	if charts != 9 || filters != 2 {
		t.Errorf("%d charts and %d autofilters, want 9 and 2", charts, filters)
	}
	cf, err := f.GetConditionalFormats(shQuality)
	if err != nil || len(cf) < 3 {
		t.Errorf("conditional formats on Call quality: %d (%v)", len(cf), err)
	}
	// Number formats: durations and rates.
	n := rowIndex(b, shUsage, "=SUM(A1)")
	for cell, want := range map[string]string{fmt.Sprintf("D%d", n): "[h]:mm:ss"} {
		id, _ := f.GetCellStyle(shUsage, cell)
		st, _ := f.GetStyle(id)
		if st.CustomNumFmt == nil || *st.CustomNumFmt != want {
			t.Errorf("%s format %v, want %s", cell, st.CustomNumFmt, want)
		}
	}
	// Columns are wide enough for their longest value.
	w, _ := f.GetColWidth(shUsage, "A")
	if w < float64(len("+49 30 123")) {
		t.Errorf("Usage column A is %v wide", w)
	}
}

// TestGoldenWorkbook pins every cell value of the hand lake's workbook
// (go test -update rewrites testdata/hand-2026-W47.golden).
func TestGoldenWorkbook(t *testing.T) {
	t.Parallel()
	_, b := generate(t, handOptions(writeHandLake(t, true)))
	var sb strings.Builder
	for _, sh := range sheetOrder {
		fmt.Fprintf(&sb, "== %s\n", sh)
		for i, r := range b.rows(sh) {
			for j, c := range r {
				if c != "" {
					name, _ := excelize.CoordinatesToCellName(j+1, i+1)
					fmt.Fprintf(&sb, "%s\t%s\n", name, strings.ReplaceAll(c, "\n", `\n`))
				}
			}
		}
	}
	golden := filepath.Join("testdata", "hand-2026-W47.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got := sb.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("workbook differs from %s at line %d:\n got  %q\n want %q\n(go test -update rewrites it)", golden, i+1, g, w)
			}
		}
	}
}

// TestTimezoneEdges: the same lake read in two zones puts the boundary calls
// in different weeks.
func TestTimezoneEdges(t *testing.T) {
	t.Parallel()
	dir := writeHandLake(t, false)
	// In UTC, c1 (Sunday 15 Nov 23:15 UTC) belongs to W46, and c4 (Sunday 22
	// Nov 23:30 UTC) to W47.
	figs, b := generate(t, Options{LakeDir: dir, Week: hWeek, Location: time.UTC})
	var want [2]int64
	for _, c := range handCalls() {
		s := c.start.UTC()
		for i, start := range []time.Time{time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)} {
			if !s.Before(start) && s.Before(start.AddDate(0, 0, 7)) {
				want[i]++
			}
		}
	}
	if figs.ThisWeek.Calls != want[0] || figs.LastWeek.Calls != want[1] {
		t.Errorf("UTC weeks: %d and %d calls, want %d and %d", figs.ThisWeek.Calls, figs.LastWeek.Calls, want[0], want[1])
	}
	berlinFigs, _ := generate(t, handOptions(dir))
	if berlinFigs.LastWeek.Calls == figs.LastWeek.Calls {
		t.Error("the zone made no difference; the test lake no longer has boundary calls")
	}
	// In UTC, Sunday 22 November holds c3 and c4, Monday 16 nothing.
	if r := b.row(shUsage, "Day", "Sun 22 Nov"); r[1] != "2" {
		t.Errorf("UTC Sunday: %v", r)
	}
	if r := b.row(shUsage, "Day", "Mon 16 Nov"); r[1] != "0" {
		t.Errorf("UTC Monday: %v", r)
	}
	if !b.text(shSummary, "times in UTC") {
		t.Error("the Summary does not name the zone")
	}
}
