package ringcentral

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"callstats/extract/ringcentral/rctest"
	"callstats/internal/faultproxy"
	"callstats/internal/httpretry"
)

// faultEnv is a client that reaches a fake RingCentral through fault
// proxies, one in front of the API (sparing the token endpoint) and one in
// front of the media host.
type faultEnv struct {
	*env
	api, media *faultproxy.Proxy
}

func newFaultEnv(t *testing.T, mod func(*ClientConfig)) *faultEnv {
	t.Helper()
	fe := &faultEnv{}
	fe.env = newEnv(t, rctest.Options{}, func(c *ClientConfig) {
		fe.api, fe.media = faultproxy.New(t, c.ServerURL), faultproxy.New(t, c.MediaURL)
		c.ServerURL, c.MediaURL = fe.api.URL, fe.media.URL
		c.MaxAttempts = 2
		c.StallTimeout = 10 * time.Second
		if mod != nil {
			mod(c)
		}
	})
	for _, p := range []*faultproxy.Proxy{fe.api, fe.media} {
		p.SetInterval(20 * time.Millisecond)
	}
	return fe
}

// contentURI is the recording's content URI through the media proxy.
func (fe *faultEnv) contentURI(id string) string {
	return strings.Replace(fe.srv.ContentURI(id), fe.srv.MediaURL, fe.media.URL, 1)
}

func stallFor(mode faultproxy.Mode) func(*ClientConfig) {
	return func(c *ClientConfig) {
		if mode == faultproxy.Slow {
			c.StallTimeout = 200 * time.Millisecond
		}
	}
}

// TestCallLogThroughFaults: every hostile answer ends the walk (none hangs)
// with a retryable ErrSourceFailed, or ErrThrottled for 429s, never
// ErrNotReady; no request reaches another origin.
func TestCallLogThroughFaults(t *testing.T) {
	for _, mode := range faultproxy.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			fe := newFaultEnv(t, stallFor(mode))
			fe.addCalls(t, 3)
			fe.api.SetMode(mode, faultproxy.Without("/oauth/token"))
			err := fe.c.CallLog(t.Context(), day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
			want := ErrSourceFailed
			if mode == faultproxy.TooManyRequests {
				want = ErrThrottled
			}
			if !errors.Is(err, want) || !IsRetryable(err) || errors.Is(err, ErrNotReady) || errors.Is(err, ErrAuth) {
				t.Fatalf("err %v: want %v, retryable", err, want)
			}
			if got := fe.c.Throttled() > 0; got != (mode == faultproxy.TooManyRequests) {
				t.Errorf("Throttled() = %d in mode %v", fe.c.Throttled(), mode)
			}
			if seen := fe.api.OtherSeen(); len(seen) != 0 {
				t.Errorf("another origin received %+v", seen)
			}
			fe.api.SetMode(faultproxy.Pass, nil)
			if got := fe.collect(t, day, day.AddDate(0, 0, 1)); len(got) != 3 {
				t.Errorf("after the fault: %d records, want 3", len(got))
			}
		})
	}
}

// TestRecordingThroughFaults: a hostile media host never gets a byte of a
// foreign or oversized body written, and never hangs the download.
func TestRecordingThroughFaults(t *testing.T) {
	const limit = 1 << 20
	for _, mode := range faultproxy.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			fe := newFaultEnv(t, func(c *ClientConfig) {
				c.MaxRecordingBytes = limit
				stallFor(mode)(c)
			})
			fe.srv.SetRecording("rec-1", "audio/mpeg", []byte("ID3 fake mp3"))
			fe.media.SetInterval(2 * time.Second) // a byte every 2 s, as the campaign's media host sent
			fe.media.SetMode(mode, nil)
			var w bytes.Buffer
			_, n, err := fe.c.CopyRecording(t.Context(), fe.contentURI("rec-1"), &w)
			if err == nil {
				t.Fatalf("mode %v: no error, %d bytes written", mode, n)
			}
			if bytes.Contains(w.Bytes(), faultproxy.ForeignBody) || w.Len() > limit {
				t.Errorf("%d bytes written, foreign body %v", w.Len(), bytes.Contains(w.Bytes(), faultproxy.ForeignBody))
			}
			if seen := fe.media.OtherSeen(); len(seen) != 0 {
				t.Errorf("another origin received %+v", seen)
			}
			switch mode {
			case faultproxy.Endless:
				if !errors.Is(err, ErrTooLarge) || IsRetryable(err) || !strings.Contains(err.Error(), "max_recording_bytes") {
					t.Errorf("endless: %v, want ErrTooLarge naming the key", err)
				}
			case faultproxy.Slow:
				if !errors.Is(err, httpretry.ErrStalled) || !errors.Is(err, ErrSourceFailed) {
					t.Errorf("slow: %v, want ErrStalled as ErrSourceFailed", err)
				}
			case faultproxy.HTML200:
				if w.Len() != 0 {
					t.Errorf("an HTML answer wrote %d bytes", w.Len())
				}
			case faultproxy.TooManyRequests:
				if !errors.Is(err, ErrThrottled) {
					t.Errorf("429: %v, want ErrThrottled", err)
				}
			default:
				if !errors.Is(err, ErrSourceFailed) || !IsRetryable(err) {
					t.Errorf("%v: %v, want ErrSourceFailed", mode, err)
				}
			}
		})
	}
}

// TestRecordingOverCapByLength: a Content-Length over the cap is refused
// before its body is read.
func TestRecordingOverCapByLength(t *testing.T) {
	e := newEnv(t, rctest.Options{}, func(c *ClientConfig) { c.MaxRecordingBytes = 4 })
	e.srv.SetRecording("rec-1", "audio/mpeg", []byte("ID3 fake mp3"))
	var w bytes.Buffer
	if _, _, err := e.c.CopyRecording(t.Context(), e.srv.ContentURI("rec-1"), &w); !errors.Is(err, ErrTooLarge) || w.Len() != 0 {
		t.Fatalf("err %v, %d bytes written: want ErrTooLarge and none", err, w.Len())
	}
}

type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestRecordingWriteErrorIsErrWrite: a full disk is the caller's error, not a
// source failure to retry.
func TestRecordingWriteErrorIsErrWrite(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	e.srv.SetRecording("rec-1", "audio/mpeg", []byte("ID3 fake mp3"))
	_, _, err := e.c.CopyRecording(t.Context(), e.srv.ContentURI("rec-1"), fullDisk{})
	if !errors.Is(err, ErrWrite) || !errors.Is(err, syscall.ENOSPC) || IsRetryable(err) || errors.Is(err, ErrSourceFailed) {
		t.Fatalf("err %v: want ErrWrite wrapping ENOSPC", err)
	}
}

// TestThrottledForeverEndsWithContext: 429 with Retry-After 86400 forever,
// with attempts to spare, ends when the caller's context does.
func TestThrottledForeverEndsWithContext(t *testing.T) {
	fe := newFaultEnv(t, func(c *ClientConfig) { c.MaxAttempts = 1000 })
	fe.addCalls(t, 1)
	fe.api.SetMode(faultproxy.TooManyRequests, faultproxy.Without("/oauth/token"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var waits atomic.Int32
	fe.rec.OnWait = func(context.Context, time.Duration) error {
		if waits.Add(1) == 5 {
			cancel()
		}
		return nil
	}
	err := fe.c.CallLog(ctx, day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v: want context.Canceled", err)
	}
	if fe.c.Throttled() == 0 {
		t.Error("Throttled() is 0")
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"", ".", "..", "../../../../outside/x", "a/b", "a%2Fb", "a b", strings.Repeat("1", 129)} {
		if err := CheckID(id); !errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), "\""+id+"\"") {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"3318904455", "rec-1", "Abc_DEF-123"} {
		if err := CheckID(id); err != nil {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
}

// TestTokenEndpointDownIsErrAuth: a token endpoint that answers 500 until
// the attempts run out ends the run as ErrAuth (nothing can be read), not as
// a source failure of one window.
func TestTokenEndpointDownIsErrAuth(t *testing.T) {
	fe := newFaultEnv(t, nil)
	fe.addCalls(t, 1)
	fe.api.SetMode(faultproxy.ServerError, func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/oauth/token") })
	err := fe.c.CallLog(t.Context(), day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
	if !errors.Is(err, ErrAuth) || IsRetryable(err) {
		t.Fatalf("err %v: want ErrAuth", err)
	}
}
