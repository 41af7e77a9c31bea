package lake

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// tableRows buffers the rows of one table for one partition date until they
// are written out as a row group of its staged file.
type tableRows struct {
	recs []arrow.RecordBatch
	rows int64
	w    *partWriter // nil until the first flush
}

func (tr *tableRows) add(rec arrow.RecordBatch) {
	if rec.NumRows() == 0 {
		return
	}
	rec.Retain()
	tr.recs = append(tr.recs, rec)
	tr.rows += rec.NumRows()
}

// take returns the buffered rows as one record batch (nil when there are
// none) and empties the buffer; the caller releases the batch.
func (tr *tableRows) take(mem memory.Allocator) (arrow.RecordBatch, error) {
	recs := tr.recs
	tr.recs, tr.rows = nil, 0
	switch len(recs) {
	case 0:
		return nil, nil
	case 1:
		return recs[0], nil
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var n int64
	arrs := make([]arrow.Array, len(recs))
	for _, r := range recs {
		if !r.Schema().Equal(schema) {
			return nil, fmt.Errorf("rows of one table with two schemas: %s and %s", schema, r.Schema())
		}
		n += r.NumRows()
	}
	for i := range cols {
		for j, r := range recs {
			arrs[j] = r.Column(i)
		}
		c, err := array.Concatenate(arrs, mem)
		if err != nil {
			return nil, fmt.Errorf("joining rows of %s: %w", schema.Field(i).Name, err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(schema, cols, n), nil
}

// release drops the buffered rows.
func (tr *tableRows) release() {
	for _, r := range tr.recs {
		r.Release()
	}
	tr.recs, tr.rows = nil, 0
}
