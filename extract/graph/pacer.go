package graph

import (
	"context"
	"math"
	"sync"
	"time"
)

// pace waits for the pacing slot of one request and for any app-wide pause
// that a 429 set, including one set while it was waiting; with a group, for
// the group's slot and pause as well.
func (c *Client) pace(ctx context.Context, group *pacer) error {
	d, seen := c.pacer.reserve()
	var gSeen time.Time
	if group != nil {
		var gd time.Duration
		gd, gSeen = group.reserve()
		d = max(d, gd)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d > 0 {
			if err := c.wait(ctx, d); err != nil {
				return err
			}
		}
		nb := c.pacer.pausedUntil()
		var gnb time.Time
		if group != nil {
			gnb = group.pausedUntil()
		}
		if !nb.After(seen) && !gnb.After(gSeen) {
			return nil
		}
		now := c.now()
		seen, gSeen, d = nb, gnb, max(nb.Sub(now), gnb.Sub(now))
	}
}

// pacer is a token bucket for the app-wide request rate, plus the shared
// "not before" time a 429 sets for all workers.
type pacer struct {
	mu        sync.Mutex
	now       func() time.Time
	rate      float64 // requests per second
	burst     float64
	tokens    float64
	last      time.Time
	notBefore time.Time
}

// newPacer allows perWindow requests per window on average, with a burst of
// one twentieth of that (at least 1), so that no window much exceeds the limit.
func newPacer(perWindow int, window time.Duration, now func() time.Time) *pacer {
	burst := math.Max(1, math.Floor(float64(perWindow)/20))
	return &pacer{
		now:    now,
		rate:   float64(perWindow) / window.Seconds(),
		burst:  burst,
		tokens: burst,
		last:   now(),
	}
}

// newStrictPacer allows at most perWindow requests in any window: a burst of a
// quarter of the limit, and the rest spread over the window, so that a short
// walk (a few days of listing) goes out at once and a long one never exceeds
// the limit. It paces the endpoints with small limits of their own, where
// newPacer's 5% overshoot would be a throttled request.
func newStrictPacer(perWindow int, window time.Duration, now func() time.Time) *pacer {
	p := newPacer(perWindow, window, now)
	p.burst = math.Max(1, math.Floor(float64(perWindow)/4))
	p.tokens = p.burst
	if n := float64(perWindow) - p.burst; n > 0 {
		p.rate = n / window.Seconds()
	}
	return p
}

// reserve takes a slot and returns how long to wait before using it, and the
// pause in force when it was taken.
func (p *pacer) reserve() (time.Duration, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.After(p.last) {
		p.tokens = math.Min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
		p.last = now
	}
	p.tokens--
	var d time.Duration
	if p.tokens < 0 {
		d = time.Duration(-p.tokens / p.rate * float64(time.Second))
	}
	if w := p.notBefore.Sub(now); w > d {
		d = w
	}
	return d, p.notBefore
}

// pauseUntil makes every request wait until t.
func (p *pacer) pauseUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.notBefore) {
		p.notBefore = t
	}
}

func (p *pacer) pausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notBefore
}
