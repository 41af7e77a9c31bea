package faultproxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newTarget is a fake that echoes the request body and names its own URL.
func newTarget(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"self":"`+srv.URL+r.URL.Path+`","got":"`+string(in)+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestPassRewritesURLs(t *testing.T) {
	target := newTarget(t)
	p := New(t, target.URL)
	body := "scope=" + url.QueryEscape(p.URL+"/.default")
	resp, err := http.Post(p.URL+"/a/b", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	want := `{"self":"` + p.URL + `/a/b","got":"scope=` + url.QueryEscape(target.URL+"/.default") + `"}`
	if resp.StatusCode != 200 || string(got) != want {
		t.Errorf("got %d %s\nwant %s", resp.StatusCode, got, want)
	}
	if p.Faulted() != 0 {
		t.Errorf("Faulted() = %d in Pass", p.Faulted())
	}
}

func TestModes(t *testing.T) {
	target := newTarget(t)
	tests := []struct {
		mode   Mode
		status int
		check  func(t *testing.T, resp *http.Response, p *Proxy)
	}{
		{HTML200, 200, func(t *testing.T, resp *http.Response, _ *Proxy) {
			if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q", ct)
			}
		}},
		{Truncated, 200, func(t *testing.T, resp *http.Response, _ *Proxy) {
			if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("read %v, want unexpected EOF", err)
			}
		}},
		{Endless, 200, func(t *testing.T, resp *http.Response, _ *Proxy) {
			if n, err := io.CopyN(io.Discard, resp.Body, 4<<20); n != 4<<20 || err != nil {
				t.Errorf("read %d bytes, %v", n, err)
			}
		}},
		{Slow, 200, func(t *testing.T, resp *http.Response, _ *Proxy) {
			b := make([]byte, 10)
			if n, err := resp.Body.Read(b); n != 1 || err != nil {
				t.Errorf("first read: %d bytes, %v; want one byte", n, err)
			}
		}},
		{RedirectOtherPort, 302, func(t *testing.T, resp *http.Response, p *Proxy) {
			loc, _ := url.Parse(resp.Header.Get("Location"))
			self, _ := url.Parse(p.URL)
			if loc.Hostname() != self.Hostname() || loc.Port() == self.Port() || loc.Path != "/x" {
				t.Errorf("Location %s", loc)
			}
		}},
		{RedirectOtherHost, 302, func(t *testing.T, resp *http.Response, p *Proxy) {
			loc, _ := url.Parse(resp.Header.Get("Location"))
			self, _ := url.Parse(p.URL)
			if loc.Hostname() == self.Hostname() {
				t.Errorf("Location %s on the proxy's host", loc)
			}
		}},
		{TooManyRequests, 429, func(t *testing.T, resp *http.Response, _ *Proxy) {
			if ra := resp.Header.Get("Retry-After"); ra != "86400" {
				t.Errorf("Retry-After %q", ra)
			}
		}},
		{ServerError, 500, func(*testing.T, *http.Response, *Proxy) {}},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			p := New(t, target.URL)
			p.SetInterval(time.Millisecond)
			p.SetMode(tt.mode, Without("/token"))
			resp, err := noRedirects().Get(p.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			tt.check(t, resp, p)
			if p.Faulted() != 1 {
				t.Errorf("Faulted() = %d, want 1", p.Faulted())
			}
			spared, err := http.Get(p.URL + "/token")
			if err != nil {
				t.Fatal(err)
			}
			spared.Body.Close()
			if spared.StatusCode != 200 || p.Faulted() != 1 {
				t.Errorf("a request Without spares was faulted: %d, Faulted() = %d", spared.StatusCode, p.Faulted())
			}
		})
	}
}

func TestOtherOriginRecordsRequests(t *testing.T) {
	p := New(t, newTarget(t).URL)
	p.SetMode(RedirectOtherPort, nil)
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/media/1", nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req) // follows, as an unchecked client would
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != string(ForeignBody) {
		t.Errorf("body %q", got)
	}
	if seen := p.OtherSeen(); len(seen) != 1 || seen[0].Path != "/media/1" {
		t.Errorf("OtherSeen %+v", seen)
	}
}
