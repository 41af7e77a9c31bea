package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ErrAuth means the client cannot authenticate or is not allowed to read:
// the token endpoint refused the client id, secret or JWT, or RingCentral
// answered 401 with a fresh token or 403 (a missing permission such as
// ReadCallLog). The run cannot go on (exit status 1).
var ErrAuth = errors.New("ringcentral authentication failed")

// ErrNotReady means RingCentral answered 404 for a recording's content: it is
// not ready yet (or gone). The caller retries on a later run.
var ErrNotReady = errors.New("recording not ready")

// APIError is an error answer from RingCentral, with the fields of its body.
type APIError struct {
	Status    int    // HTTP status
	ErrorCode string // errorCode (e.g. CMN-301), else errors[0].errorCode, else the OAuth error
	Message   string // message, else errors[0].message, else error_description
	RequestID string // the RCRequestId header
}

// Error names the status and RingCentral's error code.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ringcentral: %d %s", e.Status, http.StatusText(e.Status))
	if e.ErrorCode != "" {
		b.WriteString(": " + e.ErrorCode)
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

// transientError is a failure to get an answer at all (connection refused or
// reset, timeout, body cut short), or a token endpoint that is busy or down
// (token set): worth another attempt, after retryAfter when the answer named
// one.
type transientError struct {
	err        error
	retryAfter time.Duration
	token      bool
}

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// IsRetryable reports whether err is transient, so the request may succeed on
// a later attempt or run: answers 429, 500, 502, 503 and 504, network errors
// and timeouts, a busy token endpoint. ErrAuth, ErrNotReady (which the caller
// handles on its own), other statuses, refused links and undecodable bodies
// are permanent, as is the caller's own cancellation.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrAuth) || errors.Is(err, ErrNotReady) ||
		errors.Is(err, context.Canceled) {
		return false
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.retryable()
	}
	if _, ok := errors.AsType[*transientError](err); ok {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	_, isNet := errors.AsType[net.Error](err)
	return isNet
}

// errorBody is the shape of RingCentral's error answers: API errors carry
// errorCode/message/errors, OAuth errors error/error_description/errors.
type errorBody struct {
	ErrorCode        string `json:"errorCode"`
	Message          string `json:"message"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Errors           []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// newAPIError builds an APIError from a non-2xx answer; a body that is not
// RingCentral's error shape leaves ErrorCode and Message empty.
func newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{Status: status, RequestID: header.Get("RCRequestId")}
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return e
	}
	e.ErrorCode, e.Message = b.ErrorCode, b.Message
	if len(b.Errors) > 0 {
		if e.ErrorCode == "" {
			e.ErrorCode = b.Errors[0].ErrorCode
		}
		if e.Message == "" {
			e.Message = b.Errors[0].Message
		}
	}
	if e.ErrorCode == "" {
		e.ErrorCode = b.Error
	}
	if e.Message == "" {
		e.Message = b.ErrorDescription
	}
	return e
}
