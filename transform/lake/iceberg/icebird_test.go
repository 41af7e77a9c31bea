package iceberg

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
	"callstats/internal/heavytest"
	"callstats/internal/icebird"
	"callstats/transform"
	"callstats/transform/lake"
)

// TestIcebirdReadsTables checks the tables with a reader that is not
// iceberg-go: after an append, a copy-on-write replacement and a
// compaction, icebird reads the same rows as the plain lake holds.
func TestIcebirdReadsTables(t *testing.T) {
	heavytest.Skip(t)
	t.Parallel()
	icebird.Require(t)
	e := newEnv(t)
	l := e.open(t)
	recs := week(t, 30)
	upd := newerVersions(t, recs)[:10]
	if _, err := putGraph(t, l, t0, recs...); err != nil {
		t.Fatal(err)
	}
	if _, err := putGraph(t, l, t0.Add(time.Hour), upd...); err != nil {
		t.Fatal(err)
	}
	want := plainIcebirdRows(t, e.mem, recs, upd)
	check := func(step string) {
		v, err := l.Catalog().View(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range transform.GraphTables {
			rows, err := icebird.Read(context.Background(), v.MetadataLocation(string(tb)))
			if err != nil {
				t.Fatalf("%s: %s: %v", step, tb, err)
			}
			got := icebirdRows(t, tb, rows)
			if w := want[string(tb)]; !slices.Equal(got, w) {
				t.Errorf("%s: %s: icebird reads %d rows, the plain lake holds %d", step, tb, len(got), len(w))
				for i := range min(len(got), len(w)) {
					if got[i] != w[i] {
						t.Errorf("first difference:\n got %s\nwant %s", got[i], w[i])
						break
					}
				}
			}
		}
	}
	check("after a replacement")
	if _, err := l.Maintain(context.Background(), MaintainOptions{Retention: time.Nanosecond, OrphanAge: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	check("after maintenance")
}

// icebirdRows renders icebird's rows of a table in the plain lake's
// columns (without ingested_at), sorted, in the form plainIcebirdRows uses.
func icebirdRows(t *testing.T, tb transform.Table, rows []map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		var cells []string
		for _, f := range transform.Schema(tb).Fields() {
			if f.Name == "ingested_at" {
				continue
			}
			v, ok := r[f.Name]
			if !ok {
				t.Fatalf("%s: icebird gives no column %s", tb, f.Name)
			}
			cells = append(cells, jsonCell(v))
		}
		out = append(out, strings.Join(cells, "|"))
	}
	slices.Sort(out)
	return out
}

func jsonCell(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, jsonCell(x))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	return fmt.Sprintf("?%T", v)
}

// plainIcebirdRows writes the batches into a plain lake and renders its rows
// as icebird gives values: numbers, 64-bit integers as decimal strings,
// timestamps as ISO strings in milliseconds.
func plainIcebirdRows(t *testing.T, mem memory.Allocator, batches ...[]*graph.CallRecord) map[string][]string {
	t.Helper()
	dir := t.TempDir()
	pl := openPlain(t, dir, mem)
	for _, recs := range batches {
		tx := pl.Begin(t0)
		putRecords(t, tx, mem, t0, recs...)
		if _, err := tx.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]string{}
	for _, tb := range transform.GraphTables {
		err := lake.Scan(context.Background(), filepath.Join(dir, "lake"), string(tb), mem, func(rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				var cells []string
				for c := range int(rec.NumCols()) {
					if rec.ColumnName(c) == "ingested_at" {
						continue
					}
					cells = append(cells, arrowCell(rec.Column(c), i))
				}
				out[string(tb)] = append(out[string(tb)], strings.Join(cells, "|"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out[string(tb)])
		if len(out[string(tb)]) == 0 {
			t.Fatalf("%s: the plain lake holds no rows; the test tests nothing", tb)
		}
	}
	return out
}

func arrowCell(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "NULL"
	}
	switch c := col.(type) {
	case *array.String:
		return c.Value(i)
	case *array.Int32:
		return strconv.FormatFloat(float64(c.Value(i)), 'g', -1, 64)
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'g', -1, 64)
	case *array.Int64:
		return strconv.FormatInt(c.Value(i), 10)
	case *array.Boolean:
		return strconv.FormatBool(c.Value(i))
	case *array.Timestamp:
		return time.UnixMicro(int64(c.Value(i))).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	case *array.List:
		start, end := c.ValueOffsets(i)
		var s []string
		for j := start; j < end; j++ {
			s = append(s, arrowCell(c.ListValues(), int(j)))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	return "?" + col.DataType().String()
}
