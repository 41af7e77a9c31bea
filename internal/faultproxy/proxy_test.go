package faultproxy

import (
	"encoding/json"
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

// newBatchTarget is a fake $batch endpoint: it answers each request of the
// batch 200 with a JSON body naming its URL, and any other request 200 {}.
func newBatchTarget(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/$batch") {
			io.WriteString(w, "{}")
			return
		}
		var req struct {
			Requests []struct{ ID, URL string } `json:"requests"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out []map[string]any
		for _, q := range req.Requests {
			out = append(out, map[string]any{"id": q.ID, "status": 200,
				"headers": map[string]string{"Content-Type": "application/json"},
				"body":    map[string]string{"url": q.URL}})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"responses": out})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestItemModes(t *testing.T) {
	target := newBatchTarget(t)
	const batch = `{"requests":[{"id":"1","method":"GET","url":"/r/a"},{"id":"2","method":"GET","url":"/r/b"},{"id":"3","method":"GET","url":"/r/c"}]}`
	type item struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	}
	tests := []struct {
		mode    Mode
		status  int
		header  string // a header of the faulted item, "name=value"
		decodes bool   // whether the faulted item's body is a JSON object
	}{
		{TooManyRequests, 429, "Retry-After=7", true},
		{ServerError, 500, "Content-Type=application/json", true},
		{HTML200, 200, "Content-Type=text/html", false},
		{Truncated, 200, "Content-Type=application/json", false},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			p := New(t, target.URL)
			p.SetRetryAfter("7")
			p.SetItemMode(tc.mode, func(u string) bool { return u == "/r/b" })
			resp, err := http.Post(p.URL+"/v1.0/$batch", "application/json", strings.NewReader(batch))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var ans struct{ Responses []item }
			if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&ans) != nil || len(ans.Responses) != 3 {
				t.Fatalf("status %d, %d responses: want a 200 with the 3 responses", resp.StatusCode, len(ans.Responses))
			}
			for _, it := range ans.Responses {
				var obj map[string]any
				decodes := json.Unmarshal(it.Body, &obj) == nil
				if it.ID != "2" {
					if it.Status != 200 || !decodes {
						t.Errorf("item %s: status %d, body %s: want it passed", it.ID, it.Status, it.Body)
					}
					continue
				}
				name, value, _ := strings.Cut(tc.header, "=")
				if it.Status != tc.status || it.Headers[name] != value || decodes != tc.decodes {
					t.Errorf("faulted item: status %d, headers %v, body %s", it.Status, it.Headers, it.Body)
				}
			}
			if p.Faulted() != 1 {
				t.Errorf("Faulted() = %d, want 1", p.Faulted())
			}

			// A request other than a $batch passes; SetMode ends the item mode.
			if resp, err := http.Get(p.URL + "/r/b"); err != nil || resp.StatusCode != 200 {
				t.Errorf("plain GET: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			p.SetMode(Pass, nil)
			resp2, err := http.Post(p.URL+"/v1.0/$batch", "application/json", strings.NewReader(batch))
			if err != nil {
				t.Fatal(err)
			}
			resp2.Body.Close()
			if p.Faulted() != 1 {
				t.Errorf("Faulted() = %d after SetMode(Pass): the item mode was kept", p.Faulted())
			}
		})
	}
}
