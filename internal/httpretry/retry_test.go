package httpretry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 13, 2, 14, 9, 0, time.UTC)
	const limit = 5 * time.Minute
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"86400", limit, true},
		{"99999999999999999999", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"Fri, 13 Nov 2026 02:14:39 GMT", 30 * time.Second, true},
		{"Fri, 13 Nov 2026 02:00:00 GMT", 0, true},
		{"Sat, 14 Nov 2026 02:14:09 GMT", limit, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now, limit)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 1, time.Second},
		{3, 1, 4 * time.Second},
		{3, 0.25, time.Second},
		{40, 1, time.Minute},
		{7, 1, time.Minute},
	}
	for _, tt := range tests {
		if got := Backoff(time.Second, time.Minute, tt.attempt, tt.jitter); got != tt.want {
			t.Errorf("Backoff(attempt %d, jitter %v) = %v, want %v", tt.attempt, tt.jitter, got, tt.want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	base, _ := url.Parse("https://graph.example.com")
	tests := []struct {
		in   string
		want bool
	}{
		{"https://graph.example.com/v1.0/x", true},
		{"https://GRAPH.example.com:443/v1.0/x", true},
		{"https://graph.example.com:8443/v1.0/x", false},
		{"http://graph.example.com/v1.0/x", false},
		{"https://evil.example.com/v1.0/x", false},
		{"https://graph.example.com.evil.com/", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := SameOrigin(u, base); got != tt.want {
			t.Errorf("SameOrigin(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for _, bad := range []string{"graph.example.com", "ftp://x", "https://g/?x=1", "https://g/#f", "https://"} {
		if _, err := BaseURL("GraphURL", bad); err == nil || !strings.Contains(err.Error(), "GraphURL") {
			t.Errorf("BaseURL(%q): %v", bad, err)
		}
	}
	u, err := BaseURL("GraphURL", "https://g.example.com/base/")
	if err != nil || u.String() != "https://g.example.com/base" {
		t.Errorf("BaseURL: %v, %v", u, err)
	}
}

func TestLoopKinds(t *testing.T) {
	var waits []time.Duration
	l := Loop{MaxAttempts: 3, Log: slog.New(slog.DiscardHandler), Source: "test",
		Wait: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	cause := errors.New("503")
	tests := []struct {
		name      string
		throttled bool
		want      error
	}{
		{"5xx", false, ErrSourceFailed},
		{"429", true, ErrThrottled},
	}
	for _, tt := range tests {
		waits = nil
		n := 0
		err := l.Do(t.Context(), "u", func(context.Context, int) error {
			n++
			return &Retry{Err: cause, Delay: time.Second, Throttled: tt.throttled}
		})
		if !errors.Is(err, tt.want) || !errors.Is(err, cause) || n != 3 || len(waits) != 2 {
			t.Errorf("%s: err %v after %d attempts, %d waits", tt.name, err, n, len(waits))
		}
	}
	perm := errors.New("400")
	n := 0
	if err := l.Do(t.Context(), "u", func(context.Context, int) error { n++; return perm }); err != perm || n != 1 {
		t.Errorf("permanent: %v after %d attempts", err, n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	err := l.Do(ctx, "u", func(context.Context, int) error { cancel(); return &Retry{Err: cause} })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestReadAllLimitAndBudget(t *testing.T) {
	b := NewBudget(1 << 20)
	data := bytes.Repeat([]byte("x"), 100<<10)
	got, err := ReadAll(t.Context(), iotest.HalfReader(bytes.NewReader(data)), 200<<10, b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll: %d bytes, %v", len(got), err)
	}
	if n := b.InFlight(); n != 0 {
		t.Errorf("%d bytes still held after the read", n)
	}
	_, err = ReadAll(t.Context(), bytes.NewReader(data), 10<<10, b)
	if _, ok := errors.AsType[*TransientError](err); !ok || !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v, want a transient ErrTooLarge", err)
	}
	_, err = ReadAll(t.Context(), iotest.ErrReader(io.ErrUnexpectedEOF), 10<<10, b)
	if _, ok := errors.AsType[*TransientError](err); !ok {
		t.Errorf("cut body: %v, want transient", err)
	}
}

// TestBudgetBoundsBytesAcrossReaders holds the whole budget in one reader
// and checks that a second waits until it is released.
func TestBudgetBoundsBytesAcrossReaders(t *testing.T) {
	b := NewBudget(64 << 10)
	took, err := b.acquire(t.Context(), 1<<30)
	if err != nil || took != 64<<10 {
		t.Fatalf("acquire more than the budget: took %d, %v", took, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ReadAll(ctx, strings.NewReader("abc"), 1<<20, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read with the budget spent went on: %v", err)
	}
	done := make(chan error)
	go func() {
		_, err := ReadAll(t.Context(), strings.NewReader("abc"), 1<<20, b)
		done <- err
	}()
	b.release(took)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := b.InFlight(); n != 0 {
		t.Errorf("%d bytes held", n)
	}
}

func TestNoAnswer(t *testing.T) {
	permanent := errors.New("bad token request")
	retryable := func(err error) bool { return !errors.Is(err, permanent) }
	for _, tc := range []struct {
		name      string
		err       error
		wantRetry bool
		delay     time.Duration
		kind      error
	}{
		{"redirect", fmt.Errorf("get: %w", ErrRedirect), false, 0, ErrSourceFailed},
		{"permanent", permanent, false, 0, permanent},
		{"transient", Transient(io.ErrUnexpectedEOF), true, time.Second, io.ErrUnexpectedEOF},
		{"retry-after", &TransientError{Err: io.EOF, RetryAfter: time.Minute, Token: true}, true, time.Minute, io.EOF},
	} {
		got := NoAnswer(tc.err, retryable, time.Second)
		r, isRetry := errors.AsType[*Retry](got)
		if isRetry != tc.wantRetry || isRetry && r.Delay != tc.delay || !errors.Is(got, tc.kind) {
			t.Errorf("%s: NoAnswer = %#v", tc.name, got)
		}
	}
}

// FuzzParseRetryAfter proves that any Retry-After is read without
// panicking, never negative nor longer than the limit.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "0", "-3", "Wed, 21 Oct 2026 07:28:00 GMT", "99999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 10, 21, 7, 0, 0, 0, time.UTC)
	const limit = 5 * time.Minute
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now, limit)
		if ok && (d < 0 || d > limit) {
			t.Errorf("Retry-After %q read as %s", s, d)
		}
	})
}
