package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientConfig configures a Client. The zero value of every optional field
// picks the default named in its comment.
type ClientConfig struct {
	TenantID, ClientID string
	ClientSecret       string // the caller passes secret.Reveal()
	// TokenSource, when set, gives the tokens instead of a client secret
	// (internal/entra: certificate, managed identity...); it renews and
	// shares them itself. ClientSecret and LoginURL are then not used.
	TokenSource        oauth2.TokenSource
	GraphURL, LoginURL string // e.g. https://graph.microsoft.com; a trailing slash is dropped

	Concurrency    int // parallel fetches in FetchAll (default 8)
	MaxAttempts    int // attempts per HTTP request (default 6)
	RequestsPer20s int // client-side pacing for the app-wide limit (default 1500)
	// Client-side pacing of the endpoints Graph throttles on their own, on top
	// of the app-wide limit: the call record list (default 40 per 20 s) and
	// getPstnCalls / getDirectRoutingCalls together (default 200 per 60 s).
	ListRequestsPer20s int
	LogRequestsPer60s  int

	HTTPClient *http.Client                                     // nil: a client with sane timeouts
	Logger     *slog.Logger                                     // nil: discard
	Wait       func(ctx context.Context, d time.Duration) error // nil: a real timer that honours ctx
	Now        func() time.Time                                 // nil: time.Now; tests pair it with Wait
}

// Defaults and bounds of the client.
const (
	defaultConcurrency    = 8
	defaultMaxAttempts    = 6
	defaultRequestsPer20s = 1500
	defaultListPer20s     = 40
	defaultLogsPer60s     = 200

	backoffBase   = 500 * time.Millisecond
	backoffCap    = 60 * time.Second
	maxRetryAfter = 5 * time.Minute // a longer Retry-After is cut to this

	// maxPages bounds the pages (sessions and participants) of one record, so
	// a next link that loops cannot keep a run busy forever.
	maxPages = 10000
	// maxBodyBytes bounds one answer; a page of 60 sessions is a few MB.
	maxBodyBytes = 64 << 20
	// tokenEarlyExpiry renews a token this long before it expires.
	tokenEarlyExpiry = 2 * time.Minute
)

// Client fetches call records from Microsoft Graph with an app-only token,
// paging, retries and pacing. It is safe for concurrent use.
type Client struct {
	graphURL    *url.URL
	base        string // GraphURL without trailing slash
	httpc       *http.Client
	tokens      *tokenCache
	pacer       *pacer // app-wide
	listPacer   *pacer // the call record list (list.go)
	logPacer    *pacer // getPstnCalls and getDirectRoutingCalls (calllogs.go)
	concurrency int
	maxAttempts int
	log         *slog.Logger
	wait        func(ctx context.Context, d time.Duration) error
	now         func() time.Time
	jitter      func() float64 // in [0,1]; tests make it deterministic
}

// NewClient checks cfg and returns a client. It does no I/O: a bad secret shows
// on the first fetch as ErrAuth.
func NewClient(cfg ClientConfig) (*Client, error) {
	for _, f := range []struct{ name, v string }{
		{"TenantID", cfg.TenantID}, {"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret},
	} {
		if strings.TrimSpace(f.v) == "" && !(cfg.TokenSource != nil && f.name == "ClientSecret") {
			return nil, fmt.Errorf("graph client: %s is empty", f.name)
		}
	}
	if strings.ContainsAny(cfg.TenantID, "/?#") {
		return nil, fmt.Errorf("graph client: TenantID %q is not a tenant id or domain", cfg.TenantID)
	}
	graphURL, err := baseURL("GraphURL", cfg.GraphURL)
	if err != nil {
		return nil, err
	}
	loginURL, err := baseURL("LoginURL", cfg.LoginURL)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"Concurrency", &cfg.Concurrency, defaultConcurrency},
		{"MaxAttempts", &cfg.MaxAttempts, defaultMaxAttempts},
		{"RequestsPer20s", &cfg.RequestsPer20s, defaultRequestsPer20s},
		{"ListRequestsPer20s", &cfg.ListRequestsPer20s, defaultListPer20s},
		{"LogRequestsPer60s", &cfg.LogRequestsPer60s, defaultLogsPer60s},
	} {
		switch {
		case *f.v < 0:
			return nil, fmt.Errorf("graph client: %s is %d, must be positive", f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	c := &Client{
		graphURL:    graphURL,
		base:        strings.TrimRight(graphURL.String(), "/"),
		httpc:       cfg.HTTPClient,
		concurrency: cfg.Concurrency,
		maxAttempts: cfg.MaxAttempts,
		log:         cfg.Logger,
		wait:        cfg.Wait,
		now:         cfg.Now,
		jitter:      rand.Float64,
	}
	if c.httpc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Concurrency + 2
		t.ResponseHeaderTimeout = 90 * time.Second
		c.httpc = &http.Client{Transport: t, Timeout: 3 * time.Minute}
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
		conf: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     strings.TrimRight(loginURL.String(), "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
			Scopes:       []string{c.base + "/.default"},
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		httpc: c.httpc,
		sem:   make(chan struct{}, 1),
		src:   cfg.TokenSource,
	}
	c.pacer = newPacer(cfg.RequestsPer20s, 20*time.Second, c.now)
	c.listPacer = newStrictPacer(cfg.ListRequestsPer20s, 20*time.Second, c.now)
	c.logPacer = newStrictPacer(cfg.LogRequestsPer60s, 60*time.Second, c.now)
	return c, nil
}

// baseURL parses an absolute http(s) URL and drops a trailing slash.
func baseURL(name, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("graph client: %s: %w", name, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("graph client: %s %q is not an http(s) base URL", name, s)
	}
	return u, nil
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

// Fetch returns a record with every page of sessions and participants joined.
// Errors name the call id; see ErrNotFound, ErrAuth, APIError and IsRetryable.
func (c *Client) Fetch(ctx context.Context, id string) (*CallRecord, error) {
	rec, err := c.fetch(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetching call %s: %w", id, err)
	}
	return rec, nil
}

func (c *Client) fetch(ctx context.Context, id string) (*CallRecord, error) {
	if id == "" {
		return nil, errors.New("empty call id")
	}
	pages := 0
	recordURL := c.base + "/v1.0/communications/callRecords/" + url.PathEscape(id)
	body, err := c.get(ctx, recordURL+"?$expand=sessions($expand=segments)", &pages)
	if err != nil {
		return nil, err
	}
	rec, err := DecodeRecord(body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(rec.ID, id) {
		return nil, fmt.Errorf("graph answered with call record %q", rec.ID)
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
		body, err := c.get(ctx, link, pages)
		if err != nil {
			return err
		}
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("decoding page %s: %w", link, err)
		}
		add(page.Value)
		if page.NextLink == link {
			return fmt.Errorf("next link %s points to itself", link)
		}
		link = page.NextLink
	}
	return nil
}

// checkLink refuses a next link that leaves Graph's scheme and host, so the
// bearer token is never sent elsewhere.
func (c *Client) checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("next link %q: %w", link, err)
	}
	if !strings.EqualFold(u.Scheme, c.graphURL.Scheme) || !strings.EqualFold(u.Host, c.graphURL.Host) {
		return fmt.Errorf("refusing next link to %s://%s: not the Graph host %s", u.Scheme, u.Host, c.graphURL.Host)
	}
	return nil
}

// FetchAll fetches ids with at most cfg.Concurrency in flight and calls fn for
// each result from a single goroutine (so fn needs no locking), in completion
// order. A failed fetch is passed to fn, not returned. FetchAll stops at the
// first error fn returns (and returns it) or when ctx is done (and returns
// ctx.Err()); fetches still in flight are then cancelled and not reported.
func (c *Client) FetchAll(ctx context.Context, ids []string, fn func(id string, rec *CallRecord, err error) error) error {
	type result struct {
		id  string
		rec *CallRecord
		err error
	}
	inner, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan string)
	results := make(chan result)
	var wg sync.WaitGroup
	for range min(c.concurrency, len(ids)) {
		wg.Go(func() {
			for id := range jobs {
				rec, err := c.Fetch(inner, id)
				select {
				case results <- result{id, rec, err}:
				case <-inner.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, id := range ids {
			select {
			case jobs <- id:
			case <-inner.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	var fnErr error
	for r := range results {
		if ctx.Err() != nil {
			break
		}
		if err := fn(r.id, r.rec, r.err); err != nil {
			fnErr = err
			break
		}
	}
	cancel()
	for range results { // let the workers finish so none outlives FetchAll
	}
	if fnErr != nil {
		return fnErr
	}
	return ctx.Err()
}

// answer is one HTTP answer from Graph.
type answer struct {
	status int
	header http.Header
	body   []byte
	token  *oauth2.Token // the token the request carried
}

// get GETs rawURL with a token, pacing and retries, and returns the body of a
// 2xx answer. pages counts the pages of the record, bounded by maxPages.
func (c *Client) get(ctx context.Context, rawURL string, pages *int) ([]byte, error) {
	return c.getIn(ctx, nil, rawURL, pages)
}

// getIn is get for an endpoint that Graph throttles on its own: group (nil for
// none) paces its requests on top of the app-wide pacing, and a 429 pauses the
// group rather than the whole app.
func (c *Client) getIn(ctx context.Context, group *pacer, rawURL string, pages *int) ([]byte, error) {
	if *pages++; *pages > maxPages {
		return nil, fmt.Errorf("more than %d pages", maxPages)
	}
	reauthed := false
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := c.pace(ctx, group); err != nil {
			return nil, err
		}
		a, err := c.once(ctx, rawURL)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		var delay time.Duration
		switch {
		case err != nil && !IsRetryable(err):
			return nil, err
		case err != nil:
			lastErr, delay = err, c.backoff(attempt)
		case a.status >= 200 && a.status < 300:
			return a.body, nil
		default:
			ae := newAPIError(a.status, a.header, a.body)
			switch {
			case a.status == http.StatusUnauthorized && !reauthed:
				// The token may have expired early or been revoked: drop it
				// and try once more with a new one.
				reauthed = true
				c.tokens.invalidate(ctx, a.token)
				lastErr = ae
			case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
				return nil, fmt.Errorf("%w: %w", ErrAuth, ae)
			case a.status == http.StatusNotFound:
				return nil, fmt.Errorf("%w: %w", ErrNotFound, ae)
			case !ae.retryable():
				return nil, ae
			default:
				lastErr = ae
				d, ok := parseRetryAfter(a.header.Get("Retry-After"), c.now())
				if !ok {
					d = c.backoff(attempt)
				}
				switch {
				case a.status == http.StatusTooManyRequests && group != nil:
					// The endpoint's own limit: its requests pause (in pace).
					group.pauseUntil(c.now().Add(d))
				case a.status == http.StatusTooManyRequests:
					// Graph throttles per app: every worker pauses (in pace).
					c.pacer.pauseUntil(c.now().Add(d))
				default:
					delay = d
				}
			}
		}
		if attempt >= c.maxAttempts {
			err := fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
			te, isTE := errors.AsType[*transientError](lastErr)
			ae, isAE := errors.AsType[*APIError](lastErr)
			if isTE && te.token || isAE && ae.Status == http.StatusUnauthorized {
				err = fmt.Errorf("%w: %w", ErrAuth, err)
			}
			return nil, err
		}
		c.log.Info("graph request failed, retrying", "url", rawURL, "attempt", attempt, "error", lastErr, "wait", delay)
		if delay > 0 {
			if err := c.wait(ctx, delay); err != nil {
				return nil, err
			}
		}
	}
}

// once sends one GET with a bearer token. Its error is a token failure or a
// transport failure; any HTTP answer is returned as an answer.
func (c *Client) once(ctx context.Context, rawURL string) (answer, error) {
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return answer{}, fmt.Errorf("request %s: %w", rawURL, err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return answer{}, &transientError{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return answer{}, &transientError{err: fmt.Errorf("reading answer of %s: %w", rawURL, err)}
	}
	if len(body) > maxBodyBytes {
		return answer{}, fmt.Errorf("answer of %s exceeds %d bytes", rawURL, maxBodyBytes)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body, token: tok}, nil
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

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		d = maxRetryAfter
		if n < int64(maxRetryAfter/time.Second) {
			d = time.Duration(n) * time.Second
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(0, min(maxRetryAfter, t.Sub(now)))
	} else {
		return 0, false
	}
	return d, true
}

// pace waits for the pacing slot of one request and for any app-wide pause
// that a 429 set, including one set while it was waiting; with a group, for
// the group's slot and pause as well.
func (c *Client) pace(ctx context.Context, group *pacer) error {
	d, seen := c.pacer.reserve()
	var gSeen time.Time
	if group != nil {
		var gd time.Duration
		gd, gSeen = group.reserve()
		d = max(d, gd)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d > 0 {
			if err := c.wait(ctx, d); err != nil {
				return err
			}
		}
		nb := c.pacer.pausedUntil()
		var gnb time.Time
		if group != nil {
			gnb = group.pausedUntil()
		}
		if !nb.After(seen) && !gnb.After(gSeen) {
			return nil
		}
		now := c.now()
		seen, gSeen, d = nb, gnb, max(nb.Sub(now), gnb.Sub(now))
	}
}

// pacer is a token bucket for the app-wide request rate, plus the shared
// "not before" time a 429 sets for all workers.
type pacer struct {
	mu        sync.Mutex
	now       func() time.Time
	rate      float64 // requests per second
	burst     float64
	tokens    float64
	last      time.Time
	notBefore time.Time
}

// newPacer allows perWindow requests per window on average, with a burst of
// one twentieth of that (at least 1), so that no window much exceeds the limit.
func newPacer(perWindow int, window time.Duration, now func() time.Time) *pacer {
	burst := math.Max(1, math.Floor(float64(perWindow)/20))
	return &pacer{
		now:    now,
		rate:   float64(perWindow) / window.Seconds(),
		burst:  burst,
		tokens: burst,
		last:   now(),
	}
}

// newStrictPacer allows at most perWindow requests in any window: a burst of a
// quarter of the limit, and the rest spread over the window, so that a short
// walk (a few days of listing) goes out at once and a long one never exceeds
// the limit. It paces the endpoints with small limits of their own, where
// newPacer's 5% overshoot would be a throttled request.
func newStrictPacer(perWindow int, window time.Duration, now func() time.Time) *pacer {
	p := newPacer(perWindow, window, now)
	p.burst = math.Max(1, math.Floor(float64(perWindow)/4))
	p.tokens = p.burst
	if n := float64(perWindow) - p.burst; n > 0 {
		p.rate = n / window.Seconds()
	}
	return p
}

// reserve takes a slot and returns how long to wait before using it, and the
// pause in force when it was taken.
func (p *pacer) reserve() (time.Duration, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.After(p.last) {
		p.tokens = math.Min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
		p.last = now
	}
	p.tokens--
	var d time.Duration
	if p.tokens < 0 {
		d = time.Duration(-p.tokens / p.rate * float64(time.Second))
	}
	if w := p.notBefore.Sub(now); w > d {
		d = w
	}
	return d, p.notBefore
}

// pauseUntil makes every request wait until t.
func (p *pacer) pauseUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.notBefore) {
		p.notBefore = t
	}
}

func (p *pacer) pausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notBefore
}

// tokenCache holds the app token. A token is fetched when none is cached or it
// expires within tokenEarlyExpiry.
//
// Context choice: the fetch runs on the context of the request that needs the
// token (with our HTTP client attached), not on a context kept in the client.
// oauth2.ReuseTokenSourceWithExpiry is built per call around the cached token
// and a clientcredentials source bound to that context; sem makes one caller
// fetch while the others wait (or give up when their own context ends). So no
// context is stored, and a cancelled run leaves no token request behind.
type tokenCache struct {
	conf  clientcredentials.Config
	httpc *http.Client
	sem   chan struct{} // held while using or replacing tok
	tok   *oauth2.Token
	src   oauth2.TokenSource // ClientConfig.TokenSource, or nil
}

func (t *tokenCache) lock(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// token returns a valid token, fetching one if needed.
func (t *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	if t.src != nil {
		return t.sourceToken(ctx)
	}
	if err := t.lock(ctx); err != nil {
		return nil, err
	}
	defer func() { <-t.sem }()
	src := oauth2.ReuseTokenSourceWithExpiry(t.tok,
		t.conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, t.httpc)), tokenEarlyExpiry)
	tok, err := src.Token()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, tokenError(err)
	}
	t.tok = tok
	return tok, nil
}

// sourceToken asks the TokenSource, which keeps and shares its tokens. A
// failure it says is temporary is retried; any other is ErrAuth.
func (t *tokenCache) sourceToken(ctx context.Context) (*oauth2.Token, error) {
	var tok *oauth2.Token
	var err error
	if cs, ok := t.src.(interface {
		TokenContext(context.Context) (*oauth2.Token, error)
	}); ok {
		tok, err = cs.TokenContext(ctx)
	} else {
		tok, err = t.src.Token()
	}
	switch {
	case err == nil:
		return tok, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	if tmp, ok := errors.AsType[interface {
		error
		Temporary() bool
	}](err); ok && tmp.Temporary() {
		return nil, &transientError{err: err, token: true}
	}
	return nil, fmt.Errorf("%w: %w", ErrAuth, err)
}

// invalidate drops tok if it is still the cached token.
func (t *tokenCache) invalidate(ctx context.Context, tok *oauth2.Token) {
	if inv, ok := t.src.(interface{ Invalidate(*oauth2.Token) }); ok {
		inv.Invalidate(tok)
		return
	}
	if t.lock(ctx) != nil {
		return
	}
	defer func() { <-t.sem }()
	if t.tok == tok {
		t.tok = nil
	}
}

var (
	aadCode   = regexp.MustCompile(`AADSTS[0-9]+`)
	oauthCode = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
)

// tokenError classifies a token failure: a refusal (400/401/403, a malformed
// answer) is ErrAuth; 429, 5xx and network failures are transient. The
// message carries the OAuth and AAD error codes, never the body or the secret.
func tokenError(err error) error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		codes := ""
		if oauthCode.MatchString(re.ErrorCode) {
			codes += " " + re.ErrorCode
		}
		if m := aadCode.FindString(re.ErrorDescription); m != "" {
			codes += " " + m
		}
		if status == http.StatusTooManyRequests || status >= 500 {
			return &transientError{err: fmt.Errorf("token endpoint answered %d%s", status, codes), token: true}
		}
		return fmt.Errorf("%w: token endpoint answered %d%s", ErrAuth, status, codes)
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return &transientError{err: fmt.Errorf("token endpoint: %w", err), token: true}
	}
	return fmt.Errorf("%w: %w", ErrAuth, err)
}
