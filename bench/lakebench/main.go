// Command lakebench generates call records and times callstats' write path on
// them, for bench/run, which compares it with DuckDB on the same file.
//
//	lakebench gen -n 100000 -o records.jsonl
//	lakebench run -in records.jsonl -dir /tmp/lake
//
// run prints one JSON line: records, bytes, seconds, records/s, MB/s, and the
// process's CPU time and peak resident memory.
package main

import (
	"bufio"
	"callstats/internal/memlimit"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"callstats/bench/pipeline"
	"callstats/extract/graph/graphgen"
	"callstats/transform/lake"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lakebench gen|run ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lakebench:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	n := fs.Int("n", 100000, "records")
	out := fs.String("o", "records.jsonl", "output file")
	fs.Parse(args)
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
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
	return os.Rename(tmp, *out)
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	in := fs.String("in", "records.jsonl", "input file")
	dir := fs.String("dir", "", "lake directory (a temp dir when empty)")
	batch := fs.Int("batch", 5000, "records per commit")
	memLimit := fs.Int64("memlimit", memlimit.Default, "soft memory limit in bytes when GOMEMLIMIT is unset, as callstats sets it (0: none)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	fs.Parse(args)
	memlimit.Apply(*memLimit)
	if *dir == "" {
		d, err := os.MkdirTemp("", "lakebench-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	lk, err := lake.Open(context.Background(), filepath.Join(*dir, "lake"), filepath.Join(*dir, "state"), lake.Options{Tables: pipeline.Tables()})
	if err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	stopProfile, err := pipeline.CPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	t := time.Now()
	res, err := pipeline.Run(context.Background(), f, lk, *batch, runtime.GOMAXPROCS(0), time.Now())
	if err != nil {
		return err
	}
	secs := time.Since(t).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"records":        res.Records,
		"bytes":          res.Bytes,
		"seconds":        secs,
		"records_per_s":  float64(res.Records) / secs,
		"mb_per_s":       float64(res.Bytes) / secs / 1e6,
		"peak_rss_bytes": ru.Maxrss * 1024,
		"cpu_seconds":    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(),
		"rows":           res.Stats.Rows,
	})
}
