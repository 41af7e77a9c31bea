package httpretry

import (
	"net/http"
	"testing"
	"time"
)

func TestOrDefault(t *testing.T) {
	for _, tc := range []struct {
		v, want time.Duration
		err     string
	}{
		{0, time.Minute, ""},
		{time.Second, time.Second, ""},
		{-time.Second, -time.Second, "StallTimeout is -1s, must be positive"},
	} {
		v := tc.v
		err := OrDefault("StallTimeout", &v, time.Minute)
		if got := errString(err); got != tc.err || v != tc.want {
			t.Errorf("OrDefault(%s) = %s, %q; want %s, %q", tc.v, v, got, tc.want, tc.err)
		}
	}
	n := 0
	if err := OrDefault("MaxAttempts", &n, 6); err != nil || n != 6 {
		t.Errorf("int: %d, %v", n, err)
	}
}

func TestHooksWithDefaults(t *testing.T) {
	h := Hooks{}.WithDefaults(10)
	if h.Logger == nil || h.Wait == nil || h.Now == nil || h.HTTPClient.CheckRedirect == nil {
		t.Fatalf("nil hooks left: %+v", h)
	}
	tr := h.HTTPClient.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost != 10 || tr.ResponseHeaderTimeout != headerTimeout || h.HTTPClient.Timeout != 0 {
		t.Errorf("transport: idle %d, header timeout %s, client timeout %s",
			tr.MaxIdleConnsPerHost, tr.ResponseHeaderTimeout, h.HTTPClient.Timeout)
	}
	given := &http.Client{Timeout: time.Second}
	if g := (Hooks{HTTPClient: given}).WithDefaults(0).HTTPClient; g == given || g.Timeout != time.Second || g.CheckRedirect == nil {
		t.Errorf("given client: not a same-origin copy: %+v", g)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
