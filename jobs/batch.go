package jobs

import (
	"context"
	"fmt"
	"time"

	"callstats/transform"
	"callstats/transform/lake"
	"callstats/transform/rowbatch"
)

// batch writes items into the sink in transactions of at most
// output.batch_size items, so that a killed run loses at most one batch. A
// full batch commits in the background while the next one is built (one
// commit in flight, commits in order; see rowbatch.Writer); commit waits for
// all of them, so the state, committed after the batches, is committed last.
type batch struct {
	r *runner
	w *rowbatch.Writer
}

func (r *runner) newBatch() *batch {
	begin := func(now time.Time) rowbatch.Tx { return r.sink.Begin(now) }
	now := func() time.Time { return r.cfg.Now() }
	return &batch{r: r, w: rowbatch.NewWriter(nil, begin, now, func(s lake.Stats) { r.sum.Lake.Add(s) })}
}

// put stages an item whose rows add writes. An item already in the batch (a
// newer state met later in the same walk) goes into the next batch, after
// this one is committed; a full batch is committed. An error of the commit
// in flight is returned here.
func (b *batch) put(ctx context.Context, it lake.Item, add func(b *transform.Builder, ingestedAt time.Time)) error {
	if b.w.Has(it) {
		if err := b.w.Commit(ctx); err != nil {
			return writeErr(err)
		}
	}
	if err := b.w.Add(ctx, it, add); err != nil {
		return writeErr(err)
	}
	if b.w.Len() >= b.r.cfg.Output.BatchSize {
		if err := b.w.Commit(ctx); err != nil {
			return writeErr(err)
		}
	}
	return nil
}

// commit makes everything put durable and counts it in the summary.
func (b *batch) commit(ctx context.Context) error {
	if err := b.w.Commit(ctx); err != nil {
		return writeErr(err)
	}
	if err := b.w.Wait(); err != nil {
		return writeErr(err)
	}
	return nil
}

// abort drops what is not committed yet, once the commit in flight is done.
func (b *batch) abort() { b.w.Abort() }

func writeErr(err error) error { return cannot(fmt.Errorf("writing lake: %w", err)) }
