package lake

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
	"callstats/internal/atomicfile"
	"callstats/transform"
)

var t0 = time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)

// samples returns four records: the group call (both session pages), the PSTN
// call, and copies of them with other ids, one on another day.
func samples(t *testing.T) []*graph.CallRecord {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	group, err := graph.DecodeRecord(read("callrecord-groupcall.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Value []graph.Session }
	if err := json.Unmarshal(read("callrecord-sessions-page2.json"), &page); err != nil {
		t.Fatal(err)
	}
	group.Sessions = append(group.Sessions, page.Value...)
	group.SessionsNextLink = ""
	var parts struct{ Value []graph.Participant }
	if err := json.Unmarshal(read("participants-v2-page.json"), &parts); err != nil {
		t.Fatal(err)
	}
	group.ParticipantsV2 = parts.Value
	pstn, err := graph.DecodeRecord(read("callrecord-peertopeer-pstn.json"))
	if err != nil {
		t.Fatal(err)
	}
	g2 := *group
	g2.ID = "11111111-0000-4000-8000-000000000001"
	p2 := *pstn
	p2.ID = "11111111-0000-4000-8000-000000000002"
	p2.StartDateTime = p2.StartDateTime.AddDate(0, 0, 1)
	p2.EndDateTime = p2.EndDateTime.AddDate(0, 0, 1)
	return []*graph.CallRecord{group, pstn, &g2, &p2}
}

// tables declares the tables of call rows, as the jobs do.
func tables() []Table {
	var out []Table
	for _, t := range transform.AllTables {
		out = append(out, Table{Name: string(t), Key: transform.KeyColumn(t)})
	}
	return out
}

func open(t *testing.T, dir string, mem memory.Allocator) *Lake {
	t.Helper()
	return openWith(t, dir, Options{Allocator: mem})
}

func openWith(t *testing.T, dir string, opts Options) *Lake {
	t.Helper()
	opts.Tables = tables()
	l, err := Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// putGraph stages a Teams call record as the jobs do.
func putGraph(tx *Tx, rec *graph.CallRecord) (Change, error) {
	b := transform.NewBuilder(tx.l.mem)
	defer b.Release()
	b.AddGraph(rec, tx.now)
	rows := b.RecordsByName()
	defer func() {
		for _, r := range rows {
			r.Release()
		}
	}()
	it := Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime}
	changes, err := tx.Put(context.Background(), []Item{it}, rows)
	if err != nil {
		return 0, err
	}
	return changes[0], nil
}

func put(t *testing.T, l *Lake, now time.Time, recs ...*graph.CallRecord) (Stats, []Change) {
	t.Helper()
	tx := l.Begin(now)
	var changes []Change
	for _, r := range recs {
		c, err := putGraph(tx, r)
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, c)
	}
	st, err := tx.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st, changes
}

// snapshot renders every row of every table, without ingested_at, sorted: two
// lakes with equal snapshots hold the same data whatever their files.
func snapshot(t *testing.T, dir string, mem memory.Allocator) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range transform.GraphTables {
		err := Scan(context.Background(), dir, string(table), mem, func(rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				var cells []string
				for c := range int(rec.NumCols()) {
					if rec.ColumnName(c) == "ingested_at" {
						continue
					}
					cells = append(cells, rec.Column(c).ValueStr(i))
				}
				out[string(table)] = append(out[string(table)], strings.Join(cells, "|"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out[string(table)])
	}
	return out
}

func callIDs(t *testing.T, dir string, mem memory.Allocator) []string {
	t.Helper()
	var ids []string
	err := Scan(context.Background(), dir, "calls", mem, func(rec arrow.RecordBatch) error {
		col := rec.Column(rec.Schema().FieldIndices("call_id")[0])
		for i := range int(rec.NumRows()) {
			ids = append(ids, col.ValueStr(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func TestCommitWritesPartitionedFiles(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	l := open(t, dir, mem)
	recs := samples(t)
	st, changes := put(t, l, t0, recs...)
	if st.Added != 4 || !slices.Equal(changes, []Change{Added, Added, Added, Added}) {
		t.Fatalf("stats %+v changes %v", st, changes)
	}
	for _, table := range []string{"calls", "participants", "sessions", "streams"} {
		if table == "participants" {
			continue // the PSTN sample has no participants: checked below
		}
		files, _ := Files(l.Dir(), table)
		var dates []string
		for _, f := range files {
			dates = append(dates, filepath.Base(filepath.Dir(f)))
		}
		if !slices.Equal(dates, []string{"date=2026-11-12", "date=2026-11-13"}) {
			t.Errorf("%s: files in %v, want one per start date", table, dates)
		}
	}
	if got := callIDs(t, l.Dir(), mem); len(got) != 4 {
		t.Errorf("calls rows %v, want 4", got)
	}
	if st.Rows["calls"] != 4 || st.Rows["participants"] != 4 || st.Rows["streams"] == 0 || st.Rows["sessions"] == 0 {
		t.Errorf("rows %v", st.Rows)
	}
	// No staging files are left behind.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(d.Name()) {
			t.Errorf("staging file left: %s", p)
		}
		return nil
	})
	e, ok := l.Lookup("teams", recs[0].ID)
	if !ok || e.Version != 2 || e.Date != "2026-11-12" || !e.Fetched.Equal(t0) {
		t.Errorf("ledger entry %+v", e)
	}
}

func TestRerunChangesNothing(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	l := open(t, dir, mem)
	recs := samples(t)
	put(t, l, t0, recs...)
	before := snapshot(t, l.Dir(), mem)
	files, _ := filepath.Glob(filepath.Join(l.Dir(), "*", "*", "*.parquet"))

	l = open(t, dir, mem) // a new run: the ledger comes from disk
	st, changes := put(t, l, t0.Add(time.Hour), recs...)
	if st.Unchanged != 4 || st.FilesWritten != 0 || st.FilesRemoved != 0 {
		t.Fatalf("rerun stats %+v %v", st, changes)
	}
	after, _ := filepath.Glob(filepath.Join(l.Dir(), "*", "*", "*.parquet"))
	if !slices.Equal(files, after) {
		t.Errorf("files changed:\n%v\n%v", files, after)
	}
	if got := snapshot(t, l.Dir(), mem); !equalSnapshots(before, got) {
		t.Error("rows changed on rerun")
	}
	if e, _ := l.Lookup("teams", recs[0].ID); !e.Fetched.Equal(t0.Add(time.Hour)) {
		t.Errorf("fetch time not refreshed: %v", e.Fetched)
	}
}

func TestNewerVersionReplacesOlder(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	l := open(t, dir, mem)
	recs := samples(t)
	put(t, l, t0, recs...)

	v2 := *recs[1] // the PSTN call, which shares its group with the group call
	v2.Version = 2
	v2.LastModifiedDateTime = v2.LastModifiedDateTime.Add(3 * time.Hour)
	older := *recs[0] // an older version of the group call must not win
	older.Version = 1
	l = open(t, dir, mem)
	st, changes := put(t, l, t0.Add(24*time.Hour), &v2, &older)
	if !slices.Equal(changes, []Change{Replaced, Unchanged}) || st.GroupsRewritten != 1 {
		t.Fatalf("changes %v stats %+v", changes, st)
	}
	ids := callIDs(t, l.Dir(), mem)
	want := []string{recs[2].ID, recs[3].ID, recs[1].ID, recs[0].ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("calls %v, want each once: %v", ids, want)
	}
	versions := map[string]string{}
	Scan(context.Background(), l.Dir(), "calls", mem, func(rec arrow.RecordBatch) error {
		id := rec.Column(rec.Schema().FieldIndices("call_id")[0])
		v := rec.Column(rec.Schema().FieldIndices("version")[0])
		for i := range int(rec.NumRows()) {
			versions[id.ValueStr(i)] = v.ValueStr(i)
		}
		return nil
	})
	if versions[recs[1].ID] != "2" || versions[recs[0].ID] != "2" {
		t.Errorf("versions %v", versions)
	}
	// The group call's sessions survived the rewrite of its group.
	snap := snapshot(t, l.Dir(), mem)
	n := 0
	for _, row := range snap["sessions"] {
		if strings.HasPrefix(row, recs[0].ID+"|") {
			n++
		}
	}
	if n != len(recs[0].Sessions) {
		t.Errorf("group call has %d session rows after rewrite, want %d", n, len(recs[0].Sessions))
	}
	// Reopening sees the moved entries.
	l = open(t, dir, mem)
	if e, _ := l.Lookup("teams", recs[0].ID); !strings.Contains(e.Group, "-r") {
		t.Errorf("entry not moved to the rewritten group: %+v", e)
	}
}

// TestCrashDuringCommit sets the package's crashPoint: it must not run in
// parallel (the tests that do run after it).
func TestCrashDuringCommit(t *testing.T) {
	for _, tc := range []struct {
		point     string
		committed bool
	}{
		{"staged", false},   // before the journal: as if the commit never began
		{"journaled", true}, // journal written, nothing applied: the next Open finishes it
		{"renamed", true},   // new files in place, old ones not yet removed
	} {
		t.Run(tc.point, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			recs := samples(t)
			v2 := *recs[1]
			v2.Version = 2
			v2.LastModifiedDateTime = v2.LastModifiedDateTime.Add(time.Hour)

			// The reference: the same two commits without a crash.
			ref := t.TempDir()
			rl := open(t, ref, mem)
			put(t, rl, t0, recs[:3]...)
			before := snapshot(t, rl.Dir(), mem)
			put(t, rl, t0.Add(time.Hour), &v2, recs[3])
			after := snapshot(t, rl.Dir(), mem)

			dir := t.TempDir()
			l := open(t, dir, mem)
			put(t, l, t0, recs[:3]...)
			crash := errors.New("crash")
			crashPoint = func(p string) error {
				if p == tc.point {
					return crash
				}
				return nil
			}
			tx := l.Begin(t0.Add(time.Hour))
			for _, r := range []*graph.CallRecord{&v2, recs[3]} {
				if _, err := putGraph(tx, r); err != nil {
					t.Fatal(err)
				}
			}
			_, err := tx.Commit(context.Background())
			crashPoint = func(string) error { return nil }
			if !errors.Is(err, crash) {
				t.Fatalf("commit: %v", err)
			}

			l = open(t, dir, mem) // the rerun's Open recovers
			got := snapshot(t, l.Dir(), mem)
			want := before
			if tc.committed {
				want = after
			}
			if !equalSnapshots(got, want) {
				t.Errorf("after recovery the lake differs from a run that never crashed")
			}
			if _, err := os.Stat(filepath.Join(dir, "state", "journal.json")); !os.IsNotExist(err) {
				t.Errorf("journal left behind: %v", err)
			}
			if _, ok := l.Lookup("teams", recs[3].ID); ok != tc.committed {
				t.Errorf("ledger has the new call: %v, want %v", ok, tc.committed)
			}
			// And running the commit again converges on the same lake.
			put(t, l, t0.Add(2*time.Hour), &v2, recs[3])
			if got := snapshot(t, l.Dir(), mem); !equalSnapshots(got, after) {
				t.Errorf("rerun after crash differs from a clean run")
			}
		})
	}
}

func TestStateCommittedWithLake(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := open(t, dir, nil)
	tx := l.Begin(t0)
	tx.SetState("cursor.json", []byte(`{"offset":42}`))
	if _, err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := l.ReadState("cursor.json")
	if err != nil || string(b) != `{"offset":42}` {
		t.Fatalf("state %q %v", b, err)
	}
	if b, err := l.ReadState("absent.json"); b != nil || err != nil {
		t.Fatalf("absent state: %q %v", b, err)
	}
}

func TestPutTwiceInOneTransaction(t *testing.T) {
	t.Parallel()
	l := open(t, t.TempDir(), nil)
	recs := samples(t)
	tx := l.Begin(t0)
	defer tx.Abort()
	if _, err := putGraph(tx, recs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := putGraph(tx, recs[0]); !errors.Is(err, ErrStaged) {
		t.Fatalf("second put: %v, want ErrStaged", err)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	l := open(t, dir, mem)
	tx := l.Begin(t0)
	for _, r := range samples(t) {
		putGraph(tx, r)
	}
	tx.Abort()
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ownerName {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("abort left %v", files)
	}
}

func TestDamagedJournalIsReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "state"), 0o755)
	os.WriteFile(filepath.Join(dir, "state", "journal.json"), []byte("{not json"), 0o644)
	_, err := Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), Options{})
	if err == nil || !strings.Contains(err.Error(), "journal") {
		t.Fatalf("open with a damaged journal: %v", err)
	}
}

func equalSnapshots(a, b map[string][]string) bool {
	for _, t := range transform.GraphTables {
		if !slices.Equal(a[string(t)], b[string(t)]) {
			return false
		}
	}
	return true
}

func TestSameClockCommitsKeepEachOther(t *testing.T) {
	t.Parallel()
	// With CALLSTATS_NOW fixed, every run has the same clock; their file
	// groups must still not collide.
	dir := t.TempDir()
	recs := samples(t)
	put(t, open(t, dir, nil), t0, recs[0])
	put(t, open(t, dir, nil), t0, recs[1])
	put(t, open(t, dir, nil), t0, recs[2])
	if got := callIDs(t, filepath.Join(dir, "lake"), nil); len(got) != 3 {
		t.Fatalf("calls %v, want 3", got)
	}
}

func TestPutFileReplacesPartitionFile(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	l := open(t, dir, mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "source", Type: arrow.BinaryTypes.String}, {Name: "missed", Type: arrow.PrimitiveTypes.Int64}}, nil)
	write := func(missed int64) {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		b.Field(0).(*array.StringBuilder).Append("teams")
		b.Field(1).(*array.Int64Builder).Append(missed)
		rec := b.NewRecordBatch()
		defer rec.Release()
		tx := l.Begin(t0)
		if err := tx.PutFile("reconcile", "2026-11-12", "teams", rec); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutFile("reconcile", "2026-11-12", "teams", rec); err == nil {
			t.Fatal("the same file staged twice in one transaction")
		}
		if _, err := tx.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	write(3)
	write(5)
	files, _ := Files(l.Dir(), "reconcile")
	if len(files) != 1 || filepath.Base(files[0]) != "teams.parquet" {
		t.Fatalf("files %v", files)
	}
	var got []string
	Scan(context.Background(), l.Dir(), "reconcile", mem, func(rec arrow.RecordBatch) error {
		for i := range int(rec.NumRows()) {
			got = append(got, rec.Column(1).ValueStr(i))
		}
		return nil
	})
	if !slices.Equal(got, []string{"5"}) {
		t.Fatalf("rows %v, want the second write only", got)
	}
}

func TestItemsOfSourcesAreApart(t *testing.T) {
	t.Parallel()
	l := open(t, t.TempDir(), nil)
	rec := samples(t)[1]
	tx := l.Begin(t0)
	if _, err := putGraph(tx, rec); err != nil {
		t.Fatal(err)
	}
	it := Item{Source: "other", ID: rec.ID, Start: rec.StartDateTime}
	if _, err := tx.Put(context.Background(), []Item{it}, nil); err != nil {
		t.Fatalf("same id, other source: %v", err)
	}
	if _, err := tx.Put(context.Background(), []Item{{Source: "a/b", ID: "x"}}, nil); err == nil {
		t.Fatal("a source with '/' was accepted")
	}
	if _, err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Lookup("teams", rec.ID); !ok {
		t.Error("teams item missing")
	}
	if _, ok := l.Lookup("other", rec.ID); !ok {
		t.Error("other item missing")
	}
	if l.Len() != 2 {
		t.Errorf("Len %d", l.Len())
	}
}

func TestOpenLeavesOtherWritersTempFilesAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	theirs := filepath.Join(state, "delivery", ".2026-W47.json.123.tmp")
	ours := filepath.Join(state, ".pending.json.tmp")
	for _, p := range []string{theirs, ours} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	open(t, dir, nil)
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("another writer's temp file was removed: %v", err)
	}
	if _, err := os.Stat(ours); !os.IsNotExist(err) {
		t.Errorf("a staged state file was left: %v", err)
	}
}
