package report

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestRecycler(t *testing.T) {
	parent := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer parent.AssertSize(t, 0)
	r := newRecycler(parent)
	a := r.Allocate(100)
	if len(a) != 100 || cap(a) != 128 {
		t.Fatalf("len %d cap %d, want 100 and 128", len(a), cap(a))
	}
	for i := range a {
		a[i] = 0xff
	}
	r.Free(a)
	b := r.Allocate(120) // the same size class: a again, zeroed
	if &b[0] != &a[0] {
		t.Error("a freed buffer was not reused")
	}
	for i, v := range b[:cap(b)] {
		if v != 0 {
			t.Fatalf("reused buffer not zeroed at %d", i)
		}
	}
	if c := r.Allocate(10); cap(c) != 64 || &c[0] == &b[0] {
		t.Errorf("small buffer: cap %d", cap(c))
	} else {
		r.Free(c)
	}
	b = r.Reallocate(128, b) // fits: same buffer
	b[127] = 7
	g := r.Reallocate(1000, b) // grows: copied into a 1 KiB buffer
	if len(g) != 1000 || cap(g) != 1024 || g[127] != 7 {
		t.Errorf("reallocated: len %d cap %d, g[127] %d", len(g), cap(g), g[127])
	}
	r.Free(g)
	if parent.CurrentAlloc() == 0 {
		t.Error("freed buffers went back to the parent before drain")
	}
	r.drain()
}
