package report

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// recycler is an Arrow allocator that keeps the buffers freed to it and
// hands them out again: a file is read batch after batch, each batch the
// same shape as the one before, whose buffers are released when the next is
// read. Without it every batch's buffers are new garbage (most of a report's
// allocations). Buffers come from the parent in power-of-two sizes and go
// back to it at drain.
type recycler struct {
	parent memory.Allocator
	mu     sync.Mutex
	free   map[int][][]byte // by capacity
}

func newRecycler(parent memory.Allocator) *recycler {
	return &recycler{parent: parent, free: map[int][][]byte{}}
}

// sizeClass is the capacity a buffer of size bytes gets.
func sizeClass(size int) int {
	if size <= 64 {
		return 64
	}
	return 1 << bits.Len(uint(size-1))
}

func (r *recycler) Allocate(size int) []byte {
	c := sizeClass(size)
	r.mu.Lock()
	list := r.free[c]
	if n := len(list); n > 0 {
		b := list[n-1]
		r.free[c] = list[:n-1]
		r.mu.Unlock()
		clear(b) // fresh Arrow buffers are zeroed
		return b[:size]
	}
	r.mu.Unlock()
	return r.parent.Allocate(c)[:size]
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	b = b[:cap(b)]
	r.mu.Lock()
	r.free[cap(b)] = append(r.free[cap(b)], b)
	r.mu.Unlock()
}

// drain gives the kept buffers back to the parent.
func (r *recycler) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, list := range r.free {
		for _, b := range list {
			r.parent.Free(b)
		}
		delete(r.free, c)
	}
}
