package ringcentral

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"callstats/internal/httpretry"
)

// limiter paces the Heavy rate-limit group: every request of this client (the
// call log and recording content are both Heavy, and the limit is per user).
// It lets one request out at a time and keeps three rules:
//   - after an answer with X-Rate-Limit-Remaining 0, nothing is sent until a
//     full X-Rate-Limit-Window has passed;
//   - after a 429, nothing is sent until its Retry-After has passed (30 s when
//     absent, doubling while such 429s repeat), since a request during the
//     penalty restarts it;
//   - never more than X-Rate-Limit-Limit requests within one window (a local
//     count, which also paces answers without rate-limit headers; 10 / 60 s
//     until an answer names the Heavy group's limits).
type limiter struct {
	sem  chan struct{} // held from acquire to release; guards the fields below
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
	log  *slog.Logger

	limit     int
	window    time.Duration
	sent      []time.Time // send times within the last window, oldest first
	notBefore time.Time   // no request before this
	bare429   int         // consecutive 429s without Retry-After
}

func newLimiter(now func() time.Time, wait func(context.Context, time.Duration) error, log *slog.Logger) *limiter {
	return &limiter{
		sem: make(chan struct{}, 1), now: now, wait: wait, log: log,
		limit: defaultHeavyLimit, window: defaultHeavyWindow,
	}
}

// acquire takes the turn and waits until a request may be sent; the caller
// sends, then calls observe with the answer and release.
func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		now := l.now()
		l.prune(now)
		d := l.notBefore.Sub(now)
		if len(l.sent) >= l.limit {
			d = max(d, l.sent[len(l.sent)-l.limit].Add(l.window).Sub(now))
		}
		if d <= 0 {
			l.sent = append(l.sent, now)
			return nil
		}
		l.log.Debug("pacing ringcentral heavy requests", "wait", d)
		if err := l.wait(ctx, d); err != nil {
			<-l.sem
			return err
		}
	}
}

// prune drops send times a window old or older.
func (l *limiter) prune(now time.Time) {
	cut := now.Add(-l.window)
	i := 0
	for i < len(l.sent) && !l.sent[i].After(cut) {
		i++
	}
	l.sent = append(l.sent[:0], l.sent[i:]...)
}

// observe reads an answer's rate-limit headers and returns the pause it
// imposes on the next request (0 for none).
func (l *limiter) observe(status int, h http.Header) time.Duration {
	now := l.now()
	if g := h.Get("X-Rate-Limit-Group"); g == "" || strings.EqualFold(g, "heavy") {
		if n, ok := headerInt(h, "X-Rate-Limit-Limit"); ok && n > 0 {
			l.limit = n
		}
		if n, ok := headerInt(h, "X-Rate-Limit-Window"); ok && n > 0 {
			l.window = time.Duration(n) * time.Second
		}
	}
	var d time.Duration
	switch rem, ok := headerInt(h, "X-Rate-Limit-Remaining"); {
	case status == http.StatusTooManyRequests:
		var given bool
		if d, given = httpretry.ParseRetryAfter(h.Get("Retry-After"), now, maxRetryAfter); !given {
			d = min(maxRetryAfter, defaultRetryAfter<<min(l.bare429, 8))
			l.bare429++
		}
	case ok && rem <= 0:
		l.bare429 = 0
		d = l.window
	default:
		l.bare429 = 0
	}
	if t := now.Add(d); t.After(l.notBefore) {
		l.notBefore = t
	}
	return d
}

// release ends the turn.
func (l *limiter) release() { <-l.sem }

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}
