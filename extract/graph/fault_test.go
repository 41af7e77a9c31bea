package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"callstats/extract/graph/graphtest"
	"callstats/internal/faultproxy"
	"callstats/internal/httpretry"
)

// faultEnv is a client that reaches a fake Graph through a fault proxy; the
// proxy's faults spare the token endpoint.
type faultEnv struct {
	*env
	proxy *faultproxy.Proxy
}

func newFaultEnv(t *testing.T, mode faultproxy.Mode, mod func(*ClientConfig)) *faultEnv {
	t.Helper()
	var proxy *faultproxy.Proxy
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) {
		proxy = faultproxy.New(t, c.GraphURL)
		c.GraphURL, c.LoginURL = proxy.URL, proxy.URL
		c.MaxAttempts = 2
		c.StallTimeout = 10 * time.Second
		if mode == faultproxy.Slow {
			c.StallTimeout = 200 * time.Millisecond
		}
		if mod != nil {
			mod(c)
		}
	})
	proxy.SetInterval(20 * time.Millisecond)
	proxy.SetMode(mode, faultproxy.Without("/oauth2/"))
	return &faultEnv{env: e, proxy: proxy}
}

const faultID = "0fa17000-0000-4000-8000-000000000001"

// TestFetchThroughFaults: every hostile answer ends the fetch (none hangs)
// with a retryable ErrSourceFailed or ErrThrottled, never a permanent
// failure nor "not found"; no request reaches another origin, with or
// without the token.
func TestFetchThroughFaults(t *testing.T) {
	for _, mode := range faultproxy.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			e := newFaultEnv(t, mode, nil)
			e.put(t, smallRecord(faultID))
			_, err := e.c.Fetch(t.Context(), faultID)
			want := ErrSourceFailed
			if mode == faultproxy.TooManyRequests {
				want = ErrThrottled
			}
			if !errors.Is(err, want) || !IsRetryable(err) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrAuth) {
				t.Fatalf("err %v: want %v, retryable", err, want)
			}
			if !strings.Contains(err.Error(), faultID) {
				t.Errorf("err %q does not name the call", err)
			}
			if seen := e.proxy.OtherSeen(); len(seen) != 0 {
				t.Errorf("another origin received %+v", seen)
			}
			if got := e.c.Throttled() > 0; got != (mode == faultproxy.TooManyRequests) {
				t.Errorf("Throttled() = %d in mode %v", e.c.Throttled(), mode)
			}
			switch mode {
			case faultproxy.Slow:
				if !errors.Is(err, httpretry.ErrStalled) {
					t.Errorf("slow body: %v, want ErrStalled", err)
				}
			case faultproxy.Endless:
				if !errors.Is(err, httpretry.ErrTooLarge) {
					t.Errorf("endless body: %v, want ErrTooLarge", err)
				}
			case faultproxy.RedirectOtherHost, faultproxy.RedirectOtherPort:
				if !errors.Is(err, httpretry.ErrRedirect) {
					t.Errorf("redirect: %v, want ErrRedirect", err)
				}
			}
			// The same client recovers once Graph is sound.
			e.proxy.SetMode(faultproxy.Pass, nil)
			if _, err := e.c.Fetch(t.Context(), faultID); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// TestFaultsEndWithTheCallersContext: a 429 with Retry-After 86400 forever,
// or a body that stays slow, with attempts to spare, ends when the caller's
// context does.
func TestFaultsEndWithTheCallersContext(t *testing.T) {
	for _, mode := range []faultproxy.Mode{faultproxy.TooManyRequests, faultproxy.Slow} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e := newFaultEnv(t, mode, func(c *ClientConfig) {
				c.MaxAttempts = 1000
				c.StallTimeout = time.Hour
			})
			e.put(t, smallRecord(faultID))
			var waits atomic.Int32
			e.rec.OnWait = func(context.Context, time.Duration) error {
				if waits.Add(1) == 5 {
					cancel()
				}
				return nil
			}
			if mode == faultproxy.Slow {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			_, err := e.c.Fetch(ctx, faultID)
			if !errors.Is(err, context.Canceled) || IsRetryable(err) {
				t.Fatalf("err %v: want context.Canceled", err)
			}
		})
	}
}

// TestBytesInFlightBounded: eight endless answers at once hold no more than
// the budget between them.
func TestBytesInFlightBounded(t *testing.T) {
	const budget = 1 << 20
	e := newFaultEnv(t, faultproxy.Endless, func(c *ClientConfig) {
		c.BytesInFlight = budget
		c.Concurrency = 8
		c.MaxAttempts = 1
	})
	var ids []string
	for i := range 8 {
		id := "0fa17000-0000-4000-8000-00000000000" + string(rune('1'+i))
		ids = append(ids, id)
		e.put(t, smallRecord(id))
	}
	failed := 0
	err := e.c.FetchAll(t.Context(), ids, func(id string, _ *CallRecord, err error) error {
		if errors.Is(err, ErrSourceFailed) {
			failed++
		}
		return nil
	})
	if err != nil || failed != 8 {
		t.Fatalf("FetchAll: %v, %d of 8 failed as the source", err, failed)
	}
	if peak := e.c.budget.Peak(); peak > budget || peak == 0 {
		t.Errorf("peak bytes in flight %d, budget %d", peak, budget)
	}
}

// TestRedirectWithinOriginFollowed: a redirect within Graph's origin is
// followed with the token and the body; the app token comes from
// ClientConfig.TokenSource.
func TestRedirectWithinOriginFollowed(t *testing.T) {
	var auth atomic.Value
	records := http.NewServeMux()
	records.HandleFunc("/v1.0/communications/callRecords/"+faultID, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(smallRecord(faultID))
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/v1.0/$batch", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/moved", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		graphtest.ServeBatch(w, r, records)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientConfig{
		TenantID: "t", ClientID: "c", GraphURL: srv.URL, LoginURL: "https://login.invalid",
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-1", TokenType: "Bearer"}),
		Wait:        func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.Fetch(t.Context(), faultID)
	if err != nil || rec.ID != faultID {
		t.Fatalf("fetch: %v", err)
	}
	if got := auth.Load(); got != "Bearer tok-1" {
		t.Errorf("the redirected request carried %q", got)
	}
}

// TestListThroughServerErrors: a list that Graph fails with 500s is an
// incomplete window whose slices are ErrSourceFailed, retryable, so the
// caller tells a failing source from an empty day.
func TestListThroughServerErrors(t *testing.T) {
	e := newFaultEnv(t, faultproxy.ServerError, nil)
	day := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	err := e.c.List(t.Context(), day, day.Add(48*time.Hour), func([]ListItem) error { return nil })
	ie, ok := errors.AsType[*IncompleteError](err)
	if !ok || len(ie.Failed) != 2 || !errors.Is(err, ErrSourceFailed) || !IsRetryable(err) {
		t.Fatalf("err %v: want an IncompleteError of 2 slices, ErrSourceFailed", err)
	}
}
