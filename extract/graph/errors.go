package graph

import (
	"encoding/json"
	"errors"
	"net/http"

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

// APIError is an error answer from Graph (Source "graph"); newAPIError decodes
// its fields from Graph's error body.
type APIError = httpretry.APIError

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
	if errors.Is(err, ErrAuth) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidID) {
		return false
	}
	return httpretry.IsRetryable(err)
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

// newAPIError builds an APIError from a non-2xx answer: Code and Message
// from error.code and error.message, RequestID from error.innerError's
// request-id, else the request-id header. A body that is not Graph's error
// shape leaves Code and Message empty.
func newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{Source: "graph", Status: status, RequestID: header.Get("request-id")}
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
