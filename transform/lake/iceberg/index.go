package iceberg

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"callstats/transform/lake"
)

// record is what the index knows of one item: the plain lake's ledger entry
// (without its file group) and the tables that hold rows of it, so that a
// newer version rewrites only the files of those tables.
type record struct {
	lake.Entry
	Tables []string `json:"tables,omitempty"`
}

func itemKey(source, id string) string { return source + "/" + id }

func (r *record) key() string { return itemKey(r.Source, r.ID) }

// index is the in-memory index of the items in the tables, kept as one JSON
// Lines shard per partition date under {state}/index/, changed together with
// the tables by a batch's intent (see intent.go).
type index struct {
	dir   string
	items map[string]*record
	dates map[string]map[string]struct{}
}

func loadIndex(dir string) (*index, error) {
	x := &index{dir: dir, items: map[string]*record{}, dates: map[string]map[string]struct{}{}}
	names, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return x, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	for _, n := range names {
		if n.IsDir() || !strings.HasSuffix(n.Name(), ".jsonl") || isTmp(n.Name()) {
			continue
		}
		if err := x.loadShard(filepath.Join(dir, n.Name())); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func (x *index) loadShard(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading index: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		r := &record{}
		if err := json.Unmarshal(sc.Bytes(), r); err != nil {
			return fmt.Errorf("reading index %s:%d: %w", path, line, err)
		}
		x.put(r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading index %s: %w", path, err)
	}
	return nil
}

// put adds or replaces an item's record.
func (x *index) put(r *record) {
	k := r.key()
	if old, ok := x.items[k]; ok && old.Date != r.Date {
		delete(x.dates[old.Date], k)
	}
	x.items[k] = r
	if x.dates[r.Date] == nil {
		x.dates[r.Date] = map[string]struct{}{}
	}
	x.dates[r.Date][k] = struct{}{}
}

func (x *index) shardPath(date string) string { return filepath.Join(x.dir, date+".jsonl") }

// encodeShard renders the shard of a date as it is once overrides (records
// put by a batch, by item key) are applied.
func (x *index) encodeShard(date string, overrides map[string]*record) []byte {
	var keys []string
	for k := range x.dates[date] {
		if o, ok := overrides[k]; ok && o.Date != date {
			continue // moved to another date
		}
		keys = append(keys, k)
	}
	for k, r := range overrides {
		if _, ok := x.dates[date][k]; !ok && r.Date == date {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	for _, k := range keys {
		r := x.items[k]
		if o, ok := overrides[k]; ok {
			r = o
		}
		b, _ := json.Marshal(r) // a record always marshals
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}
