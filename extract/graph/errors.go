package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"callstats/internal/httpretry"
)

// ErrNotFound means Graph answered 404 for a call record: it is not ready yet
// (a record can take up to 150 minutes to appear) or it has expired (records are
// kept 30 days). The caller defers the id to a later run.
var ErrNotFound = errors.New("call record not found (not ready or expired)")

// ErrAuth means the client cannot authenticate: the token endpoint refused the
// credentials, no token could be had, or Graph answered 401/403 with a fresh
// token. The caller cannot run (exit status 1).
var ErrAuth = errors.New("graph authentication failed")

// APIError is an error answer from Graph, with the fields of its error body.
type APIError struct {
	Status    int    // HTTP status
	Code      string // error.code, e.g. "TooManyRequests"
	Message   string // error.message
	RequestID string // error.innerError.request-id, or the request-id header
}

// Error names the status and the Graph error code.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: %d %s", e.Status, http.StatusText(e.Status))
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

// retryable reports whether the status is worth another attempt.
func (e *APIError) retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// The kinds of error a fetch, a list or a log read returns besides ErrAuth
// and ErrNotFound. Match them with errors.Is.
var (
	// ErrInvalidID: the call id is not a GUID; nothing was sent. Permanent.
	ErrInvalidID = errors.New("invalid call record id")
	// ErrSourceFailed: Graph kept failing (5xx, network errors, stalled or
	// undecodable answers, a redirect off Graph's origin) until the attempts
	// ran out. Retryable: defer the work and report that the source failed.
	ErrSourceFailed = httpretry.ErrSourceFailed
	// ErrThrottled: Graph kept answering 429 until the attempts ran out.
	// Retryable: defer the work and report "throttled" (see Client.Throttled).
	ErrThrottled = httpretry.ErrThrottled
)

// IsRetryable reports whether err is transient, so the call may succeed on a
// later attempt or run: ErrSourceFailed and ErrThrottled, Graph answers 429,
// 500, 502, 503 and 504, network errors, timeouts, answers that could not be
// read or decoded. ErrAuth, ErrNotFound (which the caller handles on its
// own), ErrInvalidID, other statuses (400, 403, 404...), refused next links
// are permanent, as is the caller's own context cancellation.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrAuth) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrInvalidID) || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrSourceFailed) || errors.Is(err, ErrThrottled) {
		return true
	}
	if errors.Is(err, httpretry.ErrRedirect) {
		return false
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.retryable()
	}
	if _, ok := errors.AsType[*httpretry.TransientError](err); ok {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	_, isNet := errors.AsType[net.Error](err)
	return isNet
}

// graphErrorBody is the shape of Graph's error answers.
type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newAPIError builds an APIError from a non-2xx answer; a body that is not
// Graph's error shape leaves Code and Message empty.
func newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{Status: status, RequestID: header.Get("request-id")}
	var b graphErrorBody
	if json.Unmarshal(body, &b) == nil {
		e.Code = b.Error.Code
		e.Message = b.Error.Message
		if b.Error.InnerError.RequestID != "" {
			e.RequestID = b.Error.InnerError.RequestID
		}
	}
	return e
}
