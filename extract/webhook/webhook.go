// Package webhook receives the change notifications of Microsoft Graph (call
// records) and the telephony-session webhooks of RingCentral, checks them,
// and hands the calls they name to a Sink as queue entities. A request is
// answered with success only after its entities are durable in the sink.
//
// The endpoints are public, so every request is treated as hostile: only
// POST, a bounded body, JSON of the expected shape, a bounded number of
// requests in flight per client address, secrets compared in constant time,
// and nothing from a request is ever logged unescaped.
package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"callstats/extract/queue"
)

// Sink receives the entities of accepted notifications. Append returns nil
// only once they are durable: the JSON Lines queue's Appender, or an adapter
// of the Azure table's Upsert (SinkFunc(table.Upsert) when its signature is
// Upsert(ctx, []queue.Entity) error).
type Sink interface {
	Append(ctx context.Context, entities []queue.Entity) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, entities []queue.Entity) error

// Append calls f.
func (f SinkFunc) Append(ctx context.Context, entities []queue.Entity) error { return f(ctx, entities) }

// Limits of what a request may carry.
const (
	// DefaultMaxBody is the default cap of a request body.
	DefaultMaxBody = 1 << 20
	// maxToken bounds a validation token echoed back.
	maxToken = 1024
	// maxID bounds a call id taken from a notification.
	maxID = 256
	// maxChangeType bounds a change type or status code.
	maxChangeType = 32
)

// Stats counts what the handlers did. Its fields are updated atomically;
// Snapshot reads them all.
type Stats struct {
	Requests    atomic.Int64 // POSTs answered (validations included)
	Validations atomic.Int64 // validation handshakes answered
	Queued      atomic.Int64 // entities handed to the sink and durable
	Dropped     atomic.Int64 // items refused: wrong clientState, tenant or verification token
	Invalid     atomic.Int64 // items without a usable call id or change type, or of the wrong kind
	Ignored     atomic.Int64 // RingCentral events that are not telephony sessions
	Lifecycle   atomic.Int64 // Graph lifecycle notifications accepted
	BadRequests atomic.Int64 // 400: wrong Content-Type, malformed JSON, bad validation token
	TooLarge    atomic.Int64 // 413
	BadMethod   atomic.Int64 // 405
	Busy        atomic.Int64 // 429: too many requests in flight from one address
	SinkErrors  atomic.Int64 // 503: the sink failed
}

// Counts is a copy of Stats.
type Counts struct {
	Requests, Validations, Queued, Dropped, Invalid, Ignored, Lifecycle int64
	BadRequests, TooLarge, BadMethod, Busy, SinkErrors                  int64
}

// Snapshot returns the current counts.
func (s *Stats) Snapshot() Counts {
	return Counts{
		Requests: s.Requests.Load(), Validations: s.Validations.Load(), Queued: s.Queued.Load(),
		Dropped: s.Dropped.Load(), Invalid: s.Invalid.Load(), Ignored: s.Ignored.Load(),
		Lifecycle: s.Lifecycle.Load(), BadRequests: s.BadRequests.Load(), TooLarge: s.TooLarge.Load(),
		BadMethod: s.BadMethod.Load(), Busy: s.Busy.Load(), SinkErrors: s.SinkErrors.Load(),
	}
}

// Guard applies the limits every endpoint shares: only POST (405), at most
// maxBody bytes of body (413, enforced while reading through ReadBody), and
// at most perIP requests in flight per client address (429).
type Guard struct {
	maxBody      int64
	perIP        int
	realIPHeader string
	stats        *Stats

	mu       sync.Mutex
	inFlight map[string]int
}

// NewGuard returns a guard. realIPHeader, when not "", names the header a
// reverse proxy on loopback puts the client's address in; it is believed
// only from loopback connections.
func NewGuard(maxBody int64, perIP int, realIPHeader string, stats *Stats) *Guard {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return &Guard{maxBody: maxBody, perIP: max(1, perIP), realIPHeader: realIPHeader, stats: stats, inFlight: map[string]int{}}
}

// Wrap applies the guard to h.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.stats.Requests.Add(1)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodPost {
			g.stats.BadMethod.Add(1)
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "only POST", http.StatusMethodNotAllowed)
			return
		}
		if r.ContentLength > g.maxBody {
			g.stats.TooLarge.Add(1)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ip := g.clientIP(r)
		if !g.enter(ip) {
			g.stats.Busy.Add(1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		defer g.leave(ip)
		r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
		h.ServeHTTP(w, r)
	})
}

// readBody reads the (already capped) body; false means the answer was
// written: 413 beyond the cap, 400 when it could not be read.
func (g *Guard) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			g.stats.TooLarge.Add(1)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		g.stats.BadRequests.Add(1)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// isJSON reports whether the request says its body is JSON.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// badRequest answers 400 and counts it.
func (g *Guard) badRequest(w http.ResponseWriter, msg string) {
	g.stats.BadRequests.Add(1)
	http.Error(w, msg, http.StatusBadRequest)
}

func (g *Guard) enter(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight[ip] >= g.perIP {
		return false
	}
	g.inFlight[ip]++
	return true
}

func (g *Guard) leave(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight[ip]--; g.inFlight[ip] <= 0 {
		delete(g.inFlight, ip)
	}
}

// clientIP is the connection's address, or the real-IP header's when the
// connection comes from a loopback proxy and the header holds an address
// (the last one of a list: the one the proxy added).
func (g *Guard) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if g.realIPHeader == "" {
		return host
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return host
	}
	v := r.Header.Get(g.realIPHeader)
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if ip := net.ParseIP(strings.TrimSpace(v)); ip != nil {
		return ip.String()
	}
	return host
}

// secretEqual compares a value from a request with a secret in constant
// time, whatever their lengths: it compares their SHA-256 digests.
func secretEqual(got, secret string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && secret != ""
}

// printable reports whether s is non-empty, at most limit bytes of UTF-8,
// and holds only printable characters (spaces included, no controls).
func printable(s string, limit int) bool {
	if s == "" || len(s) > limit || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// validID accepts a call id the queue and Azure Table can key on: letters,
// digits and - _ . : only.
func validID(s string) bool {
	if s == "" || len(s) > maxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// validChange accepts a change type or status code: letters only, so that
// the RowKey "<id>-<change>" splits back at its last '-'.
func validChange(s string) bool {
	if s == "" || len(s) > maxChangeType {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Escaped returns s fit for a log: quoted with non-ASCII and control
// characters escaped, and cut to 64 bytes.
func Escaped(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.QuoteToASCII(s[:limit]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// discard is the logger used when none is given.
var discard = slog.New(slog.DiscardHandler)

// systemNow is the clock used when none is given.
func systemNow() time.Time { return time.Now().UTC() }
