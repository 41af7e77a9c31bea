package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"callstats/internal/heavytest"
	"callstats/transform/lake/iceberg"
)

// TestDemoIceberg: demo --format iceberg writes the demo's lake as Iceberg
// tables (a SQLite catalog under its state, the warehouse its lake), with
// the calls the plain demo writes, and prints how to read them with the
// real paths.
func TestDemoIceberg(t *testing.T) {
	heavytest.Skip(t)
	skipWaits(t)
	if testing.Short() {
		t.Skip("the demo takes a while")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--dir", dir, "--format", "iceberg"}, &out, &errb); code != exitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	catalog := filepath.Join(dir, "state", "iceberg", "catalog.db")
	for _, want := range []string{"Night 2", "In the lake: 484 calls", "Weekly workbook",
		`uri="sqlite:///` + catalog + `"`, `warehouse="file://` + filepath.Join(dir, "lake") + `"`,
		"iceberg_scan('file://" + filepath.Join(dir, "lake", "callstats.db", "streams", "metadata")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "calls")); err == nil {
		t.Error("the iceberg demo wrote the plain lake's calls directory")
	}
	cat, err := iceberg.OpenCatalog(context.Background(), iceberg.CatalogConfig{Kind: iceberg.SQLCatalog, URI: catalog, Warehouse: filepath.Join(dir, "lake")})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	v, err := cat.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids, rows, rc := map[string]bool{}, 0, 0
	err = v.Scan(context.Background(), "calls", iceberg.Query{Columns: []string{"call_id", "source"}}, func(rec arrow.RecordBatch) error {
		id, src := rec.Column(0).(*array.String), rec.Column(1).(*array.String)
		for i := range int(rec.NumRows()) {
			ids[id.Value(i)] = true
			rows++
			if src.Value(i) == "ringcentral" {
				rc++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 484 || len(ids) != 484 || rc != 84 {
		t.Errorf("iceberg calls: %d rows, %d distinct, %d from RingCentral; want 484, 484 and 84 as the plain demo", rows, len(ids), rc)
	}
}
