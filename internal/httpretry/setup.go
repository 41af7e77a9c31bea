package httpretry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// OrDefault sets *v to def when it is 0, the zero value a client config
// leaves for "the default", and is an error naming the setting when *v is
// below 0.
func OrDefault[T ~int | ~int64](name string, v *T, def T) error {
	switch {
	case *v < 0:
		return fmt.Errorf("%s is %v, must be positive", name, *v)
	case *v == 0:
		*v = def
	}
	return nil
}

// Hooks are what a source client's config may inject, each nil for its
// default (see WithDefaults).
type Hooks struct {
	HTTPClient *http.Client
	Logger     *slog.Logger
	Wait       func(ctx context.Context, d time.Duration) error
	Now        func() time.Time
}

// headerTimeout bounds the wait for an answer's headers on the default
// transport.
const headerTimeout = 90 * time.Second

// WithDefaults fills the nil hooks: an HTTP client on a clone of the default
// transport with a header timeout and no overall one (the Progress of each
// request bounds it), idleConnsPerHost idle connections a host (0: Go's
// default); a logger that discards; Sleep; time.Now. The HTTP client, given
// or not, follows redirects only within the request's origin
// (SameOriginOnly).
func (h Hooks) WithDefaults(idleConnsPerHost int) Hooks {
	if h.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if idleConnsPerHost > 0 {
			t.MaxIdleConnsPerHost = idleConnsPerHost
		}
		t.ResponseHeaderTimeout = headerTimeout
		h.HTTPClient = &http.Client{Transport: t}
	}
	h.HTTPClient = SameOriginOnly(h.HTTPClient)
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	if h.Wait == nil {
		h.Wait = Sleep
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	return h
}
