package graph

import (
	"context"
	"math"
	"sync"
	"time"
)

// windowMargin lengthens the sliding window the pacers keep, so that a
// request that reaches Graph a little later than it was sent (a busy
// scheduler, a slower route) does not land in a window that Graph counts
// fuller than the pacer did. It costs 2.5 % of the rate at 20 s.
const windowMargin = 500 * time.Millisecond

// pace waits for the pacing slots of n requests sent together and for any
// pause that a 429 set, including one set while it was waiting. group (nil
// for none) is the endpoint's own pacer, on top of the app-wide one.
func (c *Client) pace(ctx context.Context, n int, group *pacer) error {
	ss := []slots{{c.pacer, n}}
	if group != nil {
		ss = append(ss, slots{group, n})
	}
	return c.paceAll(ctx, ss)
}

// slots is n requests paced by p.
type slots struct {
	p *pacer
	n int
}

// paceAll waits until the requests of ss, sent together, may go out under
// every pacer (pauses included), and takes their slots then: the pacers log
// the time the requests really go, not a time planned ahead, so a wait that
// ends late cannot crowd a later window. The app-wide pacer comes first in
// ss, and no pacer twice: pacers are locked in that order.
func (c *Client) paceAll(ctx context.Context, ss []slots) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := c.now()
		d := tryTake(now, ss)
		if d <= 0 {
			return nil
		}
		if err := c.wait(ctx, d); err != nil {
			return err
		}
		if c.now().Sub(now) < d {
			// An injected Wait that returns at once (a run that skips
			// waiting) and a clock that did not follow: go as if it had.
			takeAt(now.Add(d), ss)
			return nil
		}
	}
}

// takeAt takes the slots of ss at t.
func takeAt(t time.Time, ss []slots) {
	for _, s := range ss {
		s.p.mu.Lock()
		s.p.take(t, s.n)
		s.p.mu.Unlock()
	}
}

// tryTake takes the slots of ss at now if every pacer allows it, else
// returns how long to wait before trying again.
func tryTake(now time.Time, ss []slots) time.Duration {
	for _, s := range ss {
		s.p.mu.Lock()
	}
	defer func() {
		for _, s := range ss {
			s.p.mu.Unlock()
		}
	}()
	at := now
	for _, s := range ss {
		at = maxTime(at, s.p.earliest(now, s.n))
	}
	if at.After(now) {
		return at.Sub(now)
	}
	for _, s := range ss {
		s.p.take(now, s.n)
	}
	return 0
}

// delay is how long from now n more requests of p must wait, without taking
// their slots.
func (p *pacer) delay(now time.Time, n int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.earliest(now, n).Sub(now)
}

// pacer paces one group of requests: a token bucket for the average rate, a
// log of the last requests that bounds how many go out in any sliding
// window, and the shared "not before" time a 429 sets. Either of the first
// two may be off.
type pacer struct {
	mu        sync.Mutex
	rate      float64 // requests per second; 0: no bucket
	burst     float64
	tokens    float64
	last      time.Time
	notBefore time.Time
	sent      *windowLog // nil: no bound per window
}

// newPacer allows at most perWindow requests in any window lengthened by
// windowMargin: a burst of one batch (a twentieth of the limit when less),
// and the rest spread over the window, so that the bucket alone keeps to the
// limit and sends evenly. The log of the last perWindow requests backs it
// up (a group larger than the burst leaves a debt that the log bounds too).
func newPacer(perWindow int, window time.Duration, now func() time.Time) *pacer {
	burst := math.Max(1, math.Min(maxBatchItems, math.Floor(float64(perWindow)/20)))
	rate := float64(perWindow) / window.Seconds()
	if n := float64(perWindow) - burst; n > 0 {
		rate = n / (window + windowMargin).Seconds()
	}
	return &pacer{
		rate:   rate,
		burst:  burst,
		tokens: burst,
		last:   now(),
		sent:   newWindowLog(perWindow, window+windowMargin),
	}
}

// newStrictPacer allows at most perWindow requests in any window: a burst of a
// quarter of the limit, and the rest spread over the window, so that a short
// walk (a few days of listing) goes out at once and a long one never exceeds
// the limit. It paces the endpoints with small limits of their own.
func newStrictPacer(perWindow int, window time.Duration, now func() time.Time) *pacer {
	burst := math.Max(1, math.Floor(float64(perWindow)/4))
	p := &pacer{rate: float64(perWindow) / window.Seconds(), burst: burst, tokens: burst, last: now()}
	if n := float64(perWindow) - p.burst; n > 0 {
		p.rate = n / window.Seconds()
	}
	return p
}

// newWindowPacer allows at most perWindow requests in any window
// (lengthened by windowMargin), with no bucket: the pacing of one call
// record's requests.
func newWindowPacer(perWindow int, window time.Duration) *pacer {
	return &pacer{sent: newWindowLog(perWindow, window+windowMargin)}
}

// earliest is the first time from now that n more requests may go out. The
// caller holds p.mu.
func (p *pacer) earliest(now time.Time, n int) time.Time {
	at := maxTime(now, p.notBefore)
	if p.rate > 0 {
		if now.After(p.last) {
			p.tokens = math.Min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
			p.last = now
		}
		// A group larger than the burst goes once the bucket is full, and
		// leaves a debt that the next requests wait out.
		if need := math.Min(float64(n), p.burst) - p.tokens; need > 0 {
			at = maxTime(at, now.Add(time.Duration(need/p.rate*float64(time.Second))))
		}
	}
	if p.sent != nil {
		at = maxTime(at, p.sent.earliest(n))
	}
	return at
}

// take spends the slots of n requests sent at at. The caller holds p.mu.
func (p *pacer) take(at time.Time, n int) {
	if p.rate > 0 {
		p.tokens -= float64(n)
	}
	if p.sent != nil {
		p.sent.add(at, n)
	}
}

// pauseUntil makes every request wait until t.
func (p *pacer) pauseUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.notBefore) {
		p.notBefore = t
	}
}

// windowLog holds the send times of the last limit requests, in order, so
// that no window of the given length holds more than limit.
type windowLog struct {
	limit  int
	window time.Duration
	times  []time.Time // a ring of at most limit entries
	head   int         // index of the oldest entry
}

func newWindowLog(limit int, window time.Duration) *windowLog {
	return &windowLog{limit: max(1, limit), window: window}
}

// at is the i-th oldest entry.
func (w *windowLog) at(i int) time.Time { return w.times[(w.head+i)%len(w.times)] }

// earliest is the first time n more requests may go out together: when the
// entry they push out of the last limit has left the window. A group larger
// than the limit waits for the whole log to leave it.
func (w *windowLog) earliest(n int) time.Time {
	over := len(w.times) + min(n, w.limit) - w.limit
	if over <= 0 {
		return time.Time{}
	}
	return w.at(over - 1).Add(w.window)
}

// add logs n requests sent at t, which is not before the newest entry (the
// callers take slots at the time of the clock, under the lock).
func (w *windowLog) add(t time.Time, n int) {
	for range n {
		if len(w.times) < w.limit {
			w.times = append(w.times, t)
			continue
		}
		w.times[w.head] = t
		w.head = (w.head + 1) % len(w.times)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
