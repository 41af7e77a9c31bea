// Package rctest is a fake RingCentral platform, in the manner of
// net/http/httptest: the JWT bearer token grant and the company call log on
// one loopback URL, and recording content on a second one (the media host).
// Tests, benchmarks and `callstats demo` point a ringcentral client at
// Server.URL (ServerURL) and Server.MediaURL (MediaURL), add records, and
// watch the Heavy rate limit with its penalty. It is independent of the
// ringcentral package: records are kept and served as the JSON they were
// given.
package rctest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JWTGrantType is the grant_type the token endpoint accepts.
const JWTGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// DateFormat is how the server writes dateFrom and dateTo in its links.
const DateFormat = "2006-01-02T15:04:05.000Z"

// Options configures a Server. Zero fields take the defaults named.
type Options struct {
	ClientID, ClientSecret, JWT string        // defaults "rc-client-1", "rc-secret-1", "rc-jwt-1"
	AccountID                   string        // default "2718035004"
	OwnerID                     string        // the JWT user's extension id, default "2718035009"
	TokenLifetime               time.Duration // default 1h; sent as whole seconds, at least 1

	// The Heavy group: at most HeavyLimit requests (call log and recording
	// content together) within any HeavyWindow; one more starts a Penalty
	// during which every request is refused and restarts it. Defaults 10,
	// 60 s, 60 s.
	HeavyLimit  int
	HeavyWindow time.Duration
	Penalty     time.Duration
	// OmitRetryAfter leaves Retry-After out of 429 answers.
	OmitRetryAfter bool
	// AuthLimit is the Auth group's limit on token requests per HeavyWindow
	// (default 5); more are refused with 429.
	AuthLimit int

	// MaxPerPage caps perPage (RingCentral's cap is 1000, the default), so
	// that tests walk many pages with few records.
	MaxPerPage int

	// Now is the server's clock, for token expiry, rate limits and the
	// default dateFrom/dateTo (default time.Now). Tests share it with the
	// client and move it forward in the client's Wait.
	Now func() time.Time
	// Hook, when set, is called at the start of every Heavy request (call log
	// and content), before anything is checked; it may call Add and Update,
	// e.g. to make calls arrive between page requests.
	Hook func(r *http.Request)
}

// Stats counts what the server has seen.
type Stats struct {
	Tokens        int // tokens issued
	TokenErrors   int // token requests refused
	Requests      int // Heavy requests: call log and recording content, answered or refused
	Throttled     int // 429 answers to Heavy requests
	Unauthorized  int // Heavy requests refused for a missing, unknown or expired token
	NotFound      int // 404 answers (recordings not ready, unknown accounts)
	Failed        int // answers scripted by FailNext
	MaxInWindow   int // most Heavy requests accepted within one HeavyWindow
	RecordsServed int // records in all call-log pages served (repeats included)
	Log           []Request
}

// Request is one Heavy request as the server saw it.
type Request struct {
	Time   time.Time  // the server's clock on arrival
	Media  bool       // on the media host
	Path   string     // escaped path
	Query  url.Values // the query as sent
	Status int        // the answer's status
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the platform's base URL (http://127.0.0.1:port, no trailing
	// slash): the client's ServerURL.
	URL string
	// MediaURL is the media host's base URL: the client's MediaURL. Content
	// URIs of recordings point here (see ContentURI).
	MediaURL string

	opts  Options
	api   *httptest.Server
	media *httptest.Server

	mu           sync.Mutex
	records      []*record // newest first, then by id
	byID         map[string]*record
	recordings   map[string]*content
	tokens       map[string]time.Time // access token -> expiry
	heavyLog     []time.Time          // accepted Heavy requests within the window
	authLog      []time.Time          // token requests within the window
	penaltyUntil time.Time
	failN        int
	failStatus   int
	stats        Stats

	subs subscriptionStore // webhook subscriptions (subscription.go)
}

type record struct {
	id    string
	start time.Time
	raw   []byte // compacted
}

type content struct {
	contentType string
	data        []byte
}

// NewServer starts a platform and a media host on 127.0.0.1. Close it when
// done. Like httptest.NewServer it panics if it cannot listen.
func NewServer(opts Options) *Server {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&opts.ClientID, "rc-client-1")
	def(&opts.ClientSecret, "rc-secret-1")
	def(&opts.JWT, "rc-jwt-1")
	def(&opts.AccountID, "2718035004")
	def(&opts.OwnerID, "2718035009")
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&opts.TokenLifetime, time.Hour}, {&opts.HeavyWindow, time.Minute}, {&opts.Penalty, time.Minute}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	if opts.HeavyLimit <= 0 {
		opts.HeavyLimit = 10
	}
	if opts.AuthLimit <= 0 {
		opts.AuthLimit = 5
	}
	if opts.MaxPerPage <= 0 || opts.MaxPerPage > 1000 {
		opts.MaxPerPage = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:       opts,
		byID:       map[string]*record{},
		recordings: map[string]*content{},
		tokens:     map[string]time.Time{},
	}
	api := http.NewServeMux()
	api.HandleFunc("POST /restapi/oauth/token", s.serveToken)
	api.HandleFunc("GET /restapi/v1.0/account/{account}/call-log", s.heavy(false, s.serveCallLog))
	api.HandleFunc("POST /restapi/v1.0/subscription", s.serveCreateSubscription)
	api.HandleFunc("POST /restapi/v1.0/subscription/{id}/renew", s.serveRenewSubscription)
	api.HandleFunc("/", s.serveUnknown)
	media := http.NewServeMux()
	media.HandleFunc("GET /restapi/v1.0/account/{account}/recording/{id}/content", s.heavy(true, s.serveContent))
	media.HandleFunc("/", s.serveUnknown)
	s.api = httptest.NewServer(api)
	s.media = httptest.NewServer(media)
	s.URL, s.MediaURL = s.api.URL, s.media.URL
	return s
}

// Close shuts both hosts down, waiting for requests being answered.
func (s *Server) Close() {
	s.api.Close()
	s.media.Close()
}

// Add adds records, or replaces those whose id is known. Each is a call-log
// record as RingCentral shapes it (Detailed view, with legs), with a string
// id and an RFC 3339 startTime; the call log serves those in its window
// newest first. Adding between page requests (see Options.Hook) shifts the
// pages after the new record's position, as the real log does. Nothing is
// added when one of them is invalid.
func (s *Server) Add(raws ...[]byte) error {
	recs := make([]*record, 0, len(raws))
	for i, raw := range raws {
		r, err := parseRecord(raw)
		if err != nil {
			return fmt.Errorf("rctest: add record %d: %w", i, err)
		}
		recs = append(recs, r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if old := s.byID[r.id]; old != nil {
			*old = *r
		} else {
			s.byID[r.id] = r
			s.records = append(s.records, r)
		}
	}
	s.sortRecords()
	return nil
}

// Update replaces a known record, e.g. an "In Progress" one with its final
// result and a later lastModifiedTime.
func (s *Server) Update(raw []byte) error {
	r, err := parseRecord(raw)
	if err != nil {
		return fmt.Errorf("rctest: update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.byID[r.id]
	if old == nil {
		return fmt.Errorf("rctest: update: no record %s", r.id)
	}
	*old = *r
	s.sortRecords()
	return nil
}

// Len is the number of records held.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// sortRecords orders the records newest first, then by id. The caller holds s.mu.
func (s *Server) sortRecords() {
	sort.Slice(s.records, func(i, j int) bool {
		a, b := s.records[i], s.records[j]
		if !a.start.Equal(b.start) {
			return a.start.After(b.start)
		}
		return a.id < b.id
	})
}

// SetRecording makes a recording's content ready: until then its content
// URI answers 404, as RingCentral does while a recording is processed.
func (s *Server) SetRecording(id, contentType string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordings[id] = &content{contentType: contentType, data: bytes.Clone(data)}
}

// ContentURI is the media host's content URI of recording id.
func (s *Server) ContentURI(id string) string {
	return s.MediaURL + "/restapi/v1.0/account/" + s.opts.AccountID + "/recording/" + url.PathEscape(id) + "/content"
}

// Consume records n Heavy requests made now by another client of the same
// user, using up that much of the quota.
func (s *Server) Consume(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for range n {
		s.heavyLog = append(s.heavyLog, now)
	}
}

// FailNext makes the next n Heavy requests that pass the rate limit answer
// status (500, 502, 503...) with an error body.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// RevokeTokens makes every issued token invalid, as a password change or an
// administrator would: the next request with one answers 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Stats returns a copy of the counters and the request log.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Log = make([]Request, len(s.stats.Log))
	copy(st.Log, s.stats.Log)
	return st
}

// parseRecord checks a record and compacts it.
func parseRecord(raw []byte) (*record, error) {
	var head struct {
		ID        string `json:"id"`
		StartTime string `json:"startTime"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	if head.ID == "" {
		return nil, errors.New("no id")
	}
	start, err := time.Parse(time.RFC3339Nano, head.StartTime)
	if err != nil {
		return nil, fmt.Errorf("record %s: startTime: %w", head.ID, err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return &record{id: head.ID, start: start, raw: b.Bytes()}, nil
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// heavy wraps a Heavy-group endpoint: it runs the hook, logs the request,
// checks the bearer token, then the penalty and the limit, then any scripted
// failure, and sets the rate-limit headers.
func (s *Server) heavy(media bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Hook != nil {
			s.opts.Hook(r)
		}
		s.mu.Lock()
		now := s.opts.Now()
		idx := len(s.stats.Log)
		s.stats.Log = append(s.stats.Log, Request{Time: now, Media: media, Path: r.URL.EscapedPath(), Query: r.URL.Query()})
		s.stats.Requests++
		authCode, authMsg := s.checkToken(r, now)
		status, remaining := 0, 0
		switch {
		case authCode != "":
			status = http.StatusUnauthorized
			s.stats.Unauthorized++
		case now.Before(s.penaltyUntil):
			s.penaltyUntil = now.Add(s.opts.Penalty) // a request during the penalty restarts it
			status = http.StatusTooManyRequests
		default:
			s.heavyLog = prune(s.heavyLog, now, s.opts.HeavyWindow)
			if len(s.heavyLog) >= s.opts.HeavyLimit {
				// The penalty replaces the window: once it is over, the
				// full quota is there again.
				s.penaltyUntil = now.Add(s.opts.Penalty)
				s.heavyLog = s.heavyLog[:0]
				status = http.StatusTooManyRequests
				break
			}
			s.heavyLog = append(s.heavyLog, now)
			s.stats.MaxInWindow = max(s.stats.MaxInWindow, len(s.heavyLog))
			remaining = s.opts.HeavyLimit - len(s.heavyLog)
			if s.failN > 0 {
				s.failN--
				s.stats.Failed++
				status = s.failStatus
			}
		}
		if status == http.StatusTooManyRequests {
			s.stats.Throttled++
		}
		s.mu.Unlock()

		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.mu.Lock()
			s.stats.Log[idx].Status = sw.status
			s.mu.Unlock()
		}()
		sw.Header().Set("RCRequestId", uuid())
		if status != http.StatusUnauthorized {
			sw.Header().Set("X-Rate-Limit-Group", "heavy")
			sw.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(s.opts.HeavyLimit))
			sw.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
			sw.Header().Set("X-Rate-Limit-Window", strconv.Itoa(int(s.opts.HeavyWindow/time.Second)))
		}
		switch status {
		case 0:
			h(sw, r)
		case http.StatusUnauthorized:
			apiError(sw, status, authCode, authMsg)
		case http.StatusTooManyRequests:
			if !s.opts.OmitRetryAfter {
				sw.Header().Set("Retry-After", strconv.Itoa(int((s.opts.Penalty+time.Second-1)/time.Second)))
			}
			apiError(sw, status, "CMN-301", "Request rate exceeded")
		default:
			apiError(sw, status, "CMN-201", "Service Temporary Unavailable")
		}
	}
}

// prune drops times a window old or older.
func prune(log []time.Time, now time.Time, window time.Duration) []time.Time {
	cut := now.Add(-window)
	i := 0
	for i < len(log) && !log[i].After(cut) {
		i++
	}
	return append(log[:0], log[i:]...)
}

// checkToken returns the error code and message refusing the request's
// bearer token, or "". The caller holds s.mu.
func (s *Server) checkToken(r *http.Request, now time.Time) (string, string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "AGW-401", "Authorization header is not specified"
	}
	exp, ok := s.tokens[tok]
	if !ok {
		return "TokenInvalid", "Token not found"
	}
	if !now.Before(exp) {
		return "TokenExpired", "Access token expired"
	}
	return "", ""
}

// apiError answers with RingCentral's API error body.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"errorCode": code,
		"message":   msg,
		"errors":    []map[string]string{{"errorCode": code, "message": msg}},
	})
}

// oauthError answers with RingCentral's OAuth error body.
func (s *Server) oauthError(w http.ResponseWriter, status int, oauthCode, code, msg string) {
	s.mu.Lock()
	s.stats.TokenErrors++
	s.mu.Unlock()
	writeJSON(w, status, map[string]any{
		"error":             oauthCode,
		"errors":            []map[string]string{{"errorCode": code, "message": msg}},
		"error_description": msg,
	})
}

// serveToken is the JWT bearer grant: client id and secret in HTTP Basic,
// grant_type and assertion (the JWT) in the form. It is in the Auth group.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := s.opts.Now()
	s.authLog = prune(s.authLog, now, s.opts.HeavyWindow)
	limited := len(s.authLog) >= s.opts.AuthLimit
	if !limited {
		s.authLog = append(s.authLog, now)
	}
	s.mu.Unlock()
	w.Header().Set("RCRequestId", uuid())
	w.Header().Set("X-Rate-Limit-Group", "auth")
	if limited {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.opts.HeavyWindow/time.Second)))
		s.mu.Lock()
		s.stats.TokenErrors++
		s.mu.Unlock()
		apiError(w, http.StatusTooManyRequests, "CMN-301", "Request rate exceeded")
		return
	}
	id, secret, basic := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		s.oauthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter [grant_type] is invalid")
		return
	}
	switch {
	case !basic || id != s.opts.ClientID || secret != s.opts.ClientSecret:
		s.oauthError(w, http.StatusUnauthorized, "invalid_client", "OAU-153", "Invalid client: "+id)
	case r.PostForm.Get("grant_type") != JWTGrantType:
		s.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "OAU-250", "Unsupported grant type")
	case r.PostForm.Get("assertion") != s.opts.JWT:
		s.oauthError(w, http.StatusBadRequest, "invalid_grant", "OAU-211", "Invalid token")
	default:
		secs := max(1, int(s.opts.TokenLifetime/time.Second))
		tok := randomToken()
		s.mu.Lock()
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
		s.tokens[tok] = now.Add(time.Duration(secs) * time.Second)
		s.stats.Tokens++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token":             tok,
			"token_type":               "bearer",
			"expires_in":               secs,
			"refresh_token":            randomToken(),
			"refresh_token_expires_in": 604800,
			"scope":                    "ReadAccounts ReadCallLog ReadCallRecording",
			"owner_id":                 s.opts.OwnerID,
			"endpoint_id":              randomHex(11),
			"session_id":               strconv.FormatInt(now.Unix()%1e10, 10),
		})
	}
}

// serveUnknown answers paths the fake does not model.
func (s *Server) serveUnknown(w http.ResponseWriter, r *http.Request) {
	apiError(w, http.StatusNotFound, "CMN-102", fmt.Sprintf("Resource for parameter [path] is not found: %s", r.URL.EscapedPath()))
}

// serveCallLog is GET /restapi/v1.0/account/{account}/call-log with view,
// dateFrom (default: 24 h ago), dateTo (default: now), perPage (default 100,
// at most 1000, cut to MaxPerPage) and page (default 1).
func (s *Server) serveCallLog(w http.ResponseWriter, r *http.Request) {
	if a := r.PathValue("account"); a != "~" && a != s.opts.AccountID {
		s.notFound(w, "accountId")
		return
	}
	q := r.URL.Query()
	now := s.opts.Now()
	view := q.Get("view")
	if view == "" {
		view = "Simple"
	}
	from, okFrom := parseDate(q.Get("dateFrom"), now.Add(-24*time.Hour))
	to, okTo := parseDate(q.Get("dateTo"), now)
	perPage, okPer := intParam(q.Get("perPage"), 100)
	page, okPage := intParam(q.Get("page"), 1)
	switch {
	case view != "Simple" && view != "Detailed":
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [view] value is invalid")
		return
	case !okFrom:
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [dateFrom] value is invalid")
		return
	case !okTo:
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [dateTo] value is invalid")
		return
	case !okPer || perPage < 1 || perPage > 1000:
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [perPage] value is invalid")
		return
	case !okPage || page < 1:
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [page] value is invalid")
		return
	}
	perPage = min(perPage, s.opts.MaxPerPage)

	s.mu.Lock()
	var match [][]byte
	for _, rec := range s.records {
		if !rec.start.Before(from) && rec.start.Before(to) {
			match = append(match, rec.raw)
		}
	}
	total := len(match)
	var items [][]byte
	if first := (page - 1) * perPage; first < total {
		items = match[first:min(first+perPage, total)]
	}
	s.stats.RecordsServed += len(items)
	s.mu.Unlock()

	totalPages := max(1, (total+perPage-1)/perPage)
	link := func(n int) string {
		return s.URL + "/restapi/v1.0/account/" + s.opts.AccountID + "/call-log?view=" + view +
			"&dateFrom=" + from.UTC().Format(DateFormat) + // no character to escape, as RingCentral writes it
			"&dateTo=" + to.UTC().Format(DateFormat) +
			"&perPage=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(n)
	}
	var b bytes.Buffer
	b.WriteString(`{"uri":`)
	b.Write(jsonString(link(page)))
	b.WriteString(`,"records":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if view == "Simple" {
			it = withoutLegs(it)
		}
		b.Write(it)
	}
	b.WriteString(`],"paging":`)
	paging := map[string]int{"page": page, "totalPages": totalPages, "perPage": perPage, "totalElements": total}
	if len(items) > 0 {
		paging["pageStart"] = (page - 1) * perPage
		paging["pageEnd"] = (page-1)*perPage + len(items) - 1
	}
	pb, _ := json.Marshal(paging) // a map of ints always marshals
	b.Write(pb)
	b.WriteString(`,"navigation":{"firstPage":{"uri":`)
	b.Write(jsonString(link(1)))
	b.WriteByte('}')
	if page < totalPages {
		b.WriteString(`,"nextPage":{"uri":`)
		b.Write(jsonString(link(page + 1)))
		b.WriteByte('}')
	}
	if page > 1 {
		b.WriteString(`,"previousPage":{"uri":`)
		b.Write(jsonString(link(page - 1)))
		b.WriteByte('}')
	}
	b.WriteString(`,"lastPage":{"uri":`)
	b.Write(jsonString(link(totalPages)))
	b.WriteString(`}}}`)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// serveContent is a recording's content on the media host: 404 until
// SetRecording made it ready.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request) {
	if a := r.PathValue("account"); a != "~" && a != s.opts.AccountID {
		s.notFound(w, "accountId")
		return
	}
	s.mu.Lock()
	c := s.recordings[r.PathValue("id")]
	s.mu.Unlock()
	if c == nil {
		s.notFound(w, "recordingId")
		return
	}
	w.Header().Set("Content-Type", c.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(c.data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.data)
}

func (s *Server) notFound(w http.ResponseWriter, param string) {
	s.mu.Lock()
	s.stats.NotFound++
	s.mu.Unlock()
	apiError(w, http.StatusNotFound, "CMN-102", "Resource for parameter ["+param+"] is not found")
}

// parseDate reads a dateFrom/dateTo value (RFC 3339, any offset); "" is def.
func parseDate(v string, def time.Time) (time.Time, bool) {
	if v == "" {
		return def, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

func intParam(v string, def int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// withoutLegs drops a record's legs, for the Simple view.
func withoutLegs(raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	delete(m, "legs")
	b, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func randomToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
