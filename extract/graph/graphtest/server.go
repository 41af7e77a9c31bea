// Package graphtest is a fake Microsoft Graph call-records service with its
// Entra ID (AAD) token endpoint, in the manner of net/http/httptest. Tests,
// benchmarks and `callstats demo` point a graph client at Server.URL (as both
// the Graph and the login URL), put records in, and script 404s, throttling and
// failures. It is independent of the graph package: records are kept and served
// as the JSON they were given.
package graphtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. Zero fields take the defaults named.
type Options struct {
	TenantID, ClientID, ClientSecret string // defaults "tenant-1", "client-1", "secret-1"

	SessionsPageSize     int           // sessions per page, default 60 (Graph's inline cap)
	ParticipantsPageSize int           // participants_v2 per page, default 130
	ListPageSize         int           // call records per list page, default 60
	LogPageSize          int           // getPstnCalls / getDirectRoutingCalls rows per page, default 1000
	TokenLifetime        time.Duration // default 1h; sent as whole seconds, at least 1

	// Now is the server's clock, which decides token expiry (default time.Now).
	// Tests move it forward to expire tokens without sleeping.
	Now func() time.Time
	// Hook, when set, is called at the start of every Graph request (not token
	// requests) while it counts as in flight; tests use it to hold requests.
	// Each request of a $batch is a Graph request (the $batch itself is not).
	Hook func(r *http.Request)

	// Latency, when set, is how long the server takes to answer a Graph
	// request, slept after Hook and after the request is counted (it arrived
	// before). The requests of a $batch are served at once, so a batch
	// takes as long as its slowest request.
	Latency func(r *http.Request) time.Duration
	// Window is the sliding window of Stats.MaxInWindow and of
	// RequestsPerWindow, on the server's clock (default 20 s).
	Window time.Duration
	// RequestsPerWindow, when above 0, answers 429 (with Retry-After) to a
	// Graph request that comes when that many came in the last Window, as
	// Graph does past 1,500 per 20 s for an app. Throttled requests count.
	RequestsPerWindow int
}

// Stats counts what the server has seen. Graph requests are those to /v1.0/...
type Stats struct {
	Requests     int            // Graph requests
	Tokens       int            // tokens issued
	TokenErrors  int            // token requests refused
	Unauthorized int            // Graph requests refused for a missing, unknown or expired token
	Throttled    int            // 429 answers (Throttle)
	Failed       int            // answers scripted by FailNext
	NotFound     int            // 404 answers (unknown or not-ready records, no participants_v2)
	InFlight     int            // Graph requests being answered now
	MaxInFlight  int            // most Graph requests answered at once
	PerPath      map[string]int // every request (token requests too) by escaped URL path

	Batches            int // $batch requests (their requests count in Requests)
	BatchesInFlight    int // $batch requests being answered now
	MaxBatchesInFlight int // most $batch requests answered at once
	MaxInWindow        int // most Graph requests that came in any sliding Options.Window
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port with no trailing slash: the
	// client's GraphURL and LoginURL both.
	URL string

	opts Options
	srv  *httptest.Server

	mu         sync.Mutex
	records    map[string]*record // by lower-case id
	notReady   map[string]int     // by lower-case id: 404s still to answer
	throttle   int
	retryAfter time.Duration
	failN      int
	failStatus int
	tokens     map[string]time.Time // access token -> expiry
	stats      Stats

	// The call logs and scripted failures of the list and the logs (list.go).
	pstnRows, drRows  map[string]logRow // by lower-case row id
	listFail, logFail failAfter

	subs subscriptionStore // change-notification subscriptions (subscriptions.go)
	m365 m365State         // assertions, mail and uploads (assertion.go, mail.go, upload.go)

	handler                     http.Handler // the routes, for the requests of a $batch
	batchFailN, batchFailStatus int
	arrivals                    []time.Time // of the Graph requests in the last Window
}

// NewServer starts a server on 127.0.0.1. Close it when done. Like
// httptest.NewServer it panics if it cannot listen.
func NewServer(opts Options) *Server {
	if opts.TenantID == "" {
		opts.TenantID = "tenant-1"
	}
	if opts.ClientID == "" {
		opts.ClientID = "client-1"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "secret-1"
	}
	if opts.SessionsPageSize <= 0 {
		opts.SessionsPageSize = 60
	}
	if opts.ParticipantsPageSize <= 0 {
		opts.ParticipantsPageSize = 130
	}
	if opts.ListPageSize <= 0 {
		opts.ListPageSize = 60
	}
	if opts.LogPageSize <= 0 {
		opts.LogPageSize = 1000
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Window <= 0 {
		opts.Window = 20 * time.Second
	}
	s := &Server{
		opts:     opts,
		records:  map[string]*record{},
		notReady: map[string]int{},
		tokens:   map[string]time.Time{},
		stats:    Stats{PerPath: map[string]int{}},
		pstnRows: map[string]logRow{},
		drRows:   map[string]logRow{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.serveToken)
	mux.HandleFunc("GET /v1.0/communications/callRecords", s.graph(s.serveList))
	// {id} is a record id or a function call: getPstnCalls(...), getDirectRoutingCalls(...).
	mux.HandleFunc("GET /v1.0/communications/callRecords/{id}", s.graph(s.serveRecordOrFunction))
	mux.HandleFunc("GET /v1.0/communications/callRecords/{id}/sessions", s.graph(s.serveSessions))
	mux.HandleFunc("GET /v1.0/communications/callRecords/{id}/participants_v2", s.graph(s.serveParticipants))
	mux.HandleFunc("POST /v1.0/$batch", s.serveBatch)
	mux.HandleFunc("POST /v1.0/subscriptions", s.graph(s.serveCreateSubscription))
	mux.HandleFunc("GET /v1.0/subscriptions", s.graph(s.serveListSubscriptions))
	mux.HandleFunc("PATCH /v1.0/subscriptions/{id}", s.graph(s.serveRenewSubscription))
	mux.HandleFunc("DELETE /v1.0/subscriptions/{id}", s.graph(s.serveDeleteSubscription))
	s.routeM365(mux)
	mux.HandleFunc("/", s.serveUnknown)
	s.handler = s.count(mux)
	s.srv = httptest.NewServer(s.handler)
	s.URL = s.srv.URL
	return s
}

// Handler is the server's handler, for a test that calls it without the
// network (in a testing/synctest bubble, through a RoundTripper of its own).
func (s *Server) Handler() http.Handler { return s.handler }

// Close shuts the server down, waiting for requests being answered.
func (s *Server) Close() { s.srv.Close() }

// Put adds or replaces a record. raw is a full call record as Graph shapes it,
// with all its sessions (with segments) and participants_v2 inline; the server
// pages them like Graph. A record without a participants_v2 property models an
// archived record: its participants_v2 endpoint answers 404. Replacing a
// record with a higher version models a record that changed after the call.
func (s *Server) Put(raw []byte) error {
	rec, err := parseRecord(raw)
	if err != nil {
		return fmt.Errorf("graphtest: put: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[strings.ToLower(rec.id)] = rec
	return nil
}

// NotReady makes the next n GETs of record id answer 404, as Graph does for a
// record less than about 150 minutes old.
func (s *Server) NotReady(id string, requests int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notReady[strings.ToLower(id)] = requests
}

// Throttle makes the next n Graph requests answer 429 with Graph's throttling
// body and a Retry-After header in whole seconds (rounded up; none when
// retryAfter is 0).
func (s *Server) Throttle(requests int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryAfter = requests, retryAfter
}

// FailNext makes the next n Graph requests answer status (500, 502, 503,
// 504...) with a Graph error body. Throttle takes precedence.
func (s *Server) FailNext(requests int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = requests, status
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.PerPath = make(map[string]int, len(s.stats.PerPath))
	for k, v := range s.stats.PerPath {
		st.PerPath[k] = v
	}
	return st
}

// count counts every request by path.
func (s *Server) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats.PerPath[r.URL.EscapedPath()]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// graph wraps a Graph endpoint: it counts the request, runs the hook, checks
// the bearer token, then answers any scripted 429 or failure.
func (s *Server) graph(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats.Requests++
		s.stats.InFlight++
		s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.InFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.stats.InFlight--
			s.mu.Unlock()
		}()
		if s.opts.Hook != nil {
			s.opts.Hook(r)
		}

		s.mu.Lock()
		authErr := s.checkToken(r)
		var status int
		var retryAfter time.Duration
		full, wait := s.arrive()
		switch {
		case authErr != "":
			s.stats.Unauthorized++
		case full:
			s.stats.Throttled++
			status, retryAfter = http.StatusTooManyRequests, wait
		case s.throttle > 0:
			s.throttle--
			s.stats.Throttled++
			status, retryAfter = http.StatusTooManyRequests, s.retryAfter
		case s.failN > 0:
			s.failN--
			s.stats.Failed++
			status = s.failStatus
		}
		s.mu.Unlock()
		if s.opts.Latency != nil {
			if d := s.opts.Latency(r); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
				}
			}
		}

		switch {
		case authErr != "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.URL+`/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
			s.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", authErr)
		case status == http.StatusTooManyRequests:
			if retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
			}
			s.graphError(w, r, status, "TooManyRequests",
				"Too many requests for this call record. Retry after the number of seconds in the Retry-After header.")
		case status != 0:
			s.graphError(w, r, status, errorCode(status), "The service is temporarily unable to answer. Retry later.")
		default:
			h(w, r)
		}
	}
}

// arrive logs a Graph request in the sliding window and returns whether the
// window was already full (RequestsPerWindow) and, if so, until when. The
// caller holds s.mu.
func (s *Server) arrive() (bool, time.Duration) {
	now := s.opts.Now()
	from := now.Add(-s.opts.Window)
	i := 0
	for i < len(s.arrivals) && !s.arrivals[i].After(from) {
		i++
	}
	s.arrivals = append(s.arrivals[:0], s.arrivals[i:]...)
	full := s.opts.RequestsPerWindow > 0 && len(s.arrivals) >= s.opts.RequestsPerWindow
	var wait time.Duration
	if full {
		wait = s.arrivals[len(s.arrivals)-s.opts.RequestsPerWindow].Add(s.opts.Window).Sub(now)
	}
	s.arrivals = append(s.arrivals, now)
	s.stats.MaxInWindow = max(s.stats.MaxInWindow, len(s.arrivals))
	return full, wait
}

// checkToken returns why the request's bearer token is not accepted, or "".
// The caller holds s.mu.
func (s *Server) checkToken(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		return "Access token is empty."
	}
	exp, ok := s.tokens[tok]
	if !ok {
		return "Invalid JWT token. The token is malformed or unknown."
	}
	if !s.opts.Now().Before(exp) {
		return "Lifetime validation failed, the token is expired."
	}
	return ""
}

func errorCode(status int) string {
	switch status {
	case http.StatusInternalServerError:
		return "InternalServerError"
	case http.StatusBadGateway:
		return "BadGateway"
	case http.StatusServiceUnavailable:
		return "ServiceNotAvailable"
	case http.StatusGatewayTimeout:
		return "GatewayTimeout"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// serveToken is the client-credentials grant of the v2.0 token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the parameter 'grant_type'.")
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok { // RFC 6749 2.3.1: form-encoded inside Basic
		if v, err := url.QueryUnescape(u); err == nil {
			clientID = v
		}
		if v, err := url.QueryUnescape(p); err == nil {
			secret = v
		}
	}
	tenant := r.PathValue("tenant")
	refused := s.checkClient(r, tenant, secret)
	switch {
	case tenant != s.opts.TenantID:
		s.aadError(w, http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID.", tenant))
	case r.PostForm.Get("grant_type") != "client_credentials":
		s.aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type.")
	case clientID != s.opts.ClientID:
		s.aadError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, s.opts.TenantID))
	case refused != nil:
		s.aadError(w, refused.status, refused.code, refused.aadsts, refused.desc)
	case !s.knownScope(r.PostForm.Get("scope")):
		s.aadError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", r.PostForm.Get("scope")))
	default:
		secs := max(1, int(s.opts.TokenLifetime/time.Second))
		tok := "fake." + randomHex(24)
		s.mu.Lock()
		now := s.opts.Now()
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
		s.tokens[tok] = now.Add(time.Duration(secs) * time.Second)
		s.stats.Tokens++
		s.mu.Unlock()
		s.issued(tok, r.PostForm.Get("scope"))
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     secs,
			"ext_expires_in": secs,
			"access_token":   tok,
		})
	}
}

// aadError answers like Entra ID's token endpoint.
func (s *Server) aadError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	s.mu.Lock()
	s.stats.TokenErrors++
	now := s.opts.Now().UTC()
	s.mu.Unlock()
	trace, corr := uuid(), uuid()
	writeJSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      s.URL + "/error?code=" + strconv.Itoa(aadsts),
	})
}

// graphError answers with Graph's error body.
func (s *Server) graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if status == http.StatusNotFound {
		s.mu.Lock()
		s.stats.NotFound++
		s.mu.Unlock()
	}
	inner := map[string]any{
		"date":              s.opts.Now().UTC().Format("2006-01-02T15:04:05"),
		"request-id":        uuid(),
		"client-request-id": clientRequestID(r),
	}
	if status == http.StatusTooManyRequests {
		inner["code"] = "429"
	}
	w.Header().Set("request-id", inner["request-id"].(string))
	w.Header().Set("client-request-id", clientRequestID(r))
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg, "innerError": inner}})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, id string) {
	s.graphError(w, r, http.StatusNotFound, "NotFound", fmt.Sprintf("The call record '%s' could not be found.", id))
}

// serveUnknown answers paths Graph does not have (or the fake does not model).
func (s *Server) serveUnknown(w http.ResponseWriter, r *http.Request) {
	s.graphError(w, r, http.StatusBadRequest, "BadRequest",
		fmt.Sprintf("Resource not found for the segment '%s'.", r.URL.EscapedPath()))
}

// lookup returns the record id, or nil.
func (s *Server) lookup(id string) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[strings.ToLower(id)]
}

// serveRecord is GET callRecords/{id}, honouring $expand=sessions and
// $expand=sessions($expand=segments). participants_v2 is never inline.
func (s *Server) serveRecord(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	key := strings.ToLower(id)
	s.mu.Lock()
	rec := s.records[key]
	notReady := s.notReady[key] > 0
	if notReady {
		s.notReady[key]--
	}
	s.mu.Unlock()
	if rec == nil || notReady {
		s.notFound(w, r, id)
		return
	}
	var withSessions, withSegments bool
	switch e := r.URL.Query().Get("$expand"); e {
	case "":
	case "sessions":
		withSessions = true
	case "sessions($expand=segments)":
		withSessions, withSegments = true, true
	default:
		s.graphError(w, r, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.callRecords.callRecord'.", e))
		return
	}
	ctx := "callRecords/$entity"
	if withSegments {
		ctx = "callRecords(sessions(segments()))/$entity"
	} else if withSessions {
		ctx = "callRecords(sessions())/$entity"
	}
	var b bytes.Buffer
	b.WriteByte('{')
	writeField(&b, "@odata.context", jsonString(s.URL+"/v1.0/$metadata#communications/"+ctx))
	for _, f := range rec.fields {
		if f.name != "sessions" {
			writeField(&b, f.name, f.value)
			continue
		}
		if !withSessions {
			continue
		}
		page, next := pageOf(rec.sessions, 0, s.opts.SessionsPageSize)
		writeField(&b, "sessions@odata.context", jsonString(s.sessionsContext(rec.id, withSegments)))
		if err := writeSessions(&b, page, withSegments); err != nil {
			s.graphError(w, r, http.StatusInternalServerError, "InternalServerError", err.Error())
			return
		}
		if next >= 0 {
			writeField(&b, "sessions@odata.nextLink", jsonString(s.sessionsLink(rec.id, next, withSegments)))
		}
	}
	b.WriteByte('}')
	writeRaw(w, r, b.Bytes())
}

// serveSessions is GET callRecords/{id}/sessions[?$expand=segments][&$skiptoken=...].
func (s *Server) serveSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec := s.lookup(id)
	if rec == nil {
		s.notFound(w, r, id)
		return
	}
	q := r.URL.Query()
	withSegments := false
	switch e := q.Get("$expand"); e {
	case "":
	case "segments":
		withSegments = true
	default:
		s.graphError(w, r, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.callRecords.session'.", e))
		return
	}
	from, ok := parseSkipToken(q.Get("$skiptoken"), "sessions", rec.id)
	if !ok {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The $skiptoken is not valid.")
		return
	}
	page, next := pageOf(rec.sessions, from, s.opts.SessionsPageSize)
	var b bytes.Buffer
	b.WriteByte('{')
	writeField(&b, "@odata.context", jsonString(s.sessionsContext(rec.id, withSegments)))
	if next >= 0 {
		writeField(&b, "@odata.nextLink", jsonString(s.sessionsLink(rec.id, next, withSegments)))
	}
	b.WriteString(`,"value":`)
	if err := writeArray(&b, page, withSegments); err != nil {
		s.graphError(w, r, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	b.WriteByte('}')
	writeRaw(w, r, b.Bytes())
}

// serveParticipants is GET callRecords/{id}/participants_v2[?$skiptoken=...].
func (s *Server) serveParticipants(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec := s.lookup(id)
	if rec == nil {
		s.notFound(w, r, id)
		return
	}
	if !rec.hasParticipants {
		s.graphError(w, r, http.StatusNotFound, "NotFound",
			fmt.Sprintf("participants_v2 of call record '%s' could not be found.", id))
		return
	}
	from, ok := parseSkipToken(r.URL.Query().Get("$skiptoken"), "participants", rec.id)
	if !ok {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The $skiptoken is not valid.")
		return
	}
	page, next := pageOf(rec.participants, from, s.opts.ParticipantsPageSize)
	var b bytes.Buffer
	b.WriteByte('{')
	writeField(&b, "@odata.context", jsonString(s.URL+"/v1.0/$metadata#communications/callRecords('"+rec.id+"')/participants_v2"))
	if next >= 0 {
		link := s.URL + "/v1.0/communications/callRecords/" + url.PathEscape(rec.id) +
			"/participants_v2?$skiptoken=" + skipToken("participants", rec.id, next)
		writeField(&b, "@odata.nextLink", jsonString(link))
	}
	b.WriteString(`,"value":`)
	_ = writeArray(&b, page, true) // participants are not filtered: cannot fail
	b.WriteByte('}')
	writeRaw(w, r, b.Bytes())
}

func (s *Server) sessionsContext(id string, withSegments bool) string {
	c := s.URL + "/v1.0/$metadata#communications/callRecords('" + id + "')/sessions"
	if withSegments {
		c += "(segments())"
	}
	return c
}

func (s *Server) sessionsLink(id string, from int, withSegments bool) string {
	l := s.URL + "/v1.0/communications/callRecords/" + url.PathEscape(id) + "/sessions?"
	if withSegments {
		l += "$expand=segments&"
	}
	return l + "$skiptoken=" + skipToken("sessions", id, from)
}

// pageOf returns items[from:from+size] and the start of the next page, or -1.
func pageOf(items []json.RawMessage, from, size int) ([]json.RawMessage, int) {
	if from >= len(items) {
		return nil, -1
	}
	end := min(len(items), from+size)
	if end == len(items) {
		return items[from:end], -1
	}
	return items[from:end], end
}

// skipToken is an opaque continuation: base64 of kind, record id and offset.
func skipToken(kind, id string, from int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + strconv.Itoa(from) + "|" + id))
}

// parseSkipToken returns the offset of a skip token ("" is the first page).
func parseSkipToken(tok, kind, id string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || parts[0] != kind || !strings.EqualFold(parts[2], id) {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	return n, err == nil && n >= 0
}

// record is a stored call record: its top-level properties in the order given
// (with a "sessions" placeholder where the sessions go), and the sessions and
// participants to page.
type record struct {
	id              string
	fields          []field
	sessions        []json.RawMessage
	participants    []json.RawMessage
	hasParticipants bool
}

type field struct {
	name  string
	value json.RawMessage
}

// parseRecord checks raw and splits it into a record. Annotations of the
// record, its sessions and participants_v2 are dropped (the server writes its
// own); everything else is kept as given, compacted.
func parseRecord(raw []byte) (*record, error) {
	fields, err := objectFields(raw)
	if err != nil {
		return nil, err
	}
	rec := &record{}
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.name] {
			return nil, fmt.Errorf("property %q appears twice", f.name)
		}
		seen[f.name] = true
		switch {
		case f.name == "@odata.context" || strings.HasPrefix(f.name, "sessions@") || strings.HasPrefix(f.name, "participants_v2@"):
		case f.name == "sessions":
			if rec.sessions, err = objects(f.value); err != nil {
				return nil, fmt.Errorf("sessions: %w", err)
			}
			rec.fields = append(rec.fields, field{name: "sessions"})
		case f.name == "participants_v2":
			if rec.participants, err = objects(f.value); err != nil {
				return nil, fmt.Errorf("participants_v2: %w", err)
			}
			rec.hasParticipants = true
		default:
			if f.name == "id" {
				if err := json.Unmarshal(f.value, &rec.id); err != nil {
					return nil, fmt.Errorf("id: %w", err)
				}
			}
			var b bytes.Buffer
			if err := json.Compact(&b, f.value); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			rec.fields = append(rec.fields, field{f.name, b.Bytes()})
		}
	}
	if rec.id == "" {
		return nil, errors.New("no id")
	}
	if !seen["sessions"] {
		rec.fields = append(rec.fields, field{name: "sessions"})
	}
	return rec, nil
}

// objectFields returns the properties of a JSON object in order.
func objectFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil {
		return nil, err
	} else if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string) // inside an object the decoder only yields string keys
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, field{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return out, nil
}

// objects splits a JSON array of objects, compacting each.
func objects(raw json.RawMessage) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	for i, it := range items {
		if len(it) == 0 || it[0] != '{' {
			return nil, fmt.Errorf("item %d is not an object", i)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, it); err != nil {
			return nil, err
		}
		items[i] = b.Bytes()
	}
	return items, nil
}

// writeSessions writes "sessions":[...] after a comma.
func writeSessions(b *bytes.Buffer, sessions []json.RawMessage, withSegments bool) error {
	b.WriteString(`,"sessions":`)
	return writeArray(b, sessions, withSegments)
}

// writeArray writes items as an array; without segments, each item's
// segments (and their annotation) are left out.
func writeArray(b *bytes.Buffer, items []json.RawMessage, withSegments bool) error {
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if withSegments {
			b.Write(it)
			continue
		}
		fields, err := objectFields(it)
		if err != nil {
			return err
		}
		b.WriteByte('{')
		n := 0
		for _, f := range fields {
			if f.name == "segments" || strings.HasPrefix(f.name, "segments@") {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			writeKV(b, f.name, f.value)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return nil
}

// writeField writes a property, with a comma unless it is the first.
func writeField(b *bytes.Buffer, name string, value []byte) {
	if b.Len() > 1 {
		b.WriteByte(',')
	}
	writeKV(b, name, value)
}

func writeKV(b *bytes.Buffer, name string, value []byte) {
	b.Write(jsonString(name))
	b.WriteByte(':')
	b.Write(value)
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

const contentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

func writeRaw(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("request-id", uuid())
	w.Header().Set("client-request-id", clientRequestID(r))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func clientRequestID(r *http.Request) string {
	if id := r.Header.Get("client-request-id"); id != "" {
		return id
	}
	return uuid()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
