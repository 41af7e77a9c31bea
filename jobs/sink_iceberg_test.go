package jobs

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/config"
	"callstats/extract/graph/graphtest"
	"callstats/internal/heavytest"
	"callstats/internal/icebergcat"
	"callstats/transform"
	"callstats/transform/lake/iceberg"
)

// icebergConfig is testConfig with the lake kept as Iceberg tables.
func icebergConfig(dir, url string, now time.Time) *config.Config {
	cfg := testConfig(dir, url, now)
	cfg.Output.Format = config.FormatIceberg
	return cfg
}

// icebergDigest renders every row of the Graph tables of an Iceberg lake as
// digest renders the plain lake's (without ingested_at and the Iceberg
// tables' call_start_time), read through the lake's consistent view.
func icebergDigest(t *testing.T, cfg *config.Config) map[string][]string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	v := icebergView(t, cfg)
	out := map[string][]string{}
	for _, table := range transform.GraphTables {
		var cols []string
		for _, f := range transform.Schema(table).Fields() {
			if f.Name != "ingested_at" {
				cols = append(cols, f.Name)
			}
		}
		err := v.Scan(context.Background(), string(table), iceberg.Query{Columns: cols, Allocator: mem}, func(rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				var cells []string
				for c := range int(rec.NumCols()) {
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

// icebergView opens a consistent view of an Iceberg lake's tables, closed
// when the test ends.
func icebergView(t *testing.T, cfg *config.Config) *iceberg.View {
	t.Helper()
	v, closeCatalog, err := icebergcat.OpenView(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeCatalog() })
	return v
}

// icebergDataFiles lists the data files of the Graph tables' current
// snapshots.
func icebergDataFiles(t *testing.T, cfg *config.Config) []string {
	t.Helper()
	v := icebergView(t, cfg)
	var out []string
	for _, table := range transform.GraphTables {
		files, err := v.DataFiles(context.Background(), string(table))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			out = append(out, f.Path)
		}
	}
	slices.Sort(out)
	return out
}

// TestIcebergIngestEqualsPlainLake: an ingest with output.format iceberg
// writes the rows the plain lake holds for the same input, and a rerun
// commits no row and rewrites no data file.
func TestIcebergIngestEqualsPlainLake(t *testing.T) {
	f := newFixture(t, 30)
	f.ingest(t, night1)
	want := digest(t, filepath.Join(f.dir, "lake"))
	if len(want[string(transform.Calls)]) != 30 {
		t.Fatalf("the plain lake holds %d calls, want 30", len(want[string(transform.Calls)]))
	}

	dir := t.TempDir()
	if err := os.Link(filepath.Join(f.dir, "callids.jsonl"), filepath.Join(dir, "callids.jsonl")); err != nil {
		t.Fatal(err)
	}
	cfg := icebergConfig(dir, f.srv.URL, night1)
	sum, err := Ingest(context.Background(), cfg, Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lake.Added != 30 || sum.LakeRecords != 30 {
		t.Fatalf("iceberg ingest: %+v", sum)
	}
	if err := sameLake(want, icebergDigest(t, cfg)); err != nil {
		t.Fatalf("iceberg lake differs from the plain lake: %v", err)
	}
	files := icebergDataFiles(t, cfg)

	cfg = icebergConfig(dir, f.srv.URL, night1.Add(25*time.Hour))
	sum, err = Ingest(context.Background(), cfg, Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if sum.ToFetch != 0 || sum.Lake.Added != 0 || sum.Lake.Replaced != 0 {
		t.Fatalf("rerun: %+v, want nothing fetched or put", sum)
	}
	if got := icebergDataFiles(t, cfg); !slices.Equal(got, files) {
		t.Errorf("rerun changed the data files of the call tables: %d files, were %d", len(got), len(files))
	}
	if err := sameLake(want, icebergDigest(t, cfg)); err != nil {
		t.Fatalf("iceberg lake after the rerun: %v", err)
	}
}

// TestIcebergKillAndRerun kills an Iceberg ingest (SIGKILL) mid-run and
// reruns it; the tables must end up equal to those of a clean run.
func TestIcebergKillAndRerun(t *testing.T) {
	heavytest.Skip(t)
	// A slower Graph, so that a run lasts long enough to be killed in the middle.
	f := newFixtureOn(t, 40, graphtest.Options{Hook: func(*http.Request) { time.Sleep(2 * time.Millisecond) }})
	ref := t.TempDir()
	if err := os.Link(filepath.Join(f.dir, "callids.jsonl"), filepath.Join(ref, "callids.jsonl")); err != nil {
		t.Fatal(err)
	}
	cfg := icebergConfig(ref, f.srv.URL, night1)
	cfg.Output.BatchSize = 7
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	want := icebergDigest(t, cfg)

	// The child is killed just after a data file of a new batch appears: in
	// the middle of that batch's table commits or soon after.
	dataFiles := func() int {
		n := 0
		filepath.WalkDir(filepath.Join(f.dir, "lake"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".parquet") {
				n++
			}
			return nil
		})
		return n
	}
	killed := 0
	for i := range 2 {
		before := dataFiles()
		if runChildKilled(t, []string{"CALLSTATS_TEST_CHILD_DIR=" + f.dir, "CALLSTATS_TEST_CHILD_URL=" + f.srv.URL,
			"CALLSTATS_TEST_CHILD_FORMAT=" + config.FormatIceberg}, func() bool { return dataFiles() > before }, time.Duration(i*5)*time.Millisecond) {
			killed++
		}
	}
	if killed == 0 {
		t.Fatal("no child was killed mid-run; the test proves nothing")
	}
	cfg = icebergConfig(f.dir, f.srv.URL, night1)
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	if err := sameLake(want, icebergDigest(t, cfg)); err != nil {
		t.Fatalf("iceberg lake after a kill and rerun differs from a clean run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.IcebergStateDir(), "intent.json")); !os.IsNotExist(err) {
		t.Errorf("batch intent left after rerun: %v", err)
	}
}
