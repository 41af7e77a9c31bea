package report

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/transform"
	"callstats/transform/lake/iceberg"
)

// Reading the lake kept as Iceberg tables (output.format iceberg): each day
// partition of a table reads as one file of the plain lake would, through
// the view's scan (partition pruning on the day, projected columns).

// listIceberg returns a file per UTC day within [from, to] of table in the
// view, and whether the table holds any row (as the plain lake's table
// directory exists once rows were written to it). A day without rows reads
// as an empty file.
func listIceberg(ctx context.Context, v *iceberg.View, table string, from, to time.Time) ([]lakeFile, bool, error) {
	files, err := v.DataFiles(ctx, table)
	if err != nil {
		return nil, false, fmt.Errorf("listing table %s: %w", table, err)
	}
	if len(files) == 0 {
		return nil, false, nil
	}
	var out []lakeFile
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		out = append(out, lakeFile{path: "iceberg:" + table + "/" + day.Format(time.DateOnly), day: day, ice: v, table: table})
	}
	return out, true, nil
}

// scanIceberg calls fn with every batch of a day partition of an Iceberg
// table, projected to cols. Columns the table does not have read as NULL.
func scanIceberg(ctx context.Context, f lakeFile, cols []colSpec, mem memory.Allocator, fn func(*batch) error) error {
	schema := transform.Schema(transform.Table(f.table))
	if f.table == string(transform.Reconcile) {
		schema = transform.ReconcileSchema()
	}
	var names []string
	for _, c := range cols {
		if schema.HasField(c.name) {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	b := &batch{cols: make([]arrow.Array, len(cols)), file: f.path}
	q := iceberg.Query{Columns: names, From: f.day, To: f.day, Allocator: mem}
	return f.ice.Scan(ctx, f.table, q, func(rec arrow.RecordBatch) error {
		b.n = int(rec.NumRows())
		for i, c := range cols {
			b.cols[i] = nil
			if k := rec.Schema().FieldIndices(c.name); len(k) == 1 {
				b.cols[i] = rec.Column(k[0])
			}
		}
		return fn(b)
	})
}
