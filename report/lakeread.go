package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"callstats/transform/lake/iceberg"
)

// Reading the lake: the Parquet files of the partitions a report needs, only
// the columns it needs. A column a file lacks reads as NULL.

// lakeFile is one Parquet file of a table.
type lakeFile struct {
	path string
	// day is the partition date (UTC midnight); zero for a file that is not
	// under a date=YYYY-MM-DD directory, which is always read.
	day time.Time
	// ice, when set, holds the file's rows instead: the day partition of
	// table in a view of the Iceberg tables.
	ice   *iceberg.View
	table string
}

// read calls fn with every batch of the file, projected to cols.
func (f lakeFile) read(ctx context.Context, cols []colSpec, mem memory.Allocator, fn func(*batch) error) error {
	if f.ice != nil {
		return scanIceberg(ctx, f, cols, mem, fn)
	}
	return scanFile(ctx, f.path, cols, mem, fn)
}

// listFiles returns the files of table whose partition date is within
// [from, to] (UTC dates), and whether the table exists at all.
func listFiles(ctx context.Context, dir, table string, from, to time.Time) ([]lakeFile, bool, error) {
	root := filepath.Join(dir, table)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("listing table %s: %w", table, err)
	}
	var out []lakeFile
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, true, err
		}
		name := e.Name()
		switch {
		case e.IsDir():
			ds, ok := strings.CutPrefix(name, "date=")
			if !ok {
				continue
			}
			day, err := time.Parse(time.DateOnly, ds)
			if err != nil || day.Before(from) || day.After(to) {
				continue
			}
			files, err := os.ReadDir(filepath.Join(root, name))
			if err != nil {
				return nil, true, fmt.Errorf("listing table %s: %w", table, err)
			}
			for _, f := range files {
				if isParquet(f) {
					out = append(out, lakeFile{path: filepath.Join(root, name, f.Name()), day: day})
				}
			}
		case isParquet(e):
			out = append(out, lakeFile{path: filepath.Join(root, name)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, true, nil
}

// isParquet reports whether a directory entry is a data file: *.parquet and
// not hidden (staged files are hidden, as are _SUCCESS-style markers).
func isParquet(e fs.DirEntry) bool {
	n := e.Name()
	return !e.IsDir() && strings.HasSuffix(n, ".parquet") && !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_")
}

// batchRows is how many rows a batch holds at most: small enough that the
// decoders' scratch buffers stay small, large enough to amortise per-batch work.
const batchRows = 8 << 10

// colSpec names a column to read and whether to read it dictionary-encoded
// (for strings with few distinct values, which makes grouping by them cheap).
type colSpec struct {
	name string
	dict bool
}

// batch is a slice of rows of one file with the requested columns, in the
// order requested; a column the file lacks is nil and reads as NULL.
type batch struct {
	n    int
	cols []arrow.Array
	file string
}

// scanFile calls fn with every batch of the file, projected to cols.
func scanFile(ctx context.Context, path string, cols []colSpec, mem memory.Allocator, fn func(*batch) error) error {
	// Batch buffers are reused for the next batch (after drain, every
	// buffer is back with mem: the deferred drain runs after the readers'
	// releases below).
	rc := newRecycler(mem)
	defer rc.drain()
	mem = rc
	pf, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	defer pf.Close()
	// A first reader maps the columns to their leaves; the dictionary reads
	// must be set before the reader that reads, as they change its types.
	props := pqarrow.ArrowReadProperties{BatchSize: batchRows}
	fr, err := pqarrow.NewFileReader(pf, props, mem)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	byName := make(map[string]int, len(fr.Manifest.Fields))
	for i, f := range fr.Manifest.Fields {
		byName[f.Field.Name] = i
	}
	// The leaves of the present columns, and where each lands in the batch.
	var leaves []int
	pos := make([]int, len(cols)) // column index in the batch, or -1
	type pick struct {
		field int
		spec  int
	}
	var picks []pick
	for i, c := range cols {
		pos[i] = -1
		fi, ok := byName[c.name]
		if !ok {
			continue
		}
		picks = append(picks, pick{fi, i})
		n := len(leaves)
		leaves = collectLeaves(&fr.Manifest.Fields[fi], leaves)
		if c.dict {
			for _, l := range leaves[n:] {
				props.SetReadDict(l, true)
			}
		}
	}
	if len(picks) == 0 || pf.NumRowGroups() == 0 {
		return nil
	}
	if fr, err = pqarrow.NewFileReader(pf, props, mem); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	// The record reader returns fields in file order; map them back.
	sort.Slice(picks, func(a, b int) bool { return picks[a].field < picks[b].field })
	for k, p := range picks {
		pos[p.spec] = k
	}
	sort.Ints(leaves)
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	defer rr.Release()
	b := &batch{cols: make([]arrow.Array, len(cols)), file: path}
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := rr.RecordBatch()
		b.n = int(rec.NumRows())
		for i, p := range pos {
			b.cols[i] = nil
			if p >= 0 {
				b.cols[i] = rec.Column(p)
			}
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

func collectLeaves(f *pqarrow.SchemaField, out []int) []int {
	if f.IsLeaf() {
		return append(out, f.ColIndex)
	}
	for i := range f.Children {
		out = collectLeaves(&f.Children[i], out)
	}
	return out
}

// Column accessors. Each wraps one column of a batch, accepts the Arrow types
// a lake written by callstats or by another tool may use, and reads a nil
// column as all NULL.

// typeError says a column has a type the report cannot read.
func typeError(b *batch, name string, a arrow.Array, want string) error {
	return fmt.Errorf("reading %s: column %s is %s, want %s", b.file, name, a.DataType(), want)
}

// strs reads a string column: utf8, large utf8, or a dictionary of either.
type strs struct {
	arr   arrow.Array
	plain *array.String
	large *array.LargeString
	// dictionary-encoded: idx are the indices into vals (or lvals).
	idx   []int32
	vals  *array.String
	lvals *array.LargeString
}

func newStrs(b *batch, i int, name string) (strs, error) {
	a := b.cols[i]
	s := strs{arr: a}
	switch a := a.(type) {
	case nil:
	case *array.String:
		s.plain = a
	case *array.LargeString:
		s.large = a
	case *array.Null:
		s.arr = nil
	case *array.Dictionary:
		if noDictionary(a) {
			// An empty (or all-NULL) chunk can come without a dictionary.
			if a.NullN() != a.Len() {
				return s, typeError(b, name, a, "a string dictionary with its values")
			}
			s.arr = nil
			return s, nil
		}
		ix, ok := a.Indices().(*array.Int32)
		if !ok {
			return s, typeError(b, name, a, "a string dictionary with int32 indices")
		}
		s.idx = ix.Int32Values()
		switch v := a.Dictionary().(type) {
		case *array.String:
			s.vals = v
		case *array.LargeString:
			s.lvals = v
		default:
			return s, typeError(b, name, a, "a string")
		}
	default:
		return s, typeError(b, name, a, "a string")
	}
	return s, nil
}

func (s *strs) null(i int) bool { return s.arr == nil || s.arr.IsNull(i) }

// get returns the value of row i ("" for NULL). The string points into the
// batch, whose buffers the next batch reuses: clone it to keep it, even
// across batches of one file.
func (s *strs) get(i int) string {
	if s.null(i) {
		return ""
	}
	switch {
	case s.plain != nil:
		return s.plain.Value(i)
	case s.large != nil:
		return s.large.Value(i)
	case s.vals != nil:
		return s.vals.Value(int(s.idx[i]))
	default:
		return s.lvals.Value(int(s.idx[i]))
	}
}

// noDictionary reports whether a dictionary array came without its values.
func noDictionary(a *array.Dictionary) bool {
	d := a.Data().Dictionary()
	if d == nil {
		return true
	}
	p, ok := d.(*array.Data)
	return ok && p == nil
}

// dictLen is the dictionary's size, or 0 when the column is not a dictionary.
func (s *strs) dictLen() int {
	switch {
	case s.vals != nil:
		return s.vals.Len()
	case s.lvals != nil:
		return s.lvals.Len()
	}
	return 0
}

// code is row i's dictionary index; only for dictionary columns and non-NULL rows.
func (s *strs) code(i int) int { return int(s.idx[i]) }

// dictValue is dictionary entry k.
func (s *strs) dictValue(k int) string {
	if s.vals != nil {
		return s.vals.Value(k)
	}
	return s.lvals.Value(k)
}

// floats reads a numeric column as float64: floating point or integer.
type floats struct {
	arr arrow.Array
	f64 []float64
	get func(i int) float64
}

func newFloats(b *batch, i int, name string) (floats, error) {
	a := b.cols[i]
	f := floats{arr: a}
	switch a := a.(type) {
	case nil:
	case *array.Null:
		f.arr = nil
	case *array.Float64:
		f.f64 = a.Float64Values()
	case *array.Float32:
		f.get = func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int64:
		f.get = func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int32:
		f.get = func(i int) float64 { return float64(a.Value(i)) }
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		f.get = func(i int) float64 { return a.Value(i).ToFloat64(scale) }
	default:
		return f, typeError(b, name, a, "a number")
	}
	return f, nil
}

// value returns row i and whether it is set.
func (f *floats) value(i int) (float64, bool) {
	if f.arr == nil || f.arr.IsNull(i) {
		return 0, false
	}
	if f.f64 != nil {
		return f.f64[i], true
	}
	return f.get(i), true
}

// ints reads an integer column as int64.
type ints struct {
	arr arrow.Array
	get func(i int) int64
}

func newInts(b *batch, i int, name string) (ints, error) {
	a := b.cols[i]
	n := ints{arr: a}
	switch a := a.(type) {
	case nil:
	case *array.Null:
		n.arr = nil
	case *array.Int64:
		n.get = a.Value
	case *array.Int32:
		n.get = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int16:
		n.get = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int8:
		n.get = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Uint32:
		n.get = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Uint64:
		n.get = func(i int) int64 { return int64(a.Value(i)) }
	default:
		return n, typeError(b, name, a, "an integer")
	}
	return n, nil
}

func (n *ints) value(i int) (int64, bool) {
	if n.arr == nil || n.arr.IsNull(i) {
		return 0, false
	}
	return n.get(i), true
}

// bools reads a boolean column.
type bools struct{ arr *array.Boolean }

func newBools(b *batch, i int, name string) (bools, error) {
	switch a := b.cols[i].(type) {
	case nil, *array.Null:
		return bools{}, nil
	case *array.Boolean:
		return bools{a}, nil
	default:
		return bools{}, typeError(b, name, a, "a boolean")
	}
}

func (x *bools) value(i int) (v, ok bool) {
	if x.arr == nil || x.arr.IsNull(i) {
		return false, false
	}
	return x.arr.Value(i), true
}

// times reads a timestamp column (any unit; a zone-less timestamp is taken as
// UTC) as Unix microseconds.
type times struct {
	arr  arrow.Array
	v    []arrow.Timestamp
	mul  int64 // to microseconds: multiply by mul, or divide by -mul
	date []arrow.Date32
}

func newTimes(b *batch, i int, name string) (times, error) {
	a := b.cols[i]
	t := times{arr: a}
	switch a := a.(type) {
	case nil:
	case *array.Null:
		t.arr = nil
	case *array.Timestamp:
		t.v = a.TimestampValues()
		switch a.DataType().(*arrow.TimestampType).Unit {
		case arrow.Second:
			t.mul = 1_000_000
		case arrow.Millisecond:
			t.mul = 1000
		case arrow.Microsecond:
			t.mul = 1
		case arrow.Nanosecond:
			t.mul = -1000
		}
	default:
		return t, typeError(b, name, a, "a timestamp")
	}
	return t, nil
}

// value returns row i in Unix microseconds and whether it is set.
func (t *times) value(i int) (int64, bool) {
	if t.arr == nil || t.arr.IsNull(i) {
		return 0, false
	}
	v := int64(t.v[i])
	if t.mul < 0 {
		return floorDiv(v, -t.mul), true
	}
	return v * t.mul, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// days reads a calendar day: date32, date64, a timestamp, or a 'YYYY-MM-DD'
// string; as the UTC midnight of that day in Unix seconds.
type days struct {
	b    *batch
	name string
	arr  arrow.Array
}

func newDays(b *batch, i int, name string) (days, error) {
	switch a := b.cols[i].(type) {
	case nil, *array.Null:
		return days{}, nil
	case *array.Date32, *array.Date64, *array.Timestamp, *array.String, *array.LargeString, *array.Dictionary:
		return days{b: b, name: name, arr: a}, nil
	default:
		return days{}, typeError(b, name, a, "a date or a YYYY-MM-DD string")
	}
}

// value returns row i's day, whether it is set, and an error for a string
// that is not a date.
func (d *days) value(i int) (time.Time, bool, error) {
	if d.arr == nil || d.arr.IsNull(i) {
		return time.Time{}, false, nil
	}
	var s string
	switch a := d.arr.(type) {
	case *array.Date32:
		return a.Value(i).ToTime().UTC(), true, nil
	case *array.Date64:
		return midnight(a.Value(i).ToTime().UTC()), true, nil
	case *array.Timestamp:
		return midnight(a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC()), true, nil
	case *array.String:
		s = a.Value(i)
	case *array.LargeString:
		s = a.Value(i)
	case *array.Dictionary:
		switch v := a.Dictionary().(type) {
		case *array.String:
			s = v.Value(a.GetValueIndex(i))
		case *array.LargeString:
			s = v.Value(a.GetValueIndex(i))
		default:
			return time.Time{}, false, typeError(d.b, d.name, a, "a date or a YYYY-MM-DD string")
		}
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading %s: column %s: %q is not a YYYY-MM-DD date", d.b.file, d.name, s)
	}
	return t, true, nil
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// strLists reads a list<string> column (the strings possibly dictionary-encoded).
type strLists struct {
	list *array.List
	vals strs
}

func newStrLists(b *batch, i int, name string) (strLists, error) {
	switch a := b.cols[i].(type) {
	case nil, *array.Null:
		return strLists{}, nil
	case *array.List:
		vb := &batch{cols: []arrow.Array{a.ListValues()}, file: b.file}
		v, err := newStrs(vb, 0, name)
		if err != nil {
			return strLists{}, err
		}
		return strLists{list: a, vals: v}, nil
	default:
		return strLists{}, typeError(b, name, a, "a list of strings")
	}
}

// each calls fn with every non-NULL item of row i's list.
func (l *strLists) each(i int, fn func(string)) {
	if l.list == nil || l.list.IsNull(i) {
		return
	}
	start, end := l.list.ValueOffsets(i)
	for k := int(start); k < int(end); k++ {
		if !l.vals.null(k) {
			fn(l.vals.get(k))
		}
	}
}
