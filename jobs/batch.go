package jobs

import (
	"context"
	"errors"
	"fmt"

	"callstats/transform/lake"
)

// batch writes items into the lake in transactions of at most
// output.batch_size items, so that a killed run loses at most one batch.
type batch struct {
	r  *runner
	tx *lake.Tx // nil between a commit and the next put
}

func (r *runner) newBatch() *batch { return &batch{r: r} }

// put stages an item with stage. An item already staged in the transaction
// (a newer state met later in the same walk) is staged again after a commit;
// a full transaction is committed.
func (b *batch) put(ctx context.Context, stage func(*lake.Tx) error) error {
	if b.tx == nil {
		b.tx = b.r.lk.Begin(b.r.cfg.Now())
	}
	err := stage(b.tx)
	if errors.Is(err, lake.ErrStaged) {
		if err := b.commit(ctx); err != nil {
			return err
		}
		b.tx = b.r.lk.Begin(b.r.cfg.Now())
		err = stage(b.tx)
	}
	if err != nil {
		return err
	}
	if b.tx.Len() >= b.r.cfg.Output.BatchSize {
		return b.commit(ctx)
	}
	return nil
}

// commit makes what is staged durable and counts it in the summary.
func (b *batch) commit(ctx context.Context) error {
	if b.tx == nil {
		return nil
	}
	stats, err := b.tx.Commit(ctx)
	b.tx = nil
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
}
