package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"golang.org/x/oauth2"

	"callstats/internal/httpretry"
)

// guidPattern is the shape of a call record id: a GUID, braces-free.
var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// CheckID reports an id that is not a GUID as an error wrapping ErrInvalidID
// and naming it: only a GUID is ever put in a URL.
func CheckID(id string) error {
	if !guidPattern.MatchString(id) {
		return fmt.Errorf("%w: %q is not a GUID", ErrInvalidID, id)
	}
	return nil
}

// checkLink refuses a next link that leaves Graph's origin (scheme, host and
// port), so the bearer token is never sent elsewhere.
func (c *Client) checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("next link %q: %v", link, err) // %v: a *url.Error is a net.Error, but this is permanent
	}
	if !httpretry.SameOrigin(u, c.graphURL) {
		return fmt.Errorf("refusing next link to %s: not the Graph origin %s", httpretry.Origin(u), httpretry.Origin(c.graphURL))
	}
	return nil
}

// getIn GETs rawURL with a token, pacing and retries, and hands the body of
// a 2xx answer to decode. pages counts the pages of the walk, bounded by
// maxPages. group (nil for none) paces an endpoint that Graph throttles on
// its own on top of the app-wide pacing, and a 429 pauses the group rather
// than the whole app.
//
// A 2xx whose body cannot be read (cut, stalled, too large) or decoded
// (HTML, truncated JSON) is retried like a 5xx: the next answer may be
// sound. Running out of attempts is ErrThrottled after a 429, ErrAuth after
// a 401 or a failing token endpoint, else ErrSourceFailed.
func (c *Client) getIn(ctx context.Context, group *pacer, rawURL string, pages *int, decode func([]byte) error) error {
	if *pages++; *pages > maxPages {
		return fmt.Errorf("more than %d pages", maxPages)
	}
	reauthed := false
	err := c.retry.Do(ctx, rawURL, func(ctx context.Context, attempt int) error {
		if err := c.pace(ctx, 1, group); err != nil {
			return err
		}
		a, err := c.send(ctx, http.MethodGet, rawURL, nil)
		return c.judge(ctx, a, err, attempt, &reauthed, group, decode)
	})
	return authFailure(err)
}

// judge sorts the outcome of one attempt: nil when the answer was a 2xx
// that decode took, a *httpretry.Retry when another attempt is worth it
// (after its Delay, or after the pause a 429 set in the pacer of group, or
// the app-wide one when group is nil), else the permanent error. err is the
// error of send (no answer). reauthed says whether a 401 already made the
// token be renewed for this request.
func (c *Client) judge(ctx context.Context, a answer, err error, attempt int, reauthed *bool, group *pacer, decode func([]byte) error) error {
	switch {
	case err != nil:
		return httpretry.NoAnswer(err, IsRetryable, c.backoff(attempt))
	case a.status >= 200 && a.status < 300:
		if err := decode(a.body); err != nil {
			return &httpretry.Retry{Err: err, Delay: c.backoff(attempt)}
		}
		return nil
	}
	ae := newAPIError(a.status, a.header, a.body)
	switch {
	case a.status == http.StatusUnauthorized && !*reauthed:
		// The token may have expired early or been revoked: drop it
		// and try once more with a new one.
		*reauthed = true
		c.tokens.invalidate(ctx, a.token)
		return &httpretry.Retry{Err: ae}
	case a.status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrAuth, c.tokens.hint(ae))
	case a.status == http.StatusForbidden:
		return fmt.Errorf("%w: %w (check the app's Graph application permissions and their admin consent)", ErrAuth, ae)
	case a.status == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, ae)
	case !ae.Retryable():
		return ae
	}
	d, ok := httpretry.ParseRetryAfter(a.header.Get("Retry-After"), c.now(), maxRetryAfter)
	if !ok {
		d = c.backoff(attempt)
	}
	if a.status == http.StatusTooManyRequests {
		// The endpoint's own limit pauses its requests; Graph's app-wide
		// one, every request (both in pace).
		c.throttled.Add(1)
		if group == nil {
			group = c.pacer
		}
		group.pauseUntil(c.now().Add(d))
		return &httpretry.Retry{Err: ae, Throttled: true}
	}
	return &httpretry.Retry{Err: ae, Delay: d}
}

// authFailure names ErrAuth in a request that ran out of attempts on 401s
// or on a failing token endpoint.
func authFailure(err error) error {
	if errors.Is(err, httpretry.ErrSourceFailed) || errors.Is(err, httpretry.ErrThrottled) {
		te, isTE := errors.AsType[*httpretry.TransientError](err)
		ae, isAE := errors.AsType[*APIError](err)
		if isTE && te.Token || isAE && ae.Status == http.StatusUnauthorized {
			err = fmt.Errorf("%w: %w", ErrAuth, err)
		}
	}
	return err
}

// answer is one HTTP answer from Graph.
type answer struct {
	status int
	header http.Header
	body   []byte
	token  *oauth2.Token // the token the request carried
}

// send sends one request (body, if any, is JSON) with a bearer token and
// reads the answer within the client's progress bounds and byte budget. Its
// error is a token failure, a transport failure or a body that could not be
// read; any HTTP answer is returned as an answer.
func (c *Client) send(ctx context.Context, method, rawURL string, body []byte) (answer, error) {
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return answer{}, err
	}
	reqCtx, watch := c.progress.Start(ctx)
	defer watch.Stop()
	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(reqCtx, method, rawURL, reqBody)
	if err != nil {
		return answer{}, fmt.Errorf("request %s: %v", rawURL, err) // %v: permanent, not a network error
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		if errors.Is(err, httpretry.ErrRedirect) {
			return answer{}, err
		}
		return answer{}, watch.Err(httpretry.Transient(err))
	}
	rb := watch.Body(resp.Body)
	defer rb.Close()
	data, err := httpretry.ReadAll(reqCtx, rb, maxBodyBytes, c.budget)
	if err != nil {
		return answer{}, fmt.Errorf("reading answer of %s: %w", rawURL, watch.Err(err))
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data, token: tok}, nil
}

// backoff is the exponential backoff with full jitter before attempt+1:
// a random duration up to min(backoffCap, backoffBase*2^(attempt-1)).
func (c *Client) backoff(attempt int) time.Duration {
	return httpretry.Backoff(backoffBase, backoffCap, attempt, c.jitter())
}
