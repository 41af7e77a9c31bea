package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph/graphgen"
	"callstats/transform/lake"
)

var start = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)

// input writes (once, cached in the temp dir) a JSONL file of n generated records.
func input(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("callstats-bench-%d.jsonl", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	f, err := os.CreateTemp(os.TempDir(), "callstats-bench-*.tmp")
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := graphgen.WriteJSONL(w, graphgen.Options{Seed: 1, Start: start, Days: 7, Calls: n, Users: 400}); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	if err := os.Rename(f.Name(), path); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestRunWritesEveryRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	path := filepath.Join(t.TempDir(), "in.jsonl")
	f, _ := os.Create(path)
	if _, err := graphgen.WriteJSONL(f, graphgen.Options{Seed: 2, Start: start, Calls: 300}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dir := t.TempDir()
	lk, err := lake.Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), lake.Options{Allocator: mem, Tables: Tables()})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := os.Open(path)
	defer in.Close()
	res, err := Run(context.Background(), in, lk, 100, 2, start.AddDate(0, 0, 8))
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 300 || res.Stats.Added != 300 || res.Stats.Rows["calls"] != 300 || lk.Len() != 300 {
		t.Fatalf("result %+v, lake %d calls", res, lk.Len())
	}
}

func TestRunReportsBrokenLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(path, []byte("{\"id\":\"x\"\n"), 0o644)
	dir := t.TempDir()
	lk, _ := lake.Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), lake.Options{Tables: Tables()})
	in, _ := os.Open(path)
	defer in.Close()
	if _, err := Run(context.Background(), in, lk, 100, 2, start); err == nil {
		t.Fatal("a broken record was not reported")
	}
}

// BenchmarkPipeline measures decode + flatten + zstd Parquet over generated
// records (CALLSTATS_BENCH_RECORDS, default 100000): records/s, MB/s of JSON
// and allocations per record. bench/run compares it with DuckDB.
func BenchmarkPipeline(b *testing.B) {
	n := 100000
	if v := os.Getenv("CALLSTATS_BENCH_RECORDS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	path := input(b, n)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	records := 0
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		lk, err := lake.Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), lake.Options{Tables: Tables()})
		if err != nil {
			b.Fatal(err)
		}
		in, _ := os.Open(path)
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		t := time.Now()
		res, err := Run(context.Background(), in, lk, 5000, runtime.GOMAXPROCS(0), start.AddDate(0, 0, 8))
		elapsed += time.Since(t)
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		records += res.Records
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(res.Records), "allocs/record")
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
}
