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
// output.batch_size items, so that a killed run loses at most one batch.
type batch struct {
	r    *runner
	tx   SinkTx         // nil between a commit and the next put
	at   time.Time      // when tx began: the ingested_at of its rows
	rows *rowbatch.Rows // the items of tx, flattened, not yet put into it
}

func (r *runner) newBatch() *batch { return &batch{r: r, rows: rowbatch.New(nil)} }

// put stages an item whose rows add writes. An item already staged in the
// transaction (a newer state met later in the same walk) is staged again
// after a commit; a full transaction is committed.
func (b *batch) put(ctx context.Context, it lake.Item, add func(b *transform.Builder, ingestedAt time.Time)) error {
	if b.tx != nil && b.rows.Has(it) {
		if err := b.commit(ctx); err != nil {
			return err
		}
	}
	if b.tx == nil {
		b.at = b.r.cfg.Now().UTC()
		b.tx = b.r.sink.Begin(b.at)
	}
	if err := b.rows.Add(ctx, b.tx, it, b.at, add); err != nil {
		return err
	}
	if b.rows.Len() >= b.r.cfg.Output.BatchSize {
		return b.commit(ctx)
	}
	return nil
}

// commit makes what is staged durable and counts it in the summary.
func (b *batch) commit(ctx context.Context) error {
	if b.tx == nil {
		return nil
	}
	tx := b.tx
	err := b.rows.Flush(ctx, tx)
	b.rows.Reset()
	b.tx = nil
	if err != nil {
		tx.Abort()
		return cannot(fmt.Errorf("writing lake: %w", err))
	}
	stats, err := tx.Commit(ctx)
	if err != nil {
		return cannot(fmt.Errorf("writing lake: %w", err))
	}
	b.r.sum.Lake.Add(stats)
	return nil
}

// abort drops what is staged.
func (b *batch) abort() {
	if b.tx != nil {
		b.tx.Abort()
		b.tx = nil
	}
	b.rows.Reset()
}
