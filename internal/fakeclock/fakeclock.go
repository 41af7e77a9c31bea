// Package fakeclock is the settable clock of tests, and a Wait hook that
// moves it forward instead of sleeping, for code that takes its clock and
// its waits injected (the source clients, their fakes).
package fakeclock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Start is the instant a clock made by New starts at: a fixed Friday night,
// so that tests read the same times on every run.
var Start = time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)

// Clock is a clock that only moves when told. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New is a clock at Start.
func New() *Clock { return &Clock{t: Start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock d forward.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Recorder is a Wait hook: it records each wait and moves Clock forward by
// it. OnWait, if set, runs first; its error ends the wait. Set OnWait before
// the waits begin.
type Recorder struct {
	Clock  *Clock
	OnWait func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	waits []time.Duration
}

// Wait records d and moves the clock, or returns ctx's error when it is
// done.
func (r *Recorder) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	r.waits = append(r.waits, d)
	hook := r.OnWait
	r.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, d); err != nil {
			return err
		}
	}
	r.Clock.Add(d)
	return nil
}

// Waits are the waits so far, in order.
func (r *Recorder) Waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.waits)
}

// Total is the sum of the waits so far.
func (r *Recorder) Total() time.Duration {
	var sum time.Duration
	for _, d := range r.Waits() {
		sum += d
	}
	return sum
}
