// Package iceberg keeps the lake as Apache Iceberg v2 tables (iceberg-go), in
// a SQL (SQLite) or REST catalog, with the same tables, columns and rows as
// the plain Parquet lake (package lake).
//
// A batch (Tx) commits one snapshot per table it changes, child tables first
// and calls last; every snapshot's summary carries the batch id and sequence
// number, and the calls commit also sets the calls table's property
// callstats.committed-batch-seq, which seals the batch. Newer versions of an
// item replace its rows copy-on-write: the files that hold them are rewritten
// in the same snapshot that adds the new rows. Because a SQL catalog commits
// one table at a time, the batch's intent (its id, tables, and the staged
// index and state files) is written durably before the first table commit;
// Open then finishes a sealed batch (puts the index and state in place) or
// undoes one that reached only some tables (moves those tables' main branch
// back to the snapshot before it), so a killed run, rerun, ends with the
// tables a clean run gives.
package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"callstats/internal/atomicfile"
	"callstats/transform"
	"callstats/transform/lake"
)

// Summary and table properties callstats writes.
const (
	// BatchIDProperty is in every snapshot summary callstats writes.
	BatchIDProperty = "callstats.batch-id"
	// BatchSeqProperty numbers batches; in every snapshot summary.
	BatchSeqProperty = "callstats.batch-seq"
	// SealProperty, on the calls table, is the sequence number of the last
	// batch committed to every table it changes.
	SealProperty = "callstats.committed-batch-seq"
)

// Lake is an open Iceberg lake: its catalog, tables and item index.
type Lake struct {
	cat      *Catalog
	stateDir string
	mem      memory.Allocator
	log      *slog.Logger
	index    *index
	seq      int64 // the last sealed batch
	n        int
	// afterTable, when set (tests), runs after each table commit of a
	// batch; an error stops the batch there, as a crash would.
	afterTable func(table string) error
}

// Options configure Open.
type Options struct {
	// Allocator for Arrow buffers; nil means the Go allocator.
	Allocator memory.Allocator
	// Logger for recovery notes; nil discards.
	Logger *slog.Logger
}

// Open opens the lake's catalog, creates missing tables, and finishes or
// undoes a batch a crashed run left. stateDir holds the item index, the
// state files of SetState and the intent of the batch being committed; it
// must be the lake's own (not shared with the plain lake). A lake another
// state directory writes is refused with an error wrapping
// lake.ErrOtherOwner (see owner.go); reading it needs no Open (View).
func Open(ctx context.Context, cfg CatalogConfig, stateDir string, opts Options) (*Lake, error) {
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("opening iceberg lake: %w", err)
	}
	cat, err := OpenCatalog(ctx, cfg)
	if err != nil {
		return nil, err
	}
	l := &Lake{cat: cat, stateDir: stateDir, mem: opts.Allocator, log: opts.Logger}
	if err := l.open(ctx); err != nil {
		cat.Close()
		return nil, err
	}
	return l, nil
}

func (l *Lake) open(ctx context.Context) error {
	// Creates the missing tables; refuses a lake another state directory owns.
	if err := l.claim(ctx); err != nil {
		return err
	}
	if err := l.recover(ctx); err != nil {
		return err
	}
	x, err := loadIndex(filepath.Join(l.stateDir, "index"))
	if err != nil {
		return err
	}
	l.index = x
	seq, err := l.sealed(ctx)
	if err != nil {
		return err
	}
	l.seq = seq
	return nil
}

// Close releases the catalog.
func (l *Lake) Close() error { return l.cat.Close() }

// Catalog is the lake's catalog, for reading (View).
func (l *Lake) Catalog() *Catalog { return l.cat }

// Lookup returns what the index holds for an item of a source.
func (l *Lake) Lookup(source, id string) (lake.Entry, bool) {
	r, ok := l.index.items[itemKey(source, id)]
	if !ok {
		return lake.Entry{}, false
	}
	return r.Entry, true
}

// Len is the number of items (calls and log rows) in the lake.
func (l *Lake) Len() int { return len(l.index.items) }

// ReadState returns a state file committed with Tx.SetState, or nil if there is none.
func (l *Lake) ReadState(name string) ([]byte, error) {
	b, err := os.ReadFile(l.statePath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (l *Lake) statePath(name string) string { return filepath.Join(l.stateDir, "state", name) }

func (l *Lake) intentPath() string { return filepath.Join(l.stateDir, "intent.json") }

// sealed reads the sequence number of the last sealed batch.
func (l *Lake) sealed(ctx context.Context) (int64, error) {
	t, err := l.cat.Load(ctx, string(transform.Calls))
	if err != nil || t == nil {
		return 0, err
	}
	return sealOf(t)
}

func sealOf(t *table.Table) (int64, error) {
	v, ok := t.Properties()[SealProperty]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("table %s: property %s is %q, not a number", t.Identifier(), SealProperty, v)
	}
	return n, nil
}

// intent is written before a batch's first table commit.
type intent struct {
	Batch string `json:"batch"`
	Seq   int64  `json:"seq"`
	// Tables are the tables the batch commits, in order; the last is calls,
	// whose commit seals the batch. Empty when the batch changes only the
	// index and state files.
	Tables []string `json:"tables"`
	// Renames put the staged index shards and state files in place once
	// the batch is sealed.
	Renames []rename `json:"renames"`
}

type rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// recover finishes a sealed batch or undoes an unsealed one, then removes
// files staged by an interrupted run.
func (l *Lake) recover(ctx context.Context) error {
	b, err := os.ReadFile(l.intentPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("recovering iceberg lake: %w", err)
	default:
		var in intent
		if err := json.Unmarshal(b, &in); err != nil {
			return fmt.Errorf("recovering iceberg lake: intent %s is damaged: %w", l.intentPath(), err)
		}
		if err := l.settle(ctx, &in); err != nil {
			return fmt.Errorf("recovering iceberg lake: %w", err)
		}
	}
	return l.removeStaged()
}

// settle finishes or undoes the batch of an intent and removes the intent.
func (l *Lake) settle(ctx context.Context, in *intent) error {
	seal, err := l.sealed(ctx)
	if err != nil {
		return err
	}
	if len(in.Tables) == 0 || seal >= in.Seq {
		l.log.Warn("finishing an interrupted iceberg batch", "batch", in.Batch, "tables", len(in.Tables))
		if err := applyRenames(in.Renames); err != nil {
			return err
		}
	} else {
		l.log.Warn("undoing an iceberg batch that reached only some tables", "batch", in.Batch)
		for _, name := range in.Tables {
			if err := l.undo(ctx, name, in.Batch); err != nil {
				return err
			}
		}
		for _, r := range in.Renames {
			os.Remove(r.From)
		}
	}
	if err := os.Remove(l.intentPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(l.stateDir)
}

// undo moves a table's main branch back to before the batch's snapshot, if
// the batch's snapshot is the current one.
func (l *Lake) undo(ctx context.Context, name, batch string) error {
	t, err := l.cat.Load(ctx, name)
	if err != nil || t == nil {
		return err
	}
	cur := t.CurrentSnapshot()
	if cur == nil {
		return nil
	}
	if batchOf(cur) != batch {
		// Not current: the batch never reached the table, or another
		// writer committed on top of it, which cannot be undone without
		// discarding that commit; going on would add the batch's rows again.
		for s := parentOf(t, cur); s != nil; s = parentOf(t, s) {
			if batchOf(s) == batch {
				return fmt.Errorf("undoing batch %s in table %s: snapshot %d of another writer (%s) was committed on top of the batch's snapshot %d; callstats cannot undo the batch without discarding it. Roll the table back to snapshot %d (the batch's parent) and rerun, or see docs/lake.md (One writer)",
					batch, name, cur.SnapshotID, batchOf(cur), s.SnapshotID, parentID(s))
			}
		}
		return nil
	}
	var up table.Update
	if cur.ParentSnapshotID != nil {
		up = table.NewSetSnapshotRefUpdate(table.MainBranch, *cur.ParentSnapshotID, table.BranchRef, 0, 0, 0)
	} else {
		up = table.NewRemoveSnapshotRefUpdate(table.MainBranch)
	}
	id := cur.SnapshotID
	_, _, err = l.cat.cat.CommitTable(ctx, t.Identifier(),
		[]table.Requirement{table.AssertRefSnapshotID(table.MainBranch, &id)}, []table.Update{up})
	if err != nil {
		return fmt.Errorf("undoing batch %s in table %s: %w", batch, name, err)
	}
	return nil
}

// batchOf is the callstats batch (or maintenance run) that committed a
// snapshot: empty for another engine's.
func batchOf(s *table.Snapshot) string {
	if s.Summary == nil {
		return ""
	}
	return s.Summary.Properties[BatchIDProperty]
}

func parentOf(t *table.Table, s *table.Snapshot) *table.Snapshot {
	if s.ParentSnapshotID == nil {
		return nil
	}
	return t.Metadata().SnapshotByID(*s.ParentSnapshotID)
}

func parentID(s *table.Snapshot) int64 {
	if s.ParentSnapshotID == nil {
		return -1
	}
	return *s.ParentSnapshotID
}

// applyRenames puts staged files in place; repeating it after a crash is safe.
func applyRenames(rs []rename) error {
	dirs := map[string]bool{}
	for _, r := range rs {
		if err := os.MkdirAll(filepath.Dir(r.To), 0o755); err != nil {
			return err
		}
		err := os.Rename(r.From, r.To)
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(r.To); serr == nil {
				continue
			}
			return fmt.Errorf("staged file %s is missing and %s was never put in place", r.From, r.To)
		}
		if err != nil {
			return err
		}
		dirs[filepath.Dir(r.To)] = true
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// removeStaged deletes staged files no intent claims.
func (l *Lake) removeStaged() error {
	return filepath.WalkDir(l.stateDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isTmp(d.Name()) {
			return os.Remove(p)
		}
		return nil
	})
}

// tmpName is the staging name of a file.
func tmpName(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".tmp")
}

func isTmp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}
