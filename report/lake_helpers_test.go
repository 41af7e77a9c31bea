package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"callstats/bench/pipeline"
	"callstats/extract/graph/graphgen"
	"callstats/transform/lake"
)

// ingestWeeks ingests generated weeks into a new lake under dir through the
// real write path (decode, flatten, lake commit) and returns the lake directory.
func ingestWeeks(dir string, weeks ...graphgen.Options) (string, error) {
	lk, err := lake.Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), lake.Options{Tables: pipeline.Tables()})
	if err != nil {
		return "", err
	}
	for _, o := range weeks {
		var buf bytes.Buffer
		if _, err := graphgen.WriteJSONL(&buf, o); err != nil {
			return "", err
		}
		start := o.Start
		if start.IsZero() {
			start = graphgen.DefaultStart
		}
		if _, err := pipeline.Run(context.Background(), &buf, lk, 1000, 2, start.AddDate(0, 0, 10)); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "lake"), nil
}

// sharedGraphLake is a lake of two generated weeks, 2026-W45 (seed 1) and
// 2026-W46 (seed 2), ingested once per test run: ingesting is slow under the
// race detector, and the tests only read it.
func sharedGraphLake(t testing.TB) string {
	t.Helper()
	graphOnce.Do(func() {
		dir, err := os.MkdirTemp("", "callstats-report-test-*")
		if err != nil {
			graphErr = err
			return
		}
		graphTmp = dir
		graphDir, graphErr = ingestWeeks(dir, sharedWeeks...)
	})
	if graphErr != nil {
		t.Fatal(graphErr)
	}
	return graphDir
}

var sharedWeeks = []graphgen.Options{{Seed: 1, Start: graphgen.DefaultStart.AddDate(0, 0, -7), Calls: 150}, {Seed: 2, Calls: 150}}

// generatedWeek is graphgen.Week(o), generated once per options for the
// tests that only read the records.
func generatedWeek(o graphgen.Options) []graphgen.Call {
	weeksMu.Lock()
	defer weeksMu.Unlock()
	if c, ok := weeks[o]; ok {
		return c
	}
	c := graphgen.Week(o)
	weeks[o] = c
	return c
}

var (
	weeksMu sync.Mutex
	weeks   = map[graphgen.Options][]graphgen.Call{}
)

var (
	graphOnce          sync.Once
	graphTmp, graphDir string
	graphErr           error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if graphTmp != "" {
		os.RemoveAll(graphTmp)
	}
	os.Exit(code)
}

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// row is one row for writeParquet: column name to value (string, float64,
// int, bool, time.Time, []string); a column not named is NULL.
type row map[string]any

// writeParquet writes rows as {dir}/{table}/date={date}/{name}.parquet (no
// date directory when date is "") with schema sc, as the lake does
// (dictionaries, Arrow schema stored) but Snappy-compressed: a zstd encoder
// per column makes many small files slow under the race detector, and the
// ingested lakes of these tests are zstd already.
func writeParquet(t testing.TB, dir, table, date, name string, sc *arrow.Schema, rows []row) {
	t.Helper()
	p := filepath.Join(dir, table)
	if date != "" {
		p = filepath.Join(p, "date="+date)
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	for _, r := range rows {
		for i, f := range sc.Fields() {
			v, ok := r[f.Name]
			b := rb.Field(i)
			if !ok || v == nil {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.Float64Builder:
				switch v := v.(type) {
				case float64:
					b.Append(v)
				case int:
					b.Append(float64(v))
				}
			case *array.Int32Builder:
				b.Append(int32(v.(int)))
			case *array.Int64Builder:
				b.Append(int64(v.(int)))
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			case *array.Date32Builder:
				b.Append(arrow.Date32FromTime(v.(time.Time)))
			case *array.ListBuilder:
				b.Append(true)
				for _, s := range v.([]string) {
					b.ValueBuilder().(*array.StringBuilder).Append(s)
				}
			default:
				t.Fatalf("writeParquet: column %s: no case for %T", f.Name, b)
			}
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(filepath.Join(p, name+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(true))
	fw, err := pqarrow.NewFileWriter(sc, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
}

// without returns sc minus the named columns: the schema of an older file.
func without(sc *arrow.Schema, names ...string) *arrow.Schema {
	var fs []arrow.Field
	for _, f := range sc.Fields() {
		if !slices.Contains(names, f.Name) {
			fs = append(fs, f)
		}
	}
	return arrow.NewSchema(fs, nil)
}

// schemaOf builds a schema from name/type pairs; every column is nullable.
func schemaOf(cols ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(cols); i += 2 {
		fs = append(fs, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}
