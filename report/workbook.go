package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Workbook craft shared by every sheet: one set of styles, tables written
// cell by cell with their number formats, notes that wrap within the sheet's
// width, charts beside their tables, print setup.

// fontName is the workbook's font (Excel's default; LibreOffice shows the
// metric-compatible Carlito).
const fontName = "Calibri"

// Colours.
const (
	colorInk     = "1F3864" // titles, header fill
	colorGrey    = "595959" // subtitles, notes
	colorLine    = "BFBFBF" // table borders
	colorBand    = "F2F2F2" // total rows
	colorGood    = "C6EFCE" // conditional fills and their text
	colorGoodInk = "006100"
	colorWarn    = "FFEB9C"
	colorWarnInk = "9C5700"
	colorBad     = "FFC7CE"
	colorBadInk  = "9C0006"
	colorSeries1 = "2E75B6"
	colorSeries2 = "ED7D31"
)

// Poor-stream rate bands of the conditional formatting.
const (
	rateAmber = 0.03
	rateRed   = 0.10
)

// cellKind is how a table column's values are formatted.
type cellKind int

const (
	kText    cellKind = iota
	kInt              // #,##0
	kPct              // 0.0%
	kDur              // seconds, shown as [h]:mm:ss
	kMinutes          // seconds, stored as minutes, shown whole
	kMoney            // #,##0.00
	kCount0           // #,##0 with zero left blank
	kCenter           // short text, centred
)

// styles are the workbook's style ids.
type styles struct {
	title, subtitle, section, note, headline int
	header, headerNum, headerCenter          int
	body, total                              [kCenter + 1]int
	kpiLabel                                 int
	kpiValue                                 [kCenter + 1]int
	up, down                                 [3]int // change in %: neutral, good, bad
	upPP, downPP                             [3]int // change in percentage points
	flat, flatPP, na, naCenter               int
	def                                      int
	condGood, condWarn, condBad              int
}

var numFmts = [...]string{
	kText:    "@",
	kInt:     "#,##0",
	kPct:     "0.0%",
	kDur:     "[h]:mm:ss",
	kMinutes: "#,##0",
	kMoney:   "#,##0.00",
	kCount0:  `#,##0;-#,##0;""`,
	kCenter:  "@",
}

func newStyles(f *excelize.File) (styles, error) {
	var st styles
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		if s.Font != nil && s.Font.Family == "" {
			s.Font.Family = fontName
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	border := func(c string) []excelize.Border {
		return []excelize.Border{
			{Type: "left", Color: c, Style: 1}, {Type: "right", Color: c, Style: 1},
			{Type: "top", Color: c, Style: 1}, {Type: "bottom", Color: c, Style: 1},
		}
	}
	fmtOf := func(k cellKind) *string { s := numFmts[k]; return &s }
	st.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16, Color: colorInk}})
	st.subtitle = mk(&excelize.Style{Font: &excelize.Font{Size: 10, Color: colorGrey}})
	st.section = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 13, Color: colorInk},
		Alignment: &excelize.Alignment{Vertical: "bottom"}})
	st.note = mk(&excelize.Style{Font: &excelize.Font{Italic: true, Size: 9, Color: colorGrey},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	st.headline = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	st.def = mk(&excelize.Style{Font: &excelize.Font{Size: 9, Color: colorGrey}, Border: border(colorLine),
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "left", Indent: 1}})
	hdr := excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colorInk}},
		Border:    border(colorInk),
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "left", Indent: 1},
	}
	st.header = mk(&hdr)
	hdrNum := hdr
	hdrNum.Alignment = &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "right", Indent: 1}
	st.headerNum = mk(&hdrNum)
	for k := kText; k <= kCenter; k++ {
		align := &excelize.Alignment{Vertical: "center"}
		switch k {
		case kCenter:
			align.Horizontal = "center"
		case kText:
			align.Horizontal, align.Indent = "left", 1
		default:
			align.Horizontal, align.Indent = "right", 1
		}
		st.body[k] = mk(&excelize.Style{CustomNumFmt: fmtOf(k), Border: border(colorLine), Alignment: align})
		st.total[k] = mk(&excelize.Style{CustomNumFmt: fmtOf(k), Font: &excelize.Font{Bold: true},
			Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colorBand}},
			Border: border(colorLine), Alignment: align})
		st.kpiValue[k] = mk(&excelize.Style{CustomNumFmt: fmtOf(k), Font: &excelize.Font{Size: 12},
			Border: border(colorLine), Alignment: &excelize.Alignment{Vertical: "center", Horizontal: "right", Indent: 1}})
	}
	st.kpiLabel = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}, Border: border(colorLine),
		Alignment: &excelize.Alignment{Vertical: "center", Horizontal: "left", Indent: 1}})
	st.headerCenter = mk(&excelize.Style{Font: hdr.Font, Fill: hdr.Fill, Border: hdr.Border,
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "center"}})
	// Changes: ▲/▼ with the size of the change; green when the change is an
	// improvement, red when it is a deterioration, grey when neither.
	inks := [3]string{colorGrey, colorGoodInk, colorBadInk}
	for i, ink := range inks {
		chg := func(format string) int {
			return mk(&excelize.Style{CustomNumFmt: &format, Font: &excelize.Font{Size: 12, Bold: i > 0, Color: ink},
				Border: border(colorLine), Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
		}
		st.up[i] = chg(`"▲ "0.0%`)
		st.down[i] = chg(`"▼ "0.0%`)
		st.upPP[i] = chg(`"▲ "0.0" pp"`)
		st.downPP[i] = chg(`"▼ "0.0" pp"`)
	}
	flat, flatPP := `"= "0.0%`, `"= "0.0" pp"`
	st.flat = mk(&excelize.Style{CustomNumFmt: &flat, Font: &excelize.Font{Size: 12, Color: colorGrey},
		Border: border(colorLine), Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	st.flatPP = mk(&excelize.Style{CustomNumFmt: &flatPP, Font: &excelize.Font{Size: 12, Color: colorGrey},
		Border: border(colorLine), Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	st.na = mk(&excelize.Style{Font: &excelize.Font{Size: 12, Color: colorGrey}, Border: border(colorLine),
		Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center", Indent: 1}})
	st.naCenter = mk(&excelize.Style{Font: &excelize.Font{Size: 12, Color: colorGrey}, Border: border(colorLine),
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	cond := func(fill, ink string) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewConditionalStyle(&excelize.Style{Font: &excelize.Font{Color: ink},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fill}}})
		return id
	}
	st.condGood, st.condWarn, st.condBad = cond(colorGood, colorGoodInk), cond(colorWarn, colorWarnInk), cond(colorBad, colorBadInk)
	return st, err
}

// sheet writes one worksheet top to bottom.
type sheet struct {
	f    *excelize.File
	st   *styles
	name string
	row  int // next row to write
	err  error

	widths  map[int]float64 // column -> width in characters
	maxCol  int             // rightmost column holding a table
	notes   []noteRow
	heads   []headRow
	heights map[int]float64 // rows with a set height, in points
	blocks  []int           // first rows of the blocks kept on one page when they fit
	charts  []chartBox      // where the charts are, for the print layout
	freeze  int             // rows frozen at the top (and repeated on printed pages)
	filter  string          // autofilter range
	noGrid  bool
	hasData bool
}

// chartBox is a chart's anchor cell and size in pixels.
type chartBox struct{ col, row, w, h int }

// noteRow is a line of text that wraps across the sheet's table columns.
type noteRow struct {
	row   int
	text  string
	style int
	size  float64 // font size, for the row height
}

// headRow is a table header, whose height follows its wrapped titles.
type headRow struct {
	row, col0 int
	titles    []string
}

func newSheet(f *excelize.File, st *styles, name string) *sheet {
	return &sheet{f: f, st: st, name: name, row: 1, widths: map[int]float64{}, heights: map[int]float64{}, noGrid: true}
}

func (s *sheet) keep(err error) {
	if s.err == nil && err != nil {
		s.err = fmt.Errorf("writing sheet %s: %w", s.name, err)
	}
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

// ref is an absolute reference to a range of this sheet, for chart series.
func (s *sheet) ref(col, row0, row1 int) string {
	c0, _ := excelize.CoordinatesToCellName(col, row0, true)
	c1, _ := excelize.CoordinatesToCellName(col, row1, true)
	return "'" + strings.ReplaceAll(s.name, "'", "''") + "'!" + c0 + ":" + c1
}

// cellRef is an absolute reference to one cell of this sheet.
func (s *sheet) cellRef(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row, true)
	return "'" + strings.ReplaceAll(s.name, "'", "''") + "'!" + c
}

// text writes s as a literal string: it is never read as a formula, whatever
// it begins with, and characters XML cannot carry are replaced.
func (s *sheet) text(col, row int, v string, style int) {
	s.keep(s.f.SetCellStr(s.name, cellName(col, row), cleanText(v)))
	s.style(col, row, style)
}

// height sets a row's height in points.
func (s *sheet) height(row int, h float64) {
	s.heights[row] = h
	s.keep(s.f.SetRowHeight(s.name, row, h))
}

func (s *sheet) style(col, row, style int) {
	if style != 0 {
		c := cellName(col, row)
		s.keep(s.f.SetCellStyle(s.name, c, c, style))
	}
}

// cleanText replaces control characters (which XML 1.0 cannot hold) and
// invalid UTF-8, and keeps a cell within Excel's 32,767 characters.
func cleanText(v string) string {
	clean := true
	for _, r := range v {
		if r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n') || r == 0xFFFE || r == 0xFFFF {
			clean = false
			break
		}
	}
	if !clean {
		v = strings.Map(func(r rune) rune {
			if r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n') || r == 0xFFFE || r == 0xFFFF {
				return '\uFFFD'
			}
			return r
		}, strings.ToValidUTF8(v, "\uFFFD"))
	}
	if len(v) > 32000 {
		v = string([]rune(v)[:min(len([]rune(v)), 32000)])
	}
	return v
}

// header writes the title and the week's dates at the top of the sheet.
func (s *sheet) header(title, dates string) {
	s.text(1, 1, title, s.st.title)
	s.height(1, 24)
	s.text(1, 2, dates, s.st.subtitle)
	s.row = 4
	s.freeze = 2
}

// section starts a titled block.
func (s *sheet) section(title string) {
	if s.row > 4 {
		s.row++
	}
	s.blocks = append(s.blocks, s.row)
	s.text(1, s.row, title, s.st.section)
	s.height(s.row, 22)
	s.row++
}

// note writes a wrapped line of small grey text.
func (s *sheet) note(text string) { s.noteStyled(text, s.st.note, 9) }

// headline writes a wrapped line of bold text.
func (s *sheet) headline(text string) { s.noteStyled(text, s.st.headline, 12) }

func (s *sheet) noteStyled(text string, style int, size float64) {
	s.text(1, s.row, text, style)
	s.notes = append(s.notes, noteRow{row: s.row, text: text, style: style, size: size})
	s.row++
}

// column describes one column of a table.
type column struct {
	title string
	kind  cellKind
	// rate marks a poor-stream (or missed) rate column, coloured by band.
	rate bool
}

// table is a block of rows under a header row.
type table struct {
	cols  []column
	rows  [][]any // string, int64, int, float64 (seconds for kDur/kMinutes) or nil
	total []any   // optional total row
}

// placed is where a table landed.
type placed struct {
	head, first, last int // header row, first and last data rows (last < first when empty)
	col0              int
}

// table writes t at column col0 of the current row and moves below it.
func (s *sheet) table(col0 int, t table) placed {
	p := placed{head: s.row, first: s.row + 1, col0: col0}
	titles := make([]string, len(t.cols))
	for j, c := range t.cols {
		titles[j] = c.title
		st := s.st.headerNum
		switch c.kind {
		case kText:
			st = s.st.header
		case kCenter:
			st = s.st.headerCenter
		}
		s.text(col0+j, s.row, c.title, st)
		s.fit(col0+j, longestWord(c.title)*1.2+2) // bold
	}
	s.heads = append(s.heads, headRow{row: s.row, col0: col0, titles: titles})
	s.row++
	write := func(vals []any, st *[kCenter + 1]int) {
		for j, c := range t.cols {
			var v any
			if j < len(vals) {
				v = vals[j]
			}
			s.value(col0+j, s.row, c.kind, v, st[c.kind])
		}
		s.row++
	}
	for _, r := range t.rows {
		write(r, &s.st.body)
	}
	p.last = s.row - 1
	if t.total != nil {
		write(t.total, &s.st.total)
	}
	for j, c := range t.cols {
		if c.rate && p.last >= p.first {
			s.rateBands(col0+j, p.first, p.last)
		}
	}
	s.maxCol = max(s.maxCol, col0+len(t.cols)-1)
	s.hasData = true
	return p
}

// value writes one typed cell.
func (s *sheet) value(col, row int, kind cellKind, v any, style int) {
	c := cellName(col, row)
	switch v := v.(type) {
	case nil:
		s.keep(s.f.SetCellStyle(s.name, c, c, style))
		return
	case string:
		s.text(col, row, v, style)
		s.fit(col, float64(utf8.RuneCountInString(v))+2)
		return
	case int:
		s.value(col, row, kind, int64(v), style)
		return
	case int64:
		if kind == kDur || kind == kMinutes || kind == kPct {
			s.value(col, row, kind, float64(v), style)
			return
		}
		s.keep(s.f.SetCellInt(s.name, c, v))
		s.fit(col, float64(len(groupDigits(v)))+3)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.keep(s.f.SetCellStyle(s.name, c, c, style))
			return
		}
		switch kind {
		case kDur:
			s.keep(s.f.SetCellFloat(s.name, c, v/86400, -1, 64))
			s.fit(col, float64(len(fmt.Sprintf("%d", int64(v)/3600)))+7)
		case kMinutes:
			s.keep(s.f.SetCellFloat(s.name, c, v/60, -1, 64))
			s.fit(col, float64(len(groupDigits(int64(v/60))))+3)
		case kPct:
			s.keep(s.f.SetCellFloat(s.name, c, v, -1, 64))
			s.fit(col, 8)
		default:
			s.keep(s.f.SetCellFloat(s.name, c, v, -1, 64))
			s.fit(col, float64(len(groupDigits(int64(v))))+5)
		}
	default:
		s.keep(fmt.Errorf("cell %s: unsupported value %T", c, v))
		return
	}
	s.keep(s.f.SetCellStyle(s.name, c, c, style))
}

// rateBands colours a rate column: green below 3%, amber from 3%, red from 10%.
// Blank cells (no classified streams) stay uncoloured.
func (s *sheet) rateBands(col, first, last int) {
	top := cellName(col, first)
	rng := top + ":" + cellName(col, last)
	num := "ISNUMBER(" + top + ")"
	s.keep(s.f.SetConditionalFormat(s.name, rng, []excelize.ConditionalFormatOptions{
		{Type: "formula", Criteria: fmt.Sprintf("AND(%s,%s>=%g)", num, top, rateRed), Format: &s.st.condBad, StopIfTrue: true},
		{Type: "formula", Criteria: fmt.Sprintf("AND(%s,%s>=%g)", num, top, rateAmber), Format: &s.st.condWarn, StopIfTrue: true},
		{Type: "formula", Criteria: fmt.Sprintf("AND(%s,%s<%g)", num, top, rateAmber), Format: &s.st.condGood},
	}))
}

// fit widens a column to at least w characters.
func (s *sheet) fit(col int, w float64) {
	if w > s.widths[col] {
		s.widths[col] = w
	}
}

func longestWord(t string) float64 {
	n := 0
	for _, w := range strings.Fields(t) {
		n = max(n, utf8.RuneCountInString(w))
	}
	return float64(n)
}

// chart places a chart at column col of row, sized in rows and columns of the
// sheet's default size (64 x 20 pixels).
func (s *sheet) chart(col, row int, c *excelize.Chart, combo ...*excelize.Chart) {
	if c.Dimension.Width == 0 {
		c.Dimension = excelize.ChartDimension{Width: 520, Height: 300}
	}
	if c.Title.Font == nil && len(c.Title.Paragraph) > 0 {
		for i := range c.Title.Paragraph {
			if c.Title.Paragraph[i].Font == nil {
				c.Title.Paragraph[i].Font = &excelize.Font{Bold: true, Size: 11, Color: colorInk}
			}
		}
	}
	axisFont := excelize.Font{Family: fontName, Size: 9, Color: "404040"}
	if c.XAxis.Font.Color == "" {
		c.XAxis.Font = axisFont
	}
	if c.YAxis.Font.Color == "" {
		c.YAxis.Font = axisFont
	}
	for _, x := range combo {
		if x.YAxis.Font.Color == "" {
			x.YAxis.Font = axisFont
		}
	}
	c.Format.PrintObject = ptr(true)
	c.Format.Locked = ptr(false)
	s.charts = append(s.charts, chartBox{col, row, int(c.Dimension.Width), int(c.Dimension.Height)})
	s.keep(s.f.AddChart(s.name, cellName(col, row), c, combo...))
}

// chartTitle is a chart title run.
func chartTitle(t string) excelize.ChartTitle {
	return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: t}}}
}

func ptr[T any](v T) *T { return &v }

// finish sets column widths, note and header heights, panes, the autofilter
// and the print setup.
func (s *sheet) finish(title string) error {
	const maxWidth = 48
	totalWidth := 0.0
	for col := 1; col <= max(s.maxCol, 1); col++ {
		w, ok := s.widths[col]
		if !ok {
			w = 10
		}
		w = math.Min(math.Max(w, 9), maxWidth)
		s.widths[col] = w
		totalWidth += w
		name, _ := excelize.ColumnNumberToName(col)
		s.keep(s.f.SetColWidth(s.name, name, name, w))
	}
	// Notes wrap across the table columns (at least 90 characters wide).
	last := max(s.maxCol, 1)
	for totalWidth < 90 {
		last++
		if _, ok := s.widths[last]; !ok {
			s.widths[last] = 10
			name, _ := excelize.ColumnNumberToName(last)
			s.keep(s.f.SetColWidth(s.name, name, name, 10))
		}
		totalWidth += s.widths[last]
	}
	for _, n := range s.notes {
		if last > 1 {
			s.keep(s.f.MergeCell(s.name, cellName(1, n.row), cellName(last, n.row)))
		}
		lines := wrappedLines(n.text, totalWidth*11/n.size)
		s.height(n.row, float64(lines)*n.size*1.45+4)
	}
	for _, h := range s.heads {
		lines := 1
		for j, t := range h.titles {
			lines = max(lines, wrappedLines(t, s.widths[h.col0+j]-1))
		}
		s.height(h.row, float64(lines)*15+4)
	}
	s.paginate()
	if s.freeze > 0 {
		s.keep(s.f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: s.freeze,
			TopLeftCell: cellName(1, s.freeze+1), ActivePane: "bottomLeft"}))
	}
	if s.filter != "" {
		s.keep(s.f.AutoFilter(s.name, s.filter, nil))
	}
	s.keep(s.f.SetSheetView(s.name, -1, &excelize.ViewOptions{ShowGridLines: ptr(!s.noGrid)}))
	s.keep(s.f.SetSheetProps(s.name, &excelize.SheetPropsOptions{FitToPage: ptr(true)}))
	s.keep(s.f.SetPageLayout(s.name, &excelize.PageLayoutOptions{
		Size: ptr(9), Orientation: ptr("landscape"), FitToWidth: ptr(1), FitToHeight: ptr(0),
	}))
	s.keep(s.f.SetPageMargins(s.name, &excelize.PageLayoutMarginsOptions{
		Left: ptr(0.4), Right: ptr(0.4), Top: ptr(0.6), Bottom: ptr(0.6), Header: ptr(0.3), Footer: ptr(0.3),
	}))
	s.keep(s.f.SetHeaderFooter(s.name, &excelize.HeaderFooterOptions{
		OddFooter: "&L&8" + headerText(title) + "&R&8Page &P of &N",
	}))
	if s.freeze > 0 {
		s.keep(s.f.SetDefinedName(&excelize.DefinedName{
			Name:     "_xlnm.Print_Titles",
			RefersTo: fmt.Sprintf("'%s'!$1:$%d", strings.ReplaceAll(s.name, "'", "''"), s.freeze),
			Scope:    s.name,
		}))
	}
	return s.err
}

// Page geometry of the print setup (A4 landscape, the margins of finish), in
// points, and the default row height.
const (
	pageWidthPt  = (11.69 - 0.8) * 72
	pageHeightPt = (8.27 - 1.2) * 72
	rowPt        = 15
)

// rowHeight is a row's height in points.
func (s *sheet) rowHeight(r int) float64 {
	if h, ok := s.heights[r]; ok {
		return h
	}
	return rowPt
}

// colPx is a column's width in pixels (Calibri 11: 7 pixels a character plus padding).
func (s *sheet) colPx(c int) float64 {
	w, ok := s.widths[c]
	if !ok {
		w = 8.43
	}
	return w*7 + 5
}

// paginate puts a page break before each block (a section: its tables and
// charts) that would straddle a page, so that a table and its chart print
// together. Row heights and the fit-to-width scale are estimated the way
// Excel and LibreOffice lay out Calibri 11.
func (s *sheet) paginate() {
	if len(s.blocks) < 2 {
		return
	}
	// The scale fit-to-width prints at, and the last row anything reaches.
	widthPx, lastRow := 0.0, s.row
	for c := 1; c <= s.maxCol; c++ {
		widthPx += s.colPx(c)
	}
	bottom := map[int]int{} // block start -> last row it reaches, with charts
	for _, ch := range s.charts {
		left := 0.0
		for c := 1; c < ch.col; c++ {
			left += s.colPx(c)
		}
		widthPx = math.Max(widthPx, left+float64(ch.w))
		r, h := ch.row, 0.0
		for h < float64(ch.h)*0.75 {
			h += s.rowHeight(r)
			r++
		}
		lastRow = max(lastRow, r)
		for i := len(s.blocks) - 1; i >= 0; i-- {
			if s.blocks[i] <= ch.row {
				bottom[s.blocks[i]] = max(bottom[s.blocks[i]], r)
				break
			}
		}
	}
	scale := math.Min(1, pageWidthPt/(widthPx*0.75))
	titles := 0.0
	for r := 1; r <= s.freeze; r++ {
		titles += s.rowHeight(r)
	}
	capacity := pageHeightPt*0.97/scale - titles
	span := func(a, b int) float64 { // rows a..b-1
		h := 0.0
		for r := a; r < b; r++ {
			h += s.rowHeight(r)
		}
		return h
	}
	used := span(s.freeze+1, s.blocks[0])
	for i, start := range s.blocks {
		end := lastRow
		if i+1 < len(s.blocks) {
			end = s.blocks[i+1]
		}
		end = max(end, bottom[start])
		h := span(start, end)
		// Break when the block would straddle pages but fits on one, or is
		// longer than a page and would start in the lower half of one.
		if used > 0 && used+h > capacity && (h <= capacity || capacity-used < capacity/2) {
			s.keep(s.f.InsertPageBreak(s.name, cellName(1, start)))
			used = 0
		}
		used += span(start, min(end, nextStart(s.blocks, i, lastRow)))
		for used > capacity {
			used -= capacity
		}
	}
}

func nextStart(blocks []int, i, last int) int {
	if i+1 < len(blocks) {
		return blocks[i+1]
	}
	return last
}

// headerText escapes & for a header/footer string.
func headerText(t string) string { return strings.ReplaceAll(cleanText(t), "&", "&&") }

// wrappedLines estimates how many lines t takes in a cell width wide (characters).
func wrappedLines(t string, width float64) int {
	if width < 1 {
		width = 1
	}
	lines := 0
	for _, para := range strings.Split(t, "\n") {
		n, cur := 1, 0.0
		for _, w := range strings.Fields(para) {
			l := float64(utf8.RuneCountInString(w))
			if cur > 0 && cur+1+l > width {
				n++
				cur = 0
			}
			if cur > 0 {
				cur++
			}
			cur += l
		}
		lines += n
	}
	return lines
}

// groupDigits formats n with thousands separators: 1234567 -> "1,234,567".
func groupDigits(n int64) string {
	s := fmt.Sprintf("%d", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
