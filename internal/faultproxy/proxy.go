// Package faultproxy is a fault-injecting HTTP proxy for tests, in the
// manner of net/http/httptest: it sits in front of a fake (graphtest,
// rctest) and, in the mode set, passes requests through or answers them
// with a hostile answer: HTML with 200, a truncated body, an endless body, a
// trickling body, a redirect to another port or another host, 429 or 500
// forever. SetItemMode fails requests inside a JSON $batch one by one
// instead, as Graph does. In passing, every occurrence of the target's URL in an answer is
// replaced by the proxy's, so the fake's next links lead back through it.
package faultproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is what the proxy does with a request it faults.
type Mode int

const (
	Pass              Mode = iota // forward to the target
	HTML200                       // 200 with an HTML page
	Truncated                     // the target's answer, cut half-way with the connection
	Endless                       // 200 with the target's headers and a body that never ends
	Slow                          // 200 with the target's headers and its body a byte every Interval
	RedirectOtherPort             // 302 to the same path on the same host, another port
	RedirectOtherHost             // 302 to the same path on another host name
	TooManyRequests               // 429 with Retry-After (RetryAfter) forever
	ServerError                   // 500 forever
)

var modeNames = [...]string{"pass", "html-200", "truncated", "endless", "slow",
	"redirect-other-port", "redirect-other-host", "429-forever", "500-forever"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Modes are the faulting modes, for tests that run through all of them.
var Modes = []Mode{HTML200, Truncated, Endless, Slow, RedirectOtherPort, RedirectOtherHost, TooManyRequests, ServerError}

// Seen is a request the other origin (the redirects' target) received.
type Seen struct {
	Path          string
	Authorization string // the Authorization header it carried, "" for none
}

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	URL string // http://127.0.0.1:port, no trailing slash

	tb     testing.TB
	target *url.URL
	srv    *httptest.Server
	other  *httptest.Server // the origin redirects point to

	mu         sync.Mutex
	mode       Mode
	match      func(*http.Request) bool
	itemMode   Mode              // for the requests inside a $batch (SetItemMode)
	itemMatch  func(string) bool // of their relative URLs
	interval   time.Duration
	retryAfter string
	faulted    int
	seen       []Seen
}

// ForeignBody is what the other origin answers: a body that must never be
// taken for the target's.
var ForeignBody = []byte("FOREIGN BODY from another origin")

// New starts a proxy in front of target (a base URL) in mode Pass; it is
// closed when the test ends.
func New(tb testing.TB, target string) *Proxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		tb.Fatalf("faultproxy: target %q is not a URL", target)
	}
	p := &Proxy{tb: tb, target: u, interval: 2 * time.Second, retryAfter: "86400"}
	p.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, Seen{Path: r.URL.Path, Authorization: r.Header.Get("Authorization")})
		p.mu.Unlock()
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(ForeignBody)
	}))
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	tb.Cleanup(p.Close)
	return p
}

// Close stops the proxy and the other origin; requests in flight are cut.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.other.CloseClientConnections()
	p.srv.Close()
	p.other.Close()
}

// SetMode sets the mode for the requests match accepts (nil: every request);
// the others pass. It replaces the mode SetItemMode set.
func (p *Proxy) SetMode(m Mode, match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.match = m, match
	p.itemMode, p.itemMatch = Pass, nil
}

// SetInterval sets the gap between the bytes of a Slow body (default 2 s).
func (p *Proxy) SetInterval(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.interval = d
}

// SetRetryAfter sets the Retry-After of TooManyRequests (default "86400").
func (p *Proxy) SetRetryAfter(v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retryAfter = v
}

// Faulted is the number of requests answered with a fault, counting each
// faulted request inside a $batch.
func (p *Proxy) Faulted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faulted
}

// OtherSeen lists the requests the redirects' target received.
func (p *Proxy) OtherSeen() []Seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Seen(nil), p.seen...)
}

// Without returns a match that faults every request but those whose path
// contains one of parts (e.g. the token endpoint's).
func Without(parts ...string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		for _, s := range parts {
			if strings.Contains(r.URL.Path, s) {
				return false
			}
		}
		return true
	}
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	mode, interval, retryAfter := p.mode, p.interval, p.retryAfter
	itemMode, itemMatch := p.itemMode, p.itemMatch
	if p.match != nil && !p.match(r) {
		mode = Pass
	}
	if mode != Pass {
		p.faulted++
	}
	p.mu.Unlock()
	if itemMode != Pass && isBatch(r) {
		p.serveBatch(w, r, itemMode, retryAfter, itemMatch)
		return
	}

	switch mode {
	case HTML200:
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Service temporarily unavailable</body></html>")
		return
	case RedirectOtherPort, RedirectOtherHost:
		other, _ := url.Parse(p.other.URL)
		if mode == RedirectOtherHost {
			other.Host = "localhost:" + other.Port()
		}
		http.Redirect(w, r, other.String()+r.URL.RequestURI(), http.StatusFound)
		return
	case TooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"faultproxy"}}`)
		return
	case ServerError:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"code":"InternalServerError","message":"faultproxy"}}`)
		return
	}

	status, header, body, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	flusher, _ := w.(http.Flusher)
	switch mode {
	case Truncated:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body[:len(body)/2])
		flusher.Flush()
		panic(http.ErrAbortHandler) // cut the connection: the body ends short
	case Endless:
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte{'x'}, 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		return
	case Slow:
		w.WriteHeader(http.StatusOK)
		flusher.Flush()
		for i := 0; r.Context().Err() == nil; i++ {
			b := byte('x')
			if i < len(body) {
				b = body[i]
			}
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			flusher.Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(interval):
			}
		}
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// serveBatch forwards the $batch r and answers with the responses match
// accepts faulted as mode says.
func (p *Proxy) serveBatch(w http.ResponseWriter, r *http.Request, mode Mode, retryAfter string, match func(string) bool) {
	in, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(in))
	status, header, body, err := p.forward(r)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if status == http.StatusOK {
		var n int
		if body, n, err = faultItems(in, body, mode, retryAfter, match); err != nil {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		p.faulted += n
		p.mu.Unlock()
	}
	for k, vs := range header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// forward sends r to the target and returns its answer. The proxy's URL in
// the request body (plain or form-encoded, e.g. an OAuth scope) is replaced
// by the target's, and the target's in the answer by the proxy's.
func (p *Proxy) forward(r *http.Request) (int, http.Header, []byte, error) {
	u := *p.target
	u.Path = strings.TrimRight(u.Path, "/") + r.URL.Path
	u.RawPath = ""
	if r.URL.RawPath != "" {
		u.RawPath = strings.TrimRight(p.target.EscapedPath(), "/") + r.URL.RawPath
	}
	u.RawQuery = r.URL.RawQuery
	in, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	target := strings.TrimRight(p.target.String(), "/")
	for _, esc := range []func(string) string{func(s string) string { return s }, url.QueryEscape} {
		in = bytes.ReplaceAll(in, []byte(esc(p.URL)), []byte(esc(target)))
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(in))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	body = bytes.ReplaceAll(body, []byte(target), []byte(p.URL))
	return resp.StatusCode, resp.Header, body, nil
}
