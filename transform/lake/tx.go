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
	"time"

	"callstats/extract/graph"
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

// PutGraph stages a Teams call record. A record that is not newer than the
// lake's copy (by version, then last modified time) changes nothing but the
// ledger's fetch time.
func (tx *Tx) PutGraph(ctx context.Context, rec *graph.CallRecord) (Change, error) {
	if tx.done {
		return 0, errors.New("transaction already finished")
	}
	if _, ok := tx.entries[rec.ID]; ok {
		return 0, fmt.Errorf("putting call %s: %w", rec.ID, ErrStaged)
	}
	e := &Entry{
		ID: rec.ID, Source: "teams", Version: rec.Version,
		LastModified: rec.LastModifiedDateTime.UTC(), Fetched: tx.now,
		Date: transform.PartitionDate(rec.StartDateTime), Group: tx.group,
	}
	change := Added
	if old, ok := tx.l.ledger.entries[rec.ID]; ok {
		if !newer(e, old) {
			refreshed := *old
			refreshed.Fetched = tx.now
			tx.entries[rec.ID] = &refreshed
			tx.stats.Unchanged++
			return Unchanged, nil
		}
		k := groupKey(old.Date, old.Group)
		if tx.drop[k] == nil {
			tx.drop[k] = map[string]struct{}{}
		}
		tx.drop[k][rec.ID] = struct{}{}
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
	p.b.AddGraph(rec, tx.now)
	tx.entries[rec.ID] = e
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
	for _, t := range transform.GraphTables {
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
	for _, t := range transform.GraphTables {
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
		for _, t := range transform.GraphTables {
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
	// Rewrites of the groups holding replaced calls.
	overrides := map[string]*Entry{}
	for id, e := range tx.entries {
		overrides[id] = e
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
		for id := range old {
			date, group = tx.l.ledger.entries[id].Date, tx.l.ledger.entries[id].Group
			break
		}
		if date == "" {
			continue
		}
		newGroup := fmt.Sprintf("%s-r%d", tx.group, i)
		kept := false
		for _, t := range tx.l.tables() {
			src := tx.l.partPath(t, date, group)
			if _, err := os.Stat(src); err != nil {
				continue
			}
			w, err := copyWithout(ctx, src, tx.l.partPath(t, date, newGroup), tx.drop[k], tx.l.mem)
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
		for id := range old {
			if _, gone := tx.drop[k][id]; gone {
				continue
			}
			if !kept {
				return fail(fmt.Errorf("rewriting group %s: call %s is in the ledger but no file holds it", k, id))
			}
			moved := *tx.l.ledger.entries[id]
			moved.Group = newGroup
			overrides[id] = &moved
		}
	}
	// Ledger shards of every date whose entries changed.
	dirty := map[string]bool{}
	for id, e := range overrides {
		dirty[e.Date] = true
		if old, ok := tx.l.ledger.entries[id]; ok {
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
		if err := syncDir(filepath.Dir(p)); err != nil {
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
	if err := WriteFileAtomic(tx.l.journalPath(), b); err != nil {
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
