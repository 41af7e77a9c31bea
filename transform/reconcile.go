package transform

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reconcile is the table of completeness: per source and UTC day, what the
// source listed and what became of it.
const Reconcile Table = "reconcile"

// ReconcileDay is one row of the reconcile table. For Teams the unit is a call
// record id, for RingCentral a telephony session id.
type ReconcileDay struct {
	Source string
	Day    time.Time // UTC midnight
	// Listed: ids the source holds for the day. Notified: those the queue
	// named. Missed: listed but never notified. Recovered: missed ones now in
	// the lake. Deferred: missed ones to be fetched on a later run. Failed:
	// missed ones given up for good.
	Listed, Notified, Missed, Recovered, Deferred, Failed int64
	// NoQueue is set when there was no queue (calls found by listing):
	// Notified and Missed mean nothing then and are written as NULL.
	NoQueue bool
	// Complete is false when the listing failed part-way: the counts are then
	// a lower bound and the day is listed again on the next run.
	Complete     bool
	ReconciledAt time.Time
}

var reconcileSchema = arrow.NewSchema([]arrow.Field{
	{Name: "source", Type: arrow.BinaryTypes.String},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32},
	{Name: "listed", Type: arrow.PrimitiveTypes.Int64},
	{Name: "notified", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "missed", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "recovered", Type: arrow.PrimitiveTypes.Int64},
	{Name: "deferred", Type: arrow.PrimitiveTypes.Int64},
	{Name: "failed", Type: arrow.PrimitiveTypes.Int64},
	{Name: "complete", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "reconciled_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
}, nil)

// ReconcileSchema is the reconcile table's schema.
func ReconcileSchema() *arrow.Schema { return reconcileSchema }

// NewReconcileRecord builds reconcile rows into a record batch; the caller releases it.
func NewReconcileRecord(mem memory.Allocator, rows []ReconcileDay) arrow.RecordBatch {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(mem, reconcileSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.Source)
		b.Field(1).(*array.Date32Builder).Append(arrow.Date32FromTime(r.Day))
		for i, v := range []int64{r.Listed, r.Notified, r.Missed, r.Recovered, r.Deferred, r.Failed} {
			if r.NoQueue && (i == 1 || i == 2) {
				b.Field(2 + i).(*array.Int64Builder).AppendNull()
				continue
			}
			b.Field(2 + i).(*array.Int64Builder).Append(v)
		}
		b.Field(8).(*array.BooleanBuilder).Append(r.Complete)
		b.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(r.ReconciledAt.UnixMicro()))
	}
	return b.NewRecordBatch()
}

// SameCounts reports whether two rows of one source and day say the same.
func (d ReconcileDay) SameCounts(o ReconcileDay) bool {
	return d.Source == o.Source && d.Day.Equal(o.Day) && d.Listed == o.Listed && d.Notified == o.Notified &&
		d.Missed == o.Missed && d.Recovered == o.Recovered && d.Deferred == o.Deferred && d.Failed == o.Failed &&
		d.Complete == o.Complete && d.NoQueue == o.NoQueue
}

// ReadReconcileDays reads reconcile rows back from a record batch of the table.
func ReadReconcileDays(rec arrow.RecordBatch) ([]ReconcileDay, error) {
	got := rec.Schema()
	if got.NumFields() != reconcileSchema.NumFields() {
		return nil, fmt.Errorf("reconcile table has %d columns, want %d", got.NumFields(), reconcileSchema.NumFields())
	}
	for i, f := range reconcileSchema.Fields() {
		if g := got.Field(i); g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return nil, fmt.Errorf("reconcile table column %d is %s %s, want %s %s", i, g.Name, g.Type, f.Name, f.Type)
		}
	}
	src := rec.Column(0).(*array.String)
	days := rec.Column(1).(*array.Date32)
	ints := make([]*array.Int64, 6)
	for i := range ints {
		ints[i] = rec.Column(2 + i).(*array.Int64)
	}
	complete := rec.Column(8).(*array.Boolean)
	at := rec.Column(9).(*array.Timestamp)
	out := make([]ReconcileDay, rec.NumRows())
	for i := range out {
		out[i] = ReconcileDay{
			Source: src.Value(i), Day: days.Value(i).ToTime().UTC(),
			Listed: ints[0].Value(i), Notified: ints[1].Value(i), Missed: ints[2].Value(i),
			Recovered: ints[3].Value(i), Deferred: ints[4].Value(i), Failed: ints[5].Value(i),
			Complete: complete.Value(i), ReconciledAt: time.UnixMicro(int64(at.Value(i))).UTC(),
			NoQueue: ints[1].IsNull(i),
		}
	}
	return out, nil
}
