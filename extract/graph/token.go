package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"callstats/internal/httpretry"
)

// tokenCache holds the app token. A token is fetched when none is cached or it
// expires within tokenEarlyExpiry.
//
// Context choice: the fetch runs on the context of the request that needs the
// token (with our HTTP client attached), not on a context kept in the client.
// oauth2.ReuseTokenSourceWithExpiry is built per call around the cached token
// and a source bound to that context (the client credentials grant, or the
// caller's TokenSource); sem makes one caller fetch while the others wait (or
// give up when their own context ends). So no context is stored, and a
// cancelled run leaves no token request behind.
type tokenCache struct {
	source  func(ctx context.Context) oauth2.TokenSource
	timeout time.Duration             // bounds one token request
	conf    *clientcredentials.Config // nil with a TokenSource
	// keyHint names the settings to check when the credentials are refused.
	keyHint string
	sem     chan struct{} // held while using or replacing tok
	tok     *oauth2.Token
	src     oauth2.TokenSource // ClientConfig.TokenSource, or nil
}

func newTokenCache(cfg ClientConfig, loginURL *url.URL, graphBase string, httpc *http.Client) *tokenCache {
	t := &tokenCache{sem: make(chan struct{}, 1), timeout: cfg.RequestTimeout}
	if cfg.TokenSource != nil {
		t.src = cfg.TokenSource
		t.source = func(context.Context) oauth2.TokenSource { return cfg.TokenSource }
		t.keyHint = "check the Teams sign-in settings and teams.client_id"
		return t
	}
	conf := clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     strings.TrimRight(loginURL.String(), "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
		Scopes:       []string{graphBase + "/.default"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	t.conf = &conf
	t.source = func(ctx context.Context) oauth2.TokenSource {
		return conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, httpc))
	}
	t.keyHint = "check teams.tenant_id, teams.client_id and the secret teams.client_secret_env names"
	return t
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
	reqCtx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	tok, err := oauth2.ReuseTokenSourceWithExpiry(t.tok, t.source(reqCtx), tokenEarlyExpiry).Token()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if reqCtx.Err() != nil {
			return nil, &httpretry.TransientError{Err: fmt.Errorf("token endpoint: no answer within %s", t.timeout), Token: true}
		}
		return nil, t.tokenError(err)
	}
	t.tok = tok
	return tok, nil
}

// sourceToken asks the caller's TokenSource, which keeps, renews and shares
// its tokens itself (internal/entra). A failure it says is temporary is
// retried; any other is ErrAuth.
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
		return nil, &httpretry.TransientError{Err: err, Token: true}
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

// hint adds the settings to check to an error of refused credentials.
func (t *tokenCache) hint(err error) error {
	return fmt.Errorf("%w (%s)", err, t.keyHint)
}

var (
	aadCode   = regexp.MustCompile(`AADSTS[0-9]+`)
	oauthCode = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
)

// maxHint bounds Entra's description kept in a message.
const maxHint = 300

// tokenError classifies a token failure: a refusal (400/401/403, a malformed
// answer) is ErrAuth; 429, 5xx and network failures are transient. The
// message carries the OAuth error code and Entra's hint (the AADSTS code
// and its description, without trace ids), never the body or the secret,
// and names the settings to check.
func (t *tokenCache) tokenError(err error) error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		codes := ""
		if oauthCode.MatchString(re.ErrorCode) {
			codes += " " + re.ErrorCode
		}
		if h := entraHint(re.ErrorDescription); h != "" {
			codes += ": " + h
		}
		if status == http.StatusTooManyRequests || status >= 500 {
			return &httpretry.TransientError{Err: fmt.Errorf("token endpoint answered %d%s", status, codes), Token: true}
		}
		return fmt.Errorf("%w: token endpoint answered %d%s (%s)", ErrAuth, status, codes, t.keyHint)
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return &httpretry.TransientError{Err: fmt.Errorf("token endpoint: %w", err), Token: true}
	}
	return fmt.Errorf("%w: %w (%s)", ErrAuth, err, t.keyHint)
}

// entraHint is the AADSTS part of an Entra error description: from its
// AADSTS code to the trace ids, on one line, at most maxHint bytes.
func entraHint(desc string) string {
	loc := aadCode.FindStringIndex(desc)
	if loc == nil {
		return ""
	}
	h := desc[loc[0]:]
	for _, cut := range []string{"\r", "\n", " Trace ID:"} {
		if i := strings.Index(h, cut); i >= 0 {
			h = h[:i]
		}
	}
	h = strings.TrimSpace(h)
	if len(h) > maxHint {
		h = h[:maxHint] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, h)
}
