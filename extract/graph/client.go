package graph

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

	"golang.org/x/oauth2"

	"callstats/internal/httpretry"
)

// ClientConfig configures a Client. The zero value of every optional field
// picks the default named in its comment.
type ClientConfig struct {
	TenantID, ClientID string
	ClientSecret       string // the caller passes secret.Reveal(); not needed with TokenSource
	GraphURL, LoginURL string // e.g. https://graph.microsoft.com; a trailing slash is dropped
	// TokenSource, when set, gives the app tokens instead of the client
	// credentials grant with ClientSecret (a certificate or a managed
	// identity). It is called with the cache's lock held and should renew
	// its token itself; a failure is ErrAuth.
	TokenSource oauth2.TokenSource

	Concurrency    int // most $batch requests in flight in FetchAll (default 8); fewer while latency allows
	MaxAttempts    int // attempts per HTTP request (default 6)
	RequestsPer20s int // client-side pacing for the app-wide limit (default 1500)
	// Client-side pacing of the endpoints Graph throttles on their own, on top
	// of the app-wide limit: the call record list (default 40 per 20 s) and
	// getPstnCalls / getDirectRoutingCalls together (default 200 per 60 s).
	ListRequestsPer20s int
	LogRequestsPer60s  int
	// RecordRequestsPer20s paces the requests of one call record (default
	// 40 per 20 s, Graph's limit per record).
	RecordRequestsPer20s int

	// RequestTimeout bounds one attempt, body included (default 3 min).
	// StallTimeout cuts an attempt whose headers do not come, or whose body
	// brings less than 64 KiB, within it (default 60 s).
	RequestTimeout time.Duration
	StallTimeout   time.Duration
	// BytesInFlight bounds the bytes all answers being read hold at once
	// (default 128 MiB); one answer is at most 64 MiB.
	BytesInFlight int64

	HTTPClient *http.Client                                     // nil: a client with sane timeouts; redirects are followed only within Graph's origin
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
	defaultRecordPer20s   = 40

	defaultRequestTimeout = 3 * time.Minute
	defaultStallTimeout   = 60 * time.Second
	defaultBytesInFlight  = 128 << 20

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
	graphURL     *url.URL
	base         string // GraphURL without trailing slash
	httpc        *http.Client
	tokens       *tokenCache
	pacer        *pacer // app-wide
	listPacer    *pacer // the call record list (list.go)
	logPacer     *pacer // getPstnCalls and getDirectRoutingCalls (calllogs.go)
	recordPer20s int    // the limit of each record's own pacer (fetchall.go)
	concurrency  int
	retry        httpretry.Loop
	progress     httpretry.Progress
	budget       *httpretry.Budget
	throttled    atomic.Int64
	log          *slog.Logger
	wait         func(ctx context.Context, d time.Duration) error
	now          func() time.Time
	jitter       func() float64 // in [0,1]; tests make it deterministic
}

// NewClient checks cfg and returns a client. It does no I/O: a bad secret shows
// on the first fetch as ErrAuth.
func NewClient(cfg ClientConfig) (*Client, error) {
	required := []struct{ name, v string }{{"TenantID", cfg.TenantID}, {"ClientID", cfg.ClientID}}
	if cfg.TokenSource == nil {
		required = append(required, struct{ name, v string }{"ClientSecret", cfg.ClientSecret})
	}
	for _, f := range required {
		if strings.TrimSpace(f.v) == "" {
			return nil, fmt.Errorf("graph client: %s is empty", f.name)
		}
	}
	if strings.ContainsAny(cfg.TenantID, "/?#") {
		return nil, fmt.Errorf("graph client: TenantID %q is not a tenant id or domain", cfg.TenantID)
	}
	graphURL, err := httpretry.BaseURL("GraphURL", cfg.GraphURL)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	loginURL, err := httpretry.BaseURL("LoginURL", cfg.LoginURL)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	if err := cmp.Or( // the first bad setting
		httpretry.OrDefault("Concurrency", &cfg.Concurrency, defaultConcurrency),
		httpretry.OrDefault("MaxAttempts", &cfg.MaxAttempts, defaultMaxAttempts),
		httpretry.OrDefault("RequestsPer20s", &cfg.RequestsPer20s, defaultRequestsPer20s),
		httpretry.OrDefault("ListRequestsPer20s", &cfg.ListRequestsPer20s, defaultListPer20s),
		httpretry.OrDefault("LogRequestsPer60s", &cfg.LogRequestsPer60s, defaultLogsPer60s),
		httpretry.OrDefault("RecordRequestsPer20s", &cfg.RecordRequestsPer20s, defaultRecordPer20s),
		httpretry.OrDefault("RequestTimeout", &cfg.RequestTimeout, defaultRequestTimeout),
		httpretry.OrDefault("StallTimeout", &cfg.StallTimeout, defaultStallTimeout),
		httpretry.OrDefault("BytesInFlight", &cfg.BytesInFlight, defaultBytesInFlight),
	); err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	hooks := httpretry.Hooks{HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Wait: cfg.Wait, Now: cfg.Now}.
		WithDefaults(cfg.Concurrency + 2)
	c := &Client{
		graphURL:     graphURL,
		base:         strings.TrimRight(graphURL.String(), "/"),
		httpc:        hooks.HTTPClient,
		concurrency:  cfg.Concurrency,
		recordPer20s: cfg.RecordRequestsPer20s,
		progress:     httpretry.Progress{Timeout: cfg.RequestTimeout, Stall: cfg.StallTimeout},
		budget:       httpretry.NewBudget(cfg.BytesInFlight),
		log:          hooks.Logger,
		wait:         hooks.Wait,
		now:          hooks.Now,
		jitter:       rand.Float64,
	}
	c.retry = httpretry.Loop{MaxAttempts: cfg.MaxAttempts, Wait: c.wait, Log: c.log, Source: "graph"}
	c.tokens = newTokenCache(cfg, loginURL, c.base, c.httpc)
	c.pacer = newPacer(cfg.RequestsPer20s, 20*time.Second, c.now)
	c.listPacer = newStrictPacer(cfg.ListRequestsPer20s, 20*time.Second, c.now)
	c.logPacer = newStrictPacer(cfg.LogRequestsPer60s, 60*time.Second, c.now)
	return c, nil
}

// Throttled is the number of 429 answers the client has had: above 0, the
// run was throttled (a run reports it; see also ErrThrottled).
func (c *Client) Throttled() int64 { return c.throttled.Load() }
