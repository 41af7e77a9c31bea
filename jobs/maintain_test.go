package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"callstats/internal/heavytest"
	"callstats/transform"
)

// TestMaintainPlainLakeHasNothingToDo: with the plain lake, Maintain does
// nothing and says so (nil stats).
func TestMaintainPlainLakeHasNothingToDo(t *testing.T) {
	dir := t.TempDir()
	st, err := Maintain(context.Background(), testConfig(dir, "http://unused", night1), Env{})
	if err != nil || st != nil {
		t.Fatalf("Maintain on the plain lake: %+v, %v; want nil, nil", st, err)
	}
}

// TestMaintainTakesTheStateLock: maintenance never runs beside an ingest.
func TestMaintainTakesTheStateLock(t *testing.T) {
	dir := t.TempDir()
	cfg := icebergConfig(dir, "http://unused", night1)
	lock, err := AcquireLock(cfg.StateDir, "ingest", night1)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if _, err := Maintain(context.Background(), cfg, Env{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Maintain while locked: %v, want ErrLocked", err)
	}
}

// maxFilesPerDay is the most data files any day partition of the call
// tables holds.
func maxFilesPerDay(t *testing.T, dir string) int {
	t.Helper()
	cfg := icebergConfig(dir, "http://unused", night1)
	v := icebergView(t, cfg)
	most := 0
	for _, table := range transform.GraphTables {
		files, err := v.DataFiles(context.Background(), string(table))
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, f := range files {
			per[f.Partition]++
			most = max(most, per[f.Partition])
		}
	}
	return most
}

// TestIngestMaintainsIcebergLake: an Iceberg ingest writing many small
// batches ends with its maintenance: at most 2 data files per day
// partition, the same rows; `maintain` after it finds nothing to compact.
func TestIngestMaintainsIcebergLake(t *testing.T) {
	heavytest.Skip(t)
	f := newFixture(t, 30)
	cfg := icebergConfig(f.dir, f.srv.URL, night1)
	cfg.Output.BatchSize = 4 // 8 batches: several files per day before compaction
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	if n := maxFilesPerDay(t, f.dir); n > 2 {
		t.Errorf("a day partition holds %d data files after the ingest's maintenance, want at most 2", n)
	}
	ref := t.TempDir()
	if err := os.Link(filepath.Join(f.dir, "callids.jsonl"), filepath.Join(ref, "callids.jsonl")); err != nil {
		t.Fatal(err)
	}
	plain := testConfig(ref, f.srv.URL, night1)
	if _, err := Ingest(context.Background(), plain, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	if err := sameLake(digest(t, filepath.Join(ref, "lake")), icebergDigest(t, cfg)); err != nil {
		t.Fatalf("maintained iceberg lake differs from the plain lake: %v", err)
	}
	st, err := Maintain(context.Background(), cfg, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || st.PartitionsCompacted != 0 {
		t.Errorf("maintain after the ingest's maintenance: %+v, want nothing compacted", st)
	}
}
