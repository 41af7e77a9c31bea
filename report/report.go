// Package report reads a week of the lake back and writes the weekly Excel
// workbook that managers read: Summary, Usage, Devices, Call quality,
// Telephony and Data health (docs/report.md describes every figure).
//
// It reads the Parquet files itself, only the partitions that can hold the
// week and the week before it, and only the columns it needs; a table the
// lake does not have hides its part of the workbook, and a column an older
// file does not have reads as NULL. It depends on the lake's layout and
// columns (docs/schema.md), not on the code that writes them, so it works on
// any lake ingest wrote, including one copied from elsewhere.
package report

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/internal/atomicfile"
	"callstats/transform/lake/iceberg"
)

// Options say which week of which lake to report on.
type Options struct {
	// LakeDir is the lake's root: {LakeDir}/{table}/date=YYYY-MM-DD/*.parquet.
	LakeDir string
	// Week is the ISO week to report on.
	Week Week
	// Location is reports.timezone: the week, its days and hours are in this
	// zone (UTC when nil).
	Location *time.Location
	// Title is an optional organisation name put in front of the sheet titles,
	// e.g. "Kestrel Bay".
	Title string
	// Scope, when not nil, restricts every figure to the scope's people and
	// the calls they took part in, and puts the scope's name in every sheet
	// title. Nil is the whole tenant.
	Scope *Scope
	// Iceberg, when set, is the lake to read (output.format iceberg): a
	// consistent view of its tables; LakeDir is then not read.
	Iceberg *iceberg.View
}

// FileName is the workbook's conventional name for a week: callstats-2026-W47.xlsx.
func FileName(w Week) string { return "callstats-" + w.String() + ".xlsx" }

// ScopedFileName is the name of a scope's workbook for a week:
// callstats-2026-W47-sales.xlsx for slug "sales".
func ScopedFileName(w Week, slug string) string {
	return "callstats-" + w.String() + "-" + slug + ".xlsx"
}

// Generate reads the lake for opts.Week and the week before it and writes the
// workbook to path atomically (a temp file in the same directory, fsync,
// rename), creating the directory if needed. It returns the Summary's figures.
func Generate(ctx context.Context, opts Options, path string) (*Figures, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Week.Week < 1 || opts.Week.Week > weeksIn(opts.Week.Year) {
		return nil, fmt.Errorf("report: no week %s", opts.Week)
	}
	if opts.Iceberg == nil {
		if st, err := os.Stat(opts.LakeDir); err != nil {
			return nil, fmt.Errorf("report: reading lake %s: %w", opts.LakeDir, err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("report: lake %s is not a directory", opts.LakeDir)
		}
	}
	w := &window{loc: opts.Location}
	start, end := opts.Week.Range(opts.Location)
	ps, pe := opts.Week.prev().Range(opts.Location)
	w.start[cur], w.end[cur] = start.UnixMicro(), end.UnixMicro()
	w.start[prev], w.end[prev] = ps.UnixMicro(), pe.UnixMicro()

	if opts.Scope != nil {
		name := opts.Scope.Name
		if name == "" {
			name = "scoped"
		}
		if opts.Title != "" {
			name = opts.Title + " – " + name
		}
		opts.Title = name
	}
	data, err := aggregateScope(ctx, opts.LakeDir, opts.Iceberg, w, memory.DefaultAllocator, opts.Scope)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", opts.Week, err)
	}
	figs := &Figures{Week: opts.Week, Start: start, End: end,
		ThisWeek: periodOf(data, cur), LastWeek: periodOf(data, prev)}
	figs.Headline = headline(figs)

	f, err := buildWorkbook(data, figs, opts)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", opts.Week, err)
	}
	defer f.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(path, func(out io.Writer) error {
		_, err := f.WriteTo(out)
		return err
	}); err != nil {
		return nil, fmt.Errorf("report %s: writing %s: %w", opts.Week, path, err)
	}
	return figs, nil
}
