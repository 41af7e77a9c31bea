package jobs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
	"callstats/internal/heavytest"
	"callstats/transform/lake"
)

// lakeCallIDs lists the call ids of the lake's calls table, one per row.
func lakeCallIDs(t *testing.T, dir string) []string {
	t.Helper()
	var ids []string
	err := lake.Scan(context.Background(), dir, "calls", nil, func(rec arrow.RecordBatch) error {
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

// callIDs returns the ids of calls for which keep is true, sorted.
func callIDs(calls []graphgen.Call, keep func(graphgen.Call) bool) []string {
	var ids []string
	for _, c := range calls {
		if keep(c) {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// With no queue section, ingest lists each day of its window and fetches
// every call of it; a first run goes back reconcile.initial_days. The
// reconcile table has no notified or missed figure (NULL), and a second run
// fetches nothing again.
func TestIngestWithoutQueueListsEveryCallOfTheWindow(t *testing.T) {
	f := newFixture(t, 80)
	os.Remove(filepath.Join(f.dir, "callids.jsonl"))
	cfg := testConfig(f.dir, f.srv.URL, night1)
	cfg.Queue.Path = ""
	cfg.Reconcile.InitialDays = 6 // 2026-11-11 .. 2026-11-16: the week's first two days are left out
	from := night1.Truncate(day).AddDate(0, 0, -5)
	want := callIDs(f.calls, func(c graphgen.Call) bool { return !c.Start.Before(from) })
	if len(want) == 0 || len(want) == len(f.calls) {
		t.Fatalf("%d of %d calls in the window: the test proves nothing", len(want), len(f.calls))
	}

	sum, err := Ingest(context.Background(), cfg, Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveRunRecord(cfg.StateDir, RecordOf("ingest", sum, nil, night1)); err != nil {
		t.Fatal(err)
	}
	if got := lakeCallIDs(t, filepath.Join(f.dir, "lake")); !slices.Equal(got, want) {
		t.Fatalf("lake holds %d calls, want the %d of the window", len(got), len(want))
	}
	if len(sum.Reconciled) != 6 {
		t.Fatalf("%d days reconciled, want reconcile.initial_days (6)", len(sum.Reconciled))
	}

	// The reconcile table: notified and missed are NULL, listed counts the calls.
	var rows, listed int64
	err = lake.Scan(context.Background(), filepath.Join(f.dir, "lake"), "reconcile", nil, func(rec arrow.RecordBatch) error {
		for _, name := range []string{"notified", "missed"} {
			col := rec.Column(rec.Schema().FieldIndices(name)[0])
			if col.NullN() != int(rec.NumRows()) {
				t.Errorf("%s: %d of %d rows NULL, want all", name, col.NullN(), rec.NumRows())
			}
		}
		l := rec.Column(rec.Schema().FieldIndices("listed")[0])
		for i := range int(rec.NumRows()) {
			var n int64
			if _, err := fmt.Sscan(l.ValueStr(i), &n); err != nil {
				return err
			}
			listed += n
		}
		rows += rec.NumRows()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 6 || listed != int64(len(want)) {
		t.Fatalf("reconcile table: %d rows listing %d calls, want 6 rows listing %d", rows, listed, len(want))
	}
	var out bytes.Buffer
	sum.Print(&out)
	if !strings.Contains(out.String(), "n/a") || !strings.Contains(out.String(), "none: calls are found by listing") {
		t.Errorf("summary does not say there is no queue, notified n/a:\n%s", out.String())
	}
	if rec := RecordOf("ingest", sum, nil, night1); rec.Counts["missed"] != 0 || rec.Counts["recovered"] != int64(len(want)) {
		t.Errorf("run record counts %d missed, %d recovered; want 0 and %d", rec.Counts["missed"], rec.Counts["recovered"], len(want))
	}

	// The next night lists its 3-day window again and fetches nothing.
	cfg.Now = func() time.Time { return night1.Add(24 * time.Hour) }
	sum, err = Ingest(context.Background(), cfg, Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if sum.ToFetch != 0 || len(sum.Reconciled) != 3 {
		t.Fatalf("second night fetched %d over %d days, want 0 over 3", sum.ToFetch, len(sum.Reconciled))
	}
}

// A first run over a queue spanning nine days recovers every withheld
// notification of those days without an explicit reconcile, though
// reconcile.window_days is 3; the second run is back to the normal window.
func TestFirstRunReconcilesBackToTheQueueStart(t *testing.T) {
	heavytest.Skip(t)
	srv := graphtest.NewServer(graphtest.Options{})
	t.Cleanup(srv.Close)
	start := night1.Truncate(day).AddDate(0, 0, -9)
	calls := graphgen.Week(graphgen.Options{Seed: 5, Start: start, Days: 9, Calls: 72})
	for _, c := range calls {
		if err := srv.Put(c.Raw); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{srv: srv, calls: calls, dir: t.TempDir()}
	withheld := f.withholdQueue(t, func(i int) bool { return i%4 == 1 })
	var early int
	for _, c := range calls {
		if c.Start.Before(night1.Truncate(day).AddDate(0, 0, -2)) && slices.Contains(withheld, c.ID) {
			early++
		}
	}
	if early == 0 {
		t.Fatal("no call withheld before the 3-day window: the test proves nothing")
	}

	var progress bytes.Buffer
	cfg := testConfig(f.dir, f.srv.URL, night1)
	cfg.Output.BatchSize = 20
	sum, err := Ingest(context.Background(), cfg, Env{Wait: noWait, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if got := lakeCallIDs(t, filepath.Join(f.dir, "lake")); !slices.Equal(got, callIDs(calls, func(graphgen.Call) bool { return true })) {
		t.Fatalf("lake holds %d calls, want all %d (%d withheld, %d before the 3-day window)", len(got), len(calls), len(withheld), early)
	}
	var missed, recovered int64
	for _, r := range sum.Reconciled {
		missed += r.Missed
		recovered += r.Recovered
	}
	if missed != int64(len(withheld)) || recovered != missed {
		t.Fatalf("missed %d, recovered %d; withheld %d", missed, recovered, len(withheld))
	}
	if !strings.Contains(progress.String(), "listing Teams call records by day") {
		t.Errorf("no listing progress shown:\n%q", progress.String())
	}
	if err := SaveRunRecord(cfg.StateDir, RecordOf("ingest", sum, nil, night1)); err != nil {
		t.Fatal(err)
	}

	// Not a first run any more: the normal window.
	sum, err = Ingest(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(time.Hour)), Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Reconciled) != 3 || sum.ToFetch != 0 {
		t.Fatalf("second run reconciled %d days and fetched %d, want 3 and 0", len(sum.Reconciled), sum.ToFetch)
	}
}

// A queue file rotated since the last run is finished from the rotated file
// (logged at debug); one replaced by a shorter file whose old rest cannot be
// found is read from its start, and the possible loss is logged at warn.
func TestFileQueueLogsRotatedAndLost(t *testing.T) {
	f := newFixture(t, 12)
	path := filepath.Join(f.dir, "callids.jsonl")
	var logs bytes.Buffer
	env := Env{Wait: noWait, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cfg := testConfig(f.dir, f.srv.URL, night1)
	cfg.Reconcile.Disabled = true
	if _, err := Ingest(context.Background(), cfg, env); err != nil {
		t.Fatal(err)
	}

	// Rotation: the receiver renames the file and starts a new one.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	var q bytes.Buffer
	entity(&q, f.calls[0].ID, "updated", night1.Add(time.Hour))
	os.WriteFile(path, q.Bytes(), 0o644)
	logs.Reset()
	if _, err := Ingest(context.Background(), cfg, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"finished the rotated queue file") || strings.Contains(logs.String(), "may be lost") {
		t.Errorf("rotation not logged at debug:\n%s", logs.String())
	}

	// Loss: the file is replaced by a shorter one and the old one is gone.
	os.Remove(path + ".1")
	os.WriteFile(path, []byte("\n"), 0o644)
	logs.Reset()
	if _, err := Ingest(context.Background(), cfg, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"queue lines may be lost") {
		t.Errorf("loss not logged at warn:\n%s", logs.String())
	}
}
