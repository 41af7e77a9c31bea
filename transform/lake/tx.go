package lake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/extract/graph"
	"callstats/internal/atomicfile"
	"callstats/transform"
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
	rowCap  int
	done    bool
}

// datePart holds the rows being staged for one partition date.
type datePart struct {
	b       *transform.Builder
	writers map[transform.Table]*partWriter
}

// Begin starts a transaction; now stamps ingested_at and the ledger's fetch time.
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
		rowCap:  64 << 10,
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
	Source string // "teams", "ringcentral", "pstn", "direct_routing"
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

// PutGraph stages a Teams call record, notified at the given time (zero if
// it was not notified).
func (tx *Tx) PutGraph(ctx context.Context, rec *graph.CallRecord, notified time.Time) (Change, error) {
	it := Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime,
		Start: rec.StartDateTime, Notified: notified}
	return tx.Put(ctx, it, func(b *transform.Builder, ingestedAt time.Time) { b.AddGraph(rec, ingestedAt) })
}

// Put stages an item whose rows add writes into a builder. An item that is
// not newer than the lake's copy changes nothing but the ledger's fetch time.
func (tx *Tx) Put(ctx context.Context, it Item, add func(b *transform.Builder, ingestedAt time.Time)) (Change, error) {
	if tx.done {
		return 0, errors.New("transaction already finished")
	}
	if it.Source == "" || strings.Contains(it.Source, "/") || it.ID == "" {
		return 0, fmt.Errorf("putting %s item %q: source and id are required", it.Source, it.ID)
	}
	e := &Entry{
		// The ledger outlives the record: copy the id, which a decoder may
		// have pointed into the record's whole JSON text.
		ID: strings.Clone(it.ID), Source: strings.Clone(it.Source), Version: it.Version,
		LastModified: it.LastModified.UTC(), Fetched: tx.now, Notified: it.Notified.UTC(),
		Date: transform.PartitionDate(it.Start), Group: tx.group,
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
		p = &datePart{b: transform.NewBuilder(tx.l.mem), writers: map[transform.Table]*partWriter{}}
		tx.parts[e.Date] = p
	}
	add(p.b, tx.now)
	tx.entries[key] = e
	if tx.maxRows(p) >= tx.rowCap {
		if err := tx.flush(e.Date, p); err != nil {
			return 0, err
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

func (tx *Tx) maxRows(p *datePart) int {
	m := 0
	for _, t := range transform.AllTables {
		m = max(m, p.b.Rows(t))
	}
	return m
}

// flush writes the rows built so far for a date into its staged files.
func (tx *Tx) flush(date string, p *datePart) error {
	recs := p.b.Records()
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, t := range transform.AllTables {
		r, ok := recs[t]
		if !ok || r.NumRows() == 0 {
			continue
		}
		w := p.writers[t]
		if w == nil {
			var err error
			w, err = newPartWriter(tx.l.partPath(string(t), date, tx.group), transform.Schema(t), tx.l.mem)
			if err != nil {
				return fmt.Errorf("staging %s for %s: %w", t, date, err)
			}
			p.writers[t] = w
		}
		if err := w.write(r); err != nil {
			return err
		}
		tx.stats.Rows[string(t)] += r.NumRows()
	}
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
		for _, w := range p.writers {
			w.abort()
		}
		p.b.Release()
	}
	for _, w := range tx.files {
		w.abort()
	}
}

// Commit makes the transaction durable and visible. On error nothing of it is
// in the lake (or, past the journal, a later Open finishes it).
func (tx *Tx) Commit(ctx context.Context) (Stats, error) {
	if tx.done {
		return Stats{}, errors.New("transaction already finished")
	}
	var staged []string // staged files to remove if the commit fails before the journal
	fail := func(err error) (Stats, error) {
		tx.Abort()
		for _, p := range staged {
			os.Remove(p)
		}
		return Stats{}, err
	}
	var j journal
	// New groups.
	dates := make([]string, 0, len(tx.parts))
	for d := range tx.parts {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	for _, d := range dates {
		p := tx.parts[d]
		if err := tx.flush(d, p); err != nil {
			return fail(err)
		}
		p.b.Release()
		for _, t := range transform.AllTables {
			w := p.writers[t]
			if w == nil {
				continue
			}
			delete(p.writers, t)
			if err := w.finish(); err != nil {
				return fail(err)
			}
			staged = append(staged, w.tmp)
			j.Renames = append(j.Renames, rename{From: w.tmp, To: w.final})
			tx.stats.FilesWritten++
		}
	}
	for len(tx.files) > 0 {
		w := tx.files[0]
		tx.files = tx.files[1:]
		if err := w.finish(); err != nil {
			return fail(err)
		}
		staged = append(staged, w.tmp)
		j.Renames = append(j.Renames, rename{From: w.tmp, To: w.final})
		tx.stats.FilesWritten++
	}
	// Rewrites of the groups holding replaced calls.
	overrides := map[string]*Entry{}
	for k, e := range tx.entries {
		overrides[k] = e
	}
	keys := make([]string, 0, len(tx.drop))
	for k := range tx.drop {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		old := tx.l.ledger.groups[k]
		var date, group string
		for key := range old {
			date, group = tx.l.ledger.entries[key].Date, tx.l.ledger.entries[key].Group
			break
		}
		if date == "" {
			continue
		}
		// Rows carry the item's id, not its source: drop by id.
		ids := make(map[string]struct{}, len(tx.drop[k]))
		for key := range tx.drop[k] {
			ids[key[strings.IndexByte(key, '/')+1:]] = struct{}{}
		}
		newGroup := fmt.Sprintf("%s-r%d", tx.group, i)
		kept := false
		for _, t := range tx.l.tables() {
			src := tx.l.partPath(t, date, group)
			if _, err := os.Stat(src); err != nil {
				continue
			}
			w, err := copyWithout(ctx, src, tx.l.partPath(t, date, newGroup), keyColumn(t), ids, tx.l.mem)
			if err != nil {
				return fail(fmt.Errorf("rewriting %s: %w", src, err))
			}
			j.Removes = append(j.Removes, src)
			tx.stats.FilesRemoved++
			if w != nil {
				kept = true
				staged = append(staged, w.tmp)
				j.Renames = append(j.Renames, rename{From: w.tmp, To: w.final})
				tx.stats.FilesWritten++
			}
		}
		tx.stats.GroupsRewritten++
		for key := range old {
			if _, gone := tx.drop[k][key]; gone {
				continue
			}
			if !kept {
				return fail(fmt.Errorf("rewriting group %s: %s is in the ledger but no file holds it", k, key))
			}
			moved := *tx.l.ledger.entries[key]
			moved.Group = newGroup
			overrides[key] = &moved
		}
	}
	// Ledger shards of every date whose entries changed.
	dirty := map[string]bool{}
	for key, e := range overrides {
		dirty[e.Date] = true
		if old, ok := tx.l.ledger.entries[key]; ok {
			dirty[old.Date] = true
		}
	}
	for d := range dirty {
		final := tx.l.ledger.shardPath(d)
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return fail(err)
		}
		tmp := tmpName(final)
		if err := writeSynced(tmp, tx.l.ledger.encodeShard(d, overrides)); err != nil {
			return fail(fmt.Errorf("staging ledger %s: %w", d, err))
		}
		staged = append(staged, tmp)
		j.Renames = append(j.Renames, rename{From: tmp, To: final})
	}
	names := make([]string, 0, len(tx.state))
	for n := range tx.state {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		final := filepath.Join(tx.l.stateDir, n)
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return fail(err)
		}
		tmp := tmpName(final)
		if err := writeSynced(tmp, tx.state[n]); err != nil {
			return fail(fmt.Errorf("staging state %s: %w", n, err))
		}
		staged = append(staged, tmp)
		j.Renames = append(j.Renames, rename{From: tmp, To: final})
	}
	for _, p := range staged {
		if err := atomicfile.SyncDir(filepath.Dir(p)); err != nil {
			return fail(err)
		}
	}
	if err := crashPoint("staged"); err != nil {
		return fail(err)
	}
	// The commit point.
	b, err := json.Marshal(&j)
	if err != nil {
		return fail(err)
	}
	if err := atomicfile.WriteFile(tx.l.journalPath(), b); err != nil {
		return fail(fmt.Errorf("writing journal: %w", err))
	}
	tx.done = true
	if err := crashPoint("journaled"); err != nil {
		return Stats{}, err
	}
	if err := tx.l.apply(&j); err != nil {
		return Stats{}, fmt.Errorf("applying commit (the next run finishes it): %w", err)
	}
	for _, e := range overrides {
		tx.l.ledger.put(e)
	}
	return tx.stats, nil
}

// tables lists the table directories present in the lake.
func (l *Lake) tables() []string {
	es, err := os.ReadDir(l.dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range es {
		if e.IsDir() && !isTmp(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// keyColumn names the column that holds a row's item id in a table.
func keyColumn(table string) string {
	switch table {
	case "pstn_calls", "direct_routing_calls":
		return "id"
	}
	return "call_id"
}
