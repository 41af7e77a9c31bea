package iceberg

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// View is a consistent cut of the lake's tables: every table as of the last
// sealed batch, whatever a writer commits meanwhile. A batch commits its
// tables one at a time; a reader of each table's current snapshot could see
// a batch in some tables and not in others, a View never does.
type View struct {
	// Seq is the sealed batch the view shows.
	Seq    int64
	tables map[string]*table.Table
	snaps  map[string]int64 // snapshot per table; absent: the table is empty in the view
}

// View takes a consistent cut of the tables.
func (c *Catalog) View(ctx context.Context) (*View, error) {
	v := &View{tables: map[string]*table.Table{}, snaps: map[string]int64{}}
	// calls first: its seal bounds what the other tables may show.
	calls, err := c.Load(ctx, "calls")
	if err != nil {
		return nil, err
	}
	if calls != nil {
		if v.Seq, err = sealOf(calls); err != nil {
			return nil, err
		}
	}
	for _, d := range tableDefs {
		t := calls
		if d.name != "calls" {
			if t, err = c.Load(ctx, d.name); err != nil {
				return nil, err
			}
		}
		if t == nil {
			continue
		}
		v.tables[d.name] = t
		if id, ok := snapshotAt(t, v.Seq); ok {
			v.snaps[d.name] = id
		}
	}
	return v, nil
}

// snapshotAt returns the newest snapshot of the table's main branch that
// belongs to a batch numbered seq or lower. Snapshots without a batch number
// (written by another tool) count as sealed.
func snapshotAt(t *table.Table, seq int64) (int64, bool) {
	cur := t.CurrentSnapshot()
	if cur == nil {
		return 0, false
	}
	for _, s := range table.AncestorsOf(cur.SnapshotID, t.Metadata().SnapshotByID) {
		if s.Summary == nil {
			return s.SnapshotID, true
		}
		v, ok := s.Summary.Properties[BatchSeqProperty]
		if !ok {
			return s.SnapshotID, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil && n <= seq {
			return s.SnapshotID, true
		}
	}
	return 0, false
}

// Query selects what Scan reads.
type Query struct {
	// Columns to read, in this order; none means all.
	Columns []string
	// From and To bound the partition dates read (UTC days, inclusive):
	// for call tables the day of the call's start, for reconcile the day.
	// Zero means unbounded. Partitions outside are not opened.
	From, To time.Time
	// Allocator for the batches; nil means the Go allocator.
	Allocator memory.Allocator
}

// Scan calls fn with every record batch of a table in the view. The batch is
// released when fn returns; retain what you keep. A table the lake does not
// have, or that is empty in the view, calls fn never.
func (v *View) Scan(ctx context.Context, name string, q Query, fn func(arrow.RecordBatch) error) error {
	d, ok := defOf(name)
	if !ok {
		return fmt.Errorf("scanning %s: no such table", name)
	}
	t, id := v.tables[name], v.snaps[name]
	if t == nil || id == 0 {
		return nil
	}
	opts := []table.ScanOption{table.WithSnapshotID(id)}
	if len(q.Columns) > 0 {
		opts = append(opts, table.WithSelectedFields(q.Columns...))
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		from, to := q.From, q.To
		if from.IsZero() {
			from = time.Unix(0, 0).UTC()
		}
		if to.IsZero() {
			to = time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)
		}
		opts = append(opts, table.WithRowFilter(d.rangeFilter(from.UTC().Truncate(24*time.Hour), to.UTC().Truncate(24*time.Hour))))
	} else {
		opts = append(opts, table.WithRowFilter(iceberg.AlwaysTrue{}))
	}
	if q.Allocator != nil {
		ctx = compute.WithAllocator(ctx, q.Allocator)
	}
	_, recs, err := t.Scan(opts...).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", name, err)
	}
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("scanning %s: %w", name, err)
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// DataFiles lists the data files of a table in the view with the partition
// each is in, for checks and for readers of the files themselves.
func (v *View) DataFiles(ctx context.Context, name string) ([]DataFile, error) {
	t, id := v.tables[name], v.snaps[name]
	if t == nil || id == 0 {
		return nil, nil
	}
	tasks, err := t.Scan(table.WithSnapshotID(id)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing files of %s: %w", name, err)
	}
	out := make([]DataFile, 0, len(tasks))
	for _, task := range tasks {
		out = append(out, DataFile{Path: task.File.FilePath(), Partition: fmt.Sprint(task.File.Partition()), Rows: task.File.Count()})
	}
	return out, nil
}

// DataFile is one data file of a table.
type DataFile struct {
	Path      string
	Partition string
	Rows      int64
}

// MetadataLocation is where the table's current metadata file is (for
// readers that take one, such as DuckDB's iceberg_scan or icebird).
func (v *View) MetadataLocation(name string) string {
	if t := v.tables[name]; t != nil {
		return t.MetadataLocation()
	}
	return ""
}

// Location is the table's root location.
func (v *View) Location(name string) string {
	if t := v.tables[name]; t != nil {
		return t.Location()
	}
	return ""
}

// ScanFile calls fn with the rows that Tx.PutFile put for a table, date and
// name (the plain lake's lake.ScanFile); none calls fn never.
func (v *View) ScanFile(ctx context.Context, name, date, key string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	d, ok := defOf(name)
	if !ok || !d.identity {
		return fmt.Errorf("scanning %s: not a table kept per day", name)
	}
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return fmt.Errorf("scanning %s: date %q: %w", name, date, err)
	}
	t, id := v.tables[name], v.snaps[name]
	if t == nil || id == 0 {
		return nil
	}
	filter := iceberg.NewAnd(d.rangeFilter(day, day), iceberg.EqualTo(iceberg.Reference(d.key), key))
	if mem != nil {
		ctx = compute.WithAllocator(ctx, mem)
	}
	_, recs, err := t.Scan(table.WithSnapshotID(id), table.WithRowFilter(filter)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", name, err)
	}
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("scanning %s: %w", name, err)
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
