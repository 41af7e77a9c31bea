package iceberg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
	"callstats/extract/graph/graphgen"
	"callstats/transform"
	"callstats/transform/lake"
)

var t0 = time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)

// week generates n Teams call records (deterministic).
func week(t testing.TB, n int) []*graph.CallRecord {
	t.Helper()
	var out []*graph.CallRecord
	for _, c := range graphgen.Week(graphgen.Options{Seed: 7, Calls: n, Days: 3}) {
		r, err := graph.DecodeRecord(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// newer returns the records as a later version of each.
func newerVersions(t testing.TB, recs []*graph.CallRecord) []*graph.CallRecord {
	t.Helper()
	var out []*graph.CallRecord
	for _, c := range graphgen.Week(graphgen.Options{Seed: 7, Calls: len(recs), Days: 3}) {
		u := graphgen.Update(c, 99)
		r, err := graph.DecodeRecord(u.Raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

type env struct {
	dir string
	cfg CatalogConfig
	mem *memory.CheckedAllocator
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	e := &env{dir: dir, mem: memory.NewCheckedAllocator(memory.NewGoAllocator()),
		cfg: CatalogConfig{Kind: SQLCatalog, URI: filepath.Join(dir, "state", "catalog.db"), Warehouse: filepath.Join(dir, "warehouse")}}
	t.Cleanup(func() { e.mem.AssertSize(t, 0) })
	return e
}

func (e *env) open(t *testing.T) *Lake {
	t.Helper()
	l, err := Open(context.Background(), e.cfg, filepath.Join(e.dir, "state", "iceberg"), Options{Allocator: e.mem})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func putGraph(t *testing.T, l *Lake, now time.Time, recs ...*graph.CallRecord) (lake.Stats, error) {
	t.Helper()
	tx := l.Begin(now)
	for _, r := range recs {
		if _, err := tx.PutGraph(context.Background(), r, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	return tx.Commit(context.Background())
}

// rows renders every row of the Graph tables in a view, without ingested_at
// (and CallStartColumn), sorted.
func rows(t *testing.T, l *Lake, mem memory.Allocator) map[string][]string {
	t.Helper()
	v, err := l.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return viewRows(t, v, mem)
}

func viewRows(t *testing.T, v *View, mem memory.Allocator) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range transform.GraphTables {
		var cols []string
		for _, f := range transform.Schema(tb).Fields() {
			if f.Name != "ingested_at" {
				cols = append(cols, f.Name)
			}
		}
		err := v.Scan(context.Background(), string(tb), Query{Columns: cols, Allocator: mem}, func(rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				var cells []string
				for c := range int(rec.NumCols()) {
					cells = append(cells, rec.Column(c).ValueStr(i))
				}
				out[string(tb)] = append(out[string(tb)], strings.Join(cells, "|"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out[string(tb)])
	}
	return out
}

// plainRows writes the records into a plain lake and renders it like rows.
func plainRows(t *testing.T, mem memory.Allocator, batches ...[]*graph.CallRecord) map[string][]string {
	t.Helper()
	dir := t.TempDir()
	pl, err := lake.Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), lake.Options{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	for _, recs := range batches {
		tx := pl.Begin(t0)
		for _, r := range recs {
			if _, err := tx.PutGraph(context.Background(), r, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]string{}
	for _, tb := range transform.GraphTables {
		err := lake.Scan(context.Background(), filepath.Join(dir, "lake"), string(tb), mem, func(rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				var cells []string
				for c := range int(rec.NumCols()) {
					if rec.ColumnName(c) == "ingested_at" {
						continue
					}
					cells = append(cells, rec.Column(c).ValueStr(i))
				}
				out[string(tb)] = append(out[string(tb)], strings.Join(cells, "|"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out[string(tb)])
	}
	return out
}

func sameRows(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for _, tb := range transform.GraphTables {
		g, w := got[string(tb)], want[string(tb)]
		if len(w) == 0 {
			t.Fatalf("%s: the plain lake holds no rows; the test tests nothing", tb)
		}
		if !slices.Equal(g, w) {
			t.Errorf("%s: %d rows, want %d", tb, len(g), len(w))
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Errorf("%s: first difference:\n got %s\nwant %s", tb, g[i], w[i])
					break
				}
			}
		}
	}
}

func TestRowsEqualPlainLake(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	recs := week(t, 40)
	st, err := putGraph(t, l, t0, recs...)
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 40 {
		t.Errorf("added %d, want 40", st.Added)
	}
	sameRows(t, rows(t, l, e.mem), plainRows(t, e.mem, recs))
}

func TestNewerVersionReplacesRows(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	recs := week(t, 30)
	if _, err := putGraph(t, l, t0, recs...); err != nil {
		t.Fatal(err)
	}
	upd := newerVersions(t, recs)[:10]
	st, err := putGraph(t, l, t0.Add(time.Hour), upd...)
	if err != nil {
		t.Fatal(err)
	}
	if st.Replaced != 10 {
		t.Errorf("replaced %d, want 10", st.Replaced)
	}
	if st.FilesRemoved == 0 {
		t.Error("no file was rewritten for the replaced calls")
	}
	sameRows(t, rows(t, l, e.mem), plainRows(t, e.mem, recs, upd))
	// An older version after the newer one changes nothing.
	st, err = putGraph(t, l, t0.Add(2*time.Hour), recs[:10]...)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unchanged != 10 {
		t.Errorf("older versions: unchanged %d, want 10", st.Unchanged)
	}
	sameRows(t, rows(t, l, e.mem), plainRows(t, e.mem, recs, upd))
}

func TestRerunCommitsNothing(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	recs := week(t, 20)
	if _, err := putGraph(t, l, t0, recs...); err != nil {
		t.Fatal(err)
	}
	before := snapshotIDs(t, l)
	st, err := putGraph(t, l, t0.Add(time.Hour), recs...)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unchanged != 20 || st.Added+st.Replaced != 0 {
		t.Errorf("rerun: %+v, want 20 unchanged", st)
	}
	if after := snapshotIDs(t, l); !slices.Equal(before, after) {
		t.Errorf("rerun committed snapshots: before %v, after %v", before, after)
	}
	// The rerun still refreshed the index's fetch time.
	if en, ok := l.Lookup("teams", recs[0].ID); !ok || !en.Fetched.Equal(t0.Add(time.Hour)) {
		t.Errorf("lookup after rerun: %+v %v", en, ok)
	}
}

// snapshotIDs lists the current snapshot of every table.
func snapshotIDs(t *testing.T, l *Lake) []string {
	t.Helper()
	var out []string
	for _, d := range tableDefs {
		tb, err := l.cat.Load(context.Background(), d.name)
		if err != nil {
			t.Fatal(err)
		}
		id := int64(0)
		if s := tb.CurrentSnapshot(); s != nil {
			id = s.SnapshotID
		}
		out = append(out, fmt.Sprintf("%s=%d", d.name, id))
	}
	return out
}

var errCrash = errors.New("simulated crash")

func TestKillBetweenTablesAndRerun(t *testing.T) {
	recs := week(t, 24)
	upd := newerVersions(t, recs)[:8]
	batch2 := append(slices.Clone(upd), week(t, 30)[24:]...)
	want := plainRows(t, memory.DefaultAllocator, recs, batch2)
	for k, d := range tableDefs {
		t.Run(fmt.Sprintf("after %d tables (%s)", k+1, d.name), func(t *testing.T) {
			e := newEnv(t)
			l := e.open(t)
			if _, err := putGraph(t, l, t0, recs...); err != nil {
				t.Fatal(err)
			}
			l.afterTable = func(name string) error {
				if name == d.name {
					return errCrash
				}
				return nil
			}
			if _, err := putGraph(t, l, t0.Add(time.Hour), batch2...); !errors.Is(err, errCrash) {
				// Tables the batch does not touch are not committed: no crash there.
				if err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			l = e.open(t)
			if _, err := os.Stat(l.intentPath()); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("intent left after Open: %v", err)
			}
			// The rerun puts the same batch again.
			if _, err := putGraph(t, l, t0.Add(2*time.Hour), batch2...); err != nil {
				t.Fatal(err)
			}
			sameRows(t, rows(t, l, e.mem), want)
		})
	}
}
