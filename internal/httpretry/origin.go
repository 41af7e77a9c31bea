package httpretry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// BaseURL parses an absolute http(s) URL without query or fragment and drops
// a trailing slash. name is the setting it came from, for the error.
func BaseURL(name, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err) // %v: a *url.Error is a net.Error, but this is permanent
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q is not an http(s) base URL", name, s)
	}
	return u, nil
}

// SameOrigin reports whether a and b have the same scheme, host and port
// (an absent port is the scheme's default).
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// Origin is scheme://host:port of u, for messages.
func Origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port(u))
}

// ErrRedirect is a redirect that was refused: it left the origin of the
// request, or there were too many.
var ErrRedirect = errors.New("redirect refused")

// maxRedirects bounds a chain of same-origin redirects.
const maxRedirects = 5

// SameOriginOnly returns a copy of c (a default client when nil) that follows
// a redirect only to the origin (scheme, host and port) of the first request,
// so credentials never reach another origin and another origin's body is
// never taken for the answer. A refused redirect fails the request with an
// error wrapping ErrRedirect.
func SameOriginOnly(c *http.Client) *http.Client {
	var cc http.Client
	if c != nil {
		cc = *c
	}
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !SameOrigin(req.URL, via[0].URL) {
			return fmt.Errorf("%w: %s redirected to %s, another origin", ErrRedirect, Origin(via[0].URL), Origin(req.URL))
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrRedirect, maxRedirects)
		}
		return nil
	}
	return &cc
}
