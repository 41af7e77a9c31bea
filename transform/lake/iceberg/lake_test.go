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
	"github.com/apache/iceberg-go/table"

	"callstats/extract/graph"
	"callstats/extract/graph/graphgen"
	"callstats/internal/heavytest"
	"callstats/transform"
	"callstats/transform/lake"
	"callstats/transform/rowbatch"
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
	putRecords(t, tx, l.mem, now, recs...)
	return tx.Commit(context.Background())
}

// putRecords puts Teams call records into a transaction (of either lake) as
// the ingest job does: their rows grouped per table and date by rowbatch.
func putRecords(t testing.TB, tx rowbatch.Putter, mem memory.Allocator, now time.Time, recs ...*graph.CallRecord) {
	t.Helper()
	rs := rowbatch.New(mem)
	defer rs.Reset()
	for _, rec := range recs {
		it := lake.Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime}
		if err := rs.Add(context.Background(), tx, it, now, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.Flush(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
}

// openPlain opens a plain lake in dir with the tables declared as jobs does.
func openPlain(t testing.TB, dir string, mem memory.Allocator) *lake.Lake {
	t.Helper()
	var tables []lake.Table
	for _, tb := range transform.AllTables {
		tables = append(tables, lake.Table{Name: string(tb), Key: transform.KeyColumn(tb), Plain: transform.UniqueColumns(tb)})
	}
	pl, err := lake.Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), lake.Options{Allocator: mem, Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	return pl
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
	pl := openPlain(t, dir, mem)
	for _, recs := range batches {
		tx := pl.Begin(t0)
		putRecords(t, tx, mem, t0, recs...)
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
	t.Parallel()
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
	want := plainRows(t, e.mem, recs, upd)
	sameRows(t, rows(t, l, e.mem), want)
	// An older version after the newer one changes nothing.
	st, err = putGraph(t, l, t0.Add(2*time.Hour), recs[:10]...)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unchanged != 10 {
		t.Errorf("older versions: unchanged %d, want 10", st.Unchanged)
	}
	sameRows(t, rows(t, l, e.mem), want)
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

// snapshotIDs lists the current snapshot and metadata file of every table:
// any commit changes the metadata file.
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
		out = append(out, fmt.Sprintf("%s=%d@%s", d.name, id, tb.MetadataLocation()))
	}
	return out
}

var errCrash = errors.New("simulated crash")

// TestKillBetweenTablesAndRerun stops a batch after each of the tables it
// commits (a crash there), reopens and reruns it. The batch of Teams calls
// commits the Graph tables only: a crash point after a table it does not
// touch is never reached, so only those are tried.
func TestKillBetweenTablesAndRerun(t *testing.T) {
	heavytest.Skip(t)
	t.Parallel()
	recs := week(t, 24)
	upd := newerVersions(t, recs)[:8]
	batch2 := append(slices.Clone(upd), week(t, 30)[24:]...)
	want := plainRows(t, memory.DefaultAllocator, recs, batch2)
	for k, d := range tableDefs {
		if !slices.Contains(transform.GraphTables, transform.Table(d.name)) {
			continue
		}
		t.Run(fmt.Sprintf("after %d tables (%s)", k+1, d.name), func(t *testing.T) {
			t.Parallel()
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
				t.Fatalf("batch: %v, want the simulated crash after %s", err, d.name)
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

// weekOf generates n call records of a seed (other seeds give other ids).
func weekOf(t testing.TB, seed int64, n int) []*graph.CallRecord {
	t.Helper()
	var out []*graph.CallRecord
	for _, c := range graphgen.Week(graphgen.Options{Seed: seed, Calls: n, Days: 3}) {
		r, err := graph.DecodeRecord(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// callIDs returns the call ids of a table in a view (with repeats).
func callIDs(t *testing.T, v *View, table string) []string {
	t.Helper()
	var ids []string
	err := v.Scan(context.Background(), table, Query{Columns: []string{"call_id"}}, func(rec arrow.RecordBatch) error {
		for i := range int(rec.NumRows()) {
			ids = append(ids, rec.Column(0).ValueStr(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func TestViewNeverShowsPartialBatch(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	first := weekOf(t, 1, 10)
	if _, err := putGraph(t, l, t0, first...); err != nil {
		t.Fatal(err)
	}
	second := weekOf(t, 2, 10)
	checked := false
	l.afterTable = func(name string) error {
		if name != string(transform.Sessions) {
			return nil
		}
		// The writer is between tables: sessions holds the new calls, calls not yet.
		checked = true
		v, err := l.Catalog().View(context.Background())
		if err != nil {
			return err
		}
		calls := slices.Compact(callIDs(t, v, "calls"))
		for _, tb := range []string{"participants", "sessions", "streams"} {
			if ids := slices.Compact(callIDs(t, v, tb)); !slices.Equal(ids, calls) {
				t.Errorf("view mid-batch: %s holds calls %d, calls holds %d", tb, len(ids), len(calls))
			}
		}
		if len(calls) != 10 {
			t.Errorf("view mid-batch: %d calls, want the first batch's 10", len(calls))
		}
		// A reader of the current snapshots sees the partial batch: what the view is for.
		sessions, err := l.cat.Load(context.Background(), "sessions")
		if err != nil {
			return err
		}
		naive := &View{Seq: 1 << 62, tables: map[string]*table.Table{"sessions": sessions},
			snaps: map[string]int64{"sessions": sessions.CurrentSnapshot().SnapshotID}}
		if n := len(slices.Compact(callIDs(t, naive, "sessions"))); n != 20 {
			t.Errorf("current sessions snapshot mid-batch holds %d calls, want 20 (the test would not see a partial batch)", n)
		}
		return nil
	}
	if _, err := putGraph(t, l, t0.Add(time.Hour), second...); err != nil {
		t.Fatal(err)
	}
	if !checked {
		t.Fatal("the hook never ran")
	}
	v, err := l.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	calls := callIDs(t, v, "calls")
	if len(calls) != 20 || len(slices.Compact(slices.Clone(calls))) != 20 {
		t.Errorf("after the batch: %d call rows, want 20 distinct", len(calls))
	}
}

// TestConcurrentReaderSeesWholeBatches reads views in a loop while batches
// that add and replace calls commit.
func TestConcurrentReaderSeesWholeBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.open(t)
	base := weekOf(t, 1, 12)
	if _, err := putGraph(t, l, t0, base...); err != nil {
		t.Fatal(err)
	}
	upd := newerVersions(t, weekOf(t, 1, 12))
	stop := make(chan struct{})
	done := make(chan int)
	reader, err := OpenCatalog(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	go func() {
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := reader.View(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			calls := callIDs(t, v, "calls")
			distinct := slices.Compact(slices.Clone(calls))
			if len(distinct) != len(calls) {
				t.Errorf("view %d: duplicate calls (%d rows, %d ids)", v.Seq, len(calls), len(distinct))
			}
			if s := slices.Compact(callIDs(t, v, "sessions")); !slices.Equal(s, distinct) {
				t.Errorf("view %d: sessions hold %d calls, calls %d", v.Seq, len(s), len(distinct))
			}
			n++
		}
	}()
	for i := range 4 {
		batch := append(slices.Clone(upd[i*3:i*3+3]), weekOf(t, int64(10+i), 3)...)
		if _, err := putGraph(t, l, t0.Add(time.Duration(i+1)*time.Hour), batch...); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if n := <-done; n == 0 {
		t.Error("the reader never read")
	}
}

// TestMaintainKeepsFewFilesAndRows runs nightly batches into the same day
// partitions, with maintenance after each: every partition holds at most two
// data files after every run (compaction happens from the second or third
// run on, so six runs show it several times, and one of them replaces a
// call), expiry and orphan deletion run, and the rows stay the plain lake's.
func TestMaintainKeepsFewFilesAndRows(t *testing.T) {
	heavytest.Skip(t)
	t.Parallel()
	e := newEnv(t)
	l := e.open(t)
	var batches [][]*graph.CallRecord
	all := weekOf(t, 1, 6)
	compacted := 0
	for run := range 6 {
		batch := weekOf(t, int64(100+run), 2)
		if run%5 == 4 {
			batch = append(batch, newerVersions(t, all)[run/5])
		}
		batches = append(batches, batch)
		if _, err := putGraph(t, l, t0.Add(time.Duration(run)*24*time.Hour), batch...); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			if _, err := putGraph(t, l, t0, all...); err != nil {
				t.Fatal(err)
			}
			batches = append(batches, all)
			// An orphan: a data file no snapshot references.
			orphan := filepath.Join(e.dir, "warehouse", "callstats.db", "calls", "data", "orphan.parquet")
			if err := os.WriteFile(orphan, []byte("PAR1"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		st, err := l.Maintain(context.Background(), MaintainOptions{Retention: time.Nanosecond, OrphanAge: time.Nanosecond})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if run == 0 && st.OrphansDeleted == 0 {
			t.Error("the orphan file was not deleted")
		}
		compacted += st.PartitionsCompacted
		if run > 0 && st.SnapshotsExpired == 0 {
			t.Errorf("run %d: no snapshot expired", run)
		}
		v, err := l.Catalog().View(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range tableDefs {
			files, err := v.DataFiles(context.Background(), d.name)
			if err != nil {
				t.Fatal(err)
			}
			per := map[string]int{}
			for _, f := range files {
				per[f.Partition]++
			}
			for p, n := range per {
				if n > 2 {
					t.Errorf("run %d: %s partition %s holds %d files", run, d.name, p, n)
				}
			}
		}
	}
	if compacted < 3 {
		t.Errorf("%d partitions compacted in all; the runs did not exercise compaction", compacted)
	}
	// Reorder: the plain lake gets the same batches in the same order.
	sameRows(t, rows(t, l, e.mem), plainRows(t, e.mem, batches...))
}

// TestUndoRefusesWhenAnotherWriterCommittedOnTop: a batch stops after its
// first table, and before the lake is opened again another writer (here a
// compaction through a second handle) commits to that table on top of the
// batch. Undoing the batch would discard that commit, and leaving it would
// add the batch's rows again on the rerun: Open refuses, naming the table
// and the snapshots.
func TestUndoRefusesWhenAnotherWriterCommittedOnTop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.open(t)
	first, second := weekOf(t, 1, 4), weekOf(t, 2, 4)
	if _, err := putGraph(t, l, t0, first...); err != nil {
		t.Fatal(err)
	}
	other := e.open(t)
	firstTable := tableDefs[0]
	l.afterTable = func(name string) error {
		if name != firstTable.name {
			return nil
		}
		var st MaintainStats
		if err := other.compact(context.Background(), firstTable, 1, &st); err != nil {
			t.Errorf("the other writer's compaction: %v", err)
		}
		return errCrash
	}
	if _, err := putGraph(t, l, t0.Add(time.Hour), second...); !errors.Is(err, errCrash) {
		t.Fatalf("batch: %v, want the simulated crash after %s", err, firstTable.name)
	}
	l.Close()
	_, err := Open(context.Background(), e.cfg, filepath.Join(e.dir, "state", "iceberg"), Options{Allocator: e.mem})
	if err == nil || !strings.Contains(err.Error(), "table "+firstTable.name) || !strings.Contains(err.Error(), "another writer") {
		t.Fatalf("Open after another writer committed on top of an unfinished batch: %v, want a refusal naming table %s", err, firstTable.name)
	}
	// Readers still see the last finished batch, whole.
	v, err := other.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ids := slices.Compact(callIDs(t, v, firstTable.name)); len(ids) != len(first) {
		t.Errorf("a reader sees %d calls in %s, want the first batch's %d", len(ids), firstTable.name, len(first))
	}
}
