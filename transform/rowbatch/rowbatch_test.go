package rowbatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
	"callstats/transform"
	"callstats/transform/lake"
)

// recorder is a Putter that notes each Put: its items' ids and the calls
// rows it got.
type recorder struct{ puts []string }

func (r *recorder) Put(_ context.Context, items []lake.Item, rows map[string]arrow.RecordBatch) ([]lake.Change, error) {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Source+":"+it.ID)
	}
	var n int64
	if rec, ok := rows["calls"]; ok {
		n = rec.NumRows()
	}
	r.puts = append(r.puts, fmt.Sprintf("%s rows=%d", strings.Join(ids, ","), n))
	return make([]lake.Change, len(items)), nil
}

func TestRowsPutByDate(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	day1 := time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	at := day2.Add(time.Hour)
	call := func(id string, start time.Time) (lake.Item, func(*transform.Builder, time.Time)) {
		rec := &graph.CallRecord{ID: id, StartDateTime: start, EndDateTime: start.Add(time.Minute)}
		return lake.Item{Source: "teams", ID: id, Start: start}, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }
	}
	ctx := context.Background()
	rows := New(mem)
	var tx recorder
	for _, c := range []struct {
		id    string
		start time.Time
	}{{"a", day1}, {"b", day2}, {"c", day1}} {
		it, add := call(c.id, c.start)
		if err := rows.Add(ctx, &tx, it, at, add); err != nil {
			t.Fatal(err)
		}
	}
	// The same id from another source goes in a Put of its own.
	other := lake.Item{Source: "pstn", ID: "a", Start: day1}
	if err := rows.Add(ctx, &tx, other, at, func(*transform.Builder, time.Time) {}); err != nil {
		t.Fatal(err)
	}
	if !rows.Has(other) || rows.Len() != 4 {
		t.Errorf("Has %v, Len %d", rows.Has(other), rows.Len())
	}
	if err := rows.Flush(ctx, &tx); err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(tx.puts[1:])
	slices.Sort(got)
	want := []string{"pstn:a rows=0", "teams:b rows=1"}
	if tx.puts[0] != "teams:a,teams:c rows=2" || !slices.Equal(got, want) {
		t.Errorf("puts %q", tx.puts)
	}
	rows.Reset()
	if rows.Len() != 0 || rows.Has(other) {
		t.Error("Reset kept items")
	}
	tx.puts = nil
	if err := rows.Flush(ctx, &tx); err != nil || len(tx.puts) != 0 {
		t.Errorf("flush after reset: %v %q", err, tx.puts)
	}
}
