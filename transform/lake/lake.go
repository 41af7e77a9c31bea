// Package lake keeps the Parquet data lake: Hive-partitioned tables under one
// directory, changed only by transactions that a crash cannot leave half-done.
//
// Every call's rows live in one file group: the files named part-<group>.parquet
// in each table's partition of the call's start date. A transaction writes new
// groups, rewrites the groups that hold older versions of the calls it replaces,
// and updates the ledger. Everything is first staged under hidden temp names; the
// journal, written atomically, is the commit point; applying it renames staged
// files into place and removes replaced ones. Open replays a journal left by a
// crash and deletes staging files no journal claims, so a run killed at any point
// and run again gives the same lake as a run that never died.
//
// The lake knows no call platform: its callers declare the tables and the
// column that names each row's item (Options.Tables), and put items with
// their rows as Arrow record batches (Tx.Put). Readers that hold the read
// lock (ReadLock) never see a commit half applied; the lake belongs to the
// one state directory that holds its ledger.
package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/internal/atomicfile"
)

// Lake is an open lake and its ledger.
type Lake struct {
	dir      string
	stateDir string
	mem      memory.Allocator
	log      *slog.Logger
	ledger   *ledger
	seq      int
	// keys maps each declared table to its key column.
	keys map[string]string
	// plain maps declared tables to their columns written without a dictionary.
	plain        map[string][]string
	rowGroupRows int
}

// Table declares a table whose rows belong to items: its name (the
// directory under the lake) and its key, the string column that holds the id
// of the item a row belongs to. When a newer state of an item replaces an
// older one, the older rows are found by that column.
type Table struct {
	Name, Key string
	// Plain names columns to write without dictionary encoding: those
	// whose values nearly all differ (such as ids), where a dictionary
	// costs time and memory until Parquet gives it up.
	Plain []string
}

// Options configure Open.
type Options struct {
	// Allocator for Arrow buffers; nil means the Go allocator.
	Allocator memory.Allocator
	// Logger for recovery notes; nil discards.
	Logger *slog.Logger
	// Tables declares every table items put rows into. Every table of the
	// lake that holds rows of items must be declared.
	Tables []Table
	// RowGroupRows is how many rows of a table (per partition date) are
	// buffered before they are written out as a row group; 0 means 64Ki.
	RowGroupRows int
}

// journal lists the file operations of a committed transaction.
type journal struct {
	// Renames move staged files into place, in order.
	Renames []rename `json:"renames"`
	// Removes delete the files the transaction replaced.
	Removes []string `json:"removes"`
}

type rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Open opens the lake in dir with its state in stateDir, finishing or undoing
// whatever a crashed run left behind.
func Open(ctx context.Context, dir, stateDir string, opts Options) (*Lake, error) {
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{dir, stateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("opening lake: %w", err)
		}
	}
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = 64 << 10
	}
	l := &Lake{dir: dir, stateDir: stateDir, mem: opts.Allocator, log: opts.Logger,
		keys: map[string]string{}, plain: map[string][]string{}, rowGroupRows: opts.RowGroupRows}
	for _, t := range opts.Tables {
		if t.Name == "" || t.Key == "" || strings.ContainsAny(t.Name, `/\`) {
			return nil, fmt.Errorf("opening lake: table %q with key %q: a name and a key are required", t.Name, t.Key)
		}
		l.keys[t.Name] = t.Key
		l.plain[t.Name] = t.Plain
	}
	if err := l.claim(); err != nil {
		return nil, fmt.Errorf("opening lake: %w", err)
	}
	if err := l.recover(ctx); err != nil {
		return nil, err
	}
	led, err := loadLedger(filepath.Join(stateDir, "ledger"))
	if err != nil {
		return nil, err
	}
	l.ledger = led
	return l, nil
}

// Dir is the lake's root directory.
func (l *Lake) Dir() string { return l.dir }

// Lookup returns what the ledger holds for an item of a source.
func (l *Lake) Lookup(source, id string) (Entry, bool) {
	e, ok := l.ledger.entries[itemKey(source, id)]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Len is the number of items (calls and log rows) in the lake.
func (l *Lake) Len() int { return len(l.ledger.entries) }

// ReadState returns a state file committed with Tx.SetState, or nil if there is none.
func (l *Lake) ReadState(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(l.stateDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (l *Lake) journalPath() string { return filepath.Join(l.stateDir, "journal.json") }

// recover replays a committed journal, then removes staging files.
func (l *Lake) recover(ctx context.Context) error {
	b, err := os.ReadFile(l.journalPath())
	switch {
	case err == nil:
		var j journal
		if err := json.Unmarshal(b, &j); err != nil {
			return fmt.Errorf("recovering lake: journal %s is damaged: %w", l.journalPath(), err)
		}
		l.log.Warn("finishing a commit interrupted by a crash", "journal", l.journalPath(),
			"renames", len(j.Renames), "removes", len(j.Removes))
		if err := l.apply(ctx, &j); err != nil {
			return fmt.Errorf("recovering lake: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("recovering lake: %w", err)
	}
	// Staged files are the lake's own: anywhere under the lake directory, in
	// the ledger, and the state files committed with it at the top of the
	// state directory. Other writers' temp files elsewhere in the state
	// directory (run records, delivery records) are theirs to manage.
	n := 0
	remove := func(p string, d fs.DirEntry) error {
		if !d.IsDir() && atomicfile.IsTemp(d.Name()) {
			n++
			return os.Remove(p)
		}
		return nil
	}
	for _, root := range []string{l.dir, filepath.Join(l.stateDir, "ledger")} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return nil
			}
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return remove(p, d)
		})
		if err != nil {
			return fmt.Errorf("recovering lake: removing staged files: %w", err)
		}
	}
	top, err := os.ReadDir(l.stateDir)
	if err != nil {
		return fmt.Errorf("recovering lake: %w", err)
	}
	for _, d := range top {
		if err := remove(filepath.Join(l.stateDir, d.Name()), d); err != nil {
			return fmt.Errorf("recovering lake: removing staged files: %w", err)
		}
	}
	if n > 0 {
		l.log.Warn("removed files staged by an interrupted run", "files", n)
	}
	return nil
}

// apply carries out a journal; every step may be repeated, so a crash while
// applying is healed by applying again. Readers are kept out meanwhile (see
// LockFile).
func (l *Lake) apply(ctx context.Context, j *journal) error {
	release, err := l.lockApply(ctx)
	if err != nil {
		return err
	}
	defer release()
	dirs := map[string]bool{}
	for _, r := range j.Renames {
		err := os.Rename(r.From, r.To)
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(r.To); serr == nil {
				continue // renamed before the crash
			}
			return fmt.Errorf("committed file %s is missing and %s was never put in place", r.From, r.To)
		}
		if err != nil {
			return err
		}
		dirs[filepath.Dir(r.To)] = true
	}
	if err := crashPoint("renamed"); err != nil {
		return err
	}
	for _, p := range j.Removes {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	keys := make([]string, 0, len(dirs))
	for d := range dirs {
		keys = append(keys, d)
	}
	sort.Strings(keys)
	for _, d := range keys {
		if err := atomicfile.SyncDir(d); err != nil {
			return err
		}
		l.removeIfEmpty(d)
	}
	if err := os.Remove(l.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(l.stateDir)
}

// removeIfEmpty drops a partition directory left empty by a rewrite.
func (l *Lake) removeIfEmpty(d string) {
	if !strings.HasPrefix(filepath.Base(d), "date=") {
		return
	}
	if es, err := os.ReadDir(d); err == nil && len(es) == 0 {
		os.Remove(d)
	}
}

// partPath is the final path of a group's file in a table.
func (l *Lake) partPath(table, date, group string) string {
	return filepath.Join(l.dir, table, "date="+date, group+".parquet")
}

// crashPoint lets tests stop a commit at a named point, as a crash would;
// outside tests it does nothing.
var crashPoint = func(string) error { return nil }
