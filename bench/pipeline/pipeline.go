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
		out = append(out, lake.Table{Name: string(t), Key: transform.KeyColumn(t), Plain: transform.UniqueColumns(t)})
	}
	return out
}

// Run decodes every line of r with workers goroutines and writes the records
// into the lake as the ingest job does (rowbatch.Writer), committing every
// batch records.
func Run(ctx context.Context, r io.Reader, lk *lake.Lake, batch, workers int, now time.Time) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type line struct {
		n int
		b *[]byte
	}
	// Line buffers go back to the pool once decoded: the decoder keeps
	// nothing of its input.
	bufs := sync.Pool{New: func() any { return new([]byte) }}
	lines := make(chan line, 4*workers)
	recs := make(chan *graph.CallRecord, 4*workers)
	errc := make(chan error, workers+1)
	var res Result

	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(r, 1<<20)
		n := 0
		for {
			b := bufs.Get().(*[]byte)
			var err error
			*b, err = readLine(br, (*b)[:0])
			if len(*b) > 1 {
				n++
				res.Bytes += int64(len(*b))
				select {
				case lines <- line{n, b}:
				case <-ctx.Done():
					return
				}
			} else {
				bufs.Put(b)
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
				rec, err := graph.DecodeRecord(*l.b)
				bufs.Put(l.b)
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

	w := rowbatch.NewWriter(nil, func(now time.Time) rowbatch.Tx { return lk.Begin(now) },
		func() time.Time { return now }, func(st lake.Stats) { res.Stats.Add(st) })
	for rec := range recs {
		it := lake.Item{Source: "teams", ID: rec.ID, Version: rec.Version, LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime}
		if err := w.Add(ctx, it, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
			w.Abort()
			return res, err
		}
		res.Records++
		if w.Len() >= batch {
			if err := w.Commit(ctx); err != nil {
				w.Abort()
				return res, err
			}
		}
	}
	select {
	case err := <-errc:
		w.Abort()
		return res, err
	default:
	}
	if err := w.Commit(ctx); err != nil {
		w.Abort()
		return res, err
	}
	return res, w.Wait()
}

// readLine appends the next line of br, through its '\n', to buf.
func readLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		frag, err := br.ReadSlice('\n')
		buf = append(buf, frag...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}
