package ringcentral

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"callstats/internal/httpretry"
)

// ClientConfig configures a Client. The zero value of every optional field
// picks the default named in its comment.
type ClientConfig struct {
	// ServerURL is the platform's base URL, e.g. https://platform.ringcentral.com;
	// a trailing slash is dropped.
	ServerURL string
	// MediaURL is the base URL of the host serving recording content. Content
	// URIs on any origin other than this one and ServerURL's are refused, so
	// the token is never sent elsewhere. Default: ServerURL with a first host
	// label "platform" replaced by "media" (https://media.ringcentral.com),
	// else ServerURL itself.
	MediaURL string

	ClientID     string
	ClientSecret string // the caller passes secret.Reveal()
	JWT          string // the user's JWT credential (the caller passes secret.Reveal())

	PerPage     int // records per call-log page (default and most: 1000)
	MaxAttempts int // attempts per HTTP request (default 6)

	// LoginTimeout bounds one login at the token endpoint (default 60 s).
	LoginTimeout time.Duration
	// StallTimeout cuts a request whose headers do not come, or whose body
	// brings less than 64 KiB, within it (default 60 s): a trickling
	// recording is cut and retried on a later run.
	StallTimeout time.Duration
	// MaxRecordingBytes caps one recording (default 2 GiB): a longer one is
	// refused with ErrTooLarge.
	MaxRecordingBytes int64
	// BytesInFlight bounds the bytes all call-log pages being read hold at
	// once (default 128 MiB); one page is at most 64 MiB.
	BytesInFlight int64

	HTTPClient *http.Client                                     // nil: a client with sane timeouts; redirects are followed only within the request's origin
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
	// pageTimeout bounds one call-log or subscription request with its body.
	pageTimeout = 3 * time.Minute

	defaultLoginTimeout      = 60 * time.Second
	defaultStallTimeout      = 60 * time.Second
	defaultMaxRecordingBytes = 2 << 30
	defaultBytesInFlight     = 128 << 20

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
	maxRecording  int64
	stall         time.Duration
	budget        *httpretry.Budget
	retry         httpretry.Loop
	throttled     atomic.Int64
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
	server, err := httpretry.BaseURL("ServerURL", cfg.ServerURL)
	if err != nil {
		return nil, fmt.Errorf("ringcentral client: %w", err)
	}
	var media *url.URL
	if cfg.MediaURL != "" {
		if media, err = httpretry.BaseURL("MediaURL", cfg.MediaURL); err != nil {
			return nil, fmt.Errorf("ringcentral client: %w", err)
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
	if err := cmp.Or( // the first bad setting
		httpretry.OrDefault("LoginTimeout", &cfg.LoginTimeout, defaultLoginTimeout),
		httpretry.OrDefault("StallTimeout", &cfg.StallTimeout, defaultStallTimeout),
		httpretry.OrDefault("MaxRecordingBytes", &cfg.MaxRecordingBytes, defaultMaxRecordingBytes),
		httpretry.OrDefault("BytesInFlight", &cfg.BytesInFlight, defaultBytesInFlight),
		httpretry.OrDefault("MaxAttempts", &cfg.MaxAttempts, defaultMaxAttempts),
	); err != nil {
		return nil, fmt.Errorf("ringcentral client: %w", err)
	}
	// No overall timeout on the default HTTP client: a long recording may
	// take a while to download (the stall timeout cuts one that trickles).
	// Call-log pages have their own (pageTimeout).
	hooks := httpretry.Hooks{HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Wait: cfg.Wait, Now: cfg.Now}.
		WithDefaults(0)
	c := &Client{
		server:       server,
		media:        media,
		base:         strings.TrimRight(server.String(), "/"),
		httpc:        hooks.HTTPClient,
		perPage:      cfg.PerPage,
		maxRecording: cfg.MaxRecordingBytes,
		stall:        cfg.StallTimeout,
		budget:       httpretry.NewBudget(cfg.BytesInFlight),
		log:          hooks.Logger,
		wait:         hooks.Wait,
		now:          hooks.Now,
		jitter:       rand.Float64,
	}
	c.retry = httpretry.Loop{MaxAttempts: cfg.MaxAttempts, Wait: c.wait, Log: c.log, Source: "ringcentral"}
	c.tokens = &tokenCache{
		url:      c.base + "/restapi/oauth/token",
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		jwt:      cfg.JWT,
		httpc:    c.httpc,
		timeout:  cfg.LoginTimeout,
		now:      c.now,
		sem:      make(chan struct{}, 1),
	}
	c.heavy = newLimiter(c.now, c.wait, c.log)
	return c, nil
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

// Throttled is the number of 429 answers the client has had: above 0, the
// run was throttled (a run reports it; see also ErrThrottled).
func (c *Client) Throttled() int64 { return c.throttled.Load() }
