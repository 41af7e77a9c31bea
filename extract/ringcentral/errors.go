package ringcentral

import (
	"encoding/json"
	"errors"
	"net/http"

	"callstats/internal/httpretry"
)

// ErrAuth means the client cannot authenticate or is not allowed to read:
// the token endpoint refused the client id, secret or JWT, or RingCentral
// answered 401 with a fresh token or 403 (a missing permission such as
// ReadCallLog). The run cannot go on (exit status 1).
var ErrAuth = errors.New("ringcentral authentication failed")

// ErrNotReady means RingCentral answered 404 for a recording's content: it is
// not ready yet (or gone). The caller retries on a later run.
var ErrNotReady = errors.New("recording not ready")

// APIError is an error answer from RingCentral (Source "ringcentral"); newAPIError decodes
// its fields from RingCentral's error body.
type APIError = httpretry.APIError

// The kinds of error the client returns besides ErrAuth and ErrNotReady.
// Match them with errors.Is.
var (
	// ErrSourceFailed: RingCentral kept failing (5xx, network errors,
	// stalled or undecodable answers, a redirect off its origin) until the
	// attempts ran out. Retryable: the work is deferred, and the run reports
	// that its source failed (not that a call is missing from the log).
	ErrSourceFailed = httpretry.ErrSourceFailed
	// ErrThrottled: RingCentral kept answering 429 until the attempts ran
	// out. Retryable: the run reports "throttled" (see Client.Throttled).
	ErrThrottled = httpretry.ErrThrottled
	// ErrTooLarge: a recording is over ClientConfig.MaxRecordingBytes. It was
	// refused (nothing kept); permanent, to report.
	ErrTooLarge = errors.New("recording over the size cap")
	// ErrWrite: the caller's writer failed (a full disk) while a recording
	// was copied: an error of the run, not of the source.
	ErrWrite = errors.New("writing recording")
	// ErrInvalidID: an id from the server that may not be used in a URL or a
	// path. Permanent.
	ErrInvalidID = errors.New("invalid id")
)

// IsRetryable reports whether err is transient, so the request may succeed on
// a later attempt or run: ErrSourceFailed and ErrThrottled, answers 429, 500,
// 502, 503 and 504, network errors and timeouts, a busy token endpoint.
// ErrAuth, ErrNotReady (which the caller handles on its own), ErrTooLarge,
// ErrWrite, ErrInvalidID, other statuses, refused links and redirects are
// permanent, as is the caller's own cancellation.
func IsRetryable(err error) bool {
	if errors.Is(err, ErrAuth) || errors.Is(err, ErrNotReady) || errors.Is(err, ErrTooLarge) ||
		errors.Is(err, ErrWrite) || errors.Is(err, ErrInvalidID) {
		return false
	}
	return httpretry.IsRetryable(err)
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

// newAPIError builds an APIError from a non-2xx answer: Code from errorCode,
// else errors[0].errorCode, else the OAuth error; Message from message, else
// errors[0].message, else error_description; RequestID from the RCRequestId
// header. A body that is not RingCentral's error shape leaves Code and
// Message empty.
func newAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{Source: "ringcentral", Status: status, RequestID: header.Get("RCRequestId")}
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return e
	}
	e.Code, e.Message = b.ErrorCode, b.Message
	if len(b.Errors) > 0 {
		if e.Code == "" {
			e.Code = b.Errors[0].ErrorCode
		}
		if e.Message == "" {
			e.Message = b.Errors[0].Message
		}
	}
	if e.Code == "" {
		e.Code = b.Error
	}
	if e.Message == "" {
		e.Message = b.ErrorDescription
	}
	return e
}
