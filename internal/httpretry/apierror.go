package httpretry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// APIError is an error answer from a source, with the fields its client
// decoded from the body (each source has its own error shape).
type APIError struct {
	Source    string // "graph", "ringcentral": the message's prefix
	Status    int    // HTTP status
	Code      string // the source's error code, e.g. "TooManyRequests", "CMN-301"
	Message   string // the source's error message
	RequestID string // the source's request id, for its support
}

// Error names the source, the status and the source's error code.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", e.Source, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		msg := e.Message
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		b.WriteString(": " + msg)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id " + e.RequestID + ")")
	}
	return b.String()
}

// Retryable reports whether the status is worth another attempt: 429, 500,
// 502, 503 and 504.
func (e *APIError) Retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// IsRetryable reports whether err is transient as far as the shared kinds
// tell: ErrSourceFailed and ErrThrottled, an *APIError with a retryable
// status, a *TransientError, a deadline, a network error. The caller's own
// cancellation and a refused redirect are permanent. A client checks its own
// permanent kinds (ErrAuth...) first.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrSourceFailed) || errors.Is(err, ErrThrottled) {
		return true
	}
	if errors.Is(err, ErrRedirect) {
		return false
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.Retryable()
	}
	if _, ok := errors.AsType[*TransientError](err); ok {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	_, isNet := errors.AsType[net.Error](err)
	return isNet
}
