package iceberg

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"callstats/internal/heavytest"
	"callstats/transform"
)

// stagedRow is a row of the calls table as writeOrder's test stages it:
// its key, its start and its place in the staged order (kept in version).
type stagedRow struct {
	id    string
	start time.Time
	seq   int64
}

// callsBatch builds a calls-table batch of rows: call_id, start_time and
// version (the row's seq) set, other columns null or empty.
func callsBatch(t *testing.T, mem memory.Allocator, rows []stagedRow) arrow.RecordBatch {
	t.Helper()
	d, _ := defOf(string(transform.Calls))
	b := array.NewRecordBuilder(mem, d.arrow)
	defer b.Release()
	for _, r := range rows {
		for i, f := range d.arrow.Fields() {
			fb := b.Field(i)
			switch f.Name {
			case "call_id":
				fb.(*array.StringBuilder).Append(r.id)
			case "start_time":
				fb.(*array.TimestampBuilder).Append(arrow.Timestamp(r.start.UnixMicro()))
			case "version":
				fb.(*array.Int64Builder).Append(r.seq)
			default:
				if f.Nullable {
					fb.AppendNull()
				} else {
					fb.AppendEmptyValue()
				}
			}
		}
	}
	return b.NewRecordBatch()
}

// TestWriteOrder checks the batches the writer is given: partition by
// partition in day order, none over writeBatchRows rows, each partition's
// rows sorted whole by the key (stably: rows of one key keep their staged
// order) even when it holds more rows than one batch and was staged in
// several batches, one of them spanning two days.
func TestWriteOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	day := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	var staged [][]stagedRow
	var seq int64
	add := func(n int, days ...int) {
		var rows []stagedRow
		for i := range n {
			d := days[i*len(days)/n]
			// Keys out of order, and each key twice.
			id := fmt.Sprintf("call-%05d", (i*7919)%(n/2+1))
			rows = append(rows, stagedRow{id: id, start: day.AddDate(0, 0, d).Add(time.Duration(i) * time.Second), seq: seq})
			seq++
		}
		staged = append(staged, rows)
	}
	add(writeBatchRows+500, 2) // more than one writer batch
	add(300, 0, 1)             // spans two days
	add(writeBatchRows/2, 2)   // the same day again
	add(10, -1)                // before the others
	var recs []arrow.RecordBatch
	for _, rows := range staged {
		recs = append(recs, callsBatch(t, mem, rows))
	}
	d, _ := defOf(string(transform.Calls))
	out, err := writeOrder(context.Background(), d, recs, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, r := range out {
			r.Release()
		}
	}()
	for i, r := range recs {
		if r != nil {
			t.Errorf("staged batch %d not taken over", i)
		}
	}

	// Want: every day's rows in day order, stably sorted by id.
	byDay := map[int64][]stagedRow{}
	for _, rows := range staged {
		for _, r := range rows {
			k := r.start.Unix() / 86400
			byDay[k] = append(byDay[k], r)
		}
	}
	var want []string
	var wantDays []int64
	for _, k := range slices.Sorted(maps.Keys(byDay)) {
		rows := byDay[k]
		slices.SortStableFunc(rows, func(a, b stagedRow) int { return strings.Compare(a.id, b.id) })
		for _, r := range rows {
			want = append(want, fmt.Sprintf("%d %s %d", k, r.id, r.seq))
		}
		wantDays = append(wantDays, k)
	}

	var got []string
	var gotDays []int64
	for _, r := range out {
		if r.NumRows() > writeBatchRows {
			t.Errorf("a batch of %d rows, over %d", r.NumRows(), writeBatchRows)
		}
		ids := r.Column(r.Schema().FieldIndices("call_id")[0]).(*array.String)
		starts := r.Column(r.Schema().FieldIndices("start_time")[0]).(*array.Timestamp)
		seqs := r.Column(r.Schema().FieldIndices("version")[0]).(*array.Int64)
		first := int64(starts.Value(0)) / 86400e6
		if len(gotDays) == 0 || gotDays[len(gotDays)-1] != first {
			gotDays = append(gotDays, first)
		}
		for i := range int(r.NumRows()) {
			k := int64(starts.Value(i)) / 86400e6
			if k != first {
				t.Fatalf("a batch holds days %d and %d", first, k)
			}
			got = append(got, fmt.Sprintf("%d %s %d", k, ids.Value(i), seqs.Value(i)))
		}
	}
	if !slices.Equal(gotDays, wantDays) {
		t.Errorf("days in order %v, want %v (each day's batches together)", gotDays, wantDays)
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows not each day's rows stably sorted by key (%d rows, want %d)", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference at row %d: %q, want %q", i, got[i], want[i])
			}
		}
	}
}

// TestCommitWritesFilesSortedWhole commits one batch whose streams hold
// more rows a day than one writer batch: every table gets one data file per
// partition, sorted whole by its key column, in row groups of at most
// writeBatchRows rows.
func TestCommitWritesFilesSortedWhole(t *testing.T) {
	heavytest.Skip(t)
	t.Parallel()
	e := newEnv(t)
	l := e.open(t)
	recs := weekOf(t, 3, 3600)
	if _, err := putGraph(t, l, t0, recs...); err != nil {
		t.Fatal(err)
	}
	v, err := l.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	biggest := int64(0)
	for _, d := range tableDefs {
		files, err := v.DataFiles(context.Background(), d.name)
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, f := range files {
			per[f.Partition]++
			if per[f.Partition] > 1 {
				t.Errorf("%s: partition %s holds %d files after one commit", d.name, f.Partition, per[f.Partition])
			}
			biggest = max(biggest, f.Rows)
			checkSortedFile(t, d, f)
		}
	}
	if biggest <= writeBatchRows {
		t.Fatalf("no file holds more than %d rows; the test does not cover files written in several batches", writeBatchRows)
	}
}

// checkSortedFile reads a data file's key column: ascending over the whole
// file, and no row group over writeBatchRows rows.
func checkSortedFile(t *testing.T, d tableDef, f DataFile) {
	t.Helper()
	path := strings.TrimPrefix(f.Path, "file://")
	pf, err := file.OpenParquetFile(filepath.FromSlash(path), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for i := range pf.NumRowGroups() {
		if n := pf.RowGroup(i).NumRows(); n > writeBatchRows {
			t.Errorf("%s: %s row group %d holds %d rows", d.name, path, i, n)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	col := rr.Schema().FieldIndices(d.key)
	if len(col) != 1 {
		t.Fatalf("%s: %s has no %s", d.name, path, d.key)
	}
	prev, n := "", 0
	for rr.Next() {
		s := rr.RecordBatch().Column(col[0]).(*array.String)
		for i := range s.Len() {
			if n > 0 && s.Value(i) < prev {
				t.Fatalf("%s: %s not sorted by %s at row %d: %q after %q", d.name, path, d.key, n, s.Value(i), prev)
			}
			prev = s.Value(i)
			n++
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	if int64(n) != f.Rows {
		t.Errorf("%s: %s holds %d rows, the manifest says %d", d.name, path, n, f.Rows)
	}
}
