package httpretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrStalled is an answer that stopped making progress: its headers did not
// come, or its body brought too few bytes, within the stall time.
var ErrStalled = errors.New("answer stalled")

// ErrTooLarge is an answer over the size its reader allows.
var ErrTooLarge = errors.New("answer too large")

// Progress bounds one request by its progress rather than by the clock alone.
type Progress struct {
	// Timeout, when above 0, bounds the whole request, body included.
	Timeout time.Duration
	// Stall, when above 0, is how long the request may go without progress:
	// from sending until the headers come, and then between every MinBytes
	// of body. A body trickling a byte every few seconds is cut.
	Stall    time.Duration
	MinBytes int64 // progress step of the body (default 64 KiB)
}

const defaultMinBytes = 64 << 10

// Watch is the watch Progress keeps on one request.
type Watch struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc
	timer  *time.Timer
	p      Progress
	got    int64
}

// Start returns the context to send the request with and its watch. The
// caller ends the watch with Stop, or by closing the body that Body wraps.
func (p Progress) Start(ctx context.Context) (context.Context, *Watch) {
	if p.MinBytes <= 0 {
		p.MinBytes = defaultMinBytes
	}
	stop := context.CancelFunc(func() {})
	if p.Timeout > 0 {
		ctx, stop = context.WithTimeout(ctx, p.Timeout)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	w := &Watch{ctx: ctx, cancel: cancel, stop: stop, p: p}
	if p.Stall > 0 {
		w.timer = time.AfterFunc(p.Stall, func() { cancel(ErrStalled) })
	}
	return ctx, w
}

// Stop ends the watch and the request's context.
func (w *Watch) Stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel(nil)
	w.stop()
}

// Err names err for what the watch saw: a stall becomes a *TransientError
// wrapping ErrStalled, an ended Timeout one wrapping the deadline.
func (w *Watch) Err(err error) error {
	if err == nil {
		return nil
	}
	switch cause := context.Cause(w.ctx); {
	case errors.Is(cause, ErrStalled):
		return Transient(fmt.Errorf("%w: no %d bytes within %s", ErrStalled, w.p.MinBytes, w.p.Stall))
	case errors.Is(cause, context.DeadlineExceeded):
		return Transient(fmt.Errorf("request took longer than %s: %w", w.p.Timeout, cause))
	}
	return err
}

// Body wraps an answer's body: reads count as progress, and Close ends the
// watch.
func (w *Watch) Body(rc io.ReadCloser) io.ReadCloser { return &watchedBody{rc, w} }

type watchedBody struct {
	rc io.ReadCloser
	w  *Watch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	w := b.w
	if w.timer != nil && n > 0 {
		if w.got += int64(n); w.got >= w.p.MinBytes {
			w.got = 0
			w.timer.Reset(w.p.Stall)
		}
	}
	if err != nil && err != io.EOF {
		err = w.Err(err)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.rc.Close()
	b.w.Stop()
	return err
}

// Budget bounds the bytes that the bodies being read hold at once, across
// every request that shares it. A nil *Budget bounds nothing.
type Budget struct {
	mu    sync.Mutex
	total int64
	free  int64
	peak  int64         // most bytes held at once
	wake  chan struct{} // closed when bytes are released
}

// NewBudget allows n bytes in flight.
func NewBudget(n int64) *Budget {
	return &Budget{total: n, free: n, wake: make(chan struct{})}
}

// tryAcquire takes n bytes if they are free now.
func (b *Budget) tryAcquire(n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free < n {
		return false
	}
	b.free -= n
	b.peak = max(b.peak, b.total-b.free)
	return true
}

// acquire takes n bytes (at most the whole budget, so that it can always be
// had) and returns how many it took.
func (b *Budget) acquire(ctx context.Context, n int64) (int64, error) {
	if b == nil {
		return n, nil
	}
	n = min(n, b.total)
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.peak = max(b.peak, b.total-b.free)
			b.mu.Unlock()
			return n, nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func (b *Budget) release(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}

// InFlight is the number of bytes held now.
func (b *Budget) InFlight() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total - b.free
}

// Peak is the most bytes held at once so far.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// ErrOverBudget is an answer that could not grow its buffer because the
// answers being read hold the whole budget.
var ErrOverBudget = errors.New("too many bytes in flight")

// ReadAll reads r to its end, at most limit bytes, holding its buffer's bytes
// from budget while it reads. It waits for its first buffer; a body that
// outgrows it takes more only if free, else fails with ErrOverBudget (so
// that readers never wait on each other's bytes). A longer body is a
// *TransientError wrapping ErrTooLarge (a sane server would not send it:
// worth another attempt); ErrOverBudget and a read that fails are
// *TransientError as well.
func ReadAll(ctx context.Context, r io.Reader, limit int64, budget *Budget) ([]byte, error) {
	var buf []byte
	var held int64
	defer func() { budget.release(held) }()
	for {
		if len(buf) == cap(buf) {
			want := min(max(32<<10, int64(len(buf))), limit+1-int64(len(buf)))
			if held == 0 {
				took, err := budget.acquire(ctx, want)
				if err != nil {
					return nil, err
				}
				held = took
			} else if budget.tryAcquire(want) {
				held += want
			} else {
				return nil, Transient(fmt.Errorf("%w: over %d bytes", ErrOverBudget, budget.total))
			}
			nb := make([]byte, len(buf), int64(len(buf))+want)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, Transient(fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit))
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			if _, ok := errors.AsType[*TransientError](err); ok {
				return nil, err
			}
			return nil, Transient(fmt.Errorf("reading answer: %w", err))
		}
	}
}
