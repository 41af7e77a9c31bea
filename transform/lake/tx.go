package lake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Change says what putting a record did to the lake.
type Change int

// The changes a record can make.
const (
	// Added: the call was not in the lake.
	Added Change = iota
	// Replaced: a newer version replaces the rows of the older one.
	Replaced
	// Unchanged: the lake already holds this version (or a newer one).
	Unchanged
)

func (c Change) String() string {
	return [...]string{"added", "replaced", "unchanged"}[c]
}

// ErrStaged is returned by Put for a call already staged in the same
// transaction: commit first, then put it again.
var ErrStaged = errors.New("call already staged in this transaction")

// Stats count what a commit did.
type Stats struct {
	Added, Replaced, Unchanged int
	// Rows written per table (new rows, not rows copied by rewrites).
	Rows map[string]int64
	// FilesWritten and FilesRemoved count Parquet files.
	FilesWritten, FilesRemoved int
	// GroupsRewritten counts file groups rewritten to drop replaced calls.
	GroupsRewritten int
}

// Add accumulates another commit's counts.
func (s *Stats) Add(o Stats) {
	s.Added += o.Added
	s.Replaced += o.Replaced
	s.Unchanged += o.Unchanged
	s.FilesWritten += o.FilesWritten
	s.FilesRemoved += o.FilesRemoved
	s.GroupsRewritten += o.GroupsRewritten
	if s.Rows == nil {
		s.Rows = map[string]int64{}
	}
	for k, v := range o.Rows {
		s.Rows[k] += v
	}
}

// Tx is one transaction: the calls put into it reach the lake together at
// Commit, or not at all.
type Tx struct {
	l       *Lake
	group   string
	now     time.Time
	parts   map[string]datePart
	entries map[string]*Entry
	drop    map[string]map[string]struct{} // groupKey -> ids whose old rows go
	state   map[string][]byte
	files   []*partWriter // whole partition files replaced by PutFile
	stats   Stats
	done    bool
}

// datePart holds the rows being staged for one partition date, per table.
type datePart map[string]*tableRows

// Begin starts a transaction; now stamps the ledger's fetch time.
func (l *Lake) Begin(now time.Time) *Tx {
	l.seq++
	return &Tx{
		l:       l,
		group:   newGroupName(now, l.seq),
		now:     now.UTC(),
		parts:   map[string]datePart{},
		entries: map[string]*Entry{},
		drop:    map[string]map[string]struct{}{},
		state:   map[string][]byte{},
		stats:   Stats{Rows: map[string]int64{}},
	}
}

// newGroupName names a file group: sortable by time, and unique even when the
// job clock is fixed (CALLSTATS_NOW) and runs repeat, thanks to its random part.
func newGroupName(now time.Time, seq int) string {
	var r [6]byte
	rand.Read(r[:])
	return fmt.Sprintf("part-%s-%s-%d", now.UTC().Format("20060102T150405"), hex.EncodeToString(r[:]), seq)
}

// Item describes a record put into the lake: which item it is and which of
// its states, so that an older state never replaces a newer one.
type Item struct {
	// Source is the kind of item (such as "teams" or "pstn"); it must not
	// contain '/'. Items of different sources never replace each other.
	Source string
	ID     string
	// Version and LastModified order the states of an item: a higher version
	// wins, then a later LastModified. Log rows that never change leave both zero.
	Version      int64
	LastModified time.Time
	// Start files the item under its UTC start date.
	Start time.Time
	// Notified is the latest notification the fetch covers (zero when the item
	// was found by reconciliation, not notified).
	Notified time.Time
}

// partitionDate is the partition ("2026-11-12") an item starting at start is
// filed under: its UTC date.
func partitionDate(start time.Time) string { return start.UTC().Format(time.DateOnly) }

// Put stages items with their rows: per declared table (see
// Options.Tables), one record batch holding the rows of all the items, each
// row naming its item in the table's key column. Items must have distinct
// ids. An item that is not newer than the lake's copy changes nothing but the
// ledger's fetch time, and its rows are dropped. Put returns what each item
// changes, in order. An item already staged in the transaction fails the
// whole Put with ErrStaged, staging nothing; after any other error, Abort.
// Put retains what it keeps: the caller releases rows when Put returns.
func (tx *Tx) Put(ctx context.Context, items []Item, rows map[string]arrow.RecordBatch) ([]Change, error) {
	if tx.done {
		return nil, errors.New("transaction already finished")
	}
	for t := range rows {
		if _, ok := tx.l.keys[t]; !ok {
			return nil, fmt.Errorf("putting rows: table %q is not declared to the lake", t)
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
			return nil, fmt.Errorf("putting %s %s: %w", it.Source, it.ID, ErrStaged)
		}
	}
	changes := make([]Change, len(items))
	dests := make([]dest, len(items))
	for i, it := range items {
		changes[i] = tx.stage(it)
		dests[i] = dest{date: partitionDate(it.Start), keep: changes[i] != Unchanged}
	}
	for t, rec := range rows {
		if err := tx.addRows(t, rec, byID, dests); err != nil {
			return nil, err
		}
	}
	return changes, ctx.Err()
}

// stage puts an item's ledger entry into the transaction and says what it
// changes.
func (tx *Tx) stage(it Item) Change {
	e := &Entry{
		// The ledger outlives the record: copy the id, which a decoder may
		// have pointed into the record's whole JSON text.
		ID: strings.Clone(it.ID), Source: strings.Clone(it.Source), Version: it.Version,
		LastModified: it.LastModified.UTC(), Fetched: tx.now, Notified: it.Notified.UTC(),
		Date: partitionDate(it.Start), Group: tx.group,
	}
	key := e.key()
	old, ok := tx.l.ledger.entries[key]
	if !ok {
		tx.entries[key] = e
		tx.stats.Added++
		return Added
	}
	if old.Notified.After(e.Notified) {
		e.Notified = old.Notified
	}
	if !newer(e, old) {
		refreshed := *old
		refreshed.Fetched = tx.now
		if e.Notified.After(refreshed.Notified) {
			refreshed.Notified = e.Notified
		}
		tx.entries[key] = &refreshed
		tx.stats.Unchanged++
		return Unchanged
	}
	k := groupKey(old.Date, old.Group)
	if tx.drop[k] == nil {
		tx.drop[k] = map[string]struct{}{}
	}
	tx.drop[k][key] = struct{}{}
	tx.entries[key] = e
	tx.stats.Replaced++
	return Replaced
}

// dest is where an item's rows go: its partition date, or nowhere.
type dest struct {
	date string
	keep bool
}

// addRows buffers the rows of one table: whole when all the items are kept
// and share a date (the usual case), else as slices, run by run.
func (tx *Tx) addRows(table string, rec arrow.RecordBatch, byID map[string]int, dests []dest) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if d, ok := sameDest(dests); ok {
		if d.keep {
			return tx.buffer(table, d.date, rec)
		}
		return nil
	}
	key := tx.l.keys[table]
	col := rec.Schema().FieldIndices(key)
	if len(col) != 1 {
		return fmt.Errorf("putting rows of %s: no %s column", table, key)
	}
	ids, ok := rec.Column(col[0]).(*array.String)
	if !ok {
		return fmt.Errorf("putting rows of %s: %s is %s, not a string", table, key, rec.Column(col[0]).DataType())
	}
	destOf := func(row int) (dest, error) {
		i, ok := byID[ids.Value(row)]
		if ids.IsNull(row) || !ok {
			return dest{}, fmt.Errorf("putting rows of %s: row %d names %q, not an item of the Put", table, row, ids.Value(row))
		}
		return dests[i], nil
	}
	n := int(rec.NumRows())
	for i := 0; i < n; {
		d, err := destOf(i)
		if err != nil {
			return err
		}
		j := i + 1
		for j < n {
			dj, err := destOf(j)
			if err != nil {
				return err
			}
			if dj != d {
				break
			}
			j++
		}
		if d.keep {
			s := rec.NewSlice(int64(i), int64(j))
			err := tx.buffer(table, d.date, s)
			s.Release()
			if err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// sameDest reports the destination all items share, if they do.
func sameDest(dests []dest) (dest, bool) {
	if len(dests) == 0 {
		return dest{}, false
	}
	for _, d := range dests[1:] {
		if d != dests[0] {
			return dest{}, false
		}
	}
	return dests[0], true
}

// buffer adds rows of a table to its date's buffer, writing the buffer out
// as a row group once it holds RowGroupRows rows.
func (tx *Tx) buffer(table, date string, rec arrow.RecordBatch) error {
	p := tx.parts[date]
	if p == nil {
		p = datePart{}
		tx.parts[date] = p
	}
	tr := p[table]
	if tr == nil {
		tr = &tableRows{}
		p[table] = tr
	}
	tr.add(rec)
	if tr.rows >= int64(tx.l.rowGroupRows) {
		return tx.flush(date, table, tr)
	}
	return nil
}

// newer reports whether e is a later state of the call than old.
func newer(e, old *Entry) bool {
	if e.Version != old.Version {
		return e.Version > old.Version
	}
	return e.LastModified.After(old.LastModified)
}

// flush writes the rows buffered for a table and date into its staged file,
// as one row group.
func (tx *Tx) flush(date, table string, tr *tableRows) error {
	rec, err := tr.take(tx.l.mem)
	if err != nil || rec == nil {
		return err
	}
	defer rec.Release()
	if tr.w == nil {
		tr.w, err = newPartWriter(tx.l.partPath(table, date, tx.group), rec.Schema(), tx.l.mem, tx.l.plain[table])
		if err != nil {
			return fmt.Errorf("staging %s for %s: %w", table, date, err)
		}
	}
	if err := tr.w.write(rec); err != nil {
		return err
	}
	tx.stats.Rows[table] += rec.NumRows()
	return nil
}

// PutFile stages a whole file of a table's partition, replacing the file of
// that name if there is one: for small tables kept per day, such as the
// reconcile table, one file per source and day.
func (tx *Tx) PutFile(table, date, name string, rec arrow.RecordBatch) error {
	if tx.done {
		return errors.New("transaction already finished")
	}
	final := filepath.Join(tx.l.dir, table, "date="+date, name+".parquet")
	for _, w := range tx.files {
		if w.final == final {
			return fmt.Errorf("putting %s: already staged in this transaction", final)
		}
	}
	w, err := newPartWriter(final, rec.Schema(), tx.l.mem, tx.l.plain[table])
	if err != nil {
		return fmt.Errorf("staging %s: %w", final, err)
	}
	tx.files = append(tx.files, w)
	if err := w.write(rec); err != nil {
		return err
	}
	tx.stats.Rows[table] += rec.NumRows()
	return nil
}

// SetState stages a state file (under the state directory) to be replaced in
// the same commit as the lake, so that both always agree.
func (tx *Tx) SetState(name string, data []byte) {
	tx.state[name] = data
}

// Abort drops everything staged.
func (tx *Tx) Abort() {
	if tx.done {
		return
	}
	tx.done = true
	for _, p := range tx.parts {
		for _, tr := range p {
			tr.release()
			if tr.w != nil {
				tr.w.abort()
			}
		}
	}
	for _, w := range tx.files {
		w.abort()
	}
}
