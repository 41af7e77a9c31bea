package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"callstats/internal/entra"
	"callstats/internal/httpretry"
)

// Retries of one Graph request in delivery.
const (
	graphAttempts   = 6
	graphBackoff    = time.Second
	graphBackoffCap = time.Minute
	maxRetryAfter   = 5 * time.Minute // a longer Retry-After is cut to this
	maxGraphAnswer  = 4 << 20
)

// GraphError is an error answer from Graph. Permanent says the request
// will not succeed as it is (a 4xx other than 408 and 429: a mailbox the
// app may not send as, a refused address, a missing permission).
type GraphError struct {
	Method, URL string
	Status      int
	Code        string // error.code
	Message     string // error.message, cut to 200 bytes
}

func (e *GraphError) Error() string {
	s := fmt.Sprintf("graph %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Permanent reports whether another attempt cannot succeed.
func (e *GraphError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

func newGraphError(method, url string, status int, body []byte) *GraphError {
	e := &GraphError{Method: method, URL: redactQuery(url), Status: status}
	var b struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message = b.Error.Code, strings.Join(strings.Fields(b.Error.Message), " ")
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
	}
	return e
}

// redactQuery drops the query of a URL: upload URLs carry their
// credential there.
func redactQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// graphAPI sends delivery's requests to Graph with the app's token,
// retrying throttling (honouring Retry-After), server faults and network
// failures, and a 401 once with a new token.
type graphAPI struct {
	base   string // https://graph.microsoft.com/v1.0
	tokens tokenSource
	httpc  *http.Client
	wait   func(ctx context.Context, d time.Duration) error
}

// tokenSource is an entra.Source: a token for a context, and a way to drop
// one the API refused.
type tokenSource interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
	Invalidate(tok *oauth2.Token)
}

// request is one Graph request: JSON in (nil for none), an answer out.
type request struct {
	method, url string
	body        []byte
	header      http.Header
	// noAuth sends no Authorization header: upload URLs are
	// pre-authenticated and refuse one.
	noAuth bool
	// ok says which statuses are success; 2xx when nil. Other answers are
	// retried when they are 408, 429 or 5xx.
	ok func(status int) bool
}

// answer is Graph's answer to a request.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends req until it succeeds, fails for good, or the attempts are
// spent.
func (g *graphAPI) do(ctx context.Context, req request) (answer, error) {
	var lastErr error
	reauthed := false
	for attempt := 1; ; attempt++ {
		a, tok, err := g.once(ctx, req)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return answer{}, ctxErr
		}
		var delay time.Duration
		switch {
		case err != nil && isLoginError(err):
			return answer{}, err
		case err != nil:
			lastErr, delay = err, backoff(attempt)
		case req.ok != nil && req.ok(a.status), req.ok == nil && a.status >= 200 && a.status < 300:
			return a, nil
		default:
			ge := newGraphError(req.method, req.url, a.status, a.body)
			lastErr = ge
			switch {
			case a.status == http.StatusUnauthorized && !req.noAuth && !reauthed:
				reauthed = true
				g.tokens.Invalidate(tok)
			case ge.Permanent():
				return answer{}, ge
			default:
				d, ok := httpretry.ParseRetryAfter(a.header.Get("Retry-After"), time.Now(), maxRetryAfter)
				if !ok {
					d = backoff(attempt)
				}
				delay = d
			}
		}
		if attempt >= graphAttempts {
			return answer{}, fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
		}
		if delay > 0 {
			if err := g.wait(ctx, delay); err != nil {
				return answer{}, err
			}
		}
	}
}

// once sends req once. Its error is a login or transport failure.
func (g *graphAPI) once(ctx context.Context, req request) (answer, *oauth2.Token, error) {
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		return answer{}, nil, err
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if req.body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json")
	var tok *oauth2.Token
	if !req.noAuth {
		if tok, err = g.tokens.TokenContext(ctx); err != nil {
			return answer{}, nil, err
		}
		tok.SetAuthHeader(hr)
	}
	resp, err := g.httpc.Do(hr)
	if err != nil {
		return answer{}, tok, fmt.Errorf("graph %s %s: %w", req.method, redactQuery(req.url), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphAnswer))
	if err != nil {
		return answer{}, tok, fmt.Errorf("graph %s %s: reading the answer: %w", req.method, redactQuery(req.url), err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, tok, nil
}

// isLoginError reports a failed sign-in that is not worth retrying here
// (a temporary one is).
func isLoginError(err error) bool {
	le, ok := errors.AsType[*entra.LoginError](err)
	return ok && !le.Temporary()
}

// backoff is the wait before attempt+1: exponential with full jitter.
func backoff(attempt int) time.Duration {
	d := graphBackoff << min(attempt-1, 10)
	d = min(d, graphBackoffCap)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
