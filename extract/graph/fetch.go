package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
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

// Fetch returns a record with every page of sessions and participants joined.
// Errors name the call id; see ErrNotFound, ErrAuth, ErrInvalidID,
// ErrSourceFailed, ErrThrottled, APIError and IsRetryable.
func (c *Client) Fetch(ctx context.Context, id string) (*CallRecord, error) {
	rec, err := c.fetch(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetching call %s: %w", id, err)
	}
	return rec, nil
}

func (c *Client) fetch(ctx context.Context, id string) (*CallRecord, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	pages := 0
	recordURL := c.base + "/v1.0/communications/callRecords/" + url.PathEscape(id)
	var rec *CallRecord
	err := c.get(ctx, recordURL+"?$expand=sessions($expand=segments)", &pages, func(body []byte) error {
		r, err := DecodeRecord(body)
		if err != nil {
			return err
		}
		if !strings.EqualFold(r.ID, id) {
			return fmt.Errorf("graph answered with call record %q", r.ID)
		}
		rec = r
		return nil
	})
	if err != nil {
		return nil, err
	}

	err = follow(ctx, c, rec.SessionsNextLink, &pages, func(v []Session) {
		rec.Sessions = append(rec.Sessions, v...)
	})
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	rec.SessionsNextLink = ""

	addParticipants := func(v []Participant) { rec.ParticipantsV2 = append(rec.ParticipantsV2, v...) }
	if len(rec.ParticipantsV2) > 0 || rec.ParticipantsV2NextLink != "" {
		err = follow(ctx, c, rec.ParticipantsV2NextLink, &pages, addParticipants)
	} else {
		err = follow(ctx, c, recordURL+"/participants_v2", &pages, addParticipants)
		if errors.Is(err, ErrNotFound) && len(rec.Participants) > 0 {
			// An archived record from before participants_v2: keep the
			// deprecated list (AllParticipants reads it).
			c.log.Debug("no participants_v2, keeping deprecated participants", "call", id)
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("participants: %w", err)
	}
	rec.ParticipantsV2NextLink = ""
	return rec, nil
}

// follow GETs link and the next links after it, handing each page's values to add.
func follow[T any](ctx context.Context, c *Client, link string, pages *int, add func([]T)) error {
	for link != "" {
		if err := c.checkLink(link); err != nil {
			return err
		}
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		err := c.get(ctx, link, pages, func(body []byte) error {
			if err := json.Unmarshal(body, &page); err != nil {
				return fmt.Errorf("decoding page %s: %w", link, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		add(page.Value)
		if page.NextLink == link {
			return fmt.Errorf("next link %s points to itself", link)
		}
		link = page.NextLink
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

// get GETs rawURL with a token, pacing and retries, and hands the body of a
// 2xx answer to decode. pages counts the pages of the record, bounded by
// maxPages.
func (c *Client) get(ctx context.Context, rawURL string, pages *int, decode func([]byte) error) error {
	return c.getIn(ctx, nil, rawURL, pages, decode)
}

// getIn is get for an endpoint that Graph throttles on its own: group (nil for
// none) paces its requests on top of the app-wide pacing, and a 429 pauses the
// group rather than the whole app.
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
		if err := c.pace(ctx, group); err != nil {
			return err
		}
		a, err := c.once(ctx, rawURL)
		switch {
		case err != nil && errors.Is(err, httpretry.ErrRedirect):
			return fmt.Errorf("%w: %w", ErrSourceFailed, err)
		case err != nil && !IsRetryable(err):
			return err
		case err != nil:
			d := c.backoff(attempt)
			if te, ok := errors.AsType[*httpretry.TransientError](err); ok && te.RetryAfter > 0 {
				d = te.RetryAfter
			}
			return &httpretry.Retry{Err: err, Delay: d}
		case a.status >= 200 && a.status < 300:
			if err := decode(a.body); err != nil {
				return &httpretry.Retry{Err: err, Delay: c.backoff(attempt)}
			}
			return nil
		}
		ae := newAPIError(a.status, a.header, a.body)
		switch {
		case a.status == http.StatusUnauthorized && !reauthed:
			// The token may have expired early or been revoked: drop it
			// and try once more with a new one.
			reauthed = true
			c.tokens.invalidate(ctx, a.token)
			return &httpretry.Retry{Err: ae}
		case a.status == http.StatusUnauthorized:
			return fmt.Errorf("%w: %w", ErrAuth, c.tokens.hint(ae))
		case a.status == http.StatusForbidden:
			return fmt.Errorf("%w: %w (check the app's Graph application permissions and their admin consent)", ErrAuth, ae)
		case a.status == http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, ae)
		case !ae.retryable():
			return ae
		}
		d, ok := httpretry.ParseRetryAfter(a.header.Get("Retry-After"), c.now(), maxRetryAfter)
		if !ok {
			d = c.backoff(attempt)
		}
		switch {
		case a.status == http.StatusTooManyRequests && group != nil:
			// The endpoint's own limit: its requests pause (in pace).
			c.throttled.Add(1)
			group.pauseUntil(c.now().Add(d))
			return &httpretry.Retry{Err: ae, Throttled: true}
		case a.status == http.StatusTooManyRequests:
			// Graph throttles per app: every worker pauses (in pace).
			c.throttled.Add(1)
			c.pacer.pauseUntil(c.now().Add(d))
			return &httpretry.Retry{Err: ae, Throttled: true}
		}
		return &httpretry.Retry{Err: ae, Delay: d}
	})
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

// once sends one GET with a bearer token and reads the answer within the
// client's progress bounds and byte budget. Its error is a token failure, a
// transport failure or a body that could not be read; any HTTP answer is
// returned as an answer.
func (c *Client) once(ctx context.Context, rawURL string) (answer, error) {
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return answer{}, err
	}
	reqCtx, watch := c.progress.Start(ctx)
	defer watch.Stop()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, rawURL, nil)
	if err != nil {
		return answer{}, fmt.Errorf("request %s: %v", rawURL, err) // %v: permanent, not a network error
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpc.Do(req)
	if err != nil {
		if errors.Is(err, httpretry.ErrRedirect) {
			return answer{}, err
		}
		return answer{}, watch.Err(httpretry.Transient(err))
	}
	body := watch.Body(resp.Body)
	defer body.Close()
	data, err := httpretry.ReadAll(reqCtx, body, maxBodyBytes, c.budget)
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
