package rowbatch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
	"callstats/transform"
	"callstats/transform/lake"
)

// sink hands out fakeTxs and logs what they do, in order. A commit waits
// for release when hold is set, and fails when its transaction's number is
// in fail.
type sink struct {
	mu     sync.Mutex
	log    []string
	active int // transactions in use (between Begin's first Put and Commit's end)
	maxAct int
	hold   chan struct{}
	fail   map[int]bool
	n      int
}

type fakeTx struct {
	s *sink
	n int
}

func (s *sink) begin(time.Time) Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.log = append(s.log, fmt.Sprintf("begin %d", s.n))
	return &fakeTx{s: s, n: s.n}
}

func (s *sink) note(f string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprintf(f, a...))
}

func (tx *fakeTx) Put(_ context.Context, items []lake.Item, _ map[string]arrow.RecordBatch) ([]lake.Change, error) {
	ids := ""
	for _, it := range items {
		ids += it.ID
	}
	tx.s.note("put %d %s", tx.n, ids)
	return make([]lake.Change, len(items)), nil
}

func (tx *fakeTx) Commit(context.Context) (lake.Stats, error) {
	if tx.s.hold != nil {
		<-tx.s.hold
	}
	if tx.s.fail[tx.n] {
		tx.s.note("commit %d failed", tx.n)
		return lake.Stats{}, errors.New("disk full")
	}
	tx.s.note("commit %d", tx.n)
	return lake.Stats{Added: 1}, nil
}

func (tx *fakeTx) Abort() { tx.s.note("abort %d", tx.n) }

func (s *sink) entries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

var writerDay = time.Date(2026, 11, 12, 9, 0, 0, 0, time.UTC)

func addCall(t *testing.T, w *Writer, id string) error {
	t.Helper()
	rec := &graph.CallRecord{ID: id, StartDateTime: writerDay, EndDateTime: writerDay.Add(time.Minute)}
	it := lake.Item{Source: "teams", ID: id, Start: writerDay}
	return w.Add(context.Background(), it, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) })
}

func TestWriterCommitsInOrderInTheBackground(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := &sink{hold: make(chan struct{})}
	committed := 0
	w := NewWriter(mem, s.begin, func() time.Time { return writerDay }, func(st lake.Stats) { committed += st.Added })
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := addCall(t, w, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The next batch is built while the first one's commit is held.
	if err := addCall(t, w, "c"); err != nil {
		t.Fatal(err)
	}
	if w.Len() != 1 || !w.Has(lake.Item{Source: "teams", ID: "c"}) || w.Has(lake.Item{Source: "teams", ID: "a"}) {
		t.Errorf("batch being built: Len %d", w.Len())
	}
	// Committing it waits for the first commit: release that one.
	go func() { s.hold <- struct{}{}; s.hold <- struct{}{} }()
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(); err != nil {
		t.Fatal(err)
	}
	want := []string{"begin 1", "put 1 ab", "commit 1", "begin 2", "put 2 c", "commit 2"}
	if got := s.entries(); !slices.Equal(got, want) {
		t.Errorf("log %q, want %q", got, want)
	}
	if committed != 2 {
		t.Errorf("done counted %d commits", committed)
	}
	// Nothing added: nothing to commit.
	if err := w.Commit(ctx); err != nil || len(s.entries()) != len(want) {
		t.Errorf("empty commit: %v, log %q", err, s.entries())
	}
}

func TestWriterReportsBackgroundFailure(t *testing.T) {
	tests := []struct {
		name string
		next func(t *testing.T, w *Writer) error // what meets the failure
	}{
		{"wait", func(t *testing.T, w *Writer) error { return w.Wait() }},
		{"commit", func(t *testing.T, w *Writer) error {
			if err := addCall(t, w, "c"); err != nil {
				return err
			}
			return w.Commit(context.Background())
		}},
		{"add", func(t *testing.T, w *Writer) error {
			// Add takes the outcome only once the commit has finished.
			for i := 0; i < 100000; i++ {
				if err := addCall(t, w, fmt.Sprint("c", i)); err != nil {
					return err
				}
				runtime.Gosched()
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s := &sink{fail: map[int]bool{1: true}}
			w := NewWriter(mem, s.begin, func() time.Time { return writerDay }, nil)
			if err := addCall(t, w, "a"); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := tt.next(t, w); err == nil || err.Error() != "disk full" {
				t.Fatalf("error %v, want the commit's", err)
			}
			w.Abort()
			if err := w.Wait(); err != nil {
				t.Errorf("error reported twice: %v", err)
			}
			if got := s.entries(); got[len(got)-1] == "commit 2" {
				t.Errorf("a batch was committed after the failure: %q", got)
			}
		})
	}
}

func TestWriterAbortWaitsForTheCommitInFlight(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := &sink{hold: make(chan struct{})}
	w := NewWriter(mem, s.begin, func() time.Time { return writerDay }, nil)
	ctx := context.Background()
	if err := addCall(t, w, "a"); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := addCall(t, w, "b"); err != nil {
		t.Fatal(err)
	}
	go func() { s.hold <- struct{}{} }()
	w.Abort()
	want := []string{"begin 1", "put 1 a", "commit 1"}
	if got := s.entries(); !slices.Equal(got, want) {
		t.Errorf("log %q, want %q", got, want)
	}
}
