package transform

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestBuilderRowsAndReset(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem)
	defer b.Release()

	for _, tn := range GraphTables {
		if n := b.Rows(tn); n != 0 {
			t.Errorf("new builder: %d %s rows", n, tn)
		}
	}
	if recs := b.Records(); len(recs) != 0 {
		t.Errorf("records of an empty builder: %d tables, want none", len(recs))
	}

	b.AddGraph(decodeRecord(t, "callrecord-peertopeer-pstn.json"), ingested)
	b.AddGraph(nil, ingested) // adds nothing
	want := map[Table]int{Calls: 1, Participants: 0, Sessions: 1, Streams: 4}
	for tn, n := range want {
		if got := b.Rows(tn); got != n {
			t.Errorf("Rows(%s) = %d, want %d", tn, got, n)
		}
	}
	if got := b.Rows("legs"); got != 0 {
		t.Errorf("Rows of an unknown table = %d", got)
	}

	recs := b.Records()
	if _, ok := recs[Participants]; ok {
		t.Error("Records has a batch for a table without rows")
	}
	for tn, n := range want {
		if n == 0 {
			continue
		}
		if got := recs[tn].NumRows(); got != int64(n) {
			t.Errorf("%s batch: %d rows, want %d", tn, got, n)
		}
	}
	for _, r := range recs {
		r.Release()
	}
	for _, tn := range GraphTables {
		if n := b.Rows(tn); n != 0 {
			t.Errorf("after Records: %d %s rows, want 0", n, tn)
		}
	}

	// The builder is reused for the next rows.
	b.AddGraph(groupCall(t), ingested)
	recs = b.Records()
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	calls := recs[Calls]
	if calls.NumRows() != 1 || calls.Column(0).(*array.String).Value(0) != "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e" {
		t.Errorf("second batch does not hold just the group call")
	}
}

// TestBuilderReleaseFreesPendingRows: rows never taken by Records are freed by
// Release (the deferred AssertSize fails otherwise).
func TestBuilderReleaseFreesPendingRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem)
	b.AddGraph(groupCall(t), ingested)
	if mem.CurrentAlloc() == 0 {
		t.Fatal("rows were not built with the given allocator")
	}
	b.Release()
	b.Release() // harmless
}

func TestNewBuilderNilAllocator(t *testing.T) {
	b := NewBuilder(nil)
	defer b.Release()
	b.AddGraph(groupCall(t), ingested)
	for _, r := range b.Records() {
		r.Release()
	}
}
