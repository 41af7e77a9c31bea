package httpretry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The kinds of error a source client returns, for the caller to tell a source
// that failed from work that is merely not ready. Match them with errors.Is.
var (
	// ErrSourceFailed: the source kept failing (5xx, network errors, bodies
	// that could not be read or decoded) until the attempts ran out. Worth a
	// later run; the run should report that its source failed.
	ErrSourceFailed = errors.New("source failed")
	// ErrThrottled: the source kept answering 429 until the attempts ran out.
	// Worth a later run; the run should report "throttled".
	ErrThrottled = errors.New("source throttled")
)

// TransientError is a failure worth another attempt: no answer at all
// (connection refused or reset, timeout, a body cut short or stalled), a
// 200 whose body could not be read or decoded, or a token endpoint that is
// busy or down (Token set). RetryAfter, when above 0, is the wait the answer
// asked for.
type TransientError struct {
	Err        error
	RetryAfter time.Duration
	Token      bool
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err as a *TransientError.
func Transient(err error) error { return &TransientError{Err: err} }

// Backoff is the exponential backoff with full jitter before attempt+1: a
// random duration up to min(ceiling, base*2^(attempt-1)); jitter is in [0,1].
func Backoff(base, ceiling time.Duration, attempt int, jitter float64) time.Duration {
	c := ceiling
	if attempt >= 1 && attempt < 32 {
		c = min(ceiling, base<<(attempt-1))
	}
	return time.Duration(float64(c) * jitter)
}

// ParseRetryAfter reads a Retry-After header, seconds or an HTTP date, and
// cuts it to limit.
func ParseRetryAfter(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n >= int64(limit/time.Second) {
			return limit, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, min(limit, t.Sub(now))), true
	}
	return 0, false
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry is what an attempt returns to ask for another one: Err is why, Delay
// the wait before it (0 for none), Throttled whether the source refused for
// its rate limit.
type Retry struct {
	Err       error
	Delay     time.Duration
	Throttled bool
}

func (r *Retry) Error() string { return r.Err.Error() }
func (r *Retry) Unwrap() error { return r.Err }

// Loop runs the attempts of one request.
type Loop struct {
	MaxAttempts int
	Wait        func(ctx context.Context, d time.Duration) error
	Log         *slog.Logger
	Source      string // "graph", "ringcentral": the retry log line's subject
}

// Do calls attempt (with 1, 2, ...) until it returns nil, an error that is
// not a *Retry (returned as is: permanent, or the caller's own), or the
// attempts run out. attempt is the classify hook: it sends one request and
// sorts the answer. Running out returns the last error wrapped in
// ErrThrottled when it was a throttling, else in ErrSourceFailed. The end of
// ctx ends Do with ctx.Err(), whatever the attempt said.
func (l Loop) Do(ctx context.Context, what string, attempt func(ctx context.Context, n int) error) error {
	for n := 1; ; n++ {
		err := attempt(ctx, n)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err == nil {
			return nil
		}
		r, ok := errors.AsType[*Retry](err)
		if !ok {
			return err
		}
		if n >= l.MaxAttempts {
			kind := ErrSourceFailed
			if r.Throttled {
				kind = ErrThrottled
			}
			return fmt.Errorf("%w: giving up after %d attempts: %w", kind, n, r.Err)
		}
		l.Log.Debug(l.Source+" request failed, retrying", "url", what, "attempt", n, "error", r.Err,
			"wait", r.Delay.Round(time.Millisecond).String())
		if r.Delay > 0 {
			if err := l.Wait(ctx, r.Delay); err != nil {
				return err
			}
		}
	}
}

// NoAnswer sorts the error of an attempt that got no answer (a token,
// transport or body read failure) for Loop.Do: a refused redirect fails the
// source at once (wrapped in ErrSourceFailed), an error that retryable (the
// client's IsRetryable) calls permanent is returned as is, and any other is a
// *Retry after the wait a *TransientError asked for, else after backoff.
func NoAnswer(err error, retryable func(error) bool, backoff time.Duration) error {
	switch {
	case errors.Is(err, ErrRedirect):
		return fmt.Errorf("%w: %w", ErrSourceFailed, err)
	case !retryable(err):
		return err
	}
	if te, ok := errors.AsType[*TransientError](err); ok && te.RetryAfter > 0 {
		backoff = te.RetryAfter
	}
	return &Retry{Err: err, Delay: backoff}
}
