package graphtest

import (
	"bytes"
	"callstats/internal/fakeclock"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type batchItem struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// postBatch posts body to s's $batch with tok and returns the status and,
// for a 200, the responses by id.
func postBatch(t *testing.T, s *Server, tok, body string) (int, map[string]batchItem) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1.0/$batch", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	var a struct {
		Responses []batchItem `json:"responses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	out := map[string]batchItem{}
	for _, r := range a.Responses {
		out[r.ID] = r
	}
	return resp.StatusCode, out
}

// requests is a $batch body of GETs of urls, ids "1", "2"...
func requests(urls ...string) string {
	var items []string
	for i, u := range urls {
		items = append(items, fmt.Sprintf(`{"id":"%d","method":"GET","url":%q}`, i+1, u))
	}
	return `{"requests":[` + strings.Join(items, ",") + `]}`
}

func TestBatchDispatchesEachRequest(t *testing.T) {
	clk := fakeclock.New()
	s := NewServer(Options{Now: clk.Now, ParticipantsPageSize: 2})
	defer s.Close()
	const a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	for _, id := range []string{a, b} {
		if err := s.Put(makeRecord(id, 1, 2, 3)); err != nil {
			t.Fatal(err)
		}
	}
	s.NotReady(b, 1)
	tok := token(t, s)
	status, got := postBatch(t, s, tok, requests(
		"/communications/callRecords/"+a+"?$expand=sessions($expand=segments)",
		"/communications/callRecords/"+b,
		"communications/callRecords/"+a+"/participants_v2", // no leading slash: Graph takes it too
	))
	if status != http.StatusOK || len(got) != 3 {
		t.Fatalf("status %d, %d responses", status, len(got))
	}
	var rec struct {
		ID       string            `json:"id"`
		Sessions []json.RawMessage `json:"sessions"`
	}
	if err := json.Unmarshal(got["1"].Body, &rec); err != nil || got["1"].Status != 200 || rec.ID != a || len(rec.Sessions) != 2 {
		t.Errorf("record: %d %s", got["1"].Status, got["1"].Body)
	}
	if got["2"].Status != 404 || !bytes.Contains(got["2"].Body, []byte(`"NotFound"`)) {
		t.Errorf("not ready: %d %s", got["2"].Status, got["2"].Body)
	}
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(got["3"].Body, &page); err != nil || len(page.Value) != 2 || !strings.HasPrefix(page.NextLink, s.URL+"/v1.0/") {
		t.Errorf("participants: %d %s", got["3"].Status, got["3"].Body)
	}
	st := s.Stats()
	if st.Batches != 1 || st.Requests != 3 || st.NotFound != 1 || st.PerPath["/v1.0/communications/callRecords/"+a] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBatchThrottlesEachRequest(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	const a = "00000000-0000-4000-8000-00000000000a"
	if err := s.Put(makeRecord(a, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	s.Throttle(1, 7*time.Second)
	_, got := postBatch(t, s, token(t, s), requests("/communications/callRecords/"+a, "/communications/callRecords/"+a))
	var statuses []int
	for _, r := range got {
		statuses = append(statuses, r.Status)
		if r.Status == 429 && r.Headers["Retry-After"] != "7" {
			t.Errorf("429 without its Retry-After: %v", r.Headers)
		}
	}
	sort.Ints(statuses)
	if fmt.Sprint(statuses) != "[200 429]" {
		t.Errorf("statuses %v, want one throttled", statuses)
	}

	// A batch that fails as a whole serves none of its requests.
	s.FailNextBatch(1, http.StatusServiceUnavailable)
	before := s.Stats().Requests
	if status, _ := postBatch(t, s, token(t, s), requests("/communications/callRecords/"+a)); status != 503 || s.Stats().Requests != before {
		t.Errorf("failed batch: %d, %d requests served", status, s.Stats().Requests-before)
	}
}

func TestBatchRefusesMalformed(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	tok := token(t, s)
	var many []string
	for range MaxBatchRequests + 1 {
		many = append(many, "/communications/callRecords")
	}
	for name, body := range map[string]string{
		"not JSON":      `{"requests":`,
		"empty":         `{"requests":[]}`,
		"over 20":       requests(many...),
		"repeated id":   `{"requests":[{"id":"1","method":"GET","url":"/a"},{"id":"1","method":"GET","url":"/b"}]}`,
		"absolute url":  requests(s.URL + "/v1.0/communications/callRecords"),
		"no method":     `{"requests":[{"id":"1","url":"/a"}]}`,
		"no identifier": `{"requests":[{"method":"GET","url":"/a"}]}`,
	} {
		if status, _ := postBatch(t, s, tok, body); status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, status)
		}
	}
	if status, _ := postBatch(t, s, "forged", requests("/communications/callRecords")); status != http.StatusUnauthorized {
		t.Errorf("forged token: %d, want 401", status)
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Errorf("%d requests served from malformed batches", st.Requests)
	}
}

func TestWindowCountAndLimit(t *testing.T) {
	clk := fakeclock.New()
	var latency atomic.Int64
	s := NewServer(Options{Now: clk.Now, Window: 20 * time.Second, RequestsPerWindow: 3,
		Latency: func(*http.Request) time.Duration { latency.Add(1); return 0 }})
	defer s.Close()
	const a = "00000000-0000-4000-8000-00000000000a"
	if err := s.Put(makeRecord(a, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	rec := s.URL + "/v1.0/communications/callRecords/" + a
	var statuses []int
	var retryAfter string
	for _, step := range []time.Duration{0, 5 * time.Second, 5 * time.Second, 5 * time.Second, 6 * time.Second} {
		clk.Add(step)
		status, h, _ := get(t, rec, tok)
		statuses = append(statuses, status)
		if status == 429 && retryAfter == "" {
			retryAfter = h.Get("Retry-After")
		}
	}
	// At 15 s the window (-5, 15] holds 3: the fourth is throttled, and
	// told to wait until the first leaves at 20 s; at 21 s the window
	// (1, 21] holds 5, 10 and 15 (a throttled request counts): throttled
	// again. The fullest window held 4.
	if fmt.Sprint(statuses) != "[200 200 200 429 429]" || retryAfter != "5" {
		t.Errorf("statuses %v, Retry-After %q", statuses, retryAfter)
	}
	if st := s.Stats(); st.MaxInWindow != 4 || st.Throttled != 2 || latency.Load() != 5 {
		t.Errorf("max in window %d, throttled %d, latency asked %d times", st.MaxInWindow, st.Throttled, latency.Load())
	}
}
