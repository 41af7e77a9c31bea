package iceberg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"callstats/internal/atomicfile"
	"callstats/transform"
	"callstats/transform/lake"
)

// Tx is one batch: the items put into it reach the tables together at
// Commit, or not at all. It is a jobs.SinkTx.
type Tx struct {
	l     *Lake
	batch string
	now   time.Time
	// recs are the rows staged per table, in the tables' schemas (child
	// tables with CallStartColumn).
	recs    map[string][]arrow.RecordBatch
	entries map[string]*record
	// replaced are the index records of the items whose rows go.
	replaced []*record
	files    []putFile
	// pending are the changes Commit is committing; each owns its batches.
	pending map[string]*change
	state   map[string][]byte
	stats   lake.Stats
	done    bool
}

// putFile is a PutFile call: the rows of a table's partition whose key
// column holds name are replaced by rec.
type putFile struct {
	table, date, name string
	rec               arrow.RecordBatch
}

// Begin starts a batch; now is the index's fetch time of its items.
func (l *Lake) Begin(now time.Time) *Tx {
	l.n++
	var r [6]byte
	rand.Read(r[:])
	return &Tx{
		l:       l,
		batch:   fmt.Sprintf("%s-%s-%d", now.UTC().Format("20060102T150405"), hex.EncodeToString(r[:]), l.n),
		now:     now.UTC(),
		recs:    map[string][]arrow.RecordBatch{},
		entries: map[string]*record{},
		state:   map[string][]byte{},
		stats:   lake.Stats{Rows: map[string]int64{}},
	}
}

// Batch is the batch id that goes into every snapshot summary of the batch.
func (tx *Tx) Batch() string { return tx.batch }

// Len is the number of items staged (added, replaced or refreshed).
func (tx *Tx) Len() int { return len(tx.entries) }

// Put stages items with their rows: per table (named as in
// transform.AllTables), one record batch of the plain lake's schema holding
// the rows of every item, each row naming its item by the table's key
// column. An item that is not newer than the lake's copy changes nothing but
// the index's fetch time, and its rows are not written. The caller keeps
// ownership of rows.
func (tx *Tx) Put(ctx context.Context, items []lake.Item, rows map[string]arrow.RecordBatch) ([]lake.Change, error) {
	if tx.done {
		return nil, errors.New("transaction already finished")
	}
	for t, rec := range rows {
		d, ok := defOf(t)
		if !ok || d.name == string(transform.Reconcile) {
			return nil, fmt.Errorf("putting rows: table %q is not a table of items", t)
		}
		if want := transform.Schema(transform.Table(t)); !rec.Schema().Equal(want) {
			return nil, fmt.Errorf("putting rows of %s: schema %s is not the table's", t, rec.Schema())
		}
	}
	byID := make(map[string]int, len(items))
	for i, it := range items {
		if it.Source == "" || strings.Contains(it.Source, "/") || it.ID == "" {
			return nil, fmt.Errorf("putting %s item %q: source and id are required", it.Source, it.ID)
		}
		if _, dup := byID[it.ID]; dup {
			return nil, fmt.Errorf("putting %s %s: two items of one Put share the id", it.Source, it.ID)
		}
		byID[it.ID] = i
		if _, ok := tx.entries[itemKey(it.Source, it.ID)]; ok {
			return nil, fmt.Errorf("putting %s %s: %w", it.Source, it.ID, lake.ErrStaged)
		}
	}
	// Split every table's rows by item before staging anything, so that a
	// row naming no item of the Put fails the Put whole.
	type tableRows struct {
		name string
		idx  []int // item of each row
	}
	split := make([]tableRows, 0, len(rows))
	for _, t := range slices.Sorted(maps.Keys(rows)) {
		rec := rows[t]
		d, _ := defOf(t)
		col := rec.Schema().FieldIndices(d.key)
		if len(col) != 1 {
			return nil, fmt.Errorf("putting rows of %s: no %s column", t, d.key)
		}
		ids, ok := rec.Column(col[0]).(*array.String)
		if !ok {
			return nil, fmt.Errorf("putting rows of %s: %s is %s, not a string", t, d.key, rec.Column(col[0]).DataType())
		}
		idx := make([]int, rec.NumRows())
		for row := range idx {
			i, ok := byID[ids.Value(row)]
			if ids.IsNull(row) || !ok {
				return nil, fmt.Errorf("putting rows of %s: row %d names %q, not an item of the Put", t, row, ids.Value(row))
			}
			idx[row] = i
		}
		split = append(split, tableRows{name: t, idx: idx})
	}
	changes := make([]lake.Change, len(items))
	staged := make([]*record, len(items))
	for i, it := range items {
		changes[i], staged[i] = tx.stage(it)
	}
	for _, tr := range split {
		seen := make([]bool, len(items))
		for _, i := range tr.idx {
			if !seen[i] && changes[i] != lake.Unchanged {
				seen[i] = true
				staged[i].Tables = append(staged[i].Tables, tr.name)
			}
		}
		if err := tx.addRows(tr.name, rows[tr.name], tr.idx, items, changes); err != nil {
			return nil, err
		}
	}
	return changes, ctx.Err()
}

// stage puts an item's index record into the batch and says what it
// changes; the record is nil when the item is unchanged.
func (tx *Tx) stage(it lake.Item) (lake.Change, *record) {
	r := &record{Entry: lake.Entry{
		// The index outlives the record: copy the id, which a decoder may
		// have pointed into the record's whole JSON text.
		ID: strings.Clone(it.ID), Source: strings.Clone(it.Source), Version: it.Version,
		LastModified: it.LastModified.UTC(), Fetched: tx.now, Notified: it.Notified.UTC(),
		Date: transform.PartitionDate(it.Start),
	}}
	key := r.key()
	old, ok := tx.l.index.items[key]
	if !ok {
		tx.entries[key] = r
		tx.stats.Added++
		return lake.Added, r
	}
	if old.Notified.After(r.Notified) {
		r.Notified = old.Notified
	}
	if !newer(&r.Entry, &old.Entry) {
		refreshed := *old
		refreshed.Fetched = tx.now
		if r.Notified.After(refreshed.Notified) {
			refreshed.Notified = r.Notified
		}
		tx.entries[key] = &refreshed
		tx.stats.Unchanged++
		return lake.Unchanged, nil
	}
	tx.replaced = append(tx.replaced, old)
	tx.entries[key] = r
	tx.stats.Replaced++
	return lake.Replaced, r
}

// addRows stages the rows of one table whose items are written (all of
// them, usually), adding CallStartColumn (the item's start) to a child
// table's rows.
func (tx *Tx) addRows(table string, rec arrow.RecordBatch, idx []int, items []lake.Item, changes []lake.Change) error {
	if rec.NumRows() == 0 {
		return nil
	}
	d, _ := defOf(table)
	var kept []arrow.RecordBatch
	for i := 0; i < len(idx); {
		keep := changes[idx[i]] != lake.Unchanged
		j := i + 1
		for j < len(idx) && (changes[idx[j]] != lake.Unchanged) == keep {
			j++
		}
		if keep {
			kept = append(kept, rec.NewSlice(int64(i), int64(j)))
		}
		i = j
	}
	if len(kept) == 0 {
		return nil
	}
	sub, err := concat(rec.Schema(), kept, tx.l.mem)
	for _, k := range kept {
		k.Release()
	}
	if err != nil {
		return fmt.Errorf("putting rows of %s: %w", table, err)
	}
	if !d.childOfCall {
		tx.recs[table] = append(tx.recs[table], sub)
		return nil
	}
	defer sub.Release()
	sb := array.NewTimestampBuilder(tx.l.mem, tsType)
	defer sb.Release()
	sb.Reserve(int(sub.NumRows()))
	for _, i := range idx {
		if changes[i] != lake.Unchanged {
			sb.UnsafeAppend(arrow.Timestamp(items[i].Start.UnixMicro()))
		}
	}
	starts := sb.NewArray()
	defer starts.Release()
	cols := append(slices.Clone(sub.Columns()), starts)
	tx.recs[table] = append(tx.recs[table], array.NewRecordBatch(d.arrow, cols, sub.NumRows()))
	return nil
}

// newer reports whether e is a later state of the item than old.
func newer(e, old *lake.Entry) bool {
	if e.Version != old.Version {
		return e.Version > old.Version
	}
	return e.LastModified.After(old.LastModified)
}

// PutFile replaces the rows of a table's partition (a date, YYYY-MM-DD)
// whose key column holds name by the rows of rec: for small tables kept per
// day, such as the reconcile table (key column source). The plain lake's
// Tx.PutFile replaces the file of that name; the rows are the same.
func (tx *Tx) PutFile(table, date, name string, rec arrow.RecordBatch) error {
	if tx.done {
		return errors.New("transaction already finished")
	}
	d, ok := defOf(table)
	if !ok || !d.identity {
		return fmt.Errorf("putting a file into %s: not a table kept per day", table)
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return fmt.Errorf("putting a file into %s: date %q: %w", table, date, err)
	}
	for _, f := range tx.files {
		if f.table == table && f.date == date && f.name == name {
			return fmt.Errorf("putting %s/%s/%s: already staged in this transaction", table, date, name)
		}
	}
	if !rec.Schema().Equal(d.arrow) {
		return fmt.Errorf("putting a file into %s: schema %s is not the table's", table, rec.Schema())
	}
	rec.Retain()
	tx.files = append(tx.files, putFile{table: table, date: date, name: name, rec: rec})
	tx.stats.Rows[table] += rec.NumRows()
	return nil
}

// SetState stages a state file to be replaced in the same commit as the
// tables, so that both always agree.
func (tx *Tx) SetState(name string, data []byte) { tx.state[name] = data }

// Abort drops everything staged.
func (tx *Tx) Abort() {
	if tx.done {
		return
	}
	tx.done = true
	tx.release()
}

func (tx *Tx) release() {
	for _, rs := range tx.recs {
		for _, r := range rs {
			r.Release()
		}
	}
	tx.recs = nil
	for _, f := range tx.files {
		f.rec.Release()
	}
	tx.files = nil
	for _, c := range tx.pending {
		c.release()
	}
	tx.pending = nil
}

// change is what a batch does to one table.
type change struct {
	recs   []arrow.RecordBatch
	filter iceberg.BooleanExpression // rows that go; nil for none
}

// release frees the change's batches (once they are written).
func (c *change) release() {
	for _, r := range c.recs {
		r.Release()
	}
	c.recs = nil
}

// changes gathers the batch's rows and deletions per table, moving the
// staged batches into them (tx.pending).
func (tx *Tx) changes() (map[string]*change, error) {
	out := map[string]*change{}
	tx.pending = out
	get := func(t string) *change {
		if out[t] == nil {
			out[t] = &change{}
		}
		return out[t]
	}
	for t, rs := range tx.recs {
		get(t).recs = rs
		for _, r := range rs {
			tx.stats.Rows[t] += r.NumRows()
		}
	}
	tx.recs = nil
	// Rows of replaced items, per table and partition date.
	drop := map[string]map[string][]string{}
	for _, old := range tx.replaced {
		for _, t := range old.Tables {
			if drop[t] == nil {
				drop[t] = map[string][]string{}
			}
			drop[t][old.Date] = append(drop[t][old.Date], old.ID)
		}
	}
	for t, byDate := range drop {
		d, ok := defOf(t)
		if !ok {
			return nil, fmt.Errorf("index names table %s, which the lake does not have", t)
		}
		var ids []string
		var days []iceberg.BooleanExpression
		for date, is := range byDate {
			ids = append(ids, is...)
			e, err := d.dayFilter(date)
			if err != nil {
				return nil, err
			}
			days = append(days, e)
		}
		get(t).filter = iceberg.NewAnd(iceberg.IsIn(iceberg.Reference(d.key), ids...), or(days))
	}
	for _, f := range tx.files {
		d, _ := defOf(f.table)
		day, err := d.dayFilter(f.date)
		if err != nil {
			return nil, err
		}
		e := iceberg.NewAnd(day, iceberg.EqualTo(iceberg.Reference(d.key), f.name))
		c := get(f.table)
		if c.filter == nil {
			c.filter = e
		} else {
			c.filter = iceberg.NewOr(c.filter, e)
		}
		f.rec.Retain()
		c.recs = append(c.recs, f.rec)
	}
	return out, nil
}

func or(es []iceberg.BooleanExpression) iceberg.BooleanExpression {
	if len(es) == 1 {
		return es[0]
	}
	return iceberg.NewOr(es[0], es[1], es[2:]...)
}

// dayFilter selects the rows of a partition date.
func (d tableDef) dayFilter(date string) (iceberg.BooleanExpression, error) {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, fmt.Errorf("table %s: partition date %q: %w", d.name, date, err)
	}
	return d.rangeFilter(day, day), nil
}

// rangeFilter selects the rows of the partitions of dates from..to (UTC
// midnights, inclusive).
func (d tableDef) rangeFilter(from, to time.Time) iceberg.BooleanExpression {
	ref := iceberg.Reference(d.partCol)
	if d.identity {
		return iceberg.NewAnd(
			iceberg.GreaterThanEqual(ref, iceberg.Date(from.Unix()/86400)),
			iceberg.LessThanEqual(ref, iceberg.Date(to.Unix()/86400)))
	}
	return iceberg.NewAnd(
		iceberg.GreaterThanEqual(ref, iceberg.Timestamp(from.UnixMicro())),
		iceberg.LessThan(ref, iceberg.Timestamp(to.AddDate(0, 0, 1).UnixMicro())))
}

// Commit makes the batch durable and visible: one snapshot per changed
// table, calls (the seal) last. On error the batch is undone (or, if that
// fails too, the next Open finishes or undoes it).
func (tx *Tx) Commit(ctx context.Context) (lake.Stats, error) {
	if tx.done {
		return lake.Stats{}, errors.New("transaction already finished")
	}
	tx.done = true
	defer tx.release()
	l := tx.l
	chs, err := tx.changes()
	if err != nil {
		return lake.Stats{}, err
	}
	in := intent{Batch: tx.batch, Seq: l.seq + 1}
	for _, d := range tableDefs {
		if chs[d.name] != nil {
			in.Tables = append(in.Tables, d.name)
		}
	}
	if len(in.Tables) > 0 && in.Tables[len(in.Tables)-1] != string(transform.Calls) {
		in.Tables = append(in.Tables, string(transform.Calls)) // the seal alone
	}
	// Stage the index shards and state files.
	var staged []string
	fail := func(err error) (lake.Stats, error) {
		for _, p := range staged {
			os.Remove(p)
		}
		return lake.Stats{}, err
	}
	dirty := map[string]bool{}
	for k, r := range tx.entries {
		dirty[r.Date] = true
		if old, ok := l.index.items[k]; ok {
			dirty[old.Date] = true
		}
	}
	stage := func(final string, data []byte) error {
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return err
		}
		tmp := tmpName(final)
		staged = append(staged, tmp)
		if err := atomicfile.WriteFile(tmp, data); err != nil {
			return fmt.Errorf("staging %s: %w", final, err)
		}
		in.Renames = append(in.Renames, rename{From: tmp, To: final})
		return nil
	}
	for d := range dirty {
		if err := stage(l.index.shardPath(d), l.index.encodeShard(d, tx.entries)); err != nil {
			return fail(err)
		}
	}
	for n, data := range tx.state {
		if err := stage(l.statePath(n), data); err != nil {
			return fail(err)
		}
	}
	if len(in.Tables) == 0 && len(in.Renames) == 0 {
		return tx.stats, nil
	}
	b, err := json.Marshal(&in)
	if err != nil {
		return fail(err)
	}
	if err := atomicfile.WriteFile(l.intentPath(), b); err != nil {
		return fail(fmt.Errorf("writing intent: %w", err))
	}
	for _, name := range in.Tables {
		if err := tx.commitTable(ctx, name, chs[name], in.Seq); err != nil {
			return lake.Stats{}, tx.abandon(&in, err)
		}
		if l.afterTable != nil {
			if err := l.afterTable(name); err != nil {
				return lake.Stats{}, err // a simulated crash: the intent stays
			}
		}
	}
	if err := applyRenames(in.Renames); err != nil {
		return lake.Stats{}, fmt.Errorf("committing batch %s (the next Open finishes it): %w", tx.batch, err)
	}
	if err := os.Remove(l.intentPath()); err != nil {
		return lake.Stats{}, fmt.Errorf("committing batch %s (the next Open finishes it): %w", tx.batch, err)
	}
	if len(in.Tables) > 0 {
		l.seq = in.Seq
	}
	for _, r := range tx.entries {
		l.index.put(r)
	}
	return tx.stats, nil
}

// abandon undoes a batch whose table commit failed.
func (tx *Tx) abandon(in *intent, cause error) error {
	// A fresh context: the batch's may be what was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tx.l.settle(ctx, in); err != nil {
		return fmt.Errorf("committing batch %s: %w (undoing it failed too, the next Open retries: %v)", tx.batch, cause, err)
	}
	return fmt.Errorf("committing batch %s: %w", tx.batch, cause)
}

// commitTable commits one table's snapshot of the batch.
func (tx *Tx) commitTable(ctx context.Context, name string, ch *change, seq int64) error {
	l := tx.l
	d, _ := defOf(name)
	t, err := l.cat.ensure(ctx, d)
	if err != nil {
		return err
	}
	txn := t.NewTransaction()
	props := iceberg.Properties{BatchIDProperty: tx.batch, BatchSeqProperty: strconv.FormatInt(seq, 10)}
	if ch != nil {
		parts, err := writeOrder(ctx, d, ch.recs, l.mem)
		ch.recs = nil // taken over by writeOrder
		if err != nil {
			return err
		}
		rdr, err := array.NewRecordReader(d.arrow, parts)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		if ch.filter != nil {
			err = txn.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(ch.filter))
		} else {
			err = txn.Append(ctx, rdr, props)
		}
		rdr.Release()
		if err != nil {
			return fmt.Errorf("writing table %s: %w", name, err)
		}
	}
	if name == string(transform.Calls) {
		if err := txn.SetProperties(iceberg.Properties{SealProperty: strconv.FormatInt(seq, 10)}); err != nil {
			return err
		}
	}
	nt, err := txn.Commit(ctx)
	if err != nil {
		return fmt.Errorf("committing table %s: %w", name, err)
	}
	if ch != nil {
		if s := nt.CurrentSnapshot(); s != nil && s.Summary != nil {
			tx.stats.FilesWritten += atoi(s.Summary.Properties["added-data-files"])
			tx.stats.FilesRemoved += atoi(s.Summary.Properties["deleted-data-files"])
		}
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// concat joins batches of one schema into one (the batch itself when there
// is one, retained); nil when there are no rows.
func concat(schema *arrow.Schema, recs []arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	if rows == 0 {
		return nil, nil
	}
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}
