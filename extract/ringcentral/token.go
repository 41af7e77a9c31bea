package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"callstats/internal/httpretry"
)

// tokenCache holds the access token of the JWT bearer grant. A token is
// fetched when none is cached or it expires within tokenEarlyExpiry (logins
// are rate-limited, and parallel sessions capped). sem makes one caller log
// in while the others wait or give up when their own context ends; no
// context is stored.
type tokenCache struct {
	url, clientID, secret, jwt string
	httpc                      *http.Client
	timeout                    time.Duration // bounds one login
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
func (t *tokenCache) login(parent context.Context) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(parent, t.timeout)
	defer cancel()
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
		if errors.Is(err, httpretry.ErrRedirect) {
			return "", 0, fmt.Errorf("%w: token endpoint: %w", ErrAuth, err)
		}
		if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// A login that does not answer fails the run at once, not after
			// every attempt has waited as long again.
			return "", 0, fmt.Errorf("%w: login at %s did not answer within %s (check ringcentral.server_url, the network to it, and ringcentral.login_timeout)",
				ErrAuth, t.url, t.timeout)
		}
		return "", 0, &httpretry.TransientError{Err: fmt.Errorf("token endpoint: %w", err), Token: true}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, &httpretry.TransientError{Err: fmt.Errorf("reading token answer: %w", err), Token: true}
	}
	if resp.StatusCode != http.StatusOK {
		ae := newAPIError(resp.StatusCode, resp.Header, body)
		msg := fmt.Sprintf("token endpoint answered %d", resp.StatusCode)
		if ae.Code != "" && len(ae.Code) <= 64 && !strings.ContainsAny(ae.Code, " \r\n") {
			msg += " " + ae.Code
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			d, _ := httpretry.ParseRetryAfter(resp.Header.Get("Retry-After"), t.now(), maxRetryAfter)
			if d == 0 && resp.StatusCode == http.StatusTooManyRequests {
				d = defaultRetryAfter
			}
			return "", 0, &httpretry.TransientError{Err: errors.New(msg), RetryAfter: d, Token: true}
		}
		return "", 0, fmt.Errorf("%w: %s (check ringcentral.client_id and the secrets ringcentral.client_secret_env and ringcentral.jwt_env name)", ErrAuth, msg)
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
