package jobs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"callstats/transform"
	"callstats/transform/lake"
)

func TestRunRecordsSavedPrunedListed(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC)
	// Saved out of order, to show that the order comes from the start times.
	for _, i := range []int{2, 0, 4, 1, 3} {
		r := RunRecord{Job: "ingest", Started: base.AddDate(0, 0, i), Finished: base.AddDate(0, 0, i).Add(time.Minute),
			Elapsed: time.Minute, OK: i != 3, Counts: map[string]int64{"fetched": int64(i)}}
		if i == 3 {
			r.Error = "cannot run: state directory is in use"
		}
		if err := saveRunRecord(dir, r, 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := saveRunRecord(dir, RunRecord{Job: "report", Started: base.AddDate(0, 0, 6).Add(4 * time.Hour), OK: true,
		Counts: map[string]int64{"calls": 9}}, 3); err != nil {
		t.Fatal(err)
	}

	all, err := LastRuns(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range all {
		got = append(got, fmt.Sprintf("%s %s %v", r.Job, r.Started.Format("01-02"), r.OK))
	}
	// Ingest keeps its newest 3 (days 2, 3, 4); the report's record is not
	// counted against ingest's.
	want := []string{"report 11-16 true", "ingest 11-14 true", "ingest 11-13 false", "ingest 11-12 true"}
	if !slices.Equal(got, want) {
		t.Fatalf("LastRuns = %v, want %v", got, want)
	}
	if all[2].Error != "cannot run: state directory is in use" || all[1].Counts["fetched"] != 4 || all[1].Elapsed != time.Minute {
		t.Errorf("record did not round-trip: %+v / %+v", all[2], all[1])
	}
	two, err := LastRuns(dir, 2)
	if err != nil || len(two) != 2 || two[0].Job != "report" || !two[1].Started.Equal(base.AddDate(0, 0, 4)) {
		t.Fatalf("LastRuns(2) = %+v, %v", two, err)
	}
	files, _ := os.ReadDir(filepath.Join(dir, "runs"))
	if len(files) != 4 {
		t.Errorf("%d files in runs/, want 4", len(files))
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".json") || strings.HasPrefix(f.Name(), ".") {
			t.Errorf("unexpected file %s", f.Name())
		}
	}
}

func TestRunRecordsWithTheSameStartAreKept(t *testing.T) {
	// With CALLSTATS_NOW fixed, every run starts at the same time.
	dir := t.TempDir()
	now := time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC)
	for range 3 {
		if err := SaveRunRecord(dir, RunRecord{Job: "ingest", Started: now, OK: true}); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := LastRuns(dir, 0)
	if err != nil || len(runs) != 3 {
		t.Fatalf("got %d records (%v), want 3", len(runs), err)
	}
}

func TestSaveRunRecordRefusesBadRecords(t *testing.T) {
	now := time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC)
	for _, r := range []RunRecord{
		{Job: "", Started: now},
		{Job: "../evil", Started: now},
		{Job: "Ingest", Started: now},
		{Job: "ingest"},
	} {
		dir := t.TempDir()
		if err := SaveRunRecord(dir, r); err == nil {
			t.Errorf("saved %+v", r)
		}
		if runs, _ := LastRuns(dir, 0); len(runs) != 0 {
			t.Errorf("a record of %+v was written", r)
		}
	}
}

func TestSaveRunRecordRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	os.MkdirAll(runs, 0o755)
	stale := filepath.Join(runs, ".20261115T020000.000000000Z-ingest-00000000.json.1234567.tmp")
	fresh := filepath.Join(runs, ".20261116T020000.000000000Z-ingest-11111111.json.7654321.tmp")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	if err := SaveRunRecord(dir, RunRecord{Job: "ingest", Started: time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC), OK: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("a partial record left by a crash hours ago was not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a partial record being written by another process now was removed")
	}
	// Partial files are never listed.
	if r, err := LastRuns(dir, 0); err != nil || len(r) != 1 {
		t.Fatalf("LastRuns = %v, %v", r, err)
	}
}

func TestLastSuccessSkipsFailedRuns(t *testing.T) {
	dir := t.TempDir()
	d := func(day int) time.Time { return time.Date(2026, 11, day, 2, 0, 0, 0, time.UTC) }
	if _, ok, err := LastSuccess(dir, "ingest"); ok || err != nil {
		t.Fatalf("empty state: ok=%v err=%v", ok, err)
	}
	for _, r := range []RunRecord{
		{Job: "ingest", Started: d(10), OK: true},
		{Job: "ingest", Started: d(12), OK: true},
		{Job: "ingest", Started: d(13), Error: "interrupted"},
		{Job: "report", Started: d(14), OK: true},
	} {
		if err := SaveRunRecord(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	at, ok, err := LastSuccess(dir, "ingest")
	if err != nil || !ok || !at.Equal(d(12)) {
		t.Fatalf("LastSuccess(ingest) = %s %v %v, want %s", at, ok, err, d(12))
	}
	if _, ok, _ := LastSuccess(dir, "reconcile"); ok {
		t.Error("LastSuccess(reconcile) found a run")
	}
}

func TestLastRunsReportsADamagedRecord(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "runs"), 0o755)
	bad := filepath.Join(dir, "runs", "20261116T020000.000000000Z-ingest-abcdef01.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	if _, err := LastRuns(dir, 0); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v does not name %s", err, bad)
	}
}

func TestRecordOfSummary(t *testing.T) {
	start := time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)
	s := &Summary{Job: "ingest", Started: start, Elapsed: 95 * time.Second, Done: true,
		QueueEntities: 12, QueueCalls: 10, ToFetch: 9, Fetched: 7, Deferred: 2, Pending: 3,
		Reconciled:  []transform.ReconcileDay{{Missed: 2, Recovered: 1}, {Missed: 1, Recovered: 1}},
		Lake:        lake.Stats{Added: 6, Replaced: 1, Rows: map[string]int64{"calls": 7, "streams": 40}},
		LakeRecords: 100,
	}
	for i := range 120 {
		s.FailedCalls = append(s.FailedCalls, Failed{ID: fmt.Sprintf("id-%03d", i)})
	}
	r := RecordOf("ingest", s, nil, start.Add(2*time.Minute))
	if !r.OK || r.Error != "" || !r.Started.Equal(start) || !r.Finished.Equal(start.Add(2*time.Minute)) || r.Elapsed != 95*time.Second {
		t.Errorf("record: %+v", r)
	}
	want := map[string]int64{"fetched": 7, "deferred": 2, "pending": 3, "failed": 120, "missed": 3, "recovered": 2,
		"reconciled_days": 2, "rows": 47, "rows_calls": 7, "rows_streams": 40, "added": 6, "replaced": 1,
		"queue_entities": 12, "queue_calls": 10, "to_fetch": 9, "lake_records": 100}
	for k, v := range want {
		if r.Counts[k] != v {
			t.Errorf("Counts[%s] = %d, want %d", k, r.Counts[k], v)
		}
	}
	if len(r.Failed) != 100 || r.Failed[0] != "id-000" || r.Failed[99] != "id-099" {
		t.Errorf("Failed: %d ids, %v...", len(r.Failed), r.Failed[:2])
	}

	// A run that could not start has no summary; a failed run keeps its error.
	end := start.Add(time.Second)
	r = RecordOf("ingest", nil, errors.New("cannot run: state directory is in use"), end)
	if r.OK || r.Error != "cannot run: state directory is in use" || !r.Started.Equal(end) || r.Counts != nil {
		t.Errorf("record without summary: %+v", r)
	}
	r = RecordOf("ingest", &Summary{Job: "ingest", Started: start, Fetched: 3}, errors.New("interrupted"), end)
	if r.OK || r.Elapsed != time.Second || r.Counts["fetched"] != 3 {
		t.Errorf("record of an interrupted run: %+v", r)
	}
}

func TestReconcileFrom(t *testing.T) {
	now := time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name      string
		records   []RunRecord
		window    int
		retention int
		from      string
		widened   bool
	}{
		{"first run ever", nil, 3, 30, "2026-11-14", false},
		{"ran last night", []RunRecord{{Job: "ingest", Started: now.Add(-24 * time.Hour), OK: true}}, 3, 30, "2026-11-14", false},
		{"ran at the start of the window", []RunRecord{{Job: "ingest", Started: day("2026-11-14").Add(23 * time.Hour), OK: true}}, 3, 30, "2026-11-14", false},
		{"down for ten days", []RunRecord{{Job: "ingest", Started: day("2026-11-06").Add(2 * time.Hour), OK: true}}, 3, 30, "2026-11-06", true},
		{"runs since then failed", []RunRecord{
			{Job: "ingest", Started: day("2026-11-06").Add(2 * time.Hour), OK: true},
			{Job: "ingest", Started: day("2026-11-15").Add(2 * time.Hour), Error: "credentials"},
		}, 3, 30, "2026-11-06", true},
		{"down past the retention", []RunRecord{{Job: "ingest", Started: day("2026-09-01"), OK: true}}, 3, 30, "2026-10-18", true},
		{"other job's runs do not count", []RunRecord{
			{Job: "ingest", Started: day("2026-11-06"), OK: true},
			{Job: "reconcile", Started: now.Add(-time.Hour), OK: true},
		}, 3, 30, "2026-11-06", true},
		{"retention shorter than the window", []RunRecord{{Job: "ingest", Started: day("2026-11-01"), OK: true}}, 10, 5, "2026-11-07", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, r := range tt.records {
				if err := SaveRunRecord(dir, r); err != nil {
					t.Fatal(err)
				}
			}
			from, widened, err := ReconcileFrom(dir, "ingest", now, tt.window, tt.retention)
			if err != nil {
				t.Fatal(err)
			}
			if !from.Equal(day(tt.from)) || widened != tt.widened {
				t.Fatalf("ReconcileFrom = %s widened=%v, want %s widened=%v", from.Format(time.DateOnly), widened, tt.from, tt.widened)
			}
		})
	}
}
