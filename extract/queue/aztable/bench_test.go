package aztable_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"callstats/extract/queue"
	"callstats/extract/queue/aztable"
	"callstats/internal/azurite"
)

// BenchmarkAzureTableRead reads tables of 25,000 and 100,000 seed-shaped
// entities from Azurite, streaming them, and reports entities/s and the
// peak RSS of this process during the reads (flat in table size: the read
// keeps one page). Loading the tables is not timed.
//
//	go test -bench AzureTableRead -run '^$' -benchtime 3x ./extract/queue/aztable/
func BenchmarkAzureTableRead(b *testing.B) {
	s := azurite.Start(b)
	for _, n := range []int{25_000, 100_000} {
		name := fmt.Sprintf("read%d", n)
		clk := &clock{now: base.Add(96 * time.Hour)}
		tbl := open(b, s, name, clk)
		load(b, rawClient(b, s, name), generate(n)[:n])
		b.Run(fmt.Sprintf("entities=%d", n), func(b *testing.B) {
			resetPeakRSS(b)
			start := time.Now()
			for b.Loop() {
				got := 0
				res, err := tbl.Read(context.Background(), aztable.Cursor{}, func(queue.Entity) error { got++; return nil })
				if err != nil {
					b.Fatal(err)
				}
				if got != n || res.Entities != n {
					b.Fatalf("read %d entities, want %d", got, n)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "entities/s")
			b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MiB")
		})
	}
}

// resetPeakRSS returns freed memory to the OS and resets the kernel's
// high-water mark of this process's RSS (VmHWM), so peakRSS measures what
// follows, not the table loading before it.
func resetPeakRSS(b *testing.B) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS (Linux only): %v", err)
	}
}

// peakRSS reads VmHWM, the peak resident set size since resetPeakRSS, in
// bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
