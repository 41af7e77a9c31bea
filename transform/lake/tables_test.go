package lake

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"

	"callstats/extract/graph"
	"callstats/transform"
)

// TestRowGroupRows checks that RowGroupRows bounds the rows a table buffers
// before writing them out as a row group.
func TestRowGroupRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rowGroupRows int
		wantGroups   int
	}{
		{0, 1}, // the default, 64Ki, holds the three calls of the day
		{1, 3}, // a row group per call
		{2, 2}, // two calls, then one
	} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		dir := t.TempDir()
		l := openWith(t, dir, Options{Allocator: mem, RowGroupRows: tc.rowGroupRows})
		recs := samples(t)
		put(t, l, t0, recs...) // three calls on 2026-11-12, one the day after
		files, err := Files(l.Dir(), "calls")
		if err != nil || len(files) != 2 {
			t.Fatalf("calls files %v %v", files, err)
		}
		pf, err := file.OpenParquetFile(files[0], false)
		if err != nil {
			t.Fatal(err)
		}
		if pf.NumRows() != 3 || pf.NumRowGroups() != tc.wantGroups {
			t.Errorf("RowGroupRows %d: %d rows in %d row groups, want 3 in %d", tc.rowGroupRows, pf.NumRows(), pf.NumRowGroups(), tc.wantGroups)
		}
		pf.Close()
		mem.AssertSize(t, 0)
	}
}

func TestPutRejectsUndeclaredTable(t *testing.T) {
	t.Parallel()
	l := open(t, t.TempDir(), nil)
	b := transform.NewBuilder(nil)
	defer b.Release()
	rec := samples(t)[0]
	b.AddGraph(rec, t0)
	rows := b.RecordsByName()
	defer func() {
		for _, r := range rows {
			r.Release()
		}
	}()
	rows["elsewhere"] = rows["calls"]
	tx := l.Begin(t0)
	defer tx.Abort()
	_, err := tx.Put(context.Background(), []Item{{Source: "teams", ID: rec.ID, Start: rec.StartDateTime}}, rows)
	if err == nil || !strings.Contains(err.Error(), `"elsewhere" is not declared`) {
		t.Fatalf("put into an undeclared table: %v", err)
	}
}

// TestRewriteNeedsEveryTableDeclared: replacing an item rewrites its group in
// every table on disk; a table whose key the lake was not told is an error,
// never rows left behind.
func TestRewriteNeedsEveryTableDeclared(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recs := samples(t)
	put(t, open(t, dir, nil), t0, recs[1])
	l, err := Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"),
		Options{Tables: []Table{{Name: "calls", Key: "call_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	v2 := *recs[1]
	v2.Version = 2
	v2.Sessions = nil // only calls rows, in the one declared table
	v2.ParticipantsV2, v2.Participants = nil, nil
	tx := l.Begin(t0.Add(time.Hour))
	if _, err := putGraph(tx, &v2); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(context.Background()); err == nil || !strings.Contains(err.Error(), "not declared") {
		t.Fatalf("commit: %v, want an undeclared table", err)
	}
	if got := callIDs(t, filepath.Join(dir, "lake"), nil); len(got) != 1 {
		t.Errorf("calls %v after the failed commit, want the one old row", got)
	}
}

func TestOpenRejectsTableWithoutKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"),
		Options{Tables: []Table{{Name: "calls"}}})
	if err == nil {
		t.Fatal("a table without a key was accepted")
	}
}

// TestPutManyItems: one Put of items on two dates, one of them unchanged,
// files each item's rows under its date and drops the unchanged one's.
func TestPutManyItems(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	l := open(t, dir, mem)
	recs := samples(t) // 0, 1 and 2 on 2026-11-12; 3 the day after
	put(t, l, t0, recs[0])

	b := transform.NewBuilder(mem)
	defer b.Release()
	var items []Item
	for _, r := range []*graph.CallRecord{recs[3], recs[0], recs[1]} {
		b.AddGraph(r, t0)
		items = append(items, Item{Source: "teams", ID: r.ID, Version: r.Version, LastModified: r.LastModifiedDateTime, Start: r.StartDateTime})
	}
	rows := b.RecordsByName()
	defer func() {
		for _, r := range rows {
			r.Release()
		}
	}()
	tx := l.Begin(t0.Add(time.Hour))
	changes, err := tx.Put(context.Background(), items, rows)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Change{Added, Unchanged, Added}; !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	if _, err := tx.Put(context.Background(), items[1:2], nil); !errors.Is(err, ErrStaged) {
		t.Errorf("an item put twice: %v, want ErrStaged", err)
	}
	st, err := tx.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows["calls"] != 2 {
		t.Errorf("calls rows written %d, want 2 (the unchanged one dropped)", st.Rows["calls"])
	}
	want := []string{recs[0].ID, recs[1].ID, recs[3].ID}
	slices.Sort(want)
	if got := callIDs(t, l.Dir(), mem); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	for _, id := range []string{recs[1].ID, recs[3].ID} {
		e, _ := l.Lookup("teams", id)
		r := recs[1]
		if id == recs[3].ID {
			r = recs[3]
		}
		if e.Date != r.StartDateTime.UTC().Format(time.DateOnly) {
			t.Errorf("%s filed under %s", id, e.Date)
		}
	}
}

func TestPutRejectsRowsOfNoItem(t *testing.T) {
	t.Parallel()
	l := open(t, t.TempDir(), nil)
	recs := samples(t)
	b := transform.NewBuilder(nil)
	defer b.Release()
	for _, r := range []*graph.CallRecord{recs[0], recs[1], recs[3]} {
		b.AddGraph(r, t0)
	}
	rows := b.RecordsByName()
	defer func() {
		for _, r := range rows {
			r.Release()
		}
	}()
	tx := l.Begin(t0)
	defer tx.Abort()
	// Two dates, so the rows are routed by their key; recs[1] is not an item.
	items := []Item{{Source: "teams", ID: recs[0].ID, Start: recs[0].StartDateTime},
		{Source: "teams", ID: recs[3].ID, Start: recs[3].StartDateTime}}
	if _, err := tx.Put(context.Background(), items, rows); err == nil || !strings.Contains(err.Error(), "not an item of the Put") {
		t.Fatalf("rows of no item: %v", err)
	}
	dup := []Item{{Source: "teams", ID: "x"}, {Source: "other", ID: "x"}}
	if _, err := tx.Put(context.Background(), dup, nil); err == nil {
		t.Fatal("two items with one id in one Put were accepted")
	}
}

// TestPlainColumns: the columns a table declares Plain are written without
// a dictionary, the others with one, in new groups and in rewrites alike.
func TestPlainColumns(t *testing.T) {
	dir := t.TempDir()
	recs := samples(t)
	decl := []Table{{Name: "calls", Key: "call_id", Plain: []string{"call_id"}}}
	for _, tb := range tables() {
		if tb.Name != "calls" {
			decl = append(decl, tb)
		}
	}
	l, err := Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), Options{Tables: decl})
	if err != nil {
		t.Fatal(err)
	}
	put(t, l, t0, recs...)
	newer := *recs[0]
	newer.Version++
	put(t, l, t0.Add(time.Hour), &newer) // rewrites the group that held recs[0]
	files, err := Files(l.Dir(), "calls")
	if err != nil || len(files) < 2 {
		t.Fatalf("calls files %v %v", files, err)
	}
	for _, f := range files {
		pf, err := file.OpenParquetFile(f, false)
		if err != nil {
			t.Fatal(err)
		}
		schema := pf.MetaData().Schema
		for _, col := range []string{"call_id", "call_type"} {
			i := schema.ColumnIndexByName(col)
			cc, err := pf.MetaData().RowGroup(0).ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			if want := col != "call_id"; cc.HasDictionaryPage() != want {
				t.Errorf("%s: column %s has a dictionary: %v, want %v", f, col, cc.HasDictionaryPage(), want)
			}
		}
		pf.Close()
	}
}
