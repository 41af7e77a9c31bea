package lake

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"callstats/internal/atomicfile"
)

// commit is a Commit in progress: the journal it builds, the staged files to
// remove should it fail before the journal is written, and the ledger
// entries as they are after it.
type commit struct {
	tx        *Tx
	j         journal
	staged    []string
	overrides map[string]*Entry
}

// Commit makes the transaction durable and visible. On error nothing of it is
// in the lake (or, past the journal, a later Open finishes it).
//
// Its steps: finish the staged files of new groups and of PutFile; stage
// rewrites of the groups that hold replaced items; stage the ledger shards
// and state files that change; sync; write the journal (the commit point);
// apply it.
func (tx *Tx) Commit(ctx context.Context) (Stats, error) {
	if tx.done {
		return Stats{}, fmt.Errorf("transaction already finished")
	}
	c := &commit{tx: tx, overrides: maps.Clone(tx.entries)}
	if err := c.stage(ctx); err != nil {
		tx.Abort()
		for _, p := range c.staged {
			os.Remove(p)
		}
		return Stats{}, err
	}
	tx.done = true
	if err := crashPoint("journaled"); err != nil {
		return Stats{}, err
	}
	if err := tx.l.apply(ctx, &c.j); err != nil {
		return Stats{}, fmt.Errorf("applying commit (the next run finishes it): %w", err)
	}
	for _, e := range c.overrides {
		tx.l.ledger.put(e)
	}
	return tx.stats, nil
}

// stage carries out every step up to and including the journal.
func (c *commit) stage(ctx context.Context) error {
	if err := c.finishGroups(); err != nil {
		return err
	}
	if err := c.finishFiles(); err != nil {
		return err
	}
	if err := c.rewriteReplaced(ctx); err != nil {
		return err
	}
	if err := c.stageLedger(); err != nil {
		return err
	}
	if err := c.stageState(); err != nil {
		return err
	}
	for _, p := range c.staged {
		if err := atomicfile.SyncDir(filepath.Dir(p)); err != nil {
			return err
		}
	}
	if err := crashPoint("staged"); err != nil {
		return err
	}
	return c.writeJournal()
}

// moveIntoPlace records a finished staged file to be renamed at apply.
func (c *commit) moveIntoPlace(tmp, final string) {
	c.staged = append(c.staged, tmp)
	c.j.Renames = append(c.j.Renames, rename{From: tmp, To: final})
}

// finishGroups writes out the rows still buffered and closes the staged
// files of the transaction's new group, date by date, table by table.
func (c *commit) finishGroups() error {
	tx := c.tx
	for _, d := range slices.Sorted(maps.Keys(tx.parts)) {
		p := tx.parts[d]
		for _, t := range slices.Sorted(maps.Keys(p)) {
			tr := p[t]
			if err := tx.flush(d, t, tr); err != nil {
				return err
			}
			w := tr.w
			if w == nil {
				continue
			}
			tr.w = nil
			if err := w.finish(); err != nil {
				return err
			}
			c.moveIntoPlace(w.tmp, w.final)
			tx.stats.FilesWritten++
		}
	}
	return nil
}

// finishFiles closes the files staged by PutFile.
func (c *commit) finishFiles() error {
	tx := c.tx
	for len(tx.files) > 0 {
		w := tx.files[0]
		tx.files = tx.files[1:]
		if err := w.finish(); err != nil {
			return err
		}
		c.moveIntoPlace(w.tmp, w.final)
		tx.stats.FilesWritten++
	}
	return nil
}

// rewriteReplaced stages, for every group holding items the transaction
// replaces, a copy of its files without those items' rows (the group's
// other items move to the copy), and removes the group's files.
func (c *commit) rewriteReplaced(ctx context.Context) error {
	tx := c.tx
	led := tx.l.ledger
	for i, k := range slices.Sorted(maps.Keys(tx.drop)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		old := led.groups[k]
		var date, group string
		for key := range old {
			date, group = led.entries[key].Date, led.entries[key].Group
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
		kept, err := c.rewriteGroup(ctx, date, group, newGroup, ids)
		if err != nil {
			return err
		}
		tx.stats.GroupsRewritten++
		for key := range old {
			if _, gone := tx.drop[k][key]; gone {
				continue
			}
			if !kept {
				return fmt.Errorf("rewriting group %s: %s is in the ledger but no file holds it", k, key)
			}
			moved := *led.entries[key]
			moved.Group = newGroup
			c.overrides[key] = &moved
		}
	}
	return nil
}

// rewriteGroup stages the files of newGroup: those of group without the rows
// of ids, in every table that has the group. It reports whether any row was
// kept.
func (c *commit) rewriteGroup(ctx context.Context, date, group, newGroup string, ids map[string]struct{}) (bool, error) {
	tx := c.tx
	kept := false
	for _, t := range tx.l.tables() {
		src := tx.l.partPath(t, date, group)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		key, ok := tx.l.keys[t]
		if !ok {
			return false, fmt.Errorf("rewriting %s: table %s is not declared to the lake, so its key is unknown", src, t)
		}
		w, err := copyWithout(ctx, src, tx.l.partPath(t, date, newGroup), key, tx.l.plain[t], ids, tx.l.mem)
		if err != nil {
			return false, fmt.Errorf("rewriting %s: %w", src, err)
		}
		c.j.Removes = append(c.j.Removes, src)
		tx.stats.FilesRemoved++
		if w != nil {
			kept = true
			c.moveIntoPlace(w.tmp, w.final)
			tx.stats.FilesWritten++
		}
	}
	return kept, nil
}

// stageLedger stages the ledger shard of every date whose entries change.
func (c *commit) stageLedger() error {
	led := c.tx.l.ledger
	dirty := map[string]bool{}
	for key, e := range c.overrides {
		dirty[e.Date] = true
		if old, ok := led.entries[key]; ok {
			dirty[old.Date] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirty)) {
		if err := c.stageBlob(led.shardPath(d), led.encodeShard(d, c.overrides)); err != nil {
			return fmt.Errorf("staging ledger %s: %w", d, err)
		}
	}
	return nil
}

// stageState stages the state files set with SetState.
func (c *commit) stageState() error {
	tx := c.tx
	for _, n := range slices.Sorted(maps.Keys(tx.state)) {
		if err := c.stageBlob(filepath.Join(tx.l.stateDir, n), tx.state[n]); err != nil {
			return fmt.Errorf("staging state %s: %w", n, err)
		}
	}
	return nil
}

// stageBlob stages a small file to replace final.
func (c *commit) stageBlob(final string, data []byte) error {
	f, err := atomicfile.Create(final)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	c.moveIntoPlace(f.TempPath(), final)
	return nil
}

// writeJournal writes the journal atomically: the commit point.
func (c *commit) writeJournal() error {
	b, err := json.Marshal(&c.j)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.tx.l.journalPath(), b); err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	return nil
}

// tables lists the table directories present in the lake.
func (l *Lake) tables() []string {
	es, err := os.ReadDir(l.dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range es {
		if e.IsDir() && !atomicfile.IsTemp(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}
