package delivery

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"

	"callstats/report"
)

// A figureLine is one headline figure of the mail body.
type figureLine struct {
	Name, This, Last, Change string
}

// figureLines lists the headline figures, this week against last.
func figureLines(f *report.Figures) []figureLine {
	t, l := f.ThisWeek, f.LastWeek
	lines := []figureLine{
		intLine("Calls", t.Calls, l.Calls),
		intLine("Meetings", t.Meetings, l.Meetings),
		intLine("Minutes", int64(math.Round(t.Minutes)), int64(math.Round(l.Minutes))),
		intLine("Active users", t.ActiveUsers, l.ActiveUsers),
	}
	pr, pok := t.PoorStreamRate()
	lpr, lpok := l.PoorStreamRate()
	line := figureLine{Name: "Poor-stream rate", This: "n/a", Last: "n/a", Change: "n/a"}
	if pok {
		line.This = fmt.Sprintf("%.1f%%", pr*100)
	}
	if lpok {
		line.Last = fmt.Sprintf("%.1f%%", lpr*100)
	}
	if pok && lpok {
		line.Change = fmt.Sprintf("%+.1f pp", (pr-lpr)*100)
	}
	return append(lines, line)
}

func intLine(name string, this, last int64) figureLine {
	change := "n/a"
	if this == last {
		change = "±0%"
	} else if last != 0 {
		change = fmt.Sprintf("%+.0f%%", float64(this-last)/float64(last)*100)
	}
	return figureLine{Name: name, This: fmt.Sprint(this), Last: fmt.Sprint(last), Change: change}
}

// subject is the mail's subject line.
func subject(wb Workbook) string {
	if wb.Name == "" {
		return "Call statistics, week " + wb.Figures.Week.String()
	}
	return "Call statistics, week " + wb.Figures.Week.String() + ": " + wb.Name
}

// where says where the workbook is: attached, kept at its link, or both.
func where(wb Workbook, attach bool) string {
	switch {
	case !attach:
		return "are at " + wb.Link
	case wb.Link != "":
		return "are attached, and kept at " + wb.Link
	}
	return "are attached"
}

// textBody is the plain-text body; attach says whether the workbook is
// attached (else the body carries its link, wb.Link).
func textBody(name string, wb Workbook, attach bool) string {
	var b strings.Builder
	if name != "" {
		fmt.Fprintf(&b, "Hello %s,\n\n", name)
	}
	scope := "the whole organisation"
	if wb.Name != "" {
		scope = wb.Name
	}
	fmt.Fprintf(&b, "The call statistics of week %s for %s %s.\n\n", wb.Figures.Week, scope, where(wb, attach))
	fmt.Fprintf(&b, "%-18s %12s %12s %10s\n", "", "This week", "Last week", "Change")
	for _, l := range figureLines(wb.Figures) {
		fmt.Fprintf(&b, "%-18s %12s %12s %10s\n", l.Name, l.This, l.Last, l.Change)
	}
	fmt.Fprintf(&b, "\n%s\n", wb.Figures.Headline)
	return b.String()
}

var htmlTmpl = template.Must(template.New("body").Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
{{if .Name}}<p>Hello {{.Name}},</p>
{{end}}<p>The call statistics of week {{.Week}} for {{.Scope}} {{if not .Attach}}are at <a href="{{.Link}}">{{.Link}}</a>{{else if .Link}}are attached, and kept at <a href="{{.Link}}">{{.Link}}</a>{{else}}are attached{{end}}.</p>
<table cellpadding="4" style="border-collapse: collapse">
<tr><th></th><th align="right">This week</th><th align="right">Last week</th><th align="right">Change</th></tr>
{{range .Lines}}<tr><td>{{.Name}}</td><td align="right">{{.This}}</td><td align="right">{{.Last}}</td><td align="right">{{.Change}}</td></tr>
{{end}}</table>
<p>{{.Headline}}</p>
</body></html>
`))

// htmlBody is the HTML alternative of the body.
func htmlBody(name string, wb Workbook, attach bool) (string, error) {
	scope := "the whole organisation"
	if wb.Name != "" {
		scope = wb.Name
	}
	var b bytes.Buffer
	err := htmlTmpl.Execute(&b, map[string]any{"Name": name, "Week": wb.Figures.Week.String(), "Scope": scope,
		"Lines": figureLines(wb.Figures), "Headline": wb.Figures.Headline, "Attach": attach, "Link": wb.Link})
	return b.String(), err
}
