package transform

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Builder accumulates the rows of every table for some calls; the lake keeps one
// per partition date. Values are appended straight into Arrow builders backed by
// the allocator given to NewBuilder. A Builder is not safe for concurrent use and
// must not be used after Release.
type Builder struct {
	mem  memory.Allocator
	rbs  map[Table]*array.RecordBuilder
	defs []Table // tables in Records order

	calls        callsTable
	participants participantsTable
	sessions     sessionsTable
	streams      streamsTable
	legs         legsTable
	pstnCalls    pstnCallsTable
	drCalls      directRoutingCallsTable

	// Scratch state reused across records to avoid per-row allocations.
	kinds  map[string]string // identity or participant id -> identity kind, for the record being added
	tokens []string          // feedback tokens set to true
}

// NewBuilder returns an empty Builder whose buffers come from mem (the default
// Go allocator when mem is nil).
func NewBuilder(mem memory.Allocator) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := &Builder{
		mem:   mem,
		rbs:   make(map[Table]*array.RecordBuilder, len(AllTables)),
		kinds: make(map[string]string),
	}
	b.bind(Calls, &b.calls)
	b.bind(Participants, &b.participants)
	b.bind(Sessions, &b.sessions)
	b.bind(Streams, &b.streams)
	b.bind(Legs, &b.legs)
	b.bind(PstnCalls, &b.pstnCalls)
	b.bind(DirectRoutingCalls, &b.drCalls)
	return b
}

// bind creates the record builder of table t and points def's column handles at
// its field builders.
func (b *Builder) bind(t Table, def tableDef) {
	rb := array.NewRecordBuilder(b.mem, schemas[t])
	c := columnSet{builders: rb.Fields()}
	def.columns(&c)
	if c.n != len(c.builders) {
		// A programming error in a table definition, caught by every test.
		panic(fmt.Sprintf("transform: table %s binds %d of %d columns", t, c.n, len(c.builders)))
	}
	b.rbs[t] = rb
	b.defs = append(b.defs, t)
}

// Rows returns the number of rows of table t added since the last Records.
func (b *Builder) Rows(t Table) int {
	rb := b.rbs[t]
	if rb == nil || len(rb.Fields()) == 0 {
		return 0
	}
	return rb.Field(0).Len()
}

// Records returns the rows added since the last call, one record batch per table
// that has at least one row (tables without rows are absent from the map), and
// resets the Builder for the next rows. The caller releases the batches.
//
// The emptied builders are not sized for a next batch: most Builders are
// released right after (a batch's rows are put, then freed), and reserving
// room there held as much memory again for nothing.
func (b *Builder) Records() map[Table]arrow.RecordBatch {
	out := make(map[Table]arrow.RecordBatch, len(b.defs))
	for _, t := range b.defs {
		if b.Rows(t) > 0 {
			out[t] = b.rbs[t].NewRecordBatch()
		}
	}
	return out
}

// RecordsByName is Records keyed by table name, the shape the lake's Put
// takes.
func (b *Builder) RecordsByName() map[string]arrow.RecordBatch {
	recs := b.Records()
	out := make(map[string]arrow.RecordBatch, len(recs))
	for t, r := range recs {
		out[string(t)] = r
	}
	return out
}

// Release frees the Builder's buffers, including rows not yet taken by Records.
func (b *Builder) Release() {
	for t, rb := range b.rbs {
		rb.Release()
		delete(b.rbs, t)
	}
}

// columnSet visits a table's columns in schema order. Without builders it
// collects the columns as Arrow fields (to build the schema); with builders (a
// RecordBuilder's fields, made from that schema) it binds each column handle to
// its builder.
type columnSet struct {
	fields   []arrow.Field
	builders []array.Builder
	n        int
}

// next records a column and returns its builder, or nil when collecting fields.
func (c *columnSet) next(name string, typ arrow.DataType, null bool) array.Builder {
	if c.builders == nil {
		c.fields = append(c.fields, arrow.Field{Name: name, Type: typ, Nullable: null})
		return nil
	}
	b := c.builders[c.n]
	c.n++
	return b
}

func (c *columnSet) str(h *strCol, name string, null bool) {
	if b := c.next(name, utf8Type, null); b != nil {
		h.b = b.(*array.StringBuilder)
	}
}

func (c *columnSet) f64(h *f64Col, name string, null bool) {
	if b := c.next(name, float64Type, null); b != nil {
		h.b = b.(*array.Float64Builder)
	}
}

func (c *columnSet) i32(h *i32Col, name string, null bool) {
	if b := c.next(name, int32Type, null); b != nil {
		h.b = b.(*array.Int32Builder)
	}
}

func (c *columnSet) i64(h *i64Col, name string, null bool) {
	if b := c.next(name, int64Type, null); b != nil {
		h.b = b.(*array.Int64Builder)
	}
}

func (c *columnSet) boolean(h *boolCol, name string, null bool) {
	if b := c.next(name, boolType, null); b != nil {
		h.b = b.(*array.BooleanBuilder)
	}
}

func (c *columnSet) ts(h *tsCol, name string, null bool) {
	if b := c.next(name, timestampType, null); b != nil {
		h.b = b.(*array.TimestampBuilder)
	}
}

func (c *columnSet) list(h *listCol, name string, null bool) {
	if b := c.next(name, utf8ListType, null); b != nil {
		h.b = b.(*array.ListBuilder)
		h.v = h.b.ValueBuilder().(*array.StringBuilder)
	}
}

// Column handles. Every flattener appends exactly one value (or NULL) to every
// column of its table per row. The lake has no empty strings and no zero times
// standing for absent values: those become NULL.

// strCol is a utf8 column.
type strCol struct{ b *array.StringBuilder }

// add appends v, or NULL when v is empty.
func (c strCol) add(v string) {
	if v == "" {
		c.b.AppendNull()
		return
	}
	c.b.Append(v)
}

// addRequired appends v as it is, for a column that is never NULL.
func (c strCol) addRequired(v string) { c.b.Append(v) }

// addPtr appends *v, or NULL when v is nil or empty.
func (c strCol) addPtr(v *string) {
	if v == nil {
		c.b.AppendNull()
		return
	}
	c.add(*v)
}

func (c strCol) addNull() { c.b.AppendNull() }

// f64Col is a float64 column.
type f64Col struct{ b *array.Float64Builder }

func (c f64Col) add(v float64) { c.b.Append(v) }
func (c f64Col) addNull()      { c.b.AppendNull() }

func (c f64Col) addPtr(v *float64) {
	if v == nil {
		c.b.AppendNull()
		return
	}
	c.b.Append(*v)
}

// i32Col is an int32 column.
type i32Col struct{ b *array.Int32Builder }

func (c i32Col) add(v int32) { c.b.Append(v) }
func (c i32Col) addNull()    { c.b.AppendNull() }

func (c i32Col) addPtr(v *int32) {
	if v == nil {
		c.b.AppendNull()
		return
	}
	c.b.Append(*v)
}

// i64Col is an int64 column.
type i64Col struct{ b *array.Int64Builder }

func (c i64Col) add(v int64) { c.b.Append(v) }
func (c i64Col) addNull()    { c.b.AppendNull() }

func (c i64Col) addPtr(v *int64) {
	if v == nil {
		c.b.AppendNull()
		return
	}
	c.b.Append(*v)
}

// boolCol is a bool column.
type boolCol struct{ b *array.BooleanBuilder }

func (c boolCol) add(v bool) { c.b.Append(v) }
func (c boolCol) addNull()   { c.b.AppendNull() }

func (c boolCol) addPtr(v *bool) {
	if v == nil {
		c.b.AppendNull()
		return
	}
	c.b.Append(*v)
}

// tsCol is a timestamp[us, tz=UTC] column.
type tsCol struct{ b *array.TimestampBuilder }

// add appends t truncated to microseconds, or NULL when t is the zero time.
func (c tsCol) add(t time.Time) {
	if t.IsZero() {
		c.b.AppendNull()
		return
	}
	c.b.Append(arrow.Timestamp(t.UnixMicro()))
}

func (c tsCol) addNull() { c.b.AppendNull() }

// addRequired appends t even when it is the zero time.
func (c tsCol) addRequired(t time.Time) { c.b.Append(arrow.Timestamp(t.UnixMicro())) }

// addPtr appends *t, or NULL when t is nil or zero.
func (c tsCol) addPtr(t *time.Time) {
	if t == nil {
		c.b.AppendNull()
		return
	}
	c.add(*t)
}

// listCol is a list<utf8> column.
type listCol struct {
	b *array.ListBuilder
	v *array.StringBuilder
}

// addStrings appends vs as one list, skipping empty strings; a nil vs (absent in
// the source) is NULL, an empty one is an empty list.
func (c listCol) addStrings(vs []string) {
	if vs == nil {
		c.b.AppendNull()
		return
	}
	c.b.Append(true)
	for _, v := range vs {
		if v != "" {
			c.v.Append(v)
		}
	}
}

// begin starts a list value; the caller appends its items to the returned builder.
func (c listCol) begin() *array.StringBuilder {
	c.b.Append(true)
	return c.v
}

func (c listCol) addNull() { c.b.AppendNull() }
