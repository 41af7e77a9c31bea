package entra

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

	"golang.org/x/oauth2"
)

// clientCredentials is the client-credentials grant of the v2.0 token
// endpoint, with a client secret or a client assertion.
type clientCredentials struct {
	cfg      Config
	tokenURL string
	secret   url.Values // client_secret, or nil for an assertion
}

func newClientCredentials(cfg Config, secret url.Values) *clientCredentials {
	return &clientCredentials{
		cfg:      cfg,
		tokenURL: cfg.LoginURL + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
		secret:   secret,
	}
}

// maxTokenBody bounds a token answer.
const maxTokenBody = 1 << 20

// maxTokenLifetime bounds expires_in, in seconds (a year; Entra issues
// tokens for an hour or so).
const maxTokenLifetime = 365 * 24 * 3600

// tokenAnswer is the token endpoint's JSON, a token or an error.
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"` // a number, or a string of one
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

func (f *clientCredentials) fetch(ctx context.Context, scope string) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type": {"client_credentials"},
		"client_id":  {f.cfg.ClientID},
		"scope":      {scope},
	}
	if f.secret != nil {
		for k, v := range f.secret {
			form[k] = v
		}
	} else {
		jwt, err := f.cfg.Certificate.assertion(f.cfg.ClientID, f.tokenURL, f.cfg.Now())
		if err != nil {
			return nil, &LoginError{URL: f.tokenURL, Key: "teams.certificate_file", Err: err}
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", jwt)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &LoginError{URL: f.tokenURL, Key: "teams.login_url", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := f.cfg.Now()
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, &LoginError{URL: f.tokenURL, Key: keyFor(f.cfg.Kind, ""), Temp: true, Err: errors.Unwrap(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, &LoginError{URL: f.tokenURL, Status: resp.StatusCode, Key: keyFor(f.cfg.Kind, ""), Temp: true, Err: err}
	}
	var a tokenAnswer
	jsonErr := json.Unmarshal(body, &a)
	if resp.StatusCode != http.StatusOK || a.AccessToken == "" {
		code := ""
		if oauthCode(a.Error) {
			code = a.Error
		}
		aad := aadCode.FindString(a.ErrorDescription)
		if aad != "" {
			code = strings.TrimSpace(code + " " + aad)
		}
		le := &LoginError{URL: f.tokenURL, Status: resp.StatusCode, Code: code, Key: keyFor(f.cfg.Kind, aad),
			Temp: isTemporaryStatus(resp.StatusCode)}
		if resp.StatusCode == http.StatusOK {
			le.Status, le.Err = 0, fmt.Errorf("the answer holds no access token (%v)", jsonErr)
		}
		return nil, le
	}
	secs, err := expiresIn(a.ExpiresIn)
	if err != nil {
		return nil, &LoginError{URL: f.tokenURL, Key: keyFor(f.cfg.Kind, ""), Err: err}
	}
	return &oauth2.Token{AccessToken: a.AccessToken, TokenType: "Bearer", Expiry: start.Add(secs)}, nil
}

// oauthCode accepts an OAuth error code (invalid_client), nothing longer.
func oauthCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// expiresIn reads expires_in, a number of seconds or a string of one.
func expiresIn(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 {
		return time.Hour, nil
	}
	var n json.Number
	s := strings.Trim(string(raw), `"`)
	n = json.Number(s)
	v, err := n.Int64()
	if err != nil || v <= 0 || v > maxTokenLifetime {
		return 0, fmt.Errorf("bad expires_in %s in the token answer", raw)
	}
	return time.Duration(v) * time.Second, nil
}
