package jobs

import (
	"fmt"
	"io"
	"time"
)

// progress draws one self-overwriting status line on a terminal.
type progress struct {
	w        io.Writer
	label    string
	total, n int
	last     time.Time
	started  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, started: time.Now()}
}

func (p *progress) step(deferred, failed int) {
	p.n++
	if p.w == nil || (time.Since(p.last) < 200*time.Millisecond && p.n < p.total) {
		return
	}
	p.last = time.Now()
	rate := float64(p.n) / max(time.Since(p.started).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r%s: %d/%d (%.0f/s, %d deferred, %d failed)\033[K", p.label, p.n, p.total, rate, deferred, failed)
}

func (p *progress) done() {
	if p.w != nil && p.n > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
