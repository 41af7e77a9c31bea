package report

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"callstats/extract/graph"
	"callstats/extract/graph/graphgen"
	"callstats/transform"
	"callstats/transform/lake"
	"callstats/transform/lake/iceberg"
	"callstats/transform/rowbatch"
)

// ingestIceberg writes generated weeks into a new Iceberg lake under dir as
// the ingest job does (rows grouped by rowbatch, batches of 1000) and
// returns a view of it.
func ingestIceberg(t *testing.T, dir string, weeks ...graphgen.Options) *iceberg.View {
	t.Helper()
	ctx := context.Background()
	cc := iceberg.CatalogConfig{Kind: iceberg.SQLCatalog, URI: filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse")}
	lk, err := iceberg.Open(ctx, cc, filepath.Join(dir, "state"), iceberg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lk.Close() })
	for _, o := range weeks {
		start := o.Start
		if start.IsZero() {
			start = graphgen.DefaultStart
		}
		now := start.AddDate(0, 0, 10)
		w := rowbatch.NewWriter(nil, func(now time.Time) rowbatch.Tx { return lk.Begin(now) }, func() time.Time { return now }, func(lake.Stats) {})
		for i, c := range graphgen.Week(o) {
			rec, err := graph.DecodeRecord(c.Raw)
			if err != nil {
				t.Fatal(err)
			}
			it := lake.Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime}
			if err := w.Add(ctx, it, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
				t.Fatal(err)
			}
			if (i+1)%1000 == 0 {
				if err := w.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	v, err := lk.Catalog().View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIcebergLakeGivesTheSameWorkbook: the report on the same calls kept as
// Iceberg tables has the figures and every cell of the report on the plain
// lake.
func TestIcebergLakeGivesTheSameWorkbook(t *testing.T) {
	opts := Options{LakeDir: sharedGraphLake(t), Week: Week{2026, 46}, Location: berlin, Title: "Kestrel Bay"}
	want, wb := generate(t, opts)
	if want.ThisWeek.Calls == 0 || want.LastWeek.Calls == 0 {
		t.Fatalf("the plain lake's report counts no calls (%+v); the test tests nothing", want)
	}
	opts.LakeDir, opts.Iceberg = "", ingestIceberg(t, t.TempDir(), sharedWeeks...)
	got, gb := generate(t, opts)
	// Minutes are sums of floats over rows read in another order: equal up
	// to rounding.
	for _, p := range []struct{ g, w *Period }{{&got.ThisWeek, &want.ThisWeek}, {&got.LastWeek, &want.LastWeek}} {
		if near(p.g.Minutes, p.w.Minutes) {
			p.g.Minutes = p.w.Minutes
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("figures from the Iceberg lake:\n%+v\nwant\n%+v", got, want)
	}
	sheets := wb.f.GetSheetList()
	if g := gb.f.GetSheetList(); !slices.Equal(g, sheets) {
		t.Fatalf("sheets %v, want %v", g, sheets)
	}
	for _, sh := range sheets {
		w, err := wb.f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gb.f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("sheet %s differs: %d rows, want %d", sh, len(g), len(w))
			for i := range min(len(g), len(w)) {
				if !slices.Equal(g[i], w[i]) {
					t.Errorf("sheet %s row %d: %q, want %q", sh, i+1, g[i], w[i])
					break
				}
			}
		}
	}
}
