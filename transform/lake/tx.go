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
	parts   map[string]*datePart
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
		parts:   map[string]*datePart{},
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

// Len is the number of calls staged (added, replaced or refreshed).
func (tx *Tx) Len() int { return len(tx.entries) }

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

// PartitionDate is the partition ("2026-11-12") an item starting at start is
// filed under: its UTC date.
func PartitionDate(start time.Time) string { return start.UTC().Format(time.DateOnly) }

// Put stages an item with its rows: per declared table (see Options.Tables),
// a record batch whose key column holds it.ID in every row. An item that is
// not newer than the lake's copy changes nothing but the ledger's fetch time,
// and its rows are not written. Put retains what it keeps: the caller
// releases rows when Put returns.
func (tx *Tx) Put(ctx context.Context, it Item, rows map[string]arrow.RecordBatch) (Change, error) {
	if tx.done {
		return 0, errors.New("transaction already finished")
	}
	if it.Source == "" || strings.Contains(it.Source, "/") || it.ID == "" {
		return 0, fmt.Errorf("putting %s item %q: source and id are required", it.Source, it.ID)
	}
	for t := range rows {
		if _, ok := tx.l.keys[t]; !ok {
			return 0, fmt.Errorf("putting %s %s: table %q is not declared to the lake", it.Source, it.ID, t)
		}
	}
	e := &Entry{
		// The ledger outlives the record: copy the id, which a decoder may
		// have pointed into the record's whole JSON text.
		ID: strings.Clone(it.ID), Source: strings.Clone(it.Source), Version: it.Version,
		LastModified: it.LastModified.UTC(), Fetched: tx.now, Notified: it.Notified.UTC(),
		Date: PartitionDate(it.Start), Group: tx.group,
	}
	key := e.key()
	if _, ok := tx.entries[key]; ok {
		return 0, fmt.Errorf("putting %s %s: %w", it.Source, it.ID, ErrStaged)
	}
	change := Added
	if old, ok := tx.l.ledger.entries[key]; ok {
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
			return Unchanged, nil
		}
		k := groupKey(old.Date, old.Group)
		if tx.drop[k] == nil {
			tx.drop[k] = map[string]struct{}{}
		}
		tx.drop[k][key] = struct{}{}
		change = Replaced
		tx.stats.Replaced++
	} else {
		tx.stats.Added++
	}
	p := tx.parts[e.Date]
	if p == nil {
		p = &datePart{}
		tx.parts[e.Date] = p
	}
	tx.entries[key] = e
	for t, rec := range rows {
		tr := (*p)[t]
		if tr == nil {
			tr = &tableRows{}
			(*p)[t] = tr
		}
		tr.add(rec)
		if tr.rows >= int64(tx.l.rowGroupRows) {
			if err := tx.flush(e.Date, t, tr); err != nil {
				return 0, err
			}
		}
	}
	return change, ctx.Err()
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
		tr.w, err = newPartWriter(tx.l.partPath(table, date, tx.group), rec.Schema(), tx.l.mem)
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
	w, err := newPartWriter(final, rec.Schema(), tx.l.mem)
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
		for _, tr := range *p {
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
