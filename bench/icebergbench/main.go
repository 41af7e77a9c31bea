// Command icebergbench writes the same call records as the plain Parquet
// lake and as the Iceberg lake (SQL catalog, local warehouse), each in a
// process of its own so that each peak RSS is its own, and prints the times,
// their ratio and the peak resident memory of each.
//
//	go run ./bench/icebergbench -n 25000
//
// Each child runs under the soft memory limit callstats sets for its format
// when GOMEMLIMIT is unset (internal/memlimit: Default, or Iceberg, which
// leaves room for the SQLite catalog); -memlimit N gives both N, 0 none.
// -memprofile PREFIX writes each child's heap profile as of the collection
// that found the most live heap, to PREFIX.plain.pprof and
// PREFIX.iceberg.pprof (go tool pprof -sample_index=inuse_space);
// -cpuprofile PREFIX their CPU profiles.
//
// (icebergbench run -format plain|iceberg -in FILE is the child each format
// runs in; it prints one JSON line.)
package main

import (
	"bufio"
	"bytes"
	"callstats/internal/memlimit"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"callstats/bench/pipeline"
	"callstats/extract/graph"
	"callstats/extract/graph/graphgen"
	"callstats/transform"
	"callstats/transform/lake"
	"callstats/transform/lake/iceberg"
	"callstats/transform/rowbatch"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "run" {
		err = child(os.Args[2:])
	} else {
		err = compare(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "icebergbench:", err)
		os.Exit(1)
	}
}

// result is what a child prints.
type result struct {
	Format     string  `json:"format"`
	Records    int     `json:"records"`
	Seconds    float64 `json:"seconds"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Files      int     `json:"files_written"`
}

func compare(args []string) error {
	fs := flag.NewFlagSet("icebergbench", flag.ExitOnError)
	n := fs.Int("n", 25000, "records")
	batch := fs.Int("batch", 5000, "records per commit")
	memLimit := fs.Int64("memlimit", -1, "soft memory limit in bytes of each child when GOMEMLIMIT is unset (0: none; default: callstats' own for each format, internal/memlimit)")
	memProfile := fs.String("memprofile", "", "write each child's heap profile at its peak to `PREFIX`.FORMAT.pprof")
	cpuProfile := fs.String("cpuprofile", "", "write each child's CPU profile to `PREFIX`.FORMAT.pprof")
	fs.Parse(args)
	dir, err := os.MkdirTemp("", "icebergbench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "records.jsonl")
	f, err := os.Create(in)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	if _, err := graphgen.WriteJSONL(w, graphgen.Options{Seed: 1, Start: start, Days: 7, Calls: *n, Users: 2000}); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	res := map[string]result{}
	for _, format := range []string{"plain", "iceberg"} {
		var out bytes.Buffer
		cargs := []string{"run", "-format", format, "-in", in, "-dir", filepath.Join(dir, format),
			"-batch", fmt.Sprint(*batch), "-memlimit", fmt.Sprint(*memLimit)}
		if *memProfile != "" {
			cargs = append(cargs, "-memprofile", *memProfile+"."+format+".pprof")
		}
		if *cpuProfile != "" {
			cargs = append(cargs, "-cpuprofile", *cpuProfile+"."+format+".pprof")
		}
		cmd := exec.Command(self, cargs...)
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", format, err)
		}
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", format, err)
		}
		res[format] = r
		fmt.Printf("%-8s %d records in %.2fs, peak RSS %.0f MiB, %d files\n", format, r.Records, r.Seconds, r.PeakRSSMiB, r.Files)
	}
	p, i := res["plain"], res["iceberg"]
	fmt.Printf("iceberg/plain: time %.2fx, peak RSS %.2fx\n", i.Seconds/p.Seconds, i.PeakRSSMiB/p.PeakRSSMiB)
	return nil
}

func child(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	format := fs.String("format", "plain", "plain or iceberg")
	in := fs.String("in", "", "records, one JSON record a line")
	dir := fs.String("dir", "", "lake directory")
	batch := fs.Int("batch", 5000, "records per commit")
	memLimit := fs.Int64("memlimit", -1, "soft memory limit in bytes when GOMEMLIMIT is unset (0: none; default: callstats' own for the format)")
	memProfile := fs.String("memprofile", "", "write the heap profile of the collection that found the most live heap to `FILE`")
	cpuProfile := fs.String("cpuprofile", "", "write the CPU profile of the writing to `FILE`")
	fs.Parse(args)
	if *memLimit < 0 {
		*memLimit = memlimit.ForFormat(*format)
	}
	memlimit.Apply(*memLimit)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	var begin func(now time.Time) rowbatch.Tx
	switch *format {
	case "plain":
		l, err := lake.Open(ctx, filepath.Join(*dir, "lake"), filepath.Join(*dir, "state"), lake.Options{Tables: pipeline.Tables()})
		if err != nil {
			return err
		}
		begin = func(now time.Time) rowbatch.Tx { return l.Begin(now) }
	case "iceberg":
		l, err := iceberg.Open(ctx, iceberg.CatalogConfig{Kind: iceberg.SQLCatalog,
			URI: filepath.Join(*dir, "state", "catalog.db"), Warehouse: filepath.Join(*dir, "lake")},
			filepath.Join(*dir, "state", "iceberg"), iceberg.Options{})
		if err != nil {
			return err
		}
		defer l.Close()
		begin = func(now time.Time) rowbatch.Tx { return l.Begin(now) }
	default:
		return fmt.Errorf("unknown format %q", *format)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	if *memProfile != "" {
		stop := profilePeak(*memProfile)
		defer stop()
	}
	stopProfile, err := pipeline.CPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	t := time.Now()
	br := bufio.NewReaderSize(f, 1<<20)
	// Written as the ingest job writes: rows grouped by rowbatch, each
	// batch committed in the background while the next is built.
	n, inTx, files := 0, 0, 0
	w := rowbatch.NewWriter(nil, begin, func() time.Time { return now }, func(st lake.Stats) { files += st.FilesWritten })
	defer w.Abort()
	for {
		b, rerr := br.ReadBytes('\n')
		if len(b) > 1 {
			rec, err := graph.DecodeRecord(b)
			if err != nil {
				return fmt.Errorf("record %d: %w", n+1, err)
			}
			it := lake.Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime}
			if err := w.Add(ctx, it, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
				return err
			}
			n++
			if inTx++; inTx == *batch {
				if err := w.Commit(ctx); err != nil {
					return err
				}
				inTx = 0
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := w.Commit(ctx); err != nil {
		return err
	}
	if err := w.Wait(); err != nil {
		return err
	}
	secs := time.Since(t).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return json.NewEncoder(os.Stdout).Encode(result{Format: *format, Records: n, Seconds: secs,
		PeakRSSMiB: float64(ru.Maxrss) / 1024, Files: files})
}
