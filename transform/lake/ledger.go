package lake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"callstats/internal/atomicfile"
)

// Entry is what the ledger knows of one item in the lake: a call record, or a
// row of a source's own log (a PSTN or Direct Routing row).
type Entry struct {
	ID string `json:"id"`
	// Source is the kind of item: "teams", "ringcentral", "pstn", "direct_routing".
	Source       string    `json:"source"`
	Version      int64     `json:"version"`
	LastModified time.Time `json:"last_modified"`
	// Fetched is when the record was last read from its source (whether or not it changed).
	Fetched time.Time `json:"fetched"`
	// Notified is the latest notification for the item that a fetch covered;
	// zero for an item found only by reconciliation.
	Notified time.Time `json:"notified,omitzero"`
	// Date is the partition (the call's UTC start date) and Group the file group
	// whose files hold the call's rows in every table.
	Date  string `json:"date"`
	Group string `json:"group"`
}

// ledger is the in-memory index of the lake: one entry per call, stored as one
// JSON Lines shard per partition date under {state}/ledger/.
type ledger struct {
	dir string
	// entries maps itemKey(source, id) to the entry.
	entries map[string]*Entry
	// groups maps "date/group" to the item keys whose rows the group's files hold.
	groups map[string]map[string]struct{}
	// dates maps a partition date to the item keys filed under it, so that a
	// shard is rendered from its own entries, not by scanning the whole ledger.
	dates map[string]map[string]struct{}
}

func groupKey(date, group string) string { return date + "/" + group }

// itemKey identifies an item across sources; sources never contain '/'.
func itemKey(source, id string) string { return source + "/" + id }

func (e *Entry) key() string { return itemKey(e.Source, e.ID) }

// compareKeys orders entries by key without building the keys when their
// sources are the same (almost always, within a shard): sorting a shard of
// 100,000 entries built two keys a comparison, some 2 % of ingest's CPU.
func compareKeys(a, b *Entry) int {
	if a.Source == b.Source {
		return strings.Compare(a.ID, b.ID)
	}
	return strings.Compare(a.key(), b.key())
}

func loadLedger(dir string) (*ledger, error) {
	l := &ledger{dir: dir, entries: map[string]*Entry{}, groups: map[string]map[string]struct{}{},
		dates: map[string]map[string]struct{}{}}
	names, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	for _, n := range names {
		if n.IsDir() || !strings.HasSuffix(n.Name(), ".jsonl") || atomicfile.IsTemp(n.Name()) {
			continue
		}
		if err := l.loadShard(filepath.Join(dir, n.Name())); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *ledger) loadShard(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading ledger: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		e := new(Entry)
		if err := json.Unmarshal(sc.Bytes(), e); err != nil || e.ID == "" || e.Source == "" || e.Date == "" || e.Group == "" {
			if err == nil {
				err = fmt.Errorf("entry lacks id, source, date or group")
			}
			return fmt.Errorf("ledger %s:%d: %w", path, line, err)
		}
		l.put(e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading ledger %s: %w", path, err)
	}
	return nil
}

// put adds or replaces an entry, keeping the group and date indexes right.
func (l *ledger) put(e *Entry) {
	if old, ok := l.entries[e.key()]; ok {
		l.unlink(old)
	}
	l.entries[e.key()] = e
	addToSet(l.groups, groupKey(e.Date, e.Group), e.key())
	addToSet(l.dates, e.Date, e.key())
}

func (l *ledger) unlink(e *Entry) {
	removeFromSet(l.groups, groupKey(e.Date, e.Group), e.key())
	removeFromSet(l.dates, e.Date, e.key())
}

func addToSet(m map[string]map[string]struct{}, k, v string) {
	s := m[k]
	if s == nil {
		s = map[string]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func removeFromSet(m map[string]map[string]struct{}, k, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// shardPath is the ledger file of one partition date.
func (l *ledger) shardPath(date string) string {
	return filepath.Join(l.dir, date+".jsonl")
}

// encodeShard renders the entries of one date, sorted by id, as the shard's
// content; with overrides applied (entries of a commit not yet in memory).
func (l *ledger) encodeShard(date string, overrides map[string]*Entry) []byte {
	var list []*Entry
	for k := range l.dates[date] {
		if _, ok := overrides[k]; !ok { // overridden ones are added below, wherever they now are
			list = append(list, l.entries[k])
		}
	}
	for _, o := range overrides {
		if o.Date == date {
			list = append(list, o)
		}
	}
	slices.SortFunc(list, compareKeys)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range list {
		enc.Encode(e) // an Entry always encodes
	}
	return buf.Bytes()
}
