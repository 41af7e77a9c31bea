package delivery

import (
	"testing"
	"time"
)

// FuzzNextOffset proves that no upload session answer makes nextOffset
// panic or go negative.
func FuzzNextOffset(f *testing.F) {
	for _, s := range []string{`{"nextExpectedRanges":["327680-"]}`, `{"nextExpectedRanges":["12"]}`,
		`{"nextExpectedRanges":["0-10","20-"]}`, `{"nextExpectedRanges":[]}`, `{}`, `x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := nextOffset([]byte(s), 7); n < 0 {
			t.Errorf("offset %d from %q", n, s)
		}
	})
}

// FuzzRetryAfter proves that any Retry-After is read without panicking,
// never negative nor longer than maxRetryAfter.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "0", "-3", "Wed, 21 Oct 2026 07:28:00 GMT", "99999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := retryAfter(s, now)
		if ok && (d < 0 || d > maxRetryAfter) {
			t.Errorf("Retry-After %q read as %s", s, d)
		}
	})
}
