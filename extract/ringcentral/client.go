package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ClientConfig configures a Client. The zero value of every optional field
// picks the default named in its comment.
type ClientConfig struct {
	// ServerURL is the platform's base URL, e.g. https://platform.ringcentral.com;
	// a trailing slash is dropped.
	ServerURL string
	// MediaURL is the base URL of the host serving recording content. Content
	// URIs on any host other than this one and ServerURL's are refused, so the
	// token is never sent elsewhere. Default: ServerURL with a first host label
	// "platform" replaced by "media" (https://media.ringcentral.com), else
	// ServerURL itself.
	MediaURL string

	ClientID     string
	ClientSecret string // the caller passes secret.Reveal()
	JWT          string // the user's JWT credential (the caller passes secret.Reveal())

	PerPage     int // records per call-log page (default and most: 1000)
	MaxAttempts int // attempts per HTTP request (default 6)

	HTTPClient *http.Client                                     // nil: a client with sane timeouts
	Logger     *slog.Logger                                     // nil: discard
	Wait       func(ctx context.Context, d time.Duration) error // nil: a real timer that honours ctx
	Now        func() time.Time                                 // nil: time.Now; tests pair it with Wait
}

// Defaults and bounds of the client.
const (
	defaultPerPage     = 1000 // also RingCentral's largest page
	defaultMaxAttempts = 6

	// The Heavy group's documented default, used until answers say otherwise.
	defaultHeavyLimit  = 10
	defaultHeavyWindow = 60 * time.Second
	// defaultRetryAfter is the wait after a 429 without Retry-After; it
	// doubles while such 429s repeat, up to maxRetryAfter.
	defaultRetryAfter = 30 * time.Second
	maxRetryAfter     = 5 * time.Minute

	backoffBase = time.Second
	backoffCap  = 60 * time.Second

	// daySpan is the longest span of one call-log walk; longer windows are
	// walked one such span at a time.
	daySpan = 24 * time.Hour
	// maxPages bounds the pages of one walk, so a next link that loops cannot
	// keep a run busy forever (10,000 pages of 1,000 is 10 M calls a day).
	maxPages = 10000
	// maxBodyBytes bounds one call-log page; 1,000 detailed records are a few MB.
	maxBodyBytes = 64 << 20
	// pageTimeout bounds one call-log request with its body.
	pageTimeout = 3 * time.Minute

	tokenEarlyExpiry     = 2 * time.Minute
	defaultTokenLifetime = time.Hour // when the answer has no expires_in

	jwtGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// dateFormat is how dateFrom and dateTo are sent: UTC, milliseconds, Z.
	dateFormat = "2006-01-02T15:04:05.000Z"
)

// Client reads the company call log and recordings of one RingCentral
// account, with the JWT bearer grant and a token cached until shortly before
// it expires. All its requests are in the Heavy rate-limit group (10 / 60 s
// per user by default): they go out one at a time, paced by the
// X-Rate-Limit-* headers so that the limit is not hit, and after a 429
// nothing is sent until Retry-After (30 s when absent) has passed. It is safe
// for concurrent use.
type Client struct {
	server, media *url.URL
	base          string // ServerURL without trailing slash
	httpc         *http.Client
	tokens        *tokenCache
	heavy         *limiter
	perPage       int
	maxAttempts   int
	log           *slog.Logger
	wait          func(ctx context.Context, d time.Duration) error
	now           func() time.Time
	jitter        func() float64 // in [0,1]; tests make it deterministic
}

// NewClient checks cfg and returns a client. It does no I/O: bad credentials
// show on the first request as ErrAuth.
func NewClient(cfg ClientConfig) (*Client, error) {
	for _, f := range []struct{ name, v string }{
		{"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret}, {"JWT", cfg.JWT},
	} {
		if strings.TrimSpace(f.v) == "" {
			return nil, fmt.Errorf("ringcentral client: %s is empty", f.name)
		}
	}
	server, err := baseURL("ServerURL", cfg.ServerURL)
	if err != nil {
		return nil, err
	}
	var media *url.URL
	if cfg.MediaURL != "" {
		if media, err = baseURL("MediaURL", cfg.MediaURL); err != nil {
			return nil, err
		}
	} else {
		media = defaultMediaURL(server)
	}
	switch {
	case cfg.PerPage < 0 || cfg.PerPage > defaultPerPage:
		return nil, fmt.Errorf("ringcentral client: PerPage is %d, must be 1 to %d", cfg.PerPage, defaultPerPage)
	case cfg.PerPage == 0:
		cfg.PerPage = defaultPerPage
	}
	switch {
	case cfg.MaxAttempts < 0:
		return nil, fmt.Errorf("ringcentral client: MaxAttempts is %d, must be positive", cfg.MaxAttempts)
	case cfg.MaxAttempts == 0:
		cfg.MaxAttempts = defaultMaxAttempts
	}
	c := &Client{
		server:      server,
		media:       media,
		base:        strings.TrimRight(server.String(), "/"),
		httpc:       cfg.HTTPClient,
		perPage:     cfg.PerPage,
		maxAttempts: cfg.MaxAttempts,
		log:         cfg.Logger,
		wait:        cfg.Wait,
		now:         cfg.Now,
		jitter:      rand.Float64,
	}
	if c.httpc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 90 * time.Second
		// No overall timeout: a long recording may take a while to download.
		// Call-log pages have their own (pageTimeout).
		c.httpc = &http.Client{Transport: t}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.wait == nil {
		c.wait = sleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.tokens = &tokenCache{
		url:      c.base + "/restapi/oauth/token",
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		jwt:      cfg.JWT,
		httpc:    c.httpc,
		now:      c.now,
		sem:      make(chan struct{}, 1),
	}
	c.heavy = newLimiter(c.now, c.wait, c.log)
	return c, nil
}

// baseURL parses an absolute http(s) URL and drops a trailing slash.
func baseURL(name, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("ringcentral client: %s: %w", name, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ringcentral client: %s %q is not an http(s) base URL", name, s)
	}
	return u, nil
}

// defaultMediaURL is platform.X's media.X, else the server itself.
func defaultMediaURL(server *url.URL) *url.URL {
	m := *server
	if rest, ok := strings.CutPrefix(strings.ToLower(server.Host), "platform."); ok {
		m.Host = "media." + rest
	}
	m.Path = ""
	return &m
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Window is a span [From, To) of call start times.
type Window struct{ From, To time.Time }

// String is the window in the format of dateFrom and dateTo.
func (w Window) String() string {
	return w.From.UTC().Format(dateFormat) + ".." + w.To.UTC().Format(dateFormat)
}

// Windows returns the spans of the call log a run at now reads: the UTC day
// of each of days (the days the queued sessions name) and the lookback
// [now-lookback, now), which is re-read on every run because records change
// after the call while the log filters on start time. Spans are cut at now,
// merged where they overlap or touch, and sorted; they are in UTC.
func Windows(days []time.Time, now time.Time, lookback time.Duration) []Window {
	now = now.UTC()
	ws := make([]Window, 0, len(days)+1)
	for _, d := range days {
		d = d.UTC()
		from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		ws = append(ws, Window{from, from.AddDate(0, 0, 1)})
	}
	if lookback > 0 {
		ws = append(ws, Window{now.Add(-lookback), now})
	}
	out := ws[:0]
	for _, w := range ws {
		if w.To.After(now) {
			w.To = now
		}
		if w.From.Before(w.To) {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	merged := out[:0]
	for _, w := range out {
		if n := len(merged); n > 0 && !w.From.After(merged[n-1].To) {
			if w.To.After(merged[n-1].To) {
				merged[n-1].To = w.To
			}
			continue
		}
		merged = append(merged, w)
	}
	return merged
}

// CallLog walks the company call log (Detailed view) for the calls that
// started in [from, to), newest first, perPage records a page, following
// navigation.nextPage, and calls fn with each page's records. dateFrom and
// dateTo are always sent, in UTC. A window longer than a day is walked one
// day (24 h from from) at a time.
//
// Pages are numbered, not a cursor: a call that arrives during the walk
// shifts the later pages, so records repeat. CallLog therefore dedupes by
// record id over the whole walk, with a map of id to lastModifiedTime (memory
// stays bounded, about 100 bytes per id; no record is kept). fn gets a record
// the first time its id appears, and again only when a later page carries it
// with a newer lastModifiedTime (it changed during the walk); a copy that is
// not newer is dropped. So fn may see an id twice, the later copy newer: keep
// the copy with the latest lastModifiedTime, as the lake does. A record that
// arrives during the walk on a page already read is not seen; the next run's
// lookback reads it.
//
// fn's slice is new for each call and may be kept. CallLog stops at the first
// error from fn and returns it. Errors name the span; see ErrAuth, APIError
// and IsRetryable.
func (c *Client) CallLog(ctx context.Context, from, to time.Time, fn func([]Record) error) error {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return fmt.Errorf("reading call log %s: empty window", Window{from, to})
	}
	seen := make(map[string]int64)
	for start := from; start.Before(to); {
		end := start.Add(daySpan)
		if end.After(to) {
			end = to
		}
		if err := c.walk(ctx, start, end, seen, fn); err != nil {
			return fmt.Errorf("reading call log %s: %w", Window{start, end}, err)
		}
		start = end
	}
	return nil
}

// walk reads the pages of one span.
func (c *Client) walk(ctx context.Context, from, to time.Time, seen map[string]int64, fn func([]Record) error) error {
	q := url.Values{}
	q.Set("view", "Detailed")
	q.Set("dateFrom", from.Format(dateFormat))
	q.Set("dateTo", to.Format(dateFormat))
	q.Set("perPage", strconv.Itoa(c.perPage))
	q.Set("page", "1")
	link := c.base + "/restapi/v1.0/account/~/call-log?" + q.Encode()
	for pages := 1; ; pages++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if pages > maxPages {
			return fmt.Errorf("more than %d pages", maxPages)
		}
		page, err := c.page(ctx, link)
		if err != nil {
			return err
		}
		for _, inv := range page.Invalid {
			c.log.Warn("skipping a call-log record that cannot be read",
				"page", link, "index", inv.Index, "id", inv.ID, "error", inv.Err)
		}
		fresh := page.Records[:0] // filtered in place: fresh never overtakes the range
		for _, r := range page.Records {
			lm := r.LastModifiedTime.UnixMicro()
			if old, ok := seen[r.ID]; ok && lm <= old {
				continue
			}
			seen[r.ID] = lm
			fresh = append(fresh, r)
		}
		if len(fresh) > 0 {
			if err := fn(fresh); err != nil {
				return err
			}
		}
		next := page.NextPageURI()
		if next == "" || len(page.Records)+len(page.Invalid) == 0 {
			return nil
		}
		if link, err = c.nextLink(next, link, q); err != nil {
			return err
		}
	}
}

// page GETs and decodes one call-log page.
func (c *Client) page(ctx context.Context, link string) (*Page, error) {
	resp, err := c.get(ctx, link, "application/json", pageTimeout)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, &transientError{err: fmt.Errorf("reading page %s: %w", link, err)}
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("page %s exceeds %d bytes", link, maxBodyBytes)
	}
	p, err := DecodePage(body)
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", link, err)
	}
	return p, nil
}

// nextLink checks navigation.nextPage: it must stay on the server's scheme
// and host (the token goes with it) and not point to the current page. A
// link without view, dateFrom or dateTo gets the walk's own, since the log
// would otherwise default to the last 24 hours.
func (c *Client) nextLink(next, current string, walk url.Values) (string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("next page %q: %v", next, err) // %v: a *url.Error is a net.Error, but this is permanent
	}
	if !strings.EqualFold(u.Scheme, c.server.Scheme) || !strings.EqualFold(u.Host, c.server.Host) {
		return "", fmt.Errorf("refusing next page on %s://%s: not the server %s", u.Scheme, u.Host, c.server.Host)
	}
	q := u.Query()
	fixed := false
	for _, k := range []string{"view", "dateFrom", "dateTo"} {
		if q.Get(k) == "" {
			q.Set(k, walk.Get(k))
			fixed = true
		}
	}
	if fixed {
		u.RawQuery = q.Encode()
		next = u.String()
	}
	if next == current {
		return "", fmt.Errorf("next page %s is the current page", next)
	}
	return next, nil
}

// Recording GETs a recording's audio from its content URI
// (Recording.ContentURI) and returns the open body, which the caller closes,
// and its Content-Type (audio/mpeg or audio/wav; see RecordingExt). Content
// requests are in the Heavy group and paced with the call log. A 404 (not
// ready yet, or gone) is ErrNotReady. A URI on a host other than the
// server's or the media host is refused before anything is sent.
func (c *Client) Recording(ctx context.Context, contentURI string) (io.ReadCloser, string, error) {
	if err := c.checkMedia(contentURI); err != nil {
		return nil, "", fmt.Errorf("fetching recording %s: %w", contentURI, err)
	}
	resp, err := c.get(ctx, contentURI, "audio/mpeg, audio/wav, audio/*", 0)
	if err != nil {
		if ae, ok := errors.AsType[*APIError](err); ok && ae.Status == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		return nil, "", fmt.Errorf("fetching recording %s: %w", contentURI, err)
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

// checkMedia accepts an absolute URI on the server's or the media host.
func (c *Client) checkMedia(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("content URI: %v", err) // %v: a *url.Error is a net.Error, but this is permanent
	}
	for _, h := range []*url.URL{c.media, c.server} {
		if strings.EqualFold(u.Scheme, h.Scheme) && strings.EqualFold(u.Host, h.Host) {
			return nil
		}
	}
	return fmt.Errorf("refusing content URI on %s://%s: neither the server %s nor the media host %s",
		u.Scheme, u.Host, c.server.Host, c.media.Host)
}

// RecordingExt is the file extension for a recording's Content-Type: "mp3"
// for audio/mpeg, "wav" for audio/wav (and its aliases audio/x-wav,
// audio/wave, audio/vnd.wave). Other types are an error.
func RecordingExt(contentType string) (string, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("recording content type %q: %w", contentType, err)
	}
	switch mt {
	case "audio/mpeg", "audio/mp3":
		return "mp3", nil
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return "wav", nil
	}
	return "", fmt.Errorf("recording content type %q is neither audio/mpeg nor audio/wav", contentType)
}

// get GETs rawURL and returns a 2xx answer with its body open, with the
// token, the Heavy pacing and retries: a 401 once more with a new token, a
// 429 after its penalty (the limiter holds every request until then), 5xx,
// network and token endpoint failures after Retry-After or an exponential
// backoff, at most maxAttempts times. Other answers are an *APIError. A
// timeout above 0 bounds each attempt from sending to closing the body (not
// the waits before it).
func (c *Client) get(ctx context.Context, rawURL, accept string, timeout time.Duration) (*http.Response, error) {
	reauthed := false
	var lastErr error
	for attempt := 1; ; attempt++ {
		var delay time.Duration
		tok, err := c.tokens.token(ctx)
		var resp *http.Response
		if err == nil {
			resp, err = c.once(ctx, rawURL, accept, tok, timeout)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctxErr
		}
		switch {
		case err != nil && !IsRetryable(err):
			return nil, err
		case err != nil:
			lastErr, delay = err, c.backoff(attempt)
			if te, ok := errors.AsType[*transientError](err); ok && te.retryAfter > 0 {
				delay = te.retryAfter
			}
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, nil
		default:
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // for the error's fields only
			resp.Body.Close()
			ae := newAPIError(resp.StatusCode, resp.Header, body)
			switch {
			case ae.Status == http.StatusUnauthorized && !reauthed:
				// The token may have expired early or been revoked: drop it
				// and try once more with a new one.
				reauthed = true
				c.tokens.invalidate(ctx, tok)
				lastErr = ae
			case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
				return nil, fmt.Errorf("%w: %w", ErrAuth, ae)
			case ae.Status == http.StatusTooManyRequests:
				lastErr = ae // the limiter waits out the penalty before the next request
			case !ae.retryable():
				return nil, ae
			default:
				lastErr = ae
				d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
				if !ok {
					d = c.backoff(attempt)
				}
				delay = d
			}
		}
		if attempt >= c.maxAttempts {
			err := fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
			if te, ok := errors.AsType[*transientError](lastErr); ok && te.token {
				err = fmt.Errorf("%w: %w", ErrAuth, err)
			}
			return nil, err
		}
		c.log.Info("ringcentral request failed, retrying", "url", rawURL, "attempt", attempt, "error", lastErr, "wait", delay)
		if delay > 0 {
			if err := c.wait(ctx, delay); err != nil {
				return nil, err
			}
		}
	}
}

// once sends one GET with a bearer token in the Heavy group's turn, bounded
// by timeout (when above 0) from sending until the body is closed. Its error
// is a transport failure; any HTTP answer is returned with its body open.
func (c *Client) once(ctx context.Context, rawURL, accept, tok string, timeout time.Duration) (*http.Response, error) {
	if err := c.heavy.acquire(ctx); err != nil {
		return nil, err
	}
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, rawURL, nil)
	if err != nil {
		c.heavy.release()
		cancel()
		return nil, fmt.Errorf("request %s: %v", rawURL, err) // %v: permanent, not a network error
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", accept)
	resp, err := c.httpc.Do(req)
	var penalty time.Duration
	if err == nil {
		penalty = c.heavy.observe(resp.StatusCode, resp.Header)
	}
	c.heavy.release()
	if err != nil {
		cancel()
		return nil, &transientError{err: err}
	}
	resp.Body = cancelBody{resp.Body, cancel}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.log.Warn("ringcentral rate limit exceeded; holding requests", "url", rawURL,
			"group", resp.Header.Get("X-Rate-Limit-Group"), "wait", penalty)
	}
	return resp, nil
}

// cancelBody ends a request's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// backoff is the exponential backoff with full jitter before attempt+1:
// a random duration up to min(backoffCap, backoffBase*2^(attempt-1)).
func (c *Client) backoff(attempt int) time.Duration {
	ceil := backoffCap
	if attempt < 32 {
		ceil = min(backoffCap, backoffBase<<(attempt-1))
	}
	return time.Duration(float64(ceil) * c.jitter())
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date, cut to
// maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n >= int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, min(maxRetryAfter, t.Sub(now))), true
	}
	return 0, false
}

// limiter paces the Heavy rate-limit group: every request of this client (the
// call log and recording content are both Heavy, and the limit is per user).
// It lets one request out at a time and keeps three rules:
//   - after an answer with X-Rate-Limit-Remaining 0, nothing is sent until a
//     full X-Rate-Limit-Window has passed;
//   - after a 429, nothing is sent until its Retry-After has passed (30 s when
//     absent, doubling while such 429s repeat), since a request during the
//     penalty restarts it;
//   - never more than X-Rate-Limit-Limit requests within one window (a local
//     count, which also paces answers without rate-limit headers; 10 / 60 s
//     until an answer names the Heavy group's limits).
type limiter struct {
	sem  chan struct{} // held from acquire to release; guards the fields below
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
	log  *slog.Logger

	limit     int
	window    time.Duration
	sent      []time.Time // send times within the last window, oldest first
	notBefore time.Time   // no request before this
	bare429   int         // consecutive 429s without Retry-After
}

func newLimiter(now func() time.Time, wait func(context.Context, time.Duration) error, log *slog.Logger) *limiter {
	return &limiter{
		sem: make(chan struct{}, 1), now: now, wait: wait, log: log,
		limit: defaultHeavyLimit, window: defaultHeavyWindow,
	}
}

// acquire takes the turn and waits until a request may be sent; the caller
// sends, then calls observe with the answer and release.
func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		now := l.now()
		l.prune(now)
		d := l.notBefore.Sub(now)
		if len(l.sent) >= l.limit {
			d = max(d, l.sent[len(l.sent)-l.limit].Add(l.window).Sub(now))
		}
		if d <= 0 {
			l.sent = append(l.sent, now)
			return nil
		}
		l.log.Debug("pacing ringcentral heavy requests", "wait", d)
		if err := l.wait(ctx, d); err != nil {
			<-l.sem
			return err
		}
	}
}

// prune drops send times a window old or older.
func (l *limiter) prune(now time.Time) {
	cut := now.Add(-l.window)
	i := 0
	for i < len(l.sent) && !l.sent[i].After(cut) {
		i++
	}
	l.sent = append(l.sent[:0], l.sent[i:]...)
}

// observe reads an answer's rate-limit headers and returns the pause it
// imposes on the next request (0 for none).
func (l *limiter) observe(status int, h http.Header) time.Duration {
	now := l.now()
	if g := h.Get("X-Rate-Limit-Group"); g == "" || strings.EqualFold(g, "heavy") {
		if n, ok := headerInt(h, "X-Rate-Limit-Limit"); ok && n > 0 {
			l.limit = n
		}
		if n, ok := headerInt(h, "X-Rate-Limit-Window"); ok && n > 0 {
			l.window = time.Duration(n) * time.Second
		}
	}
	var d time.Duration
	switch rem, ok := headerInt(h, "X-Rate-Limit-Remaining"); {
	case status == http.StatusTooManyRequests:
		var given bool
		if d, given = parseRetryAfter(h.Get("Retry-After"), now); !given {
			d = min(maxRetryAfter, defaultRetryAfter<<min(l.bare429, 8))
			l.bare429++
		}
	case ok && rem <= 0:
		l.bare429 = 0
		d = l.window
	default:
		l.bare429 = 0
	}
	if t := now.Add(d); t.After(l.notBefore) {
		l.notBefore = t
	}
	return d
}

// release ends the turn.
func (l *limiter) release() { <-l.sem }

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// tokenCache holds the access token of the JWT bearer grant. A token is
// fetched when none is cached or it expires within tokenEarlyExpiry (logins
// are rate-limited, and parallel sessions capped). sem makes one caller log
// in while the others wait or give up when their own context ends; no
// context is stored.
type tokenCache struct {
	url, clientID, secret, jwt string
	httpc                      *http.Client
	now                        func() time.Time
	sem                        chan struct{} // held while using or replacing tok
	tok                        string
	renewAt                    time.Time
}

// token returns a valid access token, logging in if needed.
func (t *tokenCache) token(ctx context.Context) (string, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-t.sem }()
	if t.tok != "" && t.now().Before(t.renewAt) {
		return t.tok, nil
	}
	tok, life, err := t.login(ctx)
	if err != nil {
		return "", err
	}
	t.tok, t.renewAt = tok, t.now().Add(life-min(tokenEarlyExpiry, life/2))
	return tok, nil
}

// invalidate drops tok if it is still the cached token.
func (t *tokenCache) invalidate(ctx context.Context, tok string) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-t.sem }()
	if t.tok == tok {
		t.tok = ""
	}
}

// login is the JWT bearer grant. A refusal (400, 401, 403, an answer without
// a token) is ErrAuth; 429, 5xx and network failures are transient. Errors
// carry RingCentral's error codes, never the body, the secret or the JWT.
func (t *tokenCache) login(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {jwtGrantType}, "assertion": {t.jwt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("%w: token request: %w", ErrAuth, err)
	}
	req.SetBasicAuth(t.clientID, t.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.httpc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		return "", 0, &transientError{err: fmt.Errorf("token endpoint: %w", err), token: true}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, &transientError{err: fmt.Errorf("reading token answer: %w", err), token: true}
	}
	if resp.StatusCode != http.StatusOK {
		ae := newAPIError(resp.StatusCode, resp.Header, body)
		msg := fmt.Sprintf("token endpoint answered %d", resp.StatusCode)
		if ae.ErrorCode != "" && len(ae.ErrorCode) <= 64 && !strings.ContainsAny(ae.ErrorCode, " \r\n") {
			msg += " " + ae.ErrorCode
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), t.now())
			if d == 0 && resp.StatusCode == http.StatusTooManyRequests {
				d = defaultRetryAfter
			}
			return "", 0, &transientError{err: errors.New(msg), retryAfter: d, token: true}
		}
		return "", 0, fmt.Errorf("%w: %s", ErrAuth, msg)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("%w: token endpoint answered without an access token", ErrAuth)
	}
	life := defaultTokenLifetime
	if tr.ExpiresIn > 0 && tr.ExpiresIn < int64(24*time.Hour/time.Second) {
		life = time.Duration(tr.ExpiresIn) * time.Second
	}
	return tr.AccessToken, life, nil
}
