package iceberg

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/extract/graph"
	"callstats/extract/graph/graphgen"
	"callstats/transform"
	"callstats/transform/lake"
	"callstats/transform/rowbatch"
)

// TestCallLogRowsKeyedByID: PSTN log rows are items of source pstn whose
// rows are keyed by id; putting them again changes nothing.
func TestCallLogRowsKeyedByID(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	calls := graphgen.Week(graphgen.Options{Seed: 3, Calls: 40, Days: 2})
	pstn, _ := graphgen.PstnRows(calls, 3)
	if len(pstn) == 0 {
		t.Fatal("graphgen made no PSTN rows; the test tests nothing")
	}
	var rows []graph.PstnCall
	for _, b := range pstn {
		r, err := graph.DecodePstnCall(b)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	put := func(now time.Time) lake.Stats {
		tx := l.Begin(now)
		rs := rowbatch.New(e.mem)
		defer rs.Reset()
		for i := range rows {
			row := &rows[i]
			it := lake.Item{Source: "pstn", ID: row.ID, Start: row.StartDateTime}
			if err := rs.Add(context.Background(), tx, it, now, func(b *transform.Builder, at time.Time) { b.AddPstnCall(row, at) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := rs.Flush(context.Background(), tx); err != nil {
			t.Fatal(err)
		}
		st, err := tx.Commit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := put(t0); st.Added != len(rows) {
		t.Errorf("added %d, want %d", st.Added, len(rows))
	}
	if st := put(t0.Add(time.Hour)); st.Unchanged != len(rows) || st.FilesWritten != 0 {
		t.Errorf("again: %+v, want all unchanged and no file", st)
	}
	v, err := l.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	err = v.Scan(context.Background(), "pstn_calls", Query{Columns: []string{"id"}, Allocator: e.mem}, func(rec arrow.RecordBatch) error {
		for i := range int(rec.NumRows()) {
			ids = append(ids, rec.Column(0).ValueStr(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rows {
		want = append(want, r.ID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("pstn_calls holds %d ids, want %d", len(ids), len(want))
	}
}

// TestPutFileReplacesDayRows: the reconcile table keeps one row set per
// source and day; a second PutFile replaces the first, other sources stay.
func TestPutFileReplacesDayRows(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	day := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	write := func(source string, missed int64) {
		rec := transform.NewReconcileRecord(e.mem, []transform.ReconcileDay{{Source: source, Day: day, Listed: 10, Missed: missed, Complete: true, ReconciledAt: t0}})
		defer rec.Release()
		tx := l.Begin(t0)
		if err := tx.PutFile("reconcile", "2026-11-12", source, rec); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutFile("reconcile", "2026-11-12", source, rec); err == nil {
			t.Fatal("the same file staged twice in one transaction")
		}
		if _, err := tx.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	write("teams", 3)
	write("ringcentral", 1)
	write("teams", 5)
	v, err := l.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	read := func(source string) []transform.ReconcileDay {
		var out []transform.ReconcileDay
		err := v.ScanFile(context.Background(), "reconcile", "2026-11-12", source, e.mem, func(rec arrow.RecordBatch) error {
			days, err := transform.ReadReconcileDays(rec)
			out = append(out, days...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := read("teams"); len(got) != 1 || got[0].Missed != 5 {
		t.Errorf("teams rows %+v, want the second write only", got)
	}
	if got := read("ringcentral"); len(got) != 1 || got[0].Missed != 1 {
		t.Errorf("ringcentral rows %+v", got)
	}
}

func TestStateCommittedWithTables(t *testing.T) {
	e := newEnv(t)
	l := e.open(t)
	tx := l.Begin(t0)
	tx.SetState("cursor.json", []byte(`{"at":1}`))
	putRecords(t, tx, e.mem, t0, week(t, 1)[0])
	if _, err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A batch killed between its tables leaves neither its rows nor its state.
	l.afterTable = func(name string) error {
		if name == "sessions" {
			return errCrash
		}
		return nil
	}
	tx = l.Begin(t0)
	tx.SetState("cursor.json", []byte(`{"at":2}`))
	putRecords(t, tx, e.mem, t0, weekOf(t, 2, 1)[0])
	if _, err := tx.Commit(context.Background()); err != errCrash {
		t.Fatalf("commit: %v, want the simulated crash", err)
	}
	l.Close()
	l = e.open(t)
	b, err := l.ReadState("cursor.json")
	if err != nil || string(b) != `{"at":1}` {
		t.Errorf("state %q %v, want the first batch's", b, err)
	}
	if l.Len() != 1 {
		t.Errorf("%d items, want 1", l.Len())
	}
	v, err := l.Catalog().View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ids := callIDs(t, v, "sessions"); len(slices.Compact(ids)) != 1 {
		t.Errorf("sessions of %d calls after undo, want 1", len(slices.Compact(ids)))
	}
}
