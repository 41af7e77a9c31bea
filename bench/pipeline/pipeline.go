// Package pipeline runs callstats' write path — decode, flatten, Parquet —
// over a file of raw call records, one JSON record a line, so that benchmarks
// measure it without a network in the way.
package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"callstats/extract/graph"
	"callstats/transform"
	"callstats/transform/lake"
	"callstats/transform/rowbatch"
)

// Result is what a run did.
type Result struct {
	Records int
	Bytes   int64
	Stats   lake.Stats
}

// Tables declares the lake's tables of call rows, for lake.Options.
func Tables() []lake.Table {
	out := make([]lake.Table, 0, len(transform.AllTables))
	for _, t := range transform.AllTables {
		out = append(out, lake.Table{Name: string(t), Key: transform.KeyColumn(t)})
	}
	return out
}

// Run decodes every line of r with workers goroutines, puts the records into
// the lake, and commits every batch records.
func Run(ctx context.Context, r io.Reader, lk *lake.Lake, batch, workers int, now time.Time) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type line struct {
		n int
		b []byte
	}
	lines := make(chan line, 4*workers)
	recs := make(chan *graph.CallRecord, 4*workers)
	errc := make(chan error, workers+1)
	var res Result

	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(r, 1<<20)
		n := 0
		for {
			b, err := br.ReadBytes('\n')
			if len(b) > 1 {
				n++
				res.Bytes += int64(len(b))
				select {
				case lines <- line{n, b}:
				case <-ctx.Done():
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range lines {
				rec, err := graph.DecodeRecord(l.b)
				if err != nil {
					errc <- fmt.Errorf("line %d: %w", l.n, err)
					cancel()
					return
				}
				select {
				case recs <- rec:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(recs) }()

	tx := lk.Begin(now)
	rows := rowbatch.New(nil)
	defer rows.Reset()
	for rec := range recs {
		it := lake.Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime}
		if err := rows.Add(ctx, tx, it, now.UTC(), func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
			tx.Abort()
			return res, err
		}
		res.Records++
		if rows.Len() >= batch {
			if err := rows.Flush(ctx, tx); err != nil {
				tx.Abort()
				return res, err
			}
			rows.Reset()
			st, err := tx.Commit(ctx)
			if err != nil {
				return res, err
			}
			res.Stats.Add(st)
			tx = lk.Begin(now)
		}
	}
	select {
	case err := <-errc:
		tx.Abort()
		return res, err
	default:
	}
	if err := rows.Flush(ctx, tx); err != nil {
		tx.Abort()
		return res, err
	}
	st, err := tx.Commit(ctx)
	if err != nil {
		return res, err
	}
	res.Stats.Add(st)
	return res, nil
}
