package rctest

import (
	"callstats/internal/fakeclock"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newServer(t *testing.T, opts Options) (*Server, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s, clk
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d %q: %v", a.status, a.body, err)
	}
	return m
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func postToken(t *testing.T, s *Server, id, secret string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/restapi/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return do(t, req)
}

func jwtForm(jwt string) url.Values {
	return url.Values{"grant_type": {JWTGrantType}, "assertion": {jwt}}
}

func login(t *testing.T, s *Server) string {
	t.Helper()
	a := postToken(t, s, "rc-client-1", "rc-secret-1", jwtForm("rc-jwt-1"))
	if a.status != http.StatusOK {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	return a.json(t)["access_token"].(string)
}

func get(t *testing.T, rawURL, tok string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, req)
}

func TestTokenGrant(t *testing.T) {
	s, clk := newServer(t, Options{})
	a := postToken(t, s, "rc-client-1", "rc-secret-1", jwtForm("rc-jwt-1"))
	if a.status != http.StatusOK {
		t.Fatalf("%d %s", a.status, a.body)
	}
	m := a.json(t)
	if m["token_type"] != "bearer" || m["expires_in"] != 3600.0 || m["owner_id"] != "2718035009" ||
		m["access_token"] == "" || m["refresh_token"] == "" || m["refresh_token_expires_in"] != 604800.0 {
		t.Errorf("token answer %v", m)
	}
	for _, tc := range []struct {
		name, id, secret string
		form             url.Values
		status           int
		oauth, code      string
	}{
		{"no basic auth", "", "", jwtForm("rc-jwt-1"), 401, "invalid_client", "OAU-153"},
		{"wrong secret", "rc-client-1", "nope", jwtForm("rc-jwt-1"), 401, "invalid_client", "OAU-153"},
		{"wrong grant", "rc-client-1", "rc-secret-1", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type", "OAU-250"},
		{"wrong JWT", "rc-client-1", "rc-secret-1", jwtForm("other"), 400, "invalid_grant", "OAU-211"},
	} {
		a := postToken(t, s, tc.id, tc.secret, tc.form)
		m := a.json(t)
		errs, _ := m["errors"].([]any)
		if a.status != tc.status || m["error"] != tc.oauth || len(errs) != 1 || errs[0].(map[string]any)["errorCode"] != tc.code {
			t.Errorf("%s: %d %s", tc.name, a.status, a.body)
		}
	}
	// The Auth group allows 5 token requests a minute; the 6th is refused.
	if a := postToken(t, s, "rc-client-1", "rc-secret-1", jwtForm("rc-jwt-1")); a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "60" {
		t.Errorf("6th login within a minute: %d %v", a.status, a.header)
	}
	clk.Add(time.Minute)
	login(t, s)
	if st := s.Stats(); st.Tokens != 2 || st.TokenErrors != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestTokenChecked(t *testing.T) {
	s, clk := newServer(t, Options{TokenLifetime: 10 * time.Second})
	u := s.URL + "/restapi/v1.0/account/~/call-log?view=Detailed"
	for _, tc := range []struct{ tok, code string }{{"", "AGW-401"}, {"forged", "TokenInvalid"}} {
		a := get(t, u, tc.tok)
		if a.status != 401 || a.json(t)["errorCode"] != tc.code {
			t.Errorf("token %q: %d %s", tc.tok, a.status, a.body)
		}
	}
	tok := login(t, s)
	if a := get(t, u, tok); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	clk.Add(10 * time.Second)
	if a := get(t, u, tok); a.status != 401 || a.json(t)["errorCode"] != "TokenExpired" {
		t.Errorf("expired token: %d %s", a.status, a.body)
	}
	tok = login(t, s)
	s.RevokeTokens()
	if a := get(t, u, tok); a.status != 401 {
		t.Errorf("revoked token: %d", a.status)
	}
	if st := s.Stats(); st.Unauthorized != 4 || st.Requests != 5 {
		t.Errorf("stats %+v", st)
	}
}

// page is a call-log answer.
type page struct {
	URI     string            `json:"uri"`
	Records []json.RawMessage `json:"records"`
	Paging  map[string]int    `json:"paging"`
	Nav     map[string]struct {
		URI string `json:"uri"`
	} `json:"navigation"`
}

func (p page) ids(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range p.Records {
		var v struct {
			ID   string `json:"id"`
			Legs []any  `json:"legs"`
		}
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.ID)
	}
	return out
}

func getPage(t *testing.T, s *Server, tok, query string) page {
	t.Helper()
	a := get(t, s.URL+"/restapi/v1.0/account/~/call-log?"+query, tok)
	if a.status != 200 {
		t.Fatalf("%s: %d %s", query, a.status, a.body)
	}
	var p page
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCallLogPaging(t *testing.T) {
	s, _ := newServer(t, Options{MaxPerPage: 2})
	day := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"c", "a", "e", "b", "d"} {
		// a 10:00, b 10:00 (same start: by id), c 08:00, d 12:00, e 11:00
		start := day.Add(time.Duration([]int{8, 10, 11, 10, 12}[i]) * time.Hour)
		if err := s.Add(s.Record(Call{ID: id, Start: start})); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(s.Record(Call{ID: "old", Start: day.Add(-time.Minute)})); err != nil {
		t.Fatal(err)
	}
	tok := login(t, s)
	q := "view=Detailed&dateFrom=2026-11-12T00:00:00.000Z&dateTo=2026-11-13T00:00:00.000Z&perPage=1000"
	var all []string
	link := s.URL + "/restapi/v1.0/account/~/call-log?" + q + "&page=1"
	for n := 1; link != ""; n++ {
		a := get(t, link, tok)
		var p page
		if err := json.Unmarshal(a.body, &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.ids(t)...)
		if p.Paging["page"] != n || p.Paging["perPage"] != 2 || p.Paging["totalPages"] != 3 || p.Paging["totalElements"] != 5 ||
			p.Paging["pageStart"] != (n-1)*2 {
			t.Errorf("page %d paging %v", n, p.Paging)
		}
		if !strings.Contains(p.Nav["firstPage"].URI, "/account/2718035004/call-log?view=Detailed&dateFrom=2026-11-12T00:00:00.000Z") {
			t.Errorf("firstPage %q", p.Nav["firstPage"].URI)
		}
		link = p.Nav["nextPage"].URI
	}
	if want := []string{"d", "e", "a", "b", "c"}; !slices.Equal(all, want) {
		t.Errorf("records %v, want newest first %v", all, want)
	}
	// Empty page beyond the end: no pageStart, no nextPage.
	p := getPage(t, s, tok, q+"&page=4")
	if len(p.Records) != 0 || p.Paging["pageStart"] != 0 || p.Nav["nextPage"].URI != "" || p.Nav["previousPage"].URI == "" {
		t.Errorf("page 4: %+v", p)
	}
	if _, ok := p.Paging["pageEnd"]; ok {
		t.Error("empty page has pageEnd")
	}
}

func TestCallLogDefaultsAndViews(t *testing.T) {
	s, _ := newServer(t, Options{HeavyLimit: 100})
	now := fakeclock.New().Now()
	// dateFrom defaults to 24 h before now: "recent" is in, "yesterday" out.
	for id, start := range map[string]time.Time{"recent": now.Add(-23 * time.Hour), "yesterday": now.Add(-25 * time.Hour)} {
		if err := s.Add(s.Record(Call{ID: id, Start: start})); err != nil {
			t.Fatal(err)
		}
	}
	tok := login(t, s)
	p := getPage(t, s, tok, "")
	if got := p.ids(t); !slices.Equal(got, []string{"recent"}) {
		t.Errorf("without dateFrom: %v, want the last 24 h only", got)
	}
	if p.Paging["perPage"] != 100 {
		t.Errorf("default perPage %d", p.Paging["perPage"])
	}
	var rec map[string]any
	json.Unmarshal(p.Records[0], &rec)
	if _, ok := rec["legs"]; ok {
		t.Error("the Simple view (the default) has legs")
	}
	p = getPage(t, s, tok, "view=Detailed&dateFrom=2026-11-10T00:00:00Z")
	json.Unmarshal(p.Records[0], &rec)
	if len(p.Records) != 2 || rec["legs"] == nil {
		t.Errorf("Detailed from 11-10: %d records, legs %v", len(p.Records), rec["legs"])
	}
	for _, q := range []string{"view=Full", "dateFrom=yesterday", "dateTo=2026-13-01T00:00:00Z", "perPage=0", "perPage=1001", "page=0", "page=x"} {
		a := get(t, s.URL+"/restapi/v1.0/account/~/call-log?"+q, tok)
		if a.status != 400 || a.json(t)["errorCode"] != "CMN-101" {
			t.Errorf("%s: %d %s", q, a.status, a.body)
		}
	}
	if a := get(t, s.URL+"/restapi/v1.0/account/2718035004/call-log", tok); a.status != 200 {
		t.Errorf("own account id: %d", a.status)
	}
	if a := get(t, s.URL+"/restapi/v1.0/account/999/call-log", tok); a.status != 404 {
		t.Errorf("other account: %d", a.status)
	}
}

// TestHeavyLimit: 10 requests a minute with Remaining counting down; the
// 11th starts a 60 s penalty, and a request during it restarts it.
func TestHeavyLimit(t *testing.T) {
	s, clk := newServer(t, Options{})
	tok := login(t, s)
	u := s.URL + "/restapi/v1.0/account/~/call-log?view=Detailed"
	for i := range 10 {
		a := get(t, u, tok)
		if a.status != 200 || a.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(9-i) {
			t.Fatalf("request %d: %d remaining %q", i, a.status, a.header.Get("X-Rate-Limit-Remaining"))
		}
		for k, v := range map[string]string{"X-Rate-Limit-Group": "heavy", "X-Rate-Limit-Limit": "10", "X-Rate-Limit-Window": "60"} {
			if a.header.Get(k) != v {
				t.Errorf("%s: %q", k, a.header.Get(k))
			}
		}
		clk.Add(time.Second)
	}
	a := get(t, u, tok)
	if a.status != 429 || a.header.Get("Retry-After") != "60" || a.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("11th request: %d %v", a.status, a.header)
	}
	want, err := os.ReadFile("../testdata/error-429.json")
	if err != nil {
		t.Fatal(err)
	}
	var w any
	json.Unmarshal(want, &w)
	if got := a.json(t); !reflect.DeepEqual(any(got), w) {
		t.Errorf("429 body %s, want the sample's", a.body)
	}
	clk.Add(30 * time.Second) // during the penalty: refused, and the penalty restarts
	if a := get(t, u, tok); a.status != 429 {
		t.Errorf("during the penalty: %d", a.status)
	}
	clk.Add(59 * time.Second)
	if a := get(t, u, tok); a.status != 429 {
		t.Errorf("89 s after the first 429, 59 s after the restart: %d", a.status)
	}
	clk.Add(60 * time.Second)
	if a := get(t, u, tok); a.status != 200 || a.header.Get("X-Rate-Limit-Remaining") != "9" {
		t.Errorf("after the penalty: %d, remaining %s", a.status, a.header.Get("X-Rate-Limit-Remaining"))
	}
	st := s.Stats()
	if st.Requests != 14 || st.Throttled != 3 || st.MaxInWindow != 10 || len(st.Log) != 14 || st.Log[10].Status != 429 || st.Log[13].Status != 200 {
		t.Errorf("stats: %d requests, %d throttled, max %d, log %d", st.Requests, st.Throttled, st.MaxInWindow, len(st.Log))
	}
}

func TestHeavyOptions(t *testing.T) {
	s, _ := newServer(t, Options{HeavyLimit: 1, Penalty: 30 * time.Second, OmitRetryAfter: true})
	tok := login(t, s)
	s.Consume(1)
	a := get(t, s.URL+"/restapi/v1.0/account/~/call-log", tok)
	if a.status != 429 || a.header.Get("Retry-After") != "" {
		t.Errorf("%d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	s2, _ := newServer(t, Options{})
	tok2 := login(t, s2)
	s2.FailNext(1, 503)
	if a := get(t, s2.URL+"/restapi/v1.0/account/~/call-log", tok2); a.status != 503 {
		t.Errorf("FailNext: %d", a.status)
	}
	if a := get(t, s2.URL+"/restapi/v1.0/account/~/call-log", tok2); a.status != 200 {
		t.Errorf("after FailNext: %d", a.status)
	}
}

func TestRecordingContent(t *testing.T) {
	s, _ := newServer(t, Options{})
	tok := login(t, s)
	uri := s.ContentURI("3318904455")
	if !strings.HasPrefix(uri, s.MediaURL+"/restapi/v1.0/account/2718035004/recording/3318904455/content") || s.MediaURL == s.URL {
		t.Errorf("content URI %s (media %s, api %s)", uri, s.MediaURL, s.URL)
	}
	if a := get(t, uri, tok); a.status != 404 || a.json(t)["errorCode"] != "CMN-102" {
		t.Errorf("not ready: %d %s", a.status, a.body)
	}
	s.SetRecording("3318904455", "audio/wav", []byte("RIFF...."))
	a := get(t, uri, tok)
	if a.status != 200 || a.header.Get("Content-Type") != "audio/wav" || string(a.body) != "RIFF...." || a.header.Get("X-Rate-Limit-Group") != "heavy" {
		t.Errorf("ready: %d %v %q", a.status, a.header, a.body)
	}
	if a := get(t, uri, ""); a.status != 401 {
		t.Errorf("without token: %d", a.status)
	}
	if a := get(t, s.URL+"/restapi/v1.0/account/2718035004/recording/3318904455/content", tok); a.status != 404 {
		t.Errorf("content on the platform host: %d", a.status)
	}
	st := s.Stats()
	if st.Requests != 3 || st.NotFound != 1 || !st.Log[0].Media {
		t.Errorf("stats %+v", st)
	}
}

func TestAddUpdate(t *testing.T) {
	s, _ := newServer(t, Options{})
	start := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
	for _, bad := range []string{`{`, `{"startTime":"2026-11-12T10:00:00Z"}`, `{"id":"x","startTime":"yesterday"}`, `{"id":7}`} {
		if err := s.Add([]byte(`{"id":"ok","startTime":"2026-11-12T10:00:00Z"}`), []byte(bad)); err == nil {
			t.Errorf("Add(%s) accepted", bad)
		}
	}
	if s.Len() != 0 {
		t.Errorf("%d records after failed adds, want none", s.Len())
	}
	if err := s.Update(s.Record(Call{ID: "x", Start: start})); err == nil {
		t.Error("Update of an unknown record accepted")
	}
	s.Add(s.Record(Call{ID: "x", Start: start, Result: "In Progress"}))
	s.Add(s.Record(Call{ID: "x", Start: start, Result: "Accepted"})) // replaces
	if err := s.Update(s.Record(Call{ID: "x", Start: start.Add(-time.Hour), Result: "Missed"})); err != nil {
		t.Fatal(err)
	}
	tok := login(t, s)
	p := getPage(t, s, tok, "view=Detailed&dateFrom=2026-11-12T00:00:00Z&dateTo=2026-11-13T00:00:00Z")
	var r struct {
		Result, StartTime string
	}
	if len(p.Records) != 1 || json.Unmarshal(p.Records[0], &r) != nil || r.Result != "Missed" || r.StartTime != "2026-11-12T09:00:00.000Z" {
		t.Errorf("after update: %d records, %+v", len(p.Records), r)
	}
}

// TestRecordShape: Record writes a record like the sample's inbound call.
func TestRecordShape(t *testing.T) {
	s, _ := newServer(t, Options{})
	start := time.Date(2026, 11, 12, 13, 41, 7, 0, time.UTC)
	raw := s.Record(Call{ID: "Zq4dWr1Kx9Ap2Mh", Start: start, Duration: 284312 * time.Millisecond, RecordingID: "3318904455"})
	var r map[string]any
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	ext := r["extension"].(map[string]any)
	rec := r["recording"].(map[string]any)
	legs := r["legs"].([]any)
	leg := legs[0].(map[string]any)
	checks := map[string]any{
		"id": r["id"], "startTime": r["startTime"], "duration": r["duration"], "durationMs": r["durationMs"],
		"lastModifiedTime": r["lastModifiedTime"], "extension.id": ext["id"], "telephonySessionId": r["telephonySessionId"],
		"contentUri": rec["contentUri"], "leg.legType": leg["legType"], "leg.master": leg["master"],
		"leg.recording.id": leg["recording"].(map[string]any)["id"],
	}
	want := map[string]any{
		"id": "Zq4dWr1Kx9Ap2Mh", "startTime": "2026-11-12T13:41:07.000Z", "duration": 284.0, "durationMs": 284312.0,
		"lastModifiedTime": "2026-11-12T13:46:21.312Z", "extension.id": 2718035011.0, "telephonySessionId": "s-Zq4dWr1Kx9Ap2Mh",
		"contentUri": s.ContentURI("3318904455"), "leg.legType": "Accept", "leg.master": true, "leg.recording.id": "3318904455",
	}
	if !reflect.DeepEqual(checks, want) {
		t.Errorf("record:\n got %v\nwant %v", checks, want)
	}
	if sid, _ := r["sessionId"].(string); len(sid) != 11 {
		t.Errorf("sessionId %q", sid)
	}
	out := s.Record(Call{ID: "o", Start: start, Direction: "Outbound"})
	r = nil
	json.Unmarshal(out, &r)
	if r["from"].(map[string]any)["extensionNumber"] != "104" || r["recording"] != nil {
		t.Errorf("outbound: from %v, recording %v", r["from"], r["recording"])
	}
}
