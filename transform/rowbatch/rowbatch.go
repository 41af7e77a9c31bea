// Package rowbatch flattens items into Arrow rows grouped by partition date
// and puts them into a lake transaction a date at a time, so that the
// transaction receives one record batch per table and date for many items
// rather than one per item (which would cost an Arrow array per column per
// item).
package rowbatch

import (
	"context"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/transform"
	"callstats/transform/lake"
)

// Putter is the part of a lake transaction Rows puts into.
type Putter interface {
	Put(ctx context.Context, items []lake.Item, rows map[string]arrow.RecordBatch) ([]lake.Change, error)
}

// flushRows is how many rows of a table a date holds before they are put:
// the lake's default row group.
const flushRows = 64 << 10

// Rows holds the items added since the last Flush, with their rows. It is
// not safe for concurrent use.
type Rows struct {
	mem   memory.Allocator
	dates map[string]*dateRows
	keys  map[string]struct{} // source/id of every item added since Reset
}

// dateRows are the items of one partition date not yet put.
type dateRows struct {
	b     *transform.Builder
	items []lake.Item
	ids   map[string]struct{}
}

// New returns empty Rows whose buffers come from mem (nil: the Go allocator).
func New(mem memory.Allocator) *Rows {
	return &Rows{mem: mem, dates: map[string]*dateRows{}, keys: map[string]struct{}{}}
}

// Has reports whether an item was added since the last Reset.
func (r *Rows) Has(it lake.Item) bool {
	_, ok := r.keys[it.Source+"/"+it.ID]
	return ok
}

// Len is the number of items added since the last Reset.
func (r *Rows) Len() int { return len(r.keys) }

// Add flattens an item with add (ingestedAt is passed through to it) and,
// when its date holds enough rows, puts that date's items into tx.
func (r *Rows) Add(ctx context.Context, tx Putter, it lake.Item, ingestedAt time.Time, add func(*transform.Builder, time.Time)) error {
	// Rows keep the item until it is put: copy its id, which a decoder may
	// have pointed into the record's whole JSON text (tens of KB per record,
	// which a batch would otherwise hold on to).
	it.ID = strings.Clone(it.ID)
	date := it.Start.UTC().Format(time.DateOnly)
	d := r.dates[date]
	if d == nil {
		d = &dateRows{b: transform.NewBuilder(r.mem), ids: map[string]struct{}{}}
		r.dates[date] = d
	}
	if _, ok := d.ids[it.ID]; ok {
		// The same id from another source: rows name ids, not sources, so
		// it goes in another Put.
		if err := d.put(ctx, tx); err != nil {
			return err
		}
	}
	add(d.b, ingestedAt)
	d.items = append(d.items, it)
	d.ids[it.ID] = struct{}{}
	r.keys[it.Source+"/"+it.ID] = struct{}{}
	for _, t := range transform.AllTables {
		if d.b.Rows(t) >= flushRows {
			return d.put(ctx, tx)
		}
	}
	return nil
}

// Flush puts every item not yet put into tx, date by date.
func (r *Rows) Flush(ctx context.Context, tx Putter) error {
	for _, d := range r.dates {
		if err := d.put(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// Reset drops the rows not yet put and forgets the items added: for the
// next transaction.
func (r *Rows) Reset() {
	for date, d := range r.dates {
		d.b.Release()
		delete(r.dates, date)
	}
	clear(r.keys)
}

func (d *dateRows) put(ctx context.Context, tx Putter) error {
	if len(d.items) == 0 {
		return nil
	}
	recs := d.b.RecordsByName()
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	_, err := tx.Put(ctx, d.items, recs)
	d.items = d.items[:0]
	clear(d.ids)
	return err
}
