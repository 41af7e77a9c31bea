package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"callstats/extract/graph/graphtest"
	"callstats/internal/fakeclock"
	"callstats/internal/httpretry"
)

type env struct {
	srv   *graphtest.Server
	c     *Client
	clock *fakeclock.Clock
	rec   *fakeclock.Recorder
}

// newEnv starts a fake and a client for it sharing one fake clock, with
// deterministic jitter (always the full backoff).
func newEnv(t *testing.T, opts graphtest.Options, mod func(*ClientConfig)) *env {
	t.Helper()
	clk := fakeclock.New()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	srv := graphtest.NewServer(opts)
	t.Cleanup(srv.Close)
	rec := &fakeclock.Recorder{Clock: clk}
	cfg := ClientConfig{
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1",
		GraphURL: srv.URL, LoginURL: srv.URL,
		Wait: rec.Wait, Now: clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.jitter = func() float64 { return 1 }
	return &env{srv: srv, c: c, clock: clk, rec: rec}
}

func (e *env) put(t *testing.T, raw []byte) {
	t.Helper()
	if err := e.srv.Put(raw); err != nil {
		t.Fatal(err)
	}
}

// withID returns obj with its "id" replaced.
func withID(t *testing.T, obj json.RawMessage, id string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	m["id"], _ = json.Marshal(id)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleParts returns the group call sample's record object, its five sessions
// (both pages; c0a85e37 appears twice) and its three participants.
func sampleParts(t *testing.T) (map[string]json.RawMessage, []json.RawMessage, []json.RawMessage) {
	t.Helper()
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(readTestdata(t, "callrecord-groupcall.json"), &rec); err != nil {
		t.Fatal(err)
	}
	var sessions []json.RawMessage
	if err := json.Unmarshal(rec["sessions"], &sessions); err != nil {
		t.Fatal(err)
	}
	var page2, parts struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(readTestdata(t, "callrecord-sessions-page2.json"), &page2); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readTestdata(t, "participants-v2-page.json"), &parts); err != nil {
		t.Fatal(err)
	}
	sessions = append(sessions, page2.Value...)
	third := json.RawMessage(`{"id":"0f6b2d94-8e13-4c57-a9d0-3b7e5f1c2a86","identity":{"@odata.type":"#microsoft.graph.communicationsIdentitySet","guest":{"id":"0f6b2d94-8e13-4c57-a9d0-3b7e5f1c2a86","displayName":"Guest Caller","tenantId":null}},"administrativeUnitInfos":[]}`)
	delete(rec, "sessions@odata.nextLink")
	return rec, sessions, append(parts.Value, third)
}

// buildRecord is the group call sample under id with the given sessions and participants.
func buildRecord(t *testing.T, id string, sessions, parts []json.RawMessage) []byte {
	t.Helper()
	rec, _, _ := sampleParts(t)
	rec["id"], _ = json.Marshal(id)
	rec["sessions"], _ = json.Marshal(sessions)
	rec["participants_v2"], _ = json.Marshal(parts)
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigRecord has n sessions and p participants cycled from the samples, with
// ids numbered in order.
func bigRecord(t *testing.T, id string, n, p int) []byte {
	t.Helper()
	_, sessions, parts := sampleParts(t)
	var ss, ps []json.RawMessage
	for i := range n {
		ss = append(ss, withID(t, sessions[i%len(sessions)], fmt.Sprintf("s-%04d", i)))
	}
	for i := range p {
		ps = append(ps, withID(t, parts[i%len(parts)], fmt.Sprintf("p-%04d", i)))
	}
	return buildRecord(t, id, ss, ps)
}

// smallRecord is a minimal record with one session and one participant.
func smallRecord(id string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"version":1,"startDateTime":"2026-11-12T14:00:31.4418392Z",
		"sessions":[{"id":"s-1","segments":[{"id":"g-1","media":[]}]}],"participants_v2":[{"id":"p-1","identity":{"user":{"id":"p-1"}}}]}`, id)
}

func TestFetchJoinsAllPages(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.put(t, bigRecord(t, "b1600000-0000-4000-8000-000000000001", 150, 300))
	rec, err := e.c.Fetch(t.Context(), "b1600000-0000-4000-8000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Sessions) != 150 || len(rec.ParticipantsV2) != 300 {
		t.Fatalf("%d sessions and %d participants, want 150 and 300", len(rec.Sessions), len(rec.ParticipantsV2))
	}
	for i, s := range rec.Sessions {
		if want := fmt.Sprintf("s-%04d", i); s.ID != want {
			t.Fatalf("session %d is %s, want %s", i, s.ID, want)
		}
		if len(s.Segments) == 0 {
			t.Fatalf("session %d has no segments", i)
		}
	}
	for i, p := range rec.ParticipantsV2 {
		if want := fmt.Sprintf("p-%04d", i); p.ID != want {
			t.Fatalf("participant %d is %s, want %s", i, p.ID, want)
		}
	}
	if rec.SessionsNextLink != "" || rec.ParticipantsV2NextLink != "" {
		t.Error("next links left in the joined record")
	}
	st := e.srv.Stats()
	base := "/v1.0/communications/callRecords/b1600000-0000-4000-8000-000000000001"
	if st.PerPath[base] != 1 || st.PerPath[base+"/sessions"] != 2 || st.PerPath[base+"/participants_v2"] != 3 {
		t.Errorf("requests by path %v, want 1 record, 2 session pages, 3 participant pages", st.PerPath)
	}
	if st.Tokens != 1 {
		t.Errorf("%d tokens for one fetch, want 1", st.Tokens)
	}
}

func TestFetchKeepsRepeatedSessionID(t *testing.T) {
	e := newEnv(t, graphtest.Options{SessionsPageSize: 3, ParticipantsPageSize: 2}, nil)
	_, sessions, parts := sampleParts(t)
	id := "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e"
	e.put(t, buildRecord(t, id, sessions, parts))
	rec, err := e.c.Fetch(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range rec.Sessions {
		got = append(got, s.ID[:8])
	}
	if want := []string{"e4b1f6a2", "71c3a9d0", "c0a85e37", "c0a85e37", "8b3f1c5e"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sessions %v, want %v", got, want)
	}
	if r1, r2 := deref(rec.Sessions[2].Callee.UserAgent.Role), deref(rec.Sessions[3].Callee.UserAgent.Role); r1 != "conferencingAttendant" || r2 != "conferencingAnnouncementService" {
		t.Errorf("repeated session's callees %v and %v", r1, r2)
	}
	if len(rec.ParticipantsV2) != 3 || rec.ParticipantsV2[2].Identity.Kinds[0] != "guest" {
		t.Errorf("participants %+v", rec.ParticipantsV2)
	}
	kind, org := rec.OrganizerIdentity()
	if kind != "user" || deref(org.DisplayName) != "Henrike Vossberg" {
		t.Errorf("organizer_v2 %s %+v", kind, org)
	}
}

func TestFetchArchivedV1Fallback(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.put(t, readTestdata(t, "callrecord-archived-v1.json"))
	id := "a7d10c42-3e6b-4f95-b8a1-5c2e9f70d316"
	rec, err := e.c.Fetch(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if e.srv.Stats().PerPath["/v1.0/communications/callRecords/"+id+"/participants_v2"] != 1 {
		t.Error("participants_v2 was not asked for")
	}
	if len(rec.ParticipantsV2) != 0 || len(rec.Participants) != 2 {
		t.Fatalf("participants_v2 %d, participants %d", len(rec.ParticipantsV2), len(rec.Participants))
	}
	ps := rec.AllParticipants()
	if len(ps) != 2 || ps[1].ID != "+4940609800" {
		t.Errorf("AllParticipants %+v", ps)
	}
	kind, org := rec.OrganizerIdentity()
	if kind != "user" || deref(org.DisplayName) != "Ingrid Halvorsen" {
		t.Errorf("organizer %s %+v", kind, org)
	}
	if who := rec.Sessions[0].Callee.Who(); who == nil || deref(who.ID) != "+4940609800" {
		t.Errorf("callee identity %+v", who)
	}

	// Without deprecated participants, a 404 on participants_v2 is a 404.
	e.put(t, []byte(`{"id":"ba1e0000-0000-4000-8000-000000000001","startDateTime":"2026-11-12T09:00:00Z","sessions":[]}`))
	if _, err := e.c.Fetch(t.Context(), "ba1e0000-0000-4000-8000-000000000001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("record without any participants: %v, want ErrNotFound", err)
	}
}

func TestFetchNotFound(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	_, err := e.c.Fetch(t.Context(), "9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465")
	if !errors.Is(err, ErrNotFound) || IsRetryable(err) {
		t.Fatalf("err %v: want ErrNotFound, not retryable", err)
	}
	ae, ok := errors.AsType[*APIError](err)
	if !ok || ae.Status != 404 || ae.Code != "NotFound" || ae.RequestID == "" {
		t.Errorf("APIError %+v", ae)
	}
	if !strings.HasPrefix(err.Error(), "fetching call 9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465: ") {
		t.Errorf("error does not name the call: %v", err)
	}

	e.put(t, smallRecord("f1e50000-0000-4000-8000-000000000001"))
	e.srv.NotReady("f1e50000-0000-4000-8000-000000000001", 1)
	if _, err := e.c.Fetch(t.Context(), "f1e50000-0000-4000-8000-000000000001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("not ready: %v", err)
	}
	if n := e.srv.Stats().PerPath["/v1.0/communications/callRecords/f1e50000-0000-4000-8000-000000000001"]; n != 1 {
		t.Errorf("a 404 was retried: %d requests", n)
	}
	if _, err := e.c.Fetch(t.Context(), "f1e50000-0000-4000-8000-000000000001"); err != nil {
		t.Errorf("once ready: %v", err)
	}
}

func TestFetchRefusesIDsThatAreNotGUIDs(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	for _, id := range []string{"", ".", "..", "odd/id ?#%", "../../me", "00000000-0000-4000-8000-00000000000", "{00000000-0000-4000-8000-000000000001}"} {
		_, err := e.c.Fetch(t.Context(), id)
		if !errors.Is(err, ErrInvalidID) || IsRetryable(err) || !strings.Contains(err.Error(), fmt.Sprintf("%q", id)) {
			t.Errorf("id %q: err %v, want ErrInvalidID naming it", id, err)
		}
	}
	if st := e.srv.Stats(); st.Requests != 0 || st.Tokens != 0 {
		t.Errorf("%d requests, %d tokens for invalid ids: want none", st.Requests, st.Tokens)
	}
}

func TestFetchHonoursRetryAfter(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	e.srv.Throttle(1, 7*time.Second)
	if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	if got := e.rec.Waits(); !reflect.DeepEqual(got, []time.Duration{7 * time.Second}) {
		t.Errorf("waits %v, want [7s]", got)
	}
}

func TestThrottlePausesAllWorkers(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000002"))
	e.srv.Throttle(1, 7*time.Second)
	// While the first fetch waits out its 429, a second one starts: it must
	// wait the same pause without having been throttled itself.
	var second error
	var started atomic.Bool
	e.rec.OnWait = func(ctx context.Context, d time.Duration) error {
		if started.CompareAndSwap(false, true) {
			_, second = e.c.Fetch(ctx, "00000000-0000-4000-8000-000000000002")
		}
		return nil
	}
	if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	if second != nil {
		t.Fatal(second)
	}
	if got := e.rec.Waits(); !reflect.DeepEqual(got, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("waits %v, want [7s 7s]", got)
	}
	if st := e.srv.Stats(); st.Throttled != 1 {
		t.Errorf("throttled %d times, want 1", st.Throttled)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.MaxAttempts = 10 })
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	e.srv.Throttle(9, 0) // no Retry-After
	if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	s := time.Second
	want := []time.Duration{s / 2, s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s}
	if got := e.rec.Waits(); !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}

	// Full jitter: a random share of the ceiling, never above it.
	c := &Client{jitter: func() float64 { return 0.25 }}
	if got := c.backoff(3); got != 500*time.Millisecond {
		t.Errorf("backoff(3) with jitter 0.25 = %v, want 500ms", got)
	}
	c.jitter = newClientJitter(t)
	seen := map[time.Duration]bool{}
	for range 100 {
		d := c.backoff(40)
		if d < 0 || d > backoffCap {
			t.Fatalf("backoff(40) = %v", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("only %d distinct backoffs in 100: no jitter", len(seen))
	}
}

// newClientJitter is the jitter a real client gets.
func newClientJitter(t *testing.T) func() float64 {
	c, err := NewClient(ClientConfig{TenantID: "t", ClientID: "c", ClientSecret: "s",
		GraphURL: "https://graph.example", LoginURL: "https://login.example"})
	if err != nil {
		t.Fatal(err)
	}
	return c.jitter
}

func TestAttemptsExhausted(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.MaxAttempts = 3 })
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	e.srv.Throttle(100, time.Second)
	_, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
	if err == nil || !IsRetryable(err) || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err %v: want a retryable error after 3 attempts", err)
	}
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.Status != 429 || ae.Code != "TooManyRequests" {
		t.Errorf("APIError %+v", ae)
	}
	if st := e.srv.Stats(); st.Requests != 3 {
		t.Errorf("%d requests, want 3", st.Requests)
	}
}

func TestStatusHandling(t *testing.T) {
	tests := []struct {
		status    int
		ok        bool
		retryable bool
		auth      bool
	}{
		{500, true, false, false},
		{502, true, false, false},
		{503, true, false, false},
		{504, true, false, false},
		{400, false, false, false},
		{403, false, false, true},
		{409, false, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			e := newEnv(t, graphtest.Options{}, nil)
			e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
			e.srv.FailNext(1, tt.status)
			_, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
			if tt.ok {
				if err != nil {
					t.Fatalf("after one %d: %v", tt.status, err)
				}
				if got := e.rec.Waits(); !reflect.DeepEqual(got, []time.Duration{500 * time.Millisecond}) {
					t.Errorf("waits %v, want [500ms]", got)
				}
				return
			}
			if err == nil || IsRetryable(err) != tt.retryable || errors.Is(err, ErrAuth) != tt.auth {
				t.Fatalf("err %v: retryable %v auth %v", err, IsRetryable(err), errors.Is(err, ErrAuth))
			}
			if ae, ok := errors.AsType[*APIError](err); !ok || ae.Status != tt.status {
				t.Errorf("APIError %+v", ae)
			}
			if n := e.srv.Stats().Requests; n != 1 {
				t.Errorf("a permanent %d was retried: %d requests", tt.status, n)
			}
		})
	}
}

// failOnce fails the first Graph request at the transport, as a reset
// connection would, and passes everything else on.
type failOnce struct {
	failed atomic.Bool
}

func (f *failOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/v1.0/") && f.failed.CompareAndSwap(false, true) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestTransportErrorIsRetried(t *testing.T) {
	ft := &failOnce{}
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.HTTPClient = &http.Client{Transport: ft} })
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	if !ft.failed.Load() {
		t.Fatal("the transport never failed")
	}
	if got := e.rec.Waits(); !reflect.DeepEqual(got, []time.Duration{500 * time.Millisecond}) {
		t.Errorf("waits %v, want [500ms]", got)
	}
}

// stub serves a token and fixed answers by path, and counts Graph requests;
// the requests of a $batch go to its handler (whatever it is then) one by one.
func stub(t *testing.T, routes map[string]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	var s *httptest.Server
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1.0/$batch" {
			graphtest.ServeBatch(w, r, s.Config.Handler)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"stub-token"}`)
			return
		}
		n.Add(1)
		body, ok := routes[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"NotFound","message":"no route"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(body, "{URL}", "http://"+r.Host))
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func stubClient(t *testing.T, s *httptest.Server) *Client {
	t.Helper()
	clk := fakeclock.New()
	c, err := NewClient(ClientConfig{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1",
		GraphURL: s.URL, LoginURL: s.URL, Wait: (&fakeclock.Recorder{Clock: clk}).Wait, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A 200 whose body is not a sound record (truncated, HTML, another record)
// is retried and ends as ErrSourceFailed, a retryable error: the next answer
// may be sound, so the call is deferred, never failed for good.
func TestBrokenJSONIsRetried(t *testing.T) {
	const rec = "/v1.0/communications/callRecords/00000000-0000-4000-8000-000000000001"
	const good = `{"id":"00000000-0000-4000-8000-000000000001","startDateTime":"2026-11-12T14:00:31Z","sessions":[],"sessions@odata.nextLink":"{URL}` + rec + `/sessions?$skiptoken=1"}`
	tests := []struct {
		name   string
		routes map[string]string
		want   string
	}{
		{"record", map[string]string{rec: `{"id":"00000000-0000-4000-8000-000000000001","startDateTime":"2026-11-12T14:00:31Z","sessions":[{"id":`}, "decoding call record"},
		{"record without id", map[string]string{rec: `{"startDateTime":"2026-11-12T14:00:31Z"}`}, "no id"},
		{"sessions page", map[string]string{rec: good, rec + "/sessions": `{"value":[{"id":"s"`, rec + "/participants_v2": `{"value":[]}`}, "decoding page"},
		{"other record", map[string]string{rec: `{"id":"00000000-0000-4000-8000-000000000002","startDateTime":"2026-11-12T14:00:31Z"}`}, `call record "00000000-0000-4000-8000-000000000002"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n := stub(t, tt.routes)
			c := stubClient(t, s)
			before := n.Load()
			_, err := c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
			if !errors.Is(err, ErrSourceFailed) || !IsRetryable(err) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrAuth) {
				t.Fatalf("err %v: want ErrSourceFailed, retryable", err)
			}
			if !strings.Contains(err.Error(), "fetching call 00000000-0000-4000-8000-000000000001: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %q lacks the id or %q", err, tt.want)
			}
			if got, want := n.Load()-before, int32(len(tt.routes)-1+c.retry.MaxAttempts); got != want {
				t.Errorf("%d requests for %d routes, want %d: the bad answer is retried", got, len(tt.routes), want)
			}
		})
	}
}

func TestForeignNextLinkRefused(t *testing.T) {
	other, hits := stub(t, map[string]string{})
	const rec = "/v1.0/communications/callRecords/00000000-0000-4000-8000-000000000001"
	start := `{"id":"00000000-0000-4000-8000-000000000001","startDateTime":"2026-11-12T14:00:31Z",`
	tests := []struct{ name, body string }{
		{"sessions link to the same host, another port", start + `"sessions":[],"sessions@odata.nextLink":"` + other.URL + rec + `/sessions?$skiptoken=1"}`},
		{"participants link to another host", start + `"sessions":[],"participants_v2":[{"id":"p"}],"participants_v2@odata.nextLink":"` + other.URL + rec + `/participants_v2?$skiptoken=1"}`},
		{"other scheme", start + `"sessions":[],"sessions@odata.nextLink":"https://{HOST}` + rec + `/sessions"}`},
		{"relative link", start + `"sessions":[],"sessions@odata.nextLink":"` + rec + `/sessions"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := stub(t, nil)
			body := strings.ReplaceAll(tt.body, "{HOST}", strings.TrimPrefix(s.URL, "http://"))
			s.Config.Handler = wrapRoute(s.Config.Handler, rec, body)
			_, err := stubClient(t, s).Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
			if err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "refusing next link") {
				t.Fatalf("err %v: want the link refused", err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the foreign host got %d requests", hits.Load())
	}
}

// wrapRoute answers path with body and passes other requests to h.
func wrapRoute(h http.Handler, path, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			fmt.Fprint(w, body)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestLoopingNextLinkStops(t *testing.T) {
	const rec = "/v1.0/communications/callRecords/00000000-0000-4000-8000-000000000001"
	s, n := stub(t, map[string]string{
		rec:               `{"id":"00000000-0000-4000-8000-000000000001","startDateTime":"2026-11-12T14:00:31Z","sessions":[],"sessions@odata.nextLink":"{URL}` + rec + `/sessions"}`,
		rec + "/sessions": `{"value":[],"@odata.nextLink":"{URL}` + rec + `/sessions"}`,
	})
	c := stubClient(t, s)
	_, err := c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
	if err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "points to itself") {
		t.Fatalf("err %v", err)
	}
	if n.Load() != 3 { // the record, then the sessions page and participants_v2
		t.Errorf("%d requests, want 3", n.Load())
	}
	// A longer loop runs into the page budget.
	pages := maxPages
	if err := c.getIn(t.Context(), nil, s.URL+rec, &pages, func([]byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "more than 10000 pages") {
		t.Errorf("past the page budget: %v", err)
	}
}

func TestBadSecretIsErrAuth(t *testing.T) {
	var logs bytes.Buffer
	const secret = "s3cr3t-VALUE-never-shown"
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) {
		c.ClientSecret = secret
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	_, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
	if !errors.Is(err, ErrAuth) || IsRetryable(err) {
		t.Fatalf("err %v: want ErrAuth", err)
	}
	for _, want := range []string{"fetching call 00000000-0000-4000-8000-000000000001", "401", "invalid_client",
		"AADSTS7000215: Invalid client secret provided.", "teams.client_secret_env"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error()+logs.String(), secret) {
		t.Error("the secret appears in the error or the logs")
	}
	if strings.Contains(err.Error(), "Trace ID") {
		t.Errorf("err %q carries Entra's trace ids", err)
	}
	if st := e.srv.Stats(); st.TokenErrors != 1 || st.Requests != 0 {
		t.Errorf("token errors %d, Graph requests %d: want 1 and 0", st.TokenErrors, st.Requests)
	}

	e2 := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.TenantID = "other-tenant" })
	if _, err := e2.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "AADSTS90002") {
		t.Errorf("wrong tenant: %v", err)
	}
}

func TestTokenCachedAndRenewed(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	for range 3 {
		if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.srv.Stats(); st.Tokens != 1 || st.Requests != 6 {
		t.Fatalf("tokens %d for %d requests, want 1 for 6", st.Tokens, st.Requests)
	}
	// The server's clock passes the token's expiry: Graph answers 401, and
	// the client gets a new token and succeeds.
	e.clock.Add(2 * time.Hour)
	if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	if st := e.srv.Stats(); st.Tokens != 2 || st.Unauthorized != 1 {
		t.Errorf("tokens %d, unauthorized %d: want 2 and 1", st.Tokens, st.Unauthorized)
	}

	// A token that expires within the renewal margin is not reused.
	short := newEnv(t, graphtest.Options{TokenLifetime: time.Minute}, nil)
	short.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	for range 2 {
		if _, err := short.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
			t.Fatal(err)
		}
	}
	if st := short.srv.Stats(); st.Tokens != 4 || st.Unauthorized != 0 {
		t.Errorf("short-lived tokens: %d tokens, %d unauthorized, want 4 and 0", st.Tokens, st.Unauthorized)
	}
}

func TestGraphRefusesFreshTokenIsErrAuth(t *testing.T) {
	// Each Graph request moves the server's clock past every token's expiry,
	// so even a fresh token is refused: one renewal, then ErrAuth, not
	// endless retries.
	clk := fakeclock.New()
	e := newEnv(t, graphtest.Options{Now: clk.Now, Hook: func(*http.Request) { clk.Add(2 * time.Hour) }}, nil)
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	_, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001")
	if !errors.Is(err, ErrAuth) || IsRetryable(err) {
		t.Fatalf("err %v: want ErrAuth", err)
	}
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.Status != 401 || ae.Code != "InvalidAuthenticationToken" {
		t.Errorf("APIError %+v", ae)
	}
	if st := e.srv.Stats(); st.Tokens != 2 || st.Requests != 2 {
		t.Errorf("tokens %d, requests %d: want 2 and 2", st.Tokens, st.Requests)
	}
}

func TestPacing(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.RequestsPer20s = 20 }) // burst 1, then 19 per 20.5 s
	e.put(t, smallRecord("00000000-0000-4000-8000-000000000001"))
	for range 2 {
		if _, err := e.c.Fetch(t.Context(), "00000000-0000-4000-8000-000000000001"); err != nil {
			t.Fatal(err)
		}
	}
	s := 20500 * time.Millisecond / 19
	got := e.rec.Waits()
	if len(got) != 3 {
		t.Fatalf("waits %v, want 3 for 4 requests", got)
	}
	for _, d := range got {
		if d < s-time.Microsecond || d > s+time.Microsecond {
			t.Errorf("waits %v, want 3 of %v (19 requests per 20.5 s)", got, s)
		}
	}
}

func TestFetchAll(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.Concurrency = 3 })
	var ids []string
	for i := range 8 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		ids = append(ids, id)
		e.put(t, bigRecord(t, id, 2, 2))
	}
	ids = append(ids, "0155ed00-0000-4000-8000-000000000001")
	got := map[string]error{} // written without a lock: -race checks fn runs on one goroutine
	err := e.c.FetchAll(t.Context(), ids, func(id string, rec *CallRecord, err error) error {
		if _, dup := got[id]; dup {
			t.Errorf("%s reported twice", id)
		}
		got[id] = err
		if err == nil && (rec == nil || rec.ID != id || len(rec.Sessions) != 2) {
			t.Errorf("%s: record %+v", id, rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d results for %d ids", len(got), len(ids))
	}
	for _, id := range ids {
		if want := id == "0155ed00-0000-4000-8000-000000000001"; errors.Is(got[id], ErrNotFound) != want || (got[id] != nil) != want {
			t.Errorf("%s: %v", id, got[id])
		}
	}

	// The first error from fn stops the run and is returned.
	stop := errors.New("stop")
	calls := 0
	err = e.c.FetchAll(t.Context(), ids, func(string, *CallRecord, error) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("FetchAll returned %v after %d calls, want stop after 1", err, calls)
	}
}

func TestFetchAllBoundedConcurrency(t *testing.T) {
	// Every request moves the clock a second: the latency the client sees
	// asks for more batches than Concurrency allows.
	const limit = 3
	clk := fakeclock.New()
	e := newEnv(t, graphtest.Options{Now: clk.Now, Hook: func(*http.Request) { clk.Add(time.Second) }},
		func(c *ClientConfig) { c.Concurrency = limit; c.Now = clk.Now })
	e.clock = clk
	var ids []string
	for i := range 200 {
		ids = append(ids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		e.put(t, smallRecord(ids[i]))
	}
	n := 0
	if err := e.c.FetchAll(t.Context(), ids, func(id string, _ *CallRecord, err error) error {
		n++
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if st := e.srv.Stats(); st.MaxBatchesInFlight > limit || st.MaxBatchesInFlight == 0 || n != len(ids) {
		t.Errorf("max batches in flight %d, want at most %d; %d results for %d ids", st.MaxBatchesInFlight, limit, n, len(ids))
	}
}

func TestFetchAllStopsOnCancel(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(c *ClientConfig) { c.Concurrency = 4 })
	var ids []string
	for i := range 200 {
		ids = append(ids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		e.put(t, smallRecord(ids[i]))
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	err := e.c.FetchAll(ctx, ids, func(string, *CallRecord, error) error {
		if calls++; calls == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("FetchAll returned %v after %d calls, want context.Canceled after 3", err, calls)
	}
	// 3 delivered fetches plus at most the records of the batches in
	// flight (up to Concurrency of them), 2 requests each: not all 200.
	if n := e.srv.Stats().Requests; n > (3+4*maxBatchItems)*2 {
		t.Errorf("%d requests after cancelling at the third result", n)
	}

	// A cancel during a wait (here a long 429 pause) ends it at once.
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	e.srv.Throttle(1000, 30*time.Second)
	e.rec.OnWait = func(ctx context.Context, _ time.Duration) error {
		cancel2()
		<-ctx.Done()
		return ctx.Err()
	}
	called := false
	err = e.c.FetchAll(ctx2, ids, func(string, *CallRecord, error) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("cancelled during a wait: %v, fn called %v", err, called)
	}
}

func TestIsRetryable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("fetching call x: %w", err) }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", wrap(&APIError{Status: 429}), true},
		{"500", wrap(&APIError{Status: 500}), true},
		{"502", wrap(&APIError{Status: 502}), true},
		{"503", wrap(&APIError{Status: 503}), true},
		{"504", wrap(&APIError{Status: 504}), true},
		{"400", wrap(&APIError{Status: 400}), false},
		{"403 auth", wrap(fmt.Errorf("%w: %w", ErrAuth, &APIError{Status: 403})), false},
		{"404", wrap(fmt.Errorf("%w: %w", ErrNotFound, &APIError{Status: 404})), false},
		{"network", wrap(&httpretry.TransientError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}), true},
		{"net error", wrap(&net.DNSError{Err: "timeout", IsTimeout: true}), true},
		{"deadline", wrap(context.DeadlineExceeded), true},
		{"canceled", wrap(context.Canceled), false},
		{"token busy, then given up", wrap(fmt.Errorf("%w: %w", ErrAuth, &httpretry.TransientError{Err: errors.New("503"), Token: true})), false},
		{"decode", wrap(errors.New("decoding call record: unexpected end of JSON input")), false},
		{"source failed", wrap(fmt.Errorf("%w: giving up: %w", ErrSourceFailed, errors.New("decoding call record: unexpected end of JSON input"))), true},
		{"throttled", wrap(fmt.Errorf("%w: giving up: %w", ErrThrottled, &APIError{Status: 429})), true},
		{"invalid id", wrap(fmt.Errorf("%w: %q is not a GUID", ErrInvalidID, "..")), false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("%s: IsRetryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	body := readTestdata(t, "error-429.json")
	e := newAPIError(429, http.Header{}, body)
	want := "graph: 429 Too Many Requests: TooManyRequests: Too many requests for this call record. Retry after the number of seconds in the Retry-After header. (request-id 5c8e1f07-b3a2-4d69-8e10-f7d4a29c6b31)"
	if e.Error() != want {
		t.Errorf("Error() = %q\nwant %q", e.Error(), want)
	}
	h := http.Header{}
	h.Set("request-id", "from-header")
	if e := newAPIError(502, h, []byte("<html>bad gateway</html>")); e.Error() != "graph: 502 Bad Gateway (request-id from-header)" {
		t.Errorf("non-JSON body: %q", e.Error())
	}
}

func TestNewClientValidates(t *testing.T) {
	good := ClientConfig{TenantID: "t", ClientID: "c", ClientSecret: "s",
		GraphURL: "https://graph.microsoft.com/", LoginURL: "https://login.microsoftonline.com"}
	tests := []struct {
		name string
		mod  func(*ClientConfig)
		want string // "" means valid
	}{
		{"good", func(*ClientConfig) {}, ""},
		{"no tenant", func(c *ClientConfig) { c.TenantID = "" }, "TenantID"},
		{"tenant with slash", func(c *ClientConfig) { c.TenantID = "a/b" }, "TenantID"},
		{"no client", func(c *ClientConfig) { c.ClientID = " " }, "ClientID"},
		{"no secret", func(c *ClientConfig) { c.ClientSecret = "" }, "ClientSecret"},
		{"relative graph URL", func(c *ClientConfig) { c.GraphURL = "graph.microsoft.com" }, "GraphURL"},
		{"ftp login URL", func(c *ClientConfig) { c.LoginURL = "ftp://x" }, "LoginURL"},
		{"graph URL with query", func(c *ClientConfig) { c.GraphURL = "https://g/?x=1" }, "GraphURL"},
		{"negative concurrency", func(c *ClientConfig) { c.Concurrency = -1 }, "Concurrency"},
		{"negative attempts", func(c *ClientConfig) { c.MaxAttempts = -1 }, "MaxAttempts"},
		{"negative rate", func(c *ClientConfig) { c.RequestsPer20s = -5 }, "RequestsPer20s"},
	}
	for _, tt := range tests {
		cfg := good
		tt.mod(&cfg)
		c, err := NewClient(cfg)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err %v, want one naming %s", tt.name, err, tt.want)
		case tt.want == "":
			if c.concurrency != 8 || c.retry.MaxAttempts != 6 || math.Abs(c.pacer.rate-1480/20.5) > 1e-9 {
				t.Errorf("defaults: concurrency %d attempts %d rate %v", c.concurrency, c.retry.MaxAttempts, c.pacer.rate)
			}
			if got := c.tokens.conf.Scopes[0]; got != "https://graph.microsoft.com/.default" {
				t.Errorf("scope %q", got)
			}
			if got := c.tokens.conf.TokenURL; got != "https://login.microsoftonline.com/t/oauth2/v2.0/token" {
				t.Errorf("token URL %q", got)
			}
		}
	}
	c, _ := NewClient(good)
	if _, err := c.Fetch(t.Context(), ""); err == nil {
		t.Error("empty id accepted")
	}
}
