package report

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

func TestListFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{
		"calls/date=2026-11-09/a.parquet",
		"calls/date=2026-11-15/b.parquet",
		"calls/date=2026-11-16/c.parquet",      // after the range
		"calls/date=2026-11-08/d.parquet",      // before it
		"calls/date=2026-11-10/.e.parquet.tmp", // staged by a running ingest
		"calls/date=2026-11-10/.f.parquet",     // hidden
		"calls/date=2026-11-10/_SUCCESS",       // a marker
		"calls/date=2026-11-10/g.json",         // not Parquet
		"calls/date=notadate/h.parquet",        // not a date
		"calls/source=teams/i.parquet",         // another partitioning
		"calls/j.parquet",                      // unpartitioned: always read
		"calls/date=2026-11-12/sub/k.parquet",  // too deep
		"sessions/date=2026-11-10/l.parquet",   // another table
	} {
		p = filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	from, to := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	got, ok, err := listFiles(context.Background(), dir, "calls", from, to)
	if err != nil || !ok {
		t.Fatalf("listFiles: %v, %v", ok, err)
	}
	var names []string
	for _, f := range got {
		rel, _ := filepath.Rel(dir, f.path)
		names = append(names, filepath.ToSlash(rel)+"@"+f.day.Format(time.DateOnly))
	}
	want := []string{"calls/date=2026-11-09/a.parquet@2026-11-09", "calls/date=2026-11-15/b.parquet@2026-11-15", "calls/j.parquet@0001-01-01"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	if fs, ok, err := listFiles(context.Background(), dir, "reconcile", from, to); fs != nil || ok || err != nil {
		t.Errorf("an absent table: %v %v %v", fs, ok, err)
	}
}

// TestScanFile reads a file whose columns use other Arrow types than
// callstats writes (as another tool might), asks for a column it lacks, and
// never touches a column of a type the report cannot read unless asked.
func TestScanFile(t *testing.T) {
	t.Parallel()
	sc := schemaOf(
		"s", arrow.BinaryTypes.String,
		"ls", arrow.BinaryTypes.LargeString,
		"i32", arrow.PrimitiveTypes.Int32,
		"f32", arrow.PrimitiveTypes.Float32,
		"tsms", &arrow.TimestampType{Unit: arrow.Millisecond},
		"tsns", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"},
		"d32", arrow.FixedWidthTypes.Date32,
		"list", arrow.ListOf(arrow.BinaryTypes.String),
		"odd", arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}),
	)
	when := time.Date(2026, 11, 17, 9, 30, 15, 123456000, time.UTC)
	dir := t.TempDir()
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	for i := range 3 {
		if i == 1 { // a row of NULLs
			for _, b := range rb.Fields() {
				b.AppendNull()
			}
			continue
		}
		rb.Field(0).(*array.StringBuilder).Append("teams")
		rb.Field(1).(*array.LargeStringBuilder).Append("large")
		rb.Field(2).(*array.Int32Builder).Append(42)
		rb.Field(3).(*array.Float32Builder).Append(1.5)
		rb.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(when.UnixMilli()))
		rb.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(when.UnixNano()))
		rb.Field(6).(*array.Date32Builder).Append(arrow.Date32FromTime(when))
		lb := rb.Field(7).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"A", "B"}, nil)
		st := rb.Field(8).(*array.StructBuilder)
		st.Append(true)
		st.FieldBuilder(0).(*array.Int64Builder).Append(7)
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(dir, "x.parquet")
	f, _ := os.Create(path)
	fw, err := pqarrow.NewFileWriter(sc, f, nil, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(rec)
	fw.Close()
	f.Close()

	specs := []colSpec{{name: "s", dict: true}, {name: "ls"}, {name: "i32"}, {name: "f32"}, {name: "tsms"},
		{name: "tsns"}, {name: "d32"}, {name: "list", dict: true}, {name: "missing"}}
	var rows int
	err = scanFile(context.Background(), path, specs, memory.DefaultAllocator, func(b *batch) error {
		c := cols{b: b, specs: specs}
		s, ls, n, fl := c.str("s"), c.str("ls"), c.i64("i32"), c.f64("f32")
		ms, ns, day, list, miss := c.ts("tsms"), c.ts("tsns"), c.day("d32"), c.list("list"), c.str("missing")
		if c.err != nil {
			return c.err
		}
		if _, ok := b.cols[0].(*array.Dictionary); !ok {
			t.Errorf("s read as %T, not as a dictionary", b.cols[0])
		}
		for i := 0; i < b.n; i++ {
			rows++
			v, ok := n.value(i)
			if i == 1 {
				if ok || !s.null(i) || s.get(i) != "" || !ls.null(i) || !miss.null(i) {
					t.Errorf("row of NULLs reads %v %v %q", v, ok, s.get(i))
				}
				continue
			}
			x, _ := fl.value(i)
			a, _ := ms.value(i)
			z, _ := ns.value(i)
			d, dok, derr := day.value(i)
			var items []string
			list.each(i, func(s string) { items = append(items, s) })
			if s.get(i) != "teams" || ls.get(i) != "large" || v != 42 || x != 1.5 ||
				a != when.Truncate(time.Millisecond).UnixMicro() || z != when.UnixMicro() ||
				!dok || derr != nil || !d.Equal(time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)) ||
				!reflect.DeepEqual(items, []string{"A", "B"}) || !miss.null(i) {
				t.Errorf("row %d: %q %q %d %v %d %d %s %v %v", i, s.get(i), ls.get(i), v, x, a, z, d, items, miss.null(i))
			}
		}
		return nil
	})
	if err != nil || rows != 3 {
		t.Fatalf("scan: %d rows, %v", rows, err)
	}

	// Asking for a column as a type it is not names the file and the column.
	specs = []colSpec{{name: "odd"}}
	err = scanFile(context.Background(), path, specs, memory.DefaultAllocator, func(b *batch) error {
		c := cols{b: b, specs: specs}
		c.str("odd")
		return c.err
	})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "column odd") {
		t.Errorf("error %v, want one naming %s and column odd", err, path)
	}

	// A file that is not Parquet.
	bad := filepath.Join(dir, "bad.parquet")
	os.WriteFile(bad, []byte("not parquet"), 0o644)
	if err := scanFile(context.Background(), bad, specs, memory.DefaultAllocator, func(*batch) error { return nil }); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("a broken file: %v", err)
	}
}

func TestDays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeParquet(t, dir, "r", "", "a", schemaOf("day", arrow.BinaryTypes.String), []row{{"day": "2026-11-17"}, {"day": " 2026-11-18 "}, {}, {"day": "17.11.2026"}})
	var got []string
	specs := []colSpec{{name: "day", dict: true}}
	err := scanFile(context.Background(), filepath.Join(dir, "r", "a.parquet"), specs, memory.DefaultAllocator, func(b *batch) error {
		c := cols{b: b, specs: specs}
		d := c.day("day")
		for i := 0; i < b.n; i++ {
			v, ok, err := d.value(i)
			if err != nil {
				return err
			}
			got = append(got, v.Format(time.DateOnly)+map[bool]string{true: "", false: " null"}[ok])
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), `"17.11.2026" is not a YYYY-MM-DD date`) {
		t.Errorf("error %v", err)
	}
	if want := []string{"2026-11-17", "2026-11-18", "0001-01-01 null"}; !reflect.DeepEqual(got, want) {
		t.Errorf("days %v, want %v", got, want)
	}
}
