package graphtest

import (
	"bytes"
	"callstats/internal/fakeclock"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenForm is a valid client-credentials request for s.
func tokenForm(s *Server) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"client-1"},
		"client_secret": {"secret-1"},
		"scope":         {s.URL + "/.default"},
	}
}

func postToken(t *testing.T, s *Server, tenant string, form url.Values, basic []string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, m
}

func token(t *testing.T, s *Server) string {
	t.Helper()
	status, m := postToken(t, s, "tenant-1", tokenForm(s), nil)
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, m)
	}
	return m["access_token"].(string)
}

// get GETs a Graph URL with tok and decodes the JSON answer.
func get(t *testing.T, rawURL, tok string) (int, http.Header, map[string]json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: answer is not a JSON object: %v\n%s", rawURL, err, b)
	}
	return resp.StatusCode, resp.Header, m
}

// errorCode returns error.code of a Graph error body.
func graphErrorCode(t *testing.T, m map[string]json.RawMessage) string {
	t.Helper()
	var e struct {
		Code       string         `json:"code"`
		InnerError map[string]any `json:"innerError"`
	}
	if err := json.Unmarshal(m["error"], &e); err != nil {
		t.Fatalf("no Graph error body: %v", err)
	}
	if e.InnerError["request-id"] == nil {
		t.Errorf("error body without innerError.request-id")
	}
	return e.Code
}

// makeRecord builds a record with n sessions (ids s-000...) with one segment
// each and p participants (ids p-000...).
func makeRecord(id string, version, n, p int) []byte {
	var sessions, parts []string
	for i := range n {
		sessions = append(sessions, fmt.Sprintf(`{"id":"s-%03d","modalities":["audio"],"segments":[{"id":"seg-%03d","media":[]}]}`, i, i))
	}
	for i := range p {
		parts = append(parts, fmt.Sprintf(`{"id":"p-%03d","identity":{"user":{"id":"p-%03d"}}}`, i, i))
	}
	return fmt.Appendf(nil, `{"@odata.context":"x","version":%d,"type":"groupCall","id":%q,"startDateTime":"2026-11-12T14:00:31.4418392Z",
		"organizer_v2":{"id":"o-1","identity":{"user":{"id":"o-1","displayName":"Ada  Spaced"}}},
		"sessions":[%s],"sessions@odata.nextLink":"https://elsewhere.example/x","participants_v2":[%s]}`,
		version, id, strings.Join(sessions, ","), strings.Join(parts, ","))
}

func ids(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var items []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string: %v", raw, err)
	}
	return s
}

func TestTokenEndpoint(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	with := func(k, v string) url.Values {
		f := tokenForm(s)
		f.Set(k, v)
		return f
	}
	noSecret := tokenForm(s)
	noSecret.Del("client_id")
	noSecret.Del("client_secret")
	tests := []struct {
		name     string
		tenant   string
		form     url.Values
		basic    []string
		status   int
		code     string
		aadsts   float64
		wantsTok bool
	}{
		{"form credentials", "tenant-1", tokenForm(s), nil, 200, "", 0, true},
		{"basic credentials", "tenant-1", noSecret, []string{"client-1", "secret-1"}, 200, "", 0, true},
		{"wrong tenant", "tenant-2", tokenForm(s), nil, 400, "invalid_request", 90002, false},
		{"wrong grant", "tenant-1", with("grant_type", "password"), nil, 400, "unsupported_grant_type", 70003, false},
		{"wrong client", "tenant-1", with("client_id", "client-2"), nil, 400, "unauthorized_client", 700016, false},
		{"wrong secret", "tenant-1", with("client_secret", "nope"), nil, 401, "invalid_client", 7000215, false},
		{"wrong secret basic", "tenant-1", noSecret, []string{"client-1", "nope"}, 401, "invalid_client", 7000215, false},
		{"wrong scope", "tenant-1", with("scope", "https://graph.microsoft.com/.default"), nil, 400, "invalid_scope", 1002012, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := postToken(t, s, tt.tenant, tt.form, tt.basic)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, m)
			}
			if !tt.wantsTok {
				if m["error"] != tt.code {
					t.Errorf("error %v, want %s", m["error"], tt.code)
				}
				codes, _ := m["error_codes"].([]any)
				if len(codes) != 1 || codes[0] != tt.aadsts {
					t.Errorf("error_codes %v, want [%v]", m["error_codes"], tt.aadsts)
				}
				if d, _ := m["error_description"].(string); !strings.HasPrefix(d, fmt.Sprintf("AADSTS%d: ", int(tt.aadsts))) {
					t.Errorf("error_description %q", d)
				}
				if strings.Contains(fmt.Sprint(m), "secret-1") || strings.Contains(fmt.Sprint(m), "nope") {
					t.Errorf("error answer echoes a secret: %v", m)
				}
				return
			}
			if m["token_type"] != "Bearer" || m["expires_in"] != float64(3600) || m["access_token"] == "" {
				t.Errorf("token answer %v", m)
			}
		})
	}
	st := s.Stats()
	if st.Tokens != 2 || st.TokenErrors != 6 {
		t.Errorf("stats Tokens %d TokenErrors %d, want 2 and 6", st.Tokens, st.TokenErrors)
	}
	if st.Requests != 0 {
		t.Errorf("token requests counted as Graph requests: %d", st.Requests)
	}
}

func TestGraphRequiresValidToken(t *testing.T) {
	clk := fakeclock.New()
	s := NewServer(Options{Now: clk.Now, TokenLifetime: 10 * time.Minute})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	u := s.URL + "/v1.0/communications/callRecords/r-1"
	tok := token(t, s)

	if status, _, _ := get(t, u, tok); status != 200 {
		t.Fatalf("valid token: status %d", status)
	}
	for _, tt := range []struct{ name, tok string }{{"no token", ""}, {"unknown token", "fake.123"}} {
		status, h, m := get(t, u, tt.tok)
		if status != 401 || graphErrorCode(t, m) != "InvalidAuthenticationToken" || h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: status %d, body %s", tt.name, status, m["error"])
		}
	}
	clk.Add(10 * time.Minute)
	if status, _, _ := get(t, u, tok); status != 401 {
		t.Errorf("expired token: status %d, want 401", status)
	}
	if st := s.Stats(); st.Unauthorized != 3 || st.Requests != 4 {
		t.Errorf("stats Unauthorized %d Requests %d, want 3 and 4", st.Unauthorized, st.Requests)
	}
}

func TestRecordPaging(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 2, 130, 1)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)

	status, _, m := get(t, s.URL+"/v1.0/communications/callRecords/r-1?$expand=sessions($expand=segments)", tok)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	if got := str(t, m["@odata.context"]); got != s.URL+"/v1.0/$metadata#communications/callRecords(sessions(segments()))/$entity" {
		t.Errorf("@odata.context %q", got)
	}
	if _, ok := m["participants_v2"]; ok {
		t.Error("participants_v2 is inline")
	}
	if string(m["organizer_v2"]) != `{"id":"o-1","identity":{"user":{"id":"o-1","displayName":"Ada  Spaced"}}}` {
		t.Errorf("organizer_v2 not kept as given: %s", m["organizer_v2"])
	}
	var got []string
	got = append(got, ids(t, m["sessions"])...)
	if !bytes.Contains(m["sessions"], []byte(`"segments":[{"id":"seg-000"`)) {
		t.Error("sessions lack their segments")
	}
	next := str(t, m["sessions@odata.nextLink"])
	if !strings.HasPrefix(next, s.URL+"/v1.0/communications/callRecords/r-1/sessions?$expand=segments&$skiptoken=") {
		t.Fatalf("sessions@odata.nextLink %q", next)
	}
	pages := []int{len(got)}
	for next != "" {
		status, _, p := get(t, next, tok)
		if status != 200 {
			t.Fatalf("page %s: status %d", next, status)
		}
		if _, ok := p["@odata.context"]; !ok {
			t.Error("page without @odata.context")
		}
		v := ids(t, p["value"])
		pages = append(pages, len(v))
		got = append(got, v...)
		next = ""
		if l, ok := p["@odata.nextLink"]; ok {
			next = str(t, l)
		}
	}
	if fmt.Sprint(pages) != "[60 60 10]" {
		t.Errorf("page sizes %v, want [60 60 10]", pages)
	}
	for i, id := range got {
		if want := fmt.Sprintf("s-%03d", i); id != want {
			t.Fatalf("session %d is %s, want %s", i, id, want)
		}
	}
	if len(got) != 130 {
		t.Errorf("%d sessions, want 130", len(got))
	}
}

func TestRecordExpand(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 1, 2, 0)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	base := s.URL + "/v1.0/communications/callRecords/r-1"
	tests := []struct {
		query        string
		status       int
		sessions     bool
		segments     bool
		contextTail  string
		sessionsPath string
	}{
		{"", 200, false, false, "#communications/callRecords/$entity", ""},
		{"?$expand=sessions", 200, true, false, "#communications/callRecords(sessions())/$entity", ""},
		{"?$expand=sessions($expand=segments)", 200, true, true, "#communications/callRecords(sessions(segments()))/$entity", ""},
		{"?%24expand=sessions%28%24expand%3Dsegments%29", 200, true, true, "#communications/callRecords(sessions(segments()))/$entity", ""},
		{"?$expand=participants", 400, false, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, _, m := get(t, base+tt.query, tok)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if status != 200 {
				return
			}
			if c := str(t, m["@odata.context"]); !strings.HasSuffix(c, tt.contextTail) {
				t.Errorf("@odata.context %q", c)
			}
			_, has := m["sessions"]
			if has != tt.sessions {
				t.Errorf("sessions present %v, want %v", has, tt.sessions)
			}
			if segs := bytes.Contains(m["sessions"], []byte(`"segments"`)); segs != tt.segments {
				t.Errorf("segments present %v, want %v", segs, tt.segments)
			}
			if _, ok := m["sessions@odata.nextLink"]; ok {
				t.Error("a nextLink for a single page")
			}
		})
	}
	// The sessions endpoint honours $expand=segments the same way.
	_, _, m := get(t, base+"/sessions", tok)
	if bytes.Contains(m["value"], []byte(`"segments"`)) || len(ids(t, m["value"])) != 2 {
		t.Errorf("sessions without $expand: %s", m["value"])
	}
}

func TestParticipantsPaging(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 1, 1, 300)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	next := s.URL + "/v1.0/communications/callRecords/r-1/participants_v2"
	var got []string
	var pages []int
	for next != "" {
		status, _, m := get(t, next, tok)
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		if c := str(t, m["@odata.context"]); !strings.HasSuffix(c, "callRecords('r-1')/participants_v2") {
			t.Errorf("@odata.context %q", c)
		}
		v := ids(t, m["value"])
		pages = append(pages, len(v))
		got = append(got, v...)
		next = ""
		if l, ok := m["@odata.nextLink"]; ok {
			next = str(t, l)
			if !strings.HasPrefix(next, s.URL+"/v1.0/communications/callRecords/r-1/participants_v2?$skiptoken=") {
				t.Fatalf("nextLink %q", next)
			}
		}
	}
	if fmt.Sprint(pages) != "[130 130 40]" {
		t.Errorf("page sizes %v, want [130 130 40]", pages)
	}
	for i, id := range got {
		if want := fmt.Sprintf("p-%03d", i); id != want {
			t.Fatalf("participant %d is %s, want %s", i, id, want)
		}
	}
}

func TestNotFoundAndNotReady(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	tok := token(t, s)
	u := s.URL + "/v1.0/communications/callRecords/9e31c6d8"
	status, _, m := get(t, u, tok)
	if status != 404 || graphErrorCode(t, m) != "NotFound" || !bytes.Contains(m["error"], []byte("'9e31c6d8' could not be found")) {
		t.Fatalf("unknown record: %d %s", status, m["error"])
	}

	if err := s.Put(makeRecord("9E31C6D8", 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	s.NotReady("9e31c6d8", 2)
	var statuses []int
	for range 3 {
		status, _, _ := get(t, u, tok)
		statuses = append(statuses, status)
	}
	if fmt.Sprint(statuses) != "[404 404 200]" {
		t.Errorf("statuses %v, want [404 404 200]", statuses)
	}
	if st := s.Stats(); st.NotFound != 3 {
		t.Errorf("NotFound %d, want 3", st.NotFound)
	}
}

func TestArchivedRecordHasNoParticipantsV2(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	raw := `{"id":"old-1","startDateTime":"2026-01-02T03:04:05Z","participants":[{"user":{"id":"u-1"}}],"sessions":[]}`
	if err := s.Put([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	status, _, m := get(t, s.URL+"/v1.0/communications/callRecords/old-1/participants_v2", tok)
	if status != 404 || graphErrorCode(t, m) != "NotFound" {
		t.Errorf("participants_v2 of an archived record: %d", status)
	}
	_, _, m = get(t, s.URL+"/v1.0/communications/callRecords/old-1?$expand=sessions($expand=segments)", tok)
	if string(m["participants"]) != `[{"user":{"id":"u-1"}}]` || string(m["sessions"]) != "[]" {
		t.Errorf("archived record served as %v", m)
	}
}

func TestThrottleAndFail(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	u := s.URL + "/v1.0/communications/callRecords/r-1"

	s.Throttle(2, 6500*time.Millisecond)
	for i := range 2 {
		status, h, m := get(t, u, tok)
		if status != 429 || h.Get("Retry-After") != "7" || graphErrorCode(t, m) != "TooManyRequests" {
			t.Fatalf("throttled request %d: %d Retry-After %q", i, status, h.Get("Retry-After"))
		}
		if !bytes.Contains(m["error"], []byte(`"code":"429"`)) {
			t.Errorf("429 body lacks innerError.code: %s", m["error"])
		}
	}
	s.Throttle(1, 0)
	if status, h, _ := get(t, u, tok); status != 429 || h.Get("Retry-After") != "" {
		t.Errorf("throttle without Retry-After: %d %q", status, h.Get("Retry-After"))
	}
	s.FailNext(2, 503)
	s.Throttle(1, time.Second)
	var statuses []int
	for range 4 {
		status, _, _ := get(t, u, tok)
		statuses = append(statuses, status)
	}
	if fmt.Sprint(statuses) != "[429 503 503 200]" {
		t.Errorf("statuses %v, want [429 503 503 200]", statuses)
	}
	st := s.Stats()
	if st.Throttled != 4 || st.Failed != 2 || st.Requests != 7 {
		t.Errorf("stats Throttled %d Failed %d Requests %d, want 4, 2, 7", st.Throttled, st.Failed, st.Requests)
	}
	if st.PerPath["/v1.0/communications/callRecords/r-1"] != 7 || st.PerPath["/tenant-1/oauth2/v2.0/token"] != 1 {
		t.Errorf("PerPath %v", st.PerPath)
	}
}

func TestPutReplacesAndKeepsJSON(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	tok := token(t, s)
	// The group call sample, as given: its own annotations are replaced, every
	// other property is served unchanged.
	raw, err := os.ReadFile("../testdata/callrecord-groupcall.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(raw); err != nil {
		t.Fatal(err)
	}
	id := "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e"
	_, _, m := get(t, s.URL+"/v1.0/communications/callRecords/"+id+"?$expand=sessions($expand=segments)", tok)
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if strings.HasPrefix(k, "@odata") || strings.HasPrefix(k, "sessions@") {
			continue
		}
		var want bytes.Buffer
		if err := json.Compact(&want, v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m[k], want.Bytes()) {
			t.Errorf("%s changed:\n got %.200s\nwant %.200s", k, m[k], want.Bytes())
		}
	}
	if _, ok := m["sessions@odata.nextLink"]; ok {
		t.Error("the sample's foreign nextLink was kept")
	}

	if err := s.Put(makeRecord(id, 3, 1, 1)); err != nil {
		t.Fatal(err)
	}
	_, _, m = get(t, s.URL+"/v1.0/communications/callRecords/"+id, tok)
	if string(m["version"]) != "3" {
		t.Errorf("after replacing, version %s, want 3", m["version"])
	}
}

func TestPutRejects(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	for _, raw := range []string{
		``, `[]`, `{"id":`, `{"version":1}`, `{"id":""}`, `{"id":5}`, `{"id":"a"} {}`,
		`{"id":"a","sessions":{}}`, `{"id":"a","sessions":[1]}`, `{"id":"a","participants_v2":"x"}`,
		`{"id":"a","id":"b"}`,
	} {
		if err := s.Put([]byte(raw)); err == nil {
			t.Errorf("Put(%q) accepted", raw)
		}
	}
}

func TestBadSkipToken(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	for _, tt := range []string{"!!", skipToken("participants", "r-1", 1), skipToken("sessions", "r-2", 1), skipToken("sessions", "r-1", -1)} {
		status, _, _ := get(t, s.URL+"/v1.0/communications/callRecords/r-1/sessions?$skiptoken="+url.QueryEscape(tt), tok)
		if status != 400 {
			t.Errorf("skiptoken %q: status %d, want 400", tt, status)
		}
	}
}

func TestConcurrentUseAndInFlight(t *testing.T) {
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	release := make(chan struct{})
	s := NewServer(Options{Hook: func(*http.Request) { arrived.Done(); <-release }})
	defer s.Close()
	if err := s.Put(makeRecord("r-1", 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() { // no t.Fatal off the test goroutine
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1.0/communications/callRecords/r-1", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	arrived.Wait() // all n are inside the server at once
	if st := s.Stats(); st.InFlight != n {
		t.Errorf("InFlight %d, want %d", st.InFlight, n)
	}
	wg.Go(func() { _ = s.Put(makeRecord("r-2", 1, 1, 1)) })
	close(release)
	wg.Wait()
	st := s.Stats()
	if st.MaxInFlight != n || st.InFlight != 0 {
		t.Errorf("MaxInFlight %d InFlight %d, want %d and 0", st.MaxInFlight, st.InFlight, n)
	}
	for i, status := range statuses {
		if status != 200 {
			t.Errorf("request %d: status %d", i, status)
		}
	}
}
