package iceberg

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// MaintainOptions configure Maintain.
type MaintainOptions struct {
	// Retention: snapshots older than this are expired (the current one is
	// always kept). Zero means 7 days.
	Retention time.Duration
	// OrphanAge: files no snapshot references are deleted once older than
	// this, so that files a running writer has not committed yet, and files
	// of expired snapshots a running reader may still be reading, stay.
	// (Expiry itself deletes no file: the orphan step does.) Zero means 24
	// hours.
	OrphanAge time.Duration
	// MaxFiles: a day partition with more data files than this is compacted
	// into one file (sorted by the key column). Zero means 2.
	MaxFiles int
}

// MaintainStats count what Maintain did.
type MaintainStats struct {
	PartitionsCompacted int
	FilesCompacted      int
	SnapshotsExpired    int
	OrphansDeleted      int
}

// Maintain compacts the day partitions holding more than MaxFiles data
// files, expires old snapshots and deletes orphan files, table by table.
// Every step is a commit of its own (or, for orphans, deletes files no
// snapshot references), so the tables stay readable throughout.
func (l *Lake) Maintain(ctx context.Context, opts MaintainOptions) (MaintainStats, error) {
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if opts.OrphanAge <= 0 {
		opts.OrphanAge = 24 * time.Hour
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = 2
	}
	var st MaintainStats
	for _, d := range tableDefs {
		if err := l.compact(ctx, d, opts.MaxFiles, &st); err != nil {
			return st, err
		}
		t, err := l.cat.Load(ctx, d.name)
		if err != nil {
			return st, err
		}
		if t == nil {
			continue
		}
		before := len(t.Metadata().Snapshots())
		if expirable(t, opts.Retention) == 0 {
			// Nothing to expire: no commit (and no new metadata file).
			if err := l.deleteOrphans(ctx, t, opts.OrphanAge, &st); err != nil {
				return st, err
			}
			continue
		}
		txn := t.NewTransaction()
		if err := txn.ExpireSnapshots(table.WithOlderThan(opts.Retention), table.WithRetainLast(1), table.WithPostCommit(false)); err != nil {
			return st, fmt.Errorf("expiring snapshots of %s: %w", d.name, err)
		}
		if t, err = txn.Commit(ctx); err != nil {
			return st, fmt.Errorf("expiring snapshots of %s: %w", d.name, err)
		}
		st.SnapshotsExpired += before - len(t.Metadata().Snapshots())
		if err := l.deleteOrphans(ctx, t, opts.OrphanAge, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// expirable counts the snapshots older than the retention, the current one
// aside.
func expirable(t *table.Table, retention time.Duration) int {
	cur := t.CurrentSnapshot()
	limit := time.Now().Add(-retention).UnixMilli()
	n := 0
	for _, s := range t.Metadata().Snapshots() {
		if (cur == nil || s.SnapshotID != cur.SnapshotID) && s.TimestampMs < limit {
			n++
		}
	}
	return n
}

func (l *Lake) deleteOrphans(ctx context.Context, t *table.Table, age time.Duration, st *MaintainStats) error {
	res, err := t.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(age))
	if err != nil {
		return fmt.Errorf("deleting orphan files of %s: %w", t.Identifier(), err)
	}
	st.OrphansDeleted += len(res.DeletedFiles)
	return nil
}

// compact rewrites each day partition of a table that holds more than
// maxFiles data files into one file: one overwrite snapshot per partition,
// carrying the batch number of the snapshot it compacts (its rows are the
// same, so a View sees it in place of that one).
func (l *Lake) compact(ctx context.Context, d tableDef, maxFiles int, st *MaintainStats) error {
	t, err := l.cat.Load(ctx, d.name)
	if err != nil || t == nil || t.CurrentSnapshot() == nil {
		return err
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("compacting %s: %w", d.name, err)
	}
	files := map[int32]int{}
	for _, task := range tasks {
		day, err := partitionDay(task.File.Partition())
		if err != nil {
			return fmt.Errorf("compacting %s: file %s: %w", d.name, task.File.FilePath(), err)
		}
		files[day]++
	}
	var days []int32
	for day, n := range files {
		if n > maxFiles {
			days = append(days, day)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	for _, day := range days {
		if err := l.compactDay(ctx, d, day); err != nil {
			return err
		}
		st.PartitionsCompacted++
		st.FilesCompacted += files[day]
	}
	return nil
}

// partitionDay reads the day (days since 1970-01-01) of a one-field
// partition.
func partitionDay(p map[int]any) (int32, error) {
	for _, v := range p {
		switch v := v.(type) {
		case int32:
			return v, nil
		case iceberg.Date:
			return int32(v), nil
		case int64:
			return int32(v), nil
		case int:
			return int32(v), nil
		default:
			return 0, fmt.Errorf("partition value %v is %T, not a day", v, v)
		}
	}
	return 0, fmt.Errorf("no partition value")
}

func (l *Lake) compactDay(ctx context.Context, d tableDef, day int32) error {
	t, err := l.cat.Load(ctx, d.name)
	if err != nil {
		return err
	}
	cur := t.CurrentSnapshot()
	date := time.Unix(int64(day)*86400, 0).UTC()
	filter := d.rangeFilter(date, date)
	_, recs, err := t.Scan(table.WithRowFilter(filter), table.WithSnapshotID(cur.SnapshotID)).
		ToArrowRecords(compute.WithAllocator(ctx, l.mem))
	if err != nil {
		return fmt.Errorf("compacting %s %s: %w", d.name, date.Format(time.DateOnly), err)
	}
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("compacting %s %s: %w", d.name, date.Format(time.DateOnly), err)
		}
		batches = append(batches, rec)
	}
	if len(batches) == 0 {
		return nil
	}
	schema := batches[0].Schema()
	one, err := concat(schema, batches, l.mem)
	if err != nil {
		return fmt.Errorf("compacting %s %s: %w", d.name, date.Format(time.DateOnly), err)
	}
	defer one.Release()
	rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{one})
	if err != nil {
		return err
	}
	defer rdr.Release()
	seq := "0"
	if cur.Summary != nil && cur.Summary.Properties[BatchSeqProperty] != "" {
		seq = cur.Summary.Properties[BatchSeqProperty]
	}
	props := iceberg.Properties{
		BatchIDProperty:  "maintain-" + strconv.FormatInt(time.Now().UnixMilli(), 10),
		BatchSeqProperty: seq,
	}
	txn := t.NewTransaction()
	if err := txn.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(filter)); err != nil {
		return fmt.Errorf("compacting %s %s: %w", d.name, date.Format(time.DateOnly), err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("compacting %s %s: %w", d.name, date.Format(time.DateOnly), err)
	}
	return nil
}
