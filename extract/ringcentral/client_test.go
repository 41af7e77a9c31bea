package ringcentral

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callstats/extract/ringcentral/rctest"
	"callstats/internal/fakeclock"
	"callstats/internal/httpretry"
)

type env struct {
	srv   *rctest.Server
	c     *Client
	clock *fakeclock.Clock
	rec   *fakeclock.Recorder
}

// newEnv starts a fake and a client for it sharing one fake clock, with
// deterministic jitter (always the full backoff).
func newEnv(t *testing.T, opts rctest.Options, mod func(*ClientConfig)) *env {
	t.Helper()
	clk := fakeclock.New()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	srv := rctest.NewServer(opts)
	t.Cleanup(srv.Close)
	rec := &fakeclock.Recorder{Clock: clk}
	cfg := ClientConfig{
		ServerURL: srv.URL, MediaURL: srv.MediaURL,
		ClientID: "rc-client-1", ClientSecret: "rc-secret-1", JWT: "rc-jwt-1",
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

var day = time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)

// addCalls adds n calls on day, R000 the newest, and returns their ids.
func (e *env) addCalls(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	var raws [][]byte
	for i := range n {
		id := fmt.Sprintf("R%03d", i)
		ids = append(ids, id)
		raws = append(raws, e.srv.Record(rctest.Call{ID: id, Start: day.Add(23*time.Hour - time.Duration(i)*time.Minute), Duration: 90 * time.Second}))
	}
	if err := e.srv.Add(raws...); err != nil {
		t.Fatal(err)
	}
	return ids
}

func (e *env) add(t *testing.T, c rctest.Call) {
	t.Helper()
	if err := e.srv.Add(e.srv.Record(c)); err != nil {
		t.Fatal(err)
	}
}

// collect walks [from, to) and returns every record fn was given, in order.
func (e *env) collect(t *testing.T, from, to time.Time) []Record {
	t.Helper()
	var got []Record
	err := e.c.CallLog(context.Background(), from, to, func(rs []Record) error {
		got = append(got, rs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func ids(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func callLogRequests(st rctest.Stats) []rctest.Request {
	var out []rctest.Request
	for _, r := range st.Log {
		if !r.Media {
			out = append(out, r)
		}
	}
	return out
}

func TestCallLogWalksAllPages(t *testing.T) {
	e := newEnv(t, rctest.Options{MaxPerPage: 10}, nil)
	want := e.addCalls(t, 25)
	e.add(t, rctest.Call{ID: "other-day", Start: day.Add(-time.Hour)}) // outside the window

	got := e.collect(t, day, day.AddDate(0, 0, 1))
	if !slices.Equal(ids(got), want) {
		t.Errorf("records %v, want %v (newest first, each once)", ids(got), want)
	}
	reqs := callLogRequests(e.srv.Stats())
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 pages", len(reqs))
	}
	for i, r := range reqs {
		q := r.Query
		if q.Get("view") != "Detailed" || q.Get("dateFrom") != "2026-11-12T00:00:00.000Z" ||
			q.Get("dateTo") != "2026-11-13T00:00:00.000Z" || q.Get("page") != fmt.Sprint(i+1) {
			t.Errorf("request %d: query %v", i, q)
		}
		if !strings.HasSuffix(r.Path, "/call-log") {
			t.Errorf("request %d: path %s", i, r.Path)
		}
	}
	if got := reqs[0].Query.Get("perPage"); got != "1000" {
		t.Errorf("perPage %q, want 1000", got)
	}
	if got := reqs[0].Path; got != "/restapi/v1.0/account/~/call-log" {
		t.Errorf("first request path %s, want the company call log of ~", got)
	}
}

// TestCallLogDatesInUTC: dateFrom and dateTo are always sent, as UTC with
// milliseconds and Z, whatever the zone of the times given.
func TestCallLogDatesInUTC(t *testing.T) {
	e := newEnv(t, rctest.Options{MaxPerPage: 2}, nil)
	e.addCalls(t, 5)
	est := time.FixedZone("EST", -5*3600)
	from := time.Date(2026, 11, 11, 19, 0, 0, 0, est) // 2026-11-12T00:00Z
	to := time.Date(2026, 11, 12, 19, 0, 0, 0, est)
	if got := e.collect(t, from, to); len(got) != 5 {
		t.Fatalf("%d records, want 5", len(got))
	}
	format := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	reqs := callLogRequests(e.srv.Stats())
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		for _, k := range []string{"dateFrom", "dateTo"} {
			if v := r.Query.Get(k); !format.MatchString(v) {
				t.Errorf("request %d: %s=%q, not UTC like 2026-11-12T00:00:00.000Z", i, k, v)
			}
		}
	}
	if q := reqs[0].Query; q.Get("dateFrom") != "2026-11-12T00:00:00.000Z" || q.Get("dateTo") != "2026-11-13T00:00:00.000Z" {
		t.Errorf("first request dateFrom=%s dateTo=%s", q.Get("dateFrom"), q.Get("dateTo"))
	}
}

// TestCallLogSlicesByDay: a window of two and a half days is walked a day at
// a time.
func TestCallLogSlicesByDay(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	e.add(t, rctest.Call{ID: "a", Start: day.Add(-36 * time.Hour)})
	e.add(t, rctest.Call{ID: "b", Start: day.Add(-12 * time.Hour)})
	e.add(t, rctest.Call{ID: "c", Start: day.Add(6 * time.Hour)})
	got := e.collect(t, day.Add(-48*time.Hour), day.Add(12*time.Hour))
	if !slices.Equal(ids(got), []string{"a", "b", "c"}) {
		t.Errorf("records %v", ids(got))
	}
	var spans []string
	for _, r := range callLogRequests(e.srv.Stats()) {
		spans = append(spans, r.Query.Get("dateFrom")+".."+r.Query.Get("dateTo"))
	}
	want := []string{
		"2026-11-10T00:00:00.000Z..2026-11-11T00:00:00.000Z",
		"2026-11-11T00:00:00.000Z..2026-11-12T00:00:00.000Z",
		"2026-11-12T00:00:00.000Z..2026-11-12T12:00:00.000Z",
	}
	if !slices.Equal(spans, want) {
		t.Errorf("walked %v, want %v", spans, want)
	}
	if err := e.c.CallLog(context.Background(), day, day, func([]Record) error { return nil }); err == nil {
		t.Error("an empty window is not an error")
	}
}

// TestCallLogPageShift: calls arriving between page requests shift the later
// pages; no record present at the start is lost, none is given twice.
func TestCallLogPageShift(t *testing.T) {
	var e *env
	var once sync.Once
	e = newEnv(t, rctest.Options{MaxPerPage: 3, Hook: func(r *http.Request) {
		if r.URL.Query().Get("page") != "2" {
			return
		}
		once.Do(func() {
			// x-new is newer than every record: it lands on page 1, already
			// read. x-mid lands between R003 and R004, ahead of the walk.
			// Both push the records from page 1's end onto page 2.
			err := e.srv.Add(
				e.srv.Record(rctest.Call{ID: "x-new", Start: day.Add(23*time.Hour + time.Minute)}),
				e.srv.Record(rctest.Call{ID: "x-mid", Start: day.Add(23*time.Hour - 3*time.Minute - 30*time.Second)}),
			)
			if err != nil {
				t.Error(err)
			}
		})
	}}, nil)
	orig := e.addCalls(t, 9)

	got := e.collect(t, day, day.AddDate(0, 0, 1))
	want := []string{"R000", "R001", "R002", "R003", "x-mid", "R004", "R005", "R006", "R007", "R008"}
	if !slices.Equal(ids(got), want) {
		t.Errorf("records %v, want %v", ids(got), want)
	}
	st := e.srv.Stats()
	if st.RecordsServed != 11 { // 3 + 3 + 3 + 2: R002 was served twice
		t.Errorf("server served %d records, want 11 (the shift did not happen?)", st.RecordsServed)
	}
	for _, id := range orig {
		if n := slices.Index(ids(got), id); n < 0 {
			t.Errorf("%s lost", id)
		}
	}
	// The next run reads x-new.
	next := e.collect(t, day, day.AddDate(0, 0, 1))
	if !slices.Contains(ids(next), "x-new") || len(next) != 11 {
		t.Errorf("second walk %v, want all 11 records", ids(next))
	}
}

// TestCallLogLatestWins: a record that changed during the walk and came
// round again on a shifted page is given again (newer); an unchanged repeat
// is not.
func TestCallLogLatestWins(t *testing.T) {
	var e *env
	var once sync.Once
	t1 := day.Add(23*time.Hour + 5*time.Minute)
	t2 := t1.Add(20 * time.Minute)
	e = newEnv(t, rctest.Options{MaxPerPage: 3, Hook: func(r *http.Request) {
		if r.URL.Query().Get("page") != "2" {
			return
		}
		once.Do(func() {
			err := e.srv.Add(
				e.srv.Record(rctest.Call{ID: "x0", Start: day.Add(23*time.Hour + 2*time.Minute)}),
				e.srv.Record(rctest.Call{ID: "x1", Start: day.Add(23*time.Hour + time.Minute)}),
			)
			if err == nil {
				err = e.srv.Update(e.srv.Record(rctest.Call{ID: "R002", Start: day.Add(23*time.Hour - 2*time.Minute),
					Duration: 5 * time.Minute, Result: "Accepted", LastModified: t2}))
			}
			if err != nil {
				t.Error(err)
			}
		})
	}}, nil)
	e.addCalls(t, 6)
	e.add(t, rctest.Call{ID: "R002", Start: day.Add(23*time.Hour - 2*time.Minute), Result: ResultInProgress, LastModified: t1})

	got := e.collect(t, day, day.AddDate(0, 0, 1))
	// Page 1: R000 R001 R002(In Progress). Page 2 after the shift: R001 (same,
	// dropped) R002 (newer: given again) R003. Page 3: R004 R005.
	want := []string{"R000", "R001", "R002", "R002", "R003", "R004", "R005"}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("records %v, want %v", ids(got), want)
	}
	if got[2].Result != ResultInProgress || got[3].Result != "Accepted" || !got[3].LastModifiedTime.Equal(t2) {
		t.Errorf("R002 given as %q then %q (%v); want In Progress then the final copy", got[2].Result, got[3].Result, got[3].LastModifiedTime)
	}
	// Keeping the latest lastModifiedTime per id, as the consumer does.
	latest := map[string]Record{}
	for _, r := range got {
		if old, ok := latest[r.ID]; !ok || r.LastModifiedTime.After(old.LastModifiedTime) {
			latest[r.ID] = r
		}
	}
	if r := latest["R002"]; r.Result != "Accepted" || r.Seconds() != 300 {
		t.Errorf("latest R002: %+v", latest["R002"])
	}
}

// TestCallLogInProgressThenFinal: a record read while In Progress is read
// again, final, by the next run's walk over the same window.
func TestCallLogInProgressThenFinal(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	start := day.Add(23*time.Hour + 59*time.Minute)
	e.add(t, rctest.Call{ID: "live", Start: start, Result: ResultInProgress, LastModified: start.Add(time.Second)})
	got := e.collect(t, day, day.AddDate(0, 0, 1))
	if len(got) != 1 || got[0].Result != ResultInProgress {
		t.Fatalf("first run %+v", got)
	}
	if err := e.srv.Update(e.srv.Record(rctest.Call{ID: "live", Start: start, Duration: 3 * time.Minute,
		Result: "Missed", LastModified: start.Add(4 * time.Minute)})); err != nil {
		t.Fatal(err)
	}
	got2 := e.collect(t, day, day.AddDate(0, 0, 1))
	if len(got2) != 1 || got2[0].Result != "Missed" || !got2[0].LastModifiedTime.After(got[0].LastModifiedTime) {
		t.Errorf("second run %+v", got2)
	}
}

// TestCallLogHeavyPacing: a 55-page walk against the Heavy limit (10 / 60 s)
// gets no 429: the client waits a window each time Remaining reaches 0.
func TestCallLogHeavyPacing(t *testing.T) {
	e := newEnv(t, rctest.Options{MaxPerPage: 10}, nil)
	want := e.addCalls(t, 550)
	got := e.collect(t, day, day.AddDate(0, 0, 1))
	if !slices.Equal(ids(got), want) {
		t.Errorf("%d records, want %d each once", len(got), len(want))
	}
	st := e.srv.Stats()
	if st.Requests != 55 || st.Throttled != 0 {
		t.Errorf("%d requests with %d answered 429, want 55 and none", st.Requests, st.Throttled)
	}
	if st.MaxInWindow != 10 {
		t.Errorf("at most %d requests in a window, want 10 (the limit, used fully)", st.MaxInWindow)
	}
	if st.Tokens != 1 {
		t.Errorf("%d logins for 55 requests, want 1 (cached token)", st.Tokens)
	}
	// Remaining hits 0 after requests 10, 20, 30, 40 and 50.
	waits := e.rec.Waits()
	if len(waits) != 5 || e.rec.Total() != 5*time.Minute {
		t.Errorf("waits %v (total %v), want 5 x 60s", waits, e.rec.Total())
	}
	for _, w := range waits {
		if w != time.Minute {
			t.Errorf("wait %v, want 60s", w)
		}
	}
}

// TestCallLogRetryAfter: after a 429 the client sends nothing until the
// penalty has passed: Retry-After, or 30 s when absent (doubling while such
// 429s repeat).
func TestCallLogRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      rctest.Options
		waits     []time.Duration
		throttled int
	}{
		{"Retry-After 60", rctest.Options{}, []time.Duration{time.Minute}, 1},
		{"absent: 30 s", rctest.Options{Penalty: 30 * time.Second, OmitRetryAfter: true}, []time.Duration{30 * time.Second}, 1},
		// 30 s is too short for a 45 s penalty: the request restarts it (until
		// t+75 s); the next wait doubles to 60 s.
		{"absent, repeated: doubles", rctest.Options{Penalty: 45 * time.Second, OmitRetryAfter: true},
			[]time.Duration{30 * time.Second, time.Minute}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts, nil)
			e.addCalls(t, 3)
			t0 := e.clock.Now()
			e.srv.Consume(10) // another client of the same user used the quota
			got := e.collect(t, day, day.AddDate(0, 0, 1))
			if len(got) != 3 {
				t.Fatalf("%d records, want 3", len(got))
			}
			if w := e.rec.Waits(); !slices.Equal(w, tc.waits) {
				t.Errorf("waits %v, want %v", w, tc.waits)
			}
			st := e.srv.Stats()
			if st.Throttled != tc.throttled || st.Requests != tc.throttled+1 {
				t.Errorf("%d requests, %d throttled; want %d and %d", st.Requests, st.Throttled, tc.throttled+1, tc.throttled)
			}
			// Each request after a 429 came only when the client's wait was over.
			at := t0
			for i, r := range st.Log {
				if r.Time.Before(at) {
					t.Errorf("request %d at %v, before %v", i, r.Time.Sub(t0), at.Sub(t0))
				}
				if i < len(tc.waits) {
					at = r.Time.Add(tc.waits[i])
				}
			}
		})
	}
}

// TestNoRequestDuringPenalty: while a penalty runs, no request goes out, not
// even one of another goroutine (a recording download).
func TestNoRequestDuringPenalty(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	e.addCalls(t, 2)
	e.srv.SetRecording("rec-1", "audio/mpeg", []byte("ID3"))
	e.srv.Consume(10)
	t0 := e.clock.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		if got := e.collect(t, day, day.AddDate(0, 0, 1)); len(got) != 2 {
			t.Errorf("%d records", len(got))
		}
	})
	wg.Go(func() {
		body, _, err := e.c.Recording(context.Background(), e.srv.ContentURI("rec-1"))
		if err != nil {
			t.Error(err)
			return
		}
		body.Close()
	})
	wg.Wait()
	st := e.srv.Stats()
	if st.Throttled != 1 || st.Requests != 3 {
		t.Fatalf("%d requests, %d throttled; want 3 and 1", st.Requests, st.Throttled)
	}
	for i, r := range st.Log[1:] {
		if r.Time.Before(st.Log[0].Time.Add(time.Minute)) {
			t.Errorf("request %d sent %v after the 429, during the 60 s penalty", i+1, r.Time.Sub(t0))
		}
	}
}

func TestTokenRenewal(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	e.addCalls(t, 1)
	for range 3 {
		e.collect(t, day, day.AddDate(0, 0, 1))
	}
	if n := e.srv.Stats().Tokens; n != 1 {
		t.Errorf("%d logins for 3 walks, want 1", n)
	}
	e.clock.Add(59 * time.Minute) // within tokenEarlyExpiry of the expiry
	e.collect(t, day, day.AddDate(0, 0, 1))
	if n := e.srv.Stats().Tokens; n != 2 {
		t.Errorf("%d logins after an hour, want 2", n)
	}
	// A revoked token: one 401, one new login, the request again.
	e.srv.RevokeTokens()
	if got := e.collect(t, day, day.AddDate(0, 0, 1)); len(got) != 1 {
		t.Errorf("%d records after the revocation", len(got))
	}
	if st := e.srv.Stats(); st.Tokens != 3 || st.Unauthorized != 1 {
		t.Errorf("%d logins, %d 401s; want 3 and 1", st.Tokens, st.Unauthorized)
	}
}

func TestBadCredentialsIsErrAuth(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*ClientConfig)
		code string
	}{
		{"wrong secret", func(c *ClientConfig) { c.ClientSecret = "not-the-secret" }, "OAU-153"},
		{"wrong client", func(c *ClientConfig) { c.ClientID = "someone" }, "OAU-153"},
		{"wrong JWT", func(c *ClientConfig) { c.JWT = "expired.jwt.value" }, "OAU-211"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, rctest.Options{}, tc.mod)
			err := e.c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func([]Record) error {
				t.Error("fn called")
				return nil
			})
			if !errors.Is(err, ErrAuth) || IsRetryable(err) {
				t.Fatalf("error %v: want ErrAuth, not retryable", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.code) || strings.Contains(msg, "not-the-secret") || strings.Contains(msg, "expired.jwt.value") {
				t.Errorf("message %q: want the code %s and no secret", msg, tc.code)
			}
			st := e.srv.Stats()
			if st.TokenErrors != 1 || st.Requests != 0 {
				t.Errorf("%d token attempts, %d API requests; want 1 and 0", st.TokenErrors, st.Requests)
			}
		})
	}
}

// stub serves fixed answers by path and counts requests; the token endpoint
// always succeeds.
func stub(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/restapi/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"tok","token_type":"bearer","expires_in":3600}`)
			return
		}
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func stubClient(t *testing.T, s *httptest.Server, mod func(*ClientConfig)) (*Client, *fakeclock.Recorder) {
	t.Helper()
	rec := &fakeclock.Recorder{Clock: fakeclock.New()}
	cfg := ClientConfig{ServerURL: s.URL, ClientID: "id", ClientSecret: "secret", JWT: "jwt",
		Wait: rec.Wait, Now: rec.Clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.jitter = func() float64 { return 1 }
	return c, rec
}

func TestStatusHandling(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		auth      bool
		retryable bool
		attempts  int32
	}{
		{403, `{"errorCode":"CMN-408","message":"In order to call this API endpoint, user needs to have [ReadCallLog] permission"}`, true, false, 1},
		{401, `{"errorCode":"TokenInvalid","message":"Token not found"}`, true, false, 2},
		{400, `{"errorCode":"CMN-101","message":"Parameter [dateFrom] value is invalid"}`, false, false, 1},
		{404, `{"errorCode":"CMN-102","message":"Resource for parameter [accountId] is not found"}`, false, false, 1},
		{503, `{"errorCode":"CMN-211","message":"Service Temporary Unavailable"}`, false, true, 3},
		{500, `not json`, false, true, 3},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			s, n := stub(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c, rec := stubClient(t, s, func(c *ClientConfig) { c.MaxAttempts = 3 })
			err := c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrAuth) != tc.auth || IsRetryable(err) != tc.retryable {
				t.Errorf("%v: ErrAuth %v, retryable %v; want %v, %v", err, errors.Is(err, ErrAuth), IsRetryable(err), tc.auth, tc.retryable)
			}
			ae, ok := errors.AsType[*APIError](err)
			if !ok || ae.Status != tc.status {
				t.Errorf("%v: no APIError with status %d", err, tc.status)
			}
			if got := n.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
			if tc.retryable {
				if w := rec.Waits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second}) {
					t.Errorf("backoff %v, want 1s 2s", w)
				}
			}
		})
	}
}

func TestServerErrorRetried(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	e.addCalls(t, 2)
	e.srv.FailNext(2, http.StatusServiceUnavailable)
	if got := e.collect(t, day, day.AddDate(0, 0, 1)); len(got) != 2 {
		t.Fatalf("%d records", len(got))
	}
	if st := e.srv.Stats(); st.Failed != 2 || st.Requests != 3 {
		t.Errorf("%d failed of %d requests; want 2 of 3", st.Failed, st.Requests)
	}
}

func TestNextPageChecks(t *testing.T) {
	page := func(next string) string {
		return `{"records":[{"id":"a","startTime":"2026-11-12T10:00:00.000Z"}],"navigation":{"nextPage":{"uri":"` + next + `"}}}`
	}
	t.Run("foreign host", func(t *testing.T) {
		s, n := stub(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, page("https://evil.example/restapi/v1.0/account/~/call-log?page=2"))
		})
		c, _ := stubClient(t, s, nil)
		err := c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "refusing next page") || n.Load() != 1 {
			t.Errorf("error %v after %d requests; want a refusal after 1", err, n.Load())
		}
	})
	t.Run("itself", func(t *testing.T) {
		var s *httptest.Server
		s, _ = stub(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, page(s.URL+r.URL.RequestURI()))
		})
		c, _ := stubClient(t, s, nil)
		err := c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "current page") {
			t.Errorf("error %v; want a loop refused", err)
		}
	})
	t.Run("without dates", func(t *testing.T) {
		var s *httptest.Server
		var queries []string
		var mu sync.Mutex
		s, _ = stub(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			queries = append(queries, r.URL.Query().Get("dateFrom")+"|"+r.URL.Query().Get("dateTo")+"|"+r.URL.Query().Get("view"))
			mu.Unlock()
			if r.URL.Query().Get("page") == "2" {
				io.WriteString(w, `{"records":[]}`)
				return
			}
			io.WriteString(w, page(s.URL+"/restapi/v1.0/account/123/call-log?page=2"))
		})
		c, _ := stubClient(t, s, nil)
		if err := c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func([]Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		want := "2026-11-12T00:00:00.000Z|2026-11-13T00:00:00.000Z|Detailed"
		if len(queries) != 2 || queries[1] != want {
			t.Errorf("queries %v; the second must carry %s", queries, want)
		}
	})
}

// TestInvalidRecordSkipped: a record that cannot be read is skipped (and
// logged); the others of its page are given.
func TestInvalidRecordSkipped(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	e.addCalls(t, 2)
	if err := e.srv.Add([]byte(`{"id":"bad","startTime":"2026-11-12T22:59:30.000Z","duration":"long"}`)); err != nil {
		t.Fatal(err)
	}
	if got := e.collect(t, day, day.AddDate(0, 0, 1)); !slices.Equal(ids(got), []string{"R000", "R001"}) {
		t.Errorf("records %v", ids(got))
	}
}

func TestCallLogStops(t *testing.T) {
	e := newEnv(t, rctest.Options{MaxPerPage: 2}, nil)
	e.addCalls(t, 6)
	stop := errors.New("stop")
	err := e.c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func([]Record) error { return stop })
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "2026-11-12T00:00:00.000Z") {
		t.Errorf("error %v, want fn's error with the window", err)
	}
	if n := e.srv.Stats().Requests; n != 1 {
		t.Errorf("%d requests after fn failed on the first page", n)
	}

	// Cancelled while waiting out a penalty.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e = newEnv(t, rctest.Options{}, func(c *ClientConfig) {
		c.Wait = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	})
	e.addCalls(t, 1)
	e.srv.Consume(10) // the first request is refused with a penalty to wait out
	err = e.c.CallLog(ctx, day, day.AddDate(0, 0, 1), func([]Record) error { return nil })
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if n := e.srv.Stats().Requests; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRecording(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	mp3, wav := []byte("ID3\x04\x00fake mp3"), []byte("RIFF\x24\x00\x00\x00WAVEfmt ")
	e.srv.SetRecording("3318904455", "audio/mpeg", mp3)
	e.srv.SetRecording("3318904456", "audio/wav", wav)
	for _, tc := range []struct {
		id   string
		data []byte
		ext  string
	}{{"3318904455", mp3, "mp3"}, {"3318904456", wav, "wav"}} {
		body, ct, err := e.c.Recording(context.Background(), e.srv.ContentURI(tc.id))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		body.Close()
		if err != nil || string(got) != string(tc.data) {
			t.Errorf("%s: body %q, %v", tc.id, got, err)
		}
		if ext, err := RecordingExt(ct); ext != tc.ext || err != nil {
			t.Errorf("%s: Content-Type %q -> %q, %v; want %s", tc.id, ct, ext, err, tc.ext)
		}
	}

	// Not ready: ErrNotReady, for a later run; not retried now.
	uri := e.srv.ContentURI("3318904457")
	_, _, err := e.c.Recording(context.Background(), uri)
	if !errors.Is(err, ErrNotReady) || IsRetryable(err) || !strings.Contains(err.Error(), uri) {
		t.Errorf("error %v, want ErrNotReady naming the URI", err)
	}
	st := e.srv.Stats()
	if st.Requests != 3 || st.NotFound != 1 {
		t.Errorf("%d requests, %d 404s; want 3 and 1 (no retry)", st.Requests, st.NotFound)
	}
	e.srv.SetRecording("3318904457", "audio/mpeg", mp3)
	body, _, err := e.c.Recording(context.Background(), uri)
	if err != nil {
		t.Fatalf("ready on a later run: %v", err)
	}
	body.Close()
	for _, r := range e.srv.Stats().Log {
		if !r.Media {
			t.Errorf("request %s not on the media host", r.Path)
		}
	}
}

func TestRecordingForeignHostRefused(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	other, n := stub(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request with token %q sent to a foreign host", r.Header.Get("Authorization"))
	})
	for _, uri := range []string{other.URL + "/restapi/v1.0/account/1/recording/2/content", "::not a url", "/relative/content"} {
		if _, _, err := e.c.Recording(context.Background(), uri); err == nil || IsRetryable(err) {
			t.Errorf("%s: error %v, want a permanent refusal", uri, err)
		}
	}
	if n.Load() != 0 || e.srv.Stats().Tokens != 0 {
		t.Error("something was sent")
	}
}

func TestRecordingExt(t *testing.T) {
	for _, tc := range []struct{ ct, ext string }{
		{"audio/mpeg", "mp3"}, {"audio/mpeg; charset=binary", "mp3"}, {"audio/wav", "wav"},
		{"audio/x-wav", "wav"}, {"Audio/WAV", "wav"}, {"application/json", ""}, {"", ""}, {"audio/ogg", ""},
	} {
		ext, err := RecordingExt(tc.ct)
		if ext != tc.ext || (err == nil) != (tc.ext != "") {
			t.Errorf("RecordingExt(%q) = %q, %v; want %q", tc.ct, ext, err, tc.ext)
		}
	}
}

func TestWindows(t *testing.T) {
	now := time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)
	d := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		days     []time.Time
		lookback time.Duration
		want     []string
	}{
		{"lookback only", nil, 24 * time.Hour, []string{"2026-11-12T02:00:00.000Z..2026-11-13T02:00:00.000Z"}},
		{"yesterday merges with the lookback", []time.Time{d("2026-11-12T18:00:00Z")}, 24 * time.Hour,
			[]string{"2026-11-12T00:00:00.000Z..2026-11-13T02:00:00.000Z"}},
		{"older days apart, adjacent days merged, repeats once", []time.Time{
			d("2026-11-09T10:00:00Z"), d("2026-11-05T01:00:00Z"), d("2026-11-10T23:00:00Z"), d("2026-11-09T00:00:00Z")}, 24 * time.Hour,
			[]string{"2026-11-05T00:00:00.000Z..2026-11-06T00:00:00.000Z", "2026-11-09T00:00:00.000Z..2026-11-11T00:00:00.000Z",
				"2026-11-12T02:00:00.000Z..2026-11-13T02:00:00.000Z"}},
		{"today is cut at now; local times are their UTC day", []time.Time{time.Date(2026, 11, 12, 23, 0, 0, 0, time.FixedZone("EST", -5*3600))}, 0,
			[]string{"2026-11-13T00:00:00.000Z..2026-11-13T02:00:00.000Z"}},
		{"future day dropped", []time.Time{d("2026-11-15T00:00:00Z")}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, w := range Windows(tc.days, now, tc.lookback) {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Windows = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ErrAuth, false},
		{fmt.Errorf("x: %w", ErrNotReady), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Status: 400}, false},
		{&APIError{Status: 404}, false},
		{fmt.Errorf("page: %w", &httpretry.TransientError{Err: io.ErrUnexpectedEOF}), true},
		{errors.New("decoding call-log page: not a JSON object"), false},
	} {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestAPIErrorFromBodies(t *testing.T) {
	h := http.Header{"Rcrequestid": {"5f1c"}}
	e := newAPIError(429, h, readTestdata(t, "error-429.json"))
	if e.Code != "CMN-301" || e.Message != "Request rate exceeded" || e.RequestID != "5f1c" {
		t.Errorf("sample 429: %+v", e)
	}
	if got := e.Error(); got != "ringcentral: 429 Too Many Requests: CMN-301: Request rate exceeded (request-id 5f1c)" {
		t.Errorf("Error() = %q", got)
	}
	o := newAPIError(400, http.Header{}, []byte(`{"error":"invalid_grant","error_description":"Invalid token"}`))
	if o.Code != "invalid_grant" || o.Message != "Invalid token" {
		t.Errorf("OAuth body: %+v", o)
	}
	n := newAPIError(502, http.Header{}, []byte(`<html>`))
	if n.Code != "" || n.Error() != "ringcentral: 502 Bad Gateway" {
		t.Errorf("HTML body: %+v %q", n, n.Error())
	}
}

func TestNewClientValidates(t *testing.T) {
	ok := ClientConfig{ServerURL: "https://platform.ringcentral.com/", ClientID: "i", ClientSecret: "s", JWT: "j"}
	c, err := NewClient(ok)
	if err != nil {
		t.Fatal(err)
	}
	if c.media.String() != "https://media.ringcentral.com" || c.base != "https://platform.ringcentral.com" || c.perPage != 1000 {
		t.Errorf("defaults: media %s, base %s, perPage %d", c.media, c.base, c.perPage)
	}
	dev := ok
	dev.ServerURL = "https://platform.devtest.ringcentral.com"
	if c, _ := NewClient(dev); c.media.Host != "media.devtest.ringcentral.com" {
		t.Errorf("devtest media host %s", c.media.Host)
	}
	for name, mod := range map[string]func(*ClientConfig){
		"ClientID":     func(c *ClientConfig) { c.ClientID = " " },
		"ClientSecret": func(c *ClientConfig) { c.ClientSecret = "" },
		"JWT":          func(c *ClientConfig) { c.JWT = "" },
		"ServerURL":    func(c *ClientConfig) { c.ServerURL = "platform.ringcentral.com" },
		"MediaURL":     func(c *ClientConfig) { c.MediaURL = "ftp://media" },
		"PerPage":      func(c *ClientConfig) { c.PerPage = 1001 },
		"MaxAttempts":  func(c *ClientConfig) { c.MaxAttempts = -1 },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := NewClient(cfg); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming it", name, err)
		}
	}
}

// TestPacingFollowsRemaining: when another client of the same user has used
// most of the quota, the client stops when X-Rate-Limit-Remaining reaches 0,
// well before its own count would.
func TestPacingFollowsRemaining(t *testing.T) {
	e := newEnv(t, rctest.Options{MaxPerPage: 1}, nil)
	e.addCalls(t, 5)
	e.srv.Consume(7)
	if got := e.collect(t, day, day.AddDate(0, 0, 1)); len(got) != 5 {
		t.Fatalf("%d records", len(got))
	}
	st := e.srv.Stats()
	if st.Throttled != 0 {
		t.Errorf("%d answers 429", st.Throttled)
	}
	if w := e.rec.Waits(); !slices.Equal(w, []time.Duration{time.Minute}) {
		t.Errorf("waits %v, want one window after the third request", w)
	}
	if t0 := st.Log[0].Time; !st.Log[2].Time.Equal(t0) || st.Log[3].Time.Sub(t0) != time.Minute {
		t.Errorf("requests at %v", []time.Time{st.Log[0].Time, st.Log[2].Time, st.Log[3].Time})
	}
}

// TestPacingWithoutHeaders: answers without rate-limit headers are paced by
// the client's own count: 10 requests per 60 s.
func TestPacingWithoutHeaders(t *testing.T) {
	var s *httptest.Server
	var times []time.Time
	var mu sync.Mutex
	rec := &fakeclock.Recorder{Clock: fakeclock.New()}
	s, _ = stub(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, rec.Clock.Now())
		mu.Unlock()
		n := 0
		fmt.Sscan(r.URL.Query().Get("page"), &n)
		next := ""
		if n < 25 {
			next = fmt.Sprintf(`,"navigation":{"nextPage":{"uri":"%s/restapi/v1.0/account/~/call-log?view=Detailed&dateFrom=x&dateTo=y&page=%d"}}`, s.URL, n+1)
		}
		fmt.Fprintf(w, `{"records":[{"id":"r%d","startTime":"2026-11-12T10:00:00Z"}]%s}`, n, next)
	})
	c, err := NewClient(ClientConfig{ServerURL: s.URL, ClientID: "id", ClientSecret: "secret", JWT: "jwt",
		Wait: rec.Wait, Now: rec.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := c.CallLog(context.Background(), day, day.AddDate(0, 0, 1), func(rs []Record) error { n += len(rs); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 25 || len(times) != 25 {
		t.Fatalf("%d records in %d requests", n, len(times))
	}
	for i := 10; i < len(times); i++ {
		if d := times[i].Sub(times[i-10]); d < time.Minute {
			t.Errorf("requests %d and %d only %v apart: 11 within a minute", i-10, i, d)
		}
	}
	if w := rec.Waits(); !slices.Equal(w, []time.Duration{time.Minute, time.Minute}) {
		t.Errorf("waits %v, want 2 x 60s", w)
	}
}
