package rowbatch

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/transform"
	"callstats/transform/lake"
)

// Tx is the part of a lake transaction a Writer uses.
type Tx interface {
	Putter
	Commit(ctx context.Context) (lake.Stats, error)
	Abort()
}

// Writer writes items in transactions, a batch of items each, and commits a
// batch in the background while the next one is built, so that Parquet
// encoding overlaps with the decoding and flattening of the next items.
//
// At most one commit is in flight, and commits happen in the order of their
// batches: a batch's first Put into its transaction waits until the commit
// before it has finished, so that the sink is never used by two goroutines
// at once and every transaction sees the ledger as the previous one left it.
// The error of a background commit is returned by the next Add, Commit or
// Wait. A Writer is not safe for concurrent use.
type Writer struct {
	mem   memory.Allocator
	begin func(now time.Time) Tx
	now   func() time.Time
	done  func(lake.Stats)

	rows *Rows     // the batch being built
	tx   Tx        // its transaction, nil until its first Put
	at   time.Time // when the batch began: the ingested time of its rows

	inflight chan commitResult // the commit in flight, nil when none
}

type commitResult struct {
	stats lake.Stats
	err   error
}

// NewWriter returns a Writer whose buffers come from mem (nil: the Go
// allocator). begin starts a transaction, now stamps each batch when its
// first item is added (the transaction's time and its rows' ingested time),
// and done receives the counts of each successful commit, on the goroutine
// that calls the Writer's methods.
func NewWriter(mem memory.Allocator, begin func(now time.Time) Tx, now func() time.Time, done func(lake.Stats)) *Writer {
	return &Writer{mem: mem, begin: begin, now: now, done: done, rows: New(mem)}
}

// Len is the number of items in the batch being built.
func (w *Writer) Len() int { return w.rows.Len() }

// Has reports whether an item is in the batch being built.
func (w *Writer) Has(it lake.Item) bool { return w.rows.Has(it) }

// Add flattens an item with add into the batch being built.
func (w *Writer) Add(ctx context.Context, it lake.Item, add func(*transform.Builder, time.Time)) error {
	if err := w.collect(false); err != nil {
		return err
	}
	if w.rows.Len() == 0 {
		w.at = w.now().UTC()
	}
	return w.rows.Add(ctx, batchTx{w}, it, w.at, add)
}

// Commit starts committing the batch built so far in the background, once
// the commit before it has finished, and starts a new batch. It returns the
// error of the commit before it.
func (w *Writer) Commit(ctx context.Context) error {
	if w.rows.Len() == 0 {
		return w.collect(false)
	}
	if err := w.collect(true); err != nil {
		w.dropBatch()
		return err
	}
	rows, tx, at := w.rows, w.tx, w.at
	w.rows, w.tx = New(w.mem), nil
	if tx == nil {
		tx = w.begin(at)
	}
	res := make(chan commitResult, 1)
	w.inflight = res
	go func() {
		defer rows.Reset()
		if err := rows.Flush(ctx, tx); err != nil {
			tx.Abort()
			res <- commitResult{err: err}
			return
		}
		stats, err := tx.Commit(ctx)
		res <- commitResult{stats: stats, err: err}
	}()
	return nil
}

// Wait waits for the commit in flight and returns its error.
func (w *Writer) Wait() error { return w.collect(true) }

// Abort drops the batch being built, after the commit in flight has
// finished (whatever its outcome).
func (w *Writer) Abort() {
	w.collect(true)
	w.dropBatch()
}

func (w *Writer) dropBatch() {
	if w.tx != nil {
		w.tx.Abort()
		w.tx = nil
	}
	w.rows.Reset()
}

// collect takes the outcome of the commit in flight: waiting for it when
// block is set, else only if it has finished.
func (w *Writer) collect(block bool) error {
	if w.inflight == nil {
		return nil
	}
	var res commitResult
	if block {
		res = <-w.inflight
	} else {
		select {
		case res = <-w.inflight:
		default:
			return nil
		}
	}
	w.inflight = nil
	if res.err != nil {
		return res.err
	}
	if w.done != nil {
		w.done(res.stats)
	}
	return nil
}

// batchTx is the Putter of the batch being built: its first Put waits for
// the commit in flight, then begins the batch's transaction.
type batchTx struct{ w *Writer }

func (p batchTx) Put(ctx context.Context, items []lake.Item, rows map[string]arrow.RecordBatch) ([]lake.Change, error) {
	w := p.w
	if err := w.collect(true); err != nil {
		return nil, err
	}
	if w.tx == nil {
		w.tx = w.begin(w.at)
	}
	return w.tx.Put(ctx, items, rows)
}
