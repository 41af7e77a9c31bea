package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"callstats/transform"
	"callstats/transform/lake"
)

// batch writes items into the sink in transactions of at most
// output.batch_size items, so that a killed run loses at most one batch.
type batch struct {
	r    *runner
	tx   SinkTx             // nil between a commit and the next put
	at   time.Time          // when tx began: the ingested_at of its rows
	rows *transform.Builder // flattens one item at a time; nil with tx
}

func (r *runner) newBatch() *batch { return &batch{r: r} }

// put stages an item whose rows add writes. An item already staged in the
// transaction (a newer state met later in the same walk) is staged again
// after a commit; a full transaction is committed.
func (b *batch) put(ctx context.Context, it lake.Item, add func(b *transform.Builder, ingestedAt time.Time)) error {
	if b.tx == nil {
		b.begin()
	}
	err := b.stage(ctx, it, add)
	if errors.Is(err, lake.ErrStaged) {
		if err := b.commit(ctx); err != nil {
			return err
		}
		b.begin()
		err = b.stage(ctx, it, add)
	}
	if err != nil {
		return err
	}
	if b.tx.Len() >= b.r.cfg.Output.BatchSize {
		return b.commit(ctx)
	}
	return nil
}

func (b *batch) begin() {
	b.at = b.r.cfg.Now().UTC()
	b.tx = b.r.sink.Begin(b.at)
	b.rows = transform.NewBuilder(nil)
}

// stage flattens one item and puts its rows.
func (b *batch) stage(ctx context.Context, it lake.Item, add func(*transform.Builder, time.Time)) error {
	add(b.rows, b.at)
	recs := b.rows.RecordsByName()
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	_, err := b.tx.Put(ctx, it, recs)
	return err
}

// commit makes what is staged durable and counts it in the summary.
func (b *batch) commit(ctx context.Context) error {
	if b.tx == nil {
		return nil
	}
	stats, err := b.tx.Commit(ctx)
	b.end()
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
		b.end()
	}
}

func (b *batch) end() {
	b.tx = nil
	b.rows.Release()
	b.rows = nil
}
