package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IncompleteError is returned by List, PstnCalls and DirectRoutingCalls when
// some slices of the window could not be read. Every slice not named was read
// completely. IsRetryable tells whether a later run may succeed, and errors.Is
// and errors.As see the errors of the slices.
type IncompleteError struct {
	Op     string       // what was read, e.g. "listing call records"
	Failed []SliceError // in time order
}

// SliceError is one slice [From, To) of a window that could not be read completely.
type SliceError struct {
	From, To time.Time
	Err      error
}

// Error names the slice and why it failed.
func (e SliceError) Error() string {
	return "[" + e.From.Format(time.RFC3339Nano) + ", " + e.To.Format(time.RFC3339Nano) + "): " + e.Err.Error()
}

// Unwrap returns the slice's error.
func (e SliceError) Unwrap() error { return e.Err }

// Error names the failed slices and their errors.
func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d slice(s) incomplete: ", e.Op, len(e.Failed))
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns the slices' errors.
func (e *IncompleteError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}

// callerError carries an error returned by the caller's fn through a walk,
// so that it stops the walk.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }
func (e *callerError) Unwrap() error { return e.err }

// walkWindow reads [from, to) slice by slice (see List) with read.
func (c *Client) walkWindow(ctx context.Context, op string, from, to time.Time, read func(ctx context.Context, a, b time.Time) error) error {
	if from.IsZero() || to.IsZero() {
		return fmt.Errorf("%s: the window needs both ends", op)
	}
	from, to = from.UTC().Truncate(graphTick), to.UTC().Truncate(graphTick)
	if to.Before(from) {
		return fmt.Errorf("%s: window [%s, %s) ends before it starts", op, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
	var failed []SliceError
	for a := from; a.Before(to); {
		b := a.Truncate(sliceLength).Add(sliceLength)
		if b.After(to) {
			b = to
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		err := read(ctx, a, b)
		if err != nil {
			slice := SliceError{From: a, To: b, Err: err}
			if ce, ok := errors.AsType[*callerError](err); ok {
				slice.Err = ce.err
				return fmt.Errorf("%s: %w", op, slice)
			}
			if errors.Is(err, ErrAuth) || ctx.Err() != nil {
				return fmt.Errorf("%s: %w", op, slice)
			}
			c.log.Warn("a slice of the window failed; going on with the next", "op", op,
				"from", a.Format(time.RFC3339), "to", b.Format(time.RFC3339), "error", err)
			failed = append(failed, slice)
		}
		a = b
	}
	if len(failed) > 0 {
		return &IncompleteError{Op: op, Failed: failed}
	}
	return nil
}
