package ringcentral

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A login endpoint that accepts the connection but never answers fails the
// read with ErrAuth naming the login URL and the keys to check, after one
// token request: not after every attempt has waited as long again.
func TestHangingLoginFailsWithinTheTimeout(t *testing.T) {
	var logins atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth/token") {
			logins.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	defer close(release)

	c, err := NewClient(ClientConfig{
		ServerURL: srv.URL, ClientID: "rc-client-1", ClientSecret: "rc-secret-1", JWT: "rc-jwt-1",
		LoginTimeout: 200 * time.Millisecond,
		Wait:         func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	err = c.CallLog(t.Context(), day, day.Add(24*time.Hour), func([]Record) error { return nil })
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("error = %v, want ErrAuth", err)
	}
	for _, want := range []string{srv.URL, "did not answer within 200ms", "ringcentral.login_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := logins.Load(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}
