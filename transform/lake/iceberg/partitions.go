package iceberg

import (
	"context"
	"fmt"
	"github.com/apache/iceberg-go/config"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() {
	// One writer goroutine per write: iceberg-go's partitioned writer hands
	// the batches of a write to MaxWorkers goroutines (5 by default), which
	// append them to a partition's file in the order they finish, so a file
	// made of several batches would not be sorted whole (and five page
	// writers at once hold five times the pages). Set before main runs, so
	// before any write reads it.
	config.EnvConfig.MaxWorkers = 1
}

// writeBatchRows is the most rows of a batch handed to iceberg-go's writer.
// The writer copies every batch it is given to sort it; small batches keep
// that copy small.
const writeBatchRows = 8 << 10

// writeOrder turns a table's staged batches into the batches iceberg-go's
// writer is given: partition by partition (day of the partition column, in
// day order), each partition's rows sorted by the key column and cut into
// batches of at most writeBatchRows rows. The writer sorts each batch it is
// given (not the file), so sorting the partition first keeps every file
// sorted whole. writeOrder takes over recs (it releases them, and clears
// the slice so that each batch can be collected once sorted); the caller
// releases the batches returned.
//
// Grouping before sorting copies only a partition staged in several
// batches; the sort copies the rows once, a column at a time, each column
// freed as its sorted copy is made.
func writeOrder(ctx context.Context, d tableDef, recs []arrow.RecordBatch, mem memory.Allocator) (out []arrow.RecordBatch, err error) {
	groups := map[int64][]arrow.RecordBatch{}
	defer func() {
		for i, r := range recs {
			if r != nil {
				r.Release()
				recs[i] = nil
			}
		}
		for _, g := range groups {
			for _, r := range g {
				if r != nil {
					r.Release()
				}
			}
		}
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			out = nil
		}
	}()
	for k, rec := range recs {
		days, err := partitionDays(d, rec)
		if err != nil {
			return nil, err
		}
		// Rows of one day in a row (usually the whole batch) go as a slice.
		for i := 0; i < len(days); {
			j := i + 1
			for j < len(days) && days[j] == days[i] {
				j++
			}
			if i == 0 && j == len(days) {
				rec.Retain()
				groups[days[i]] = append(groups[days[i]], rec)
			} else {
				groups[days[i]] = append(groups[days[i]], rec.NewSlice(int64(i), int64(j)))
			}
			i = j
		}
		rec.Release()
		recs[k] = nil
	}
	ctx = compute.WithAllocator(ctx, mem)
	for _, day := range slices.Sorted(maps.Keys(groups)) {
		parts := groups[day]
		delete(groups, day)
		sorted, err := sortByKey(ctx, d, parts, mem)
		if err != nil {
			return out, fmt.Errorf("table %s: %w", d.name, err)
		}
		n := sorted.NumRows()
		for off := int64(0); off < n; off += writeBatchRows {
			out = append(out, sorted.NewSlice(off, min(n, off+writeBatchRows)))
		}
		sorted.Release()
	}
	return out, nil
}

// sortByKey joins a partition's batches (taking them over) and sorts the
// rows by the key column, stably, as iceberg-go sorts a batch for the
// table's sort order (ascending, nulls first).
func sortByKey(ctx context.Context, d tableDef, parts []arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	one, err := concat(d.arrow, parts, mem)
	for i, p := range parts {
		p.Release()
		parts[i] = nil
	}
	if err != nil {
		return nil, err
	}
	key := one.Schema().FieldIndices(d.key)
	if len(key) != 1 {
		one.Release()
		return nil, fmt.Errorf("no key column %s", d.key)
	}
	if sortedKeys(one.Column(key[0])) {
		return one, nil
	}
	idx, err := compute.SortIndicesArray(ctx, one.Column(key[0]),
		compute.SortKey{Order: compute.SortOrderAscending, NullPlacement: compute.SortNullsAtStart})
	if err != nil {
		one.Release()
		return nil, err
	}
	defer idx.Release()
	n := one.NumRows()
	cols := slices.Clone(one.Columns())
	for _, c := range cols {
		c.Retain()
	}
	one.Release()
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range cols {
		s, err := compute.TakeArray(ctx, c, idx)
		if err != nil {
			return nil, err
		}
		c.Release()
		cols[i] = s
	}
	return array.NewRecordBatch(d.arrow, cols, n), nil
}

// sortedKeys reports whether a key column is already in ascending order,
// nulls first.
func sortedKeys(col arrow.Array) bool {
	s, ok := col.(*array.String)
	if !ok {
		return false
	}
	for i := 1; i < s.Len(); i++ {
		switch {
		case s.IsNull(i):
			if !s.IsNull(i - 1) {
				return false
			}
		case s.IsNull(i - 1):
		case s.Value(i) < s.Value(i-1):
			return false
		}
	}
	return true
}

// nullDay is the partition day of a row whose partition column is null.
const nullDay = math.MinInt64

// partitionDays returns the partition day of every row of rec: days since
// the epoch of the partition column (a date, or a timestamp's UTC date).
func partitionDays(d tableDef, rec arrow.RecordBatch) ([]int64, error) {
	idx := rec.Schema().FieldIndices(d.partCol)
	if len(idx) != 1 {
		return nil, fmt.Errorf("table %s: no partition column %s", d.name, d.partCol)
	}
	days := make([]int64, rec.NumRows())
	switch col := rec.Column(idx[0]).(type) {
	case *array.Date32:
		for i := range days {
			if col.IsNull(i) {
				days[i] = nullDay
			} else {
				days[i] = int64(col.Value(i))
			}
		}
	case *array.Timestamp:
		perDay := 86400 * int64(time.Second/col.DataType().(*arrow.TimestampType).Unit.Multiplier())
		for i := range days {
			if col.IsNull(i) {
				days[i] = nullDay
			} else {
				days[i] = floorDiv(int64(col.Value(i)), perDay)
			}
		}
	default:
		return nil, fmt.Errorf("table %s: partition column %s is %s, not a date or timestamp", d.name, d.partCol, col.DataType())
	}
	return days, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
