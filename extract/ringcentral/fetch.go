package ringcentral

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"callstats/internal/httpretry"
)

// get GETs rawURL and hands a 2xx answer to handle, with the token, the
// Heavy pacing and retries: a 401 once more with a new token, a 429 after
// its penalty (the limiter holds every request until then), 5xx, network
// and token endpoint failures after Retry-After or an exponential backoff,
// at most maxAttempts times; then ErrThrottled after 429s, ErrAuth when the
// token endpoint kept failing, else ErrSourceFailed. handle returning a *httpretry.TransientError (a body cut,
// stalled or undecodable) is retried the same way. Other answers are an
// *APIError. progress bounds each attempt from sending to closing the body
// (not the waits before it). handle closes the body, or keeps it open and
// returns keep true for the caller to close.
func (c *Client) get(ctx context.Context, rawURL, accept string, progress httpretry.Progress,
	handle func(resp *http.Response) (keep bool, err error)) error {
	reauthed := false
	err := c.retry.Do(ctx, rawURL, func(ctx context.Context, attempt int) error {
		tok, err := c.tokens.token(ctx)
		var resp *http.Response
		if err == nil {
			resp, err = c.once(ctx, rawURL, accept, tok, progress)
		}
		switch {
		case err != nil:
			return httpretry.NoAnswer(err, IsRetryable, c.backoff(attempt))
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			keep, err := handle(resp)
			if !keep {
				resp.Body.Close()
			}
			if _, ok := errors.AsType[*httpretry.TransientError](err); ok {
				return &httpretry.Retry{Err: err, Delay: c.backoff(attempt)}
			}
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // for the error's fields only
		resp.Body.Close()
		ae := newAPIError(resp.StatusCode, resp.Header, body)
		switch {
		case ae.Status == http.StatusUnauthorized && !reauthed:
			// The token may have expired early or been revoked: drop it
			// and try once more with a new one.
			reauthed = true
			c.tokens.invalidate(ctx, tok)
			return &httpretry.Retry{Err: ae}
		case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrAuth, ae)
		case ae.Status == http.StatusTooManyRequests:
			// The limiter waits out the penalty before the next request.
			c.throttled.Add(1)
			return &httpretry.Retry{Err: ae, Throttled: true}
		case !ae.Retryable():
			return ae
		}
		d, ok := httpretry.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now(), maxRetryAfter)
		if !ok {
			d = c.backoff(attempt)
		}
		return &httpretry.Retry{Err: ae, Delay: d}
	})
	if te, ok := errors.AsType[*httpretry.TransientError](err); ok && te.Token {
		// The token endpoint stayed busy or down: the run cannot go on.
		err = fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

// once sends one GET with a bearer token in the Heavy group's turn, bounded
// by progress from sending until the body is closed. Its error is a
// transport failure; any HTTP answer is returned with its body open.
func (c *Client) once(ctx context.Context, rawURL, accept, tok string, progress httpretry.Progress) (*http.Response, error) {
	if err := c.heavy.acquire(ctx); err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodGet, rawURL, accept, tok, nil, progress)
	var penalty time.Duration
	if err == nil {
		penalty = c.heavy.observe(resp.StatusCode, resp.Header)
	}
	c.heavy.release()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.log.Warn("ringcentral rate limit exceeded; holding requests", "url", rawURL,
			"group", resp.Header.Get("X-Rate-Limit-Group"), "wait", penalty.String())
	}
	return resp, nil
}

// send sends one request (body, if any, is JSON) with a bearer token,
// bounded by progress from sending until the body is closed. Its error is a
// transport failure (a refused redirect as is, else a *httpretry.TransientError);
// any HTTP answer is returned with its body open.
func (c *Client) send(ctx context.Context, method, rawURL, accept, tok string, body []byte, progress httpretry.Progress) (*http.Response, error) {
	reqCtx, watch := progress.Start(ctx)
	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(reqCtx, method, rawURL, reqBody)
	if err != nil {
		watch.Stop()
		return nil, fmt.Errorf("request %s: %v", rawURL, err) // %v: permanent, not a network error
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		watch.Stop()
		if errors.Is(err, httpretry.ErrRedirect) {
			return nil, err
		}
		return nil, watch.Err(httpretry.Transient(err))
	}
	resp.Body = watch.Body(resp.Body)
	return resp, nil
}

// backoff is the exponential backoff with full jitter before attempt+1:
// a random duration up to min(backoffCap, backoffBase*2^(attempt-1)).
func (c *Client) backoff(attempt int) time.Duration {
	return httpretry.Backoff(backoffBase, backoffCap, attempt, c.jitter())
}
