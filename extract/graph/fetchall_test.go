package graph

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"callstats/extract/graph/graphtest"
	"callstats/internal/fakeclock"
)

// putSmall puts n small records and returns their ids, numbered from 0, each put as a small record.
func putSmall(t *testing.T, e *env, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		e.put(t, smallRecord(ids[i]))
	}
	return ids
}

// fetchAll fetches ids and returns each one's error (nil for a record that
// came with its participant).
func fetchAll(t *testing.T, c *Client, ids []string) map[string]error {
	t.Helper()
	got := map[string]error{}
	err := c.FetchAll(t.Context(), ids, func(id string, rec *CallRecord, err error) error {
		if err == nil && (rec.ID != id || len(rec.ParticipantsV2) != 1 || len(rec.Sessions) != 1) {
			err = fmt.Errorf("record %+v", rec)
		}
		got[id] = err
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d results for %d ids", len(got), len(ids))
	}
	return got
}

func TestFetchAllBatchesAtMost20(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	ids := putSmall(t, e, 45)
	for id, err := range fetchAll(t, e.c, ids) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	// graphtest refuses a batch over 20: 45 records are 3 batches of
	// records (20, 20, 5) and 3 of participants.
	if st := e.srv.Stats(); st.Requests != 90 || st.Batches != 6 || st.PerPath["/v1.0/$batch"] != 6 {
		t.Errorf("%d requests in %d batches, want 90 in 6", st.Requests, st.Batches)
	}
}

func TestTakeSplitsBatches(t *testing.T) {
	c := &Client{now: fakeclock.New().Now, recordPer20s: 40}
	r := &fetchRun{c: c, batchMax: maxBatchItems}
	var jobs []*recordJob
	for i := range 45 {
		j := &recordJob{id: fmt.Sprint(i), pacer: newWindowPacer(40, 20*time.Second)}
		jobs = append(jobs, j)
		r.queue = append(r.queue, &pending{job: j, part: partRecord})
	}
	jobs[3].done = true     // dropped
	r.queue[30].solo = true // goes alone
	var sizes []int
	for b := r.take(); len(b) > 0; b = r.take() {
		sizes = append(sizes, len(b))
	}
	if want := []int{20, 20, 1, 3}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batches of %v, want %v", sizes, want)
	}
}

func TestItemThrottledIsRetriedAlone(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	ids := putSmall(t, e, 5)
	e.srv.Throttle(1, 7*time.Second) // one request of the first batch
	for id, err := range fetchAll(t, e.c, ids) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	st := e.srv.Stats()
	if st.Requests != 11 || st.Throttled != 1 || e.c.Throttled() != 1 {
		t.Errorf("%d requests, %d throttled: want 10 and the throttled one again", st.Requests, st.Throttled)
	}
	if got := e.rec.Waits(); !reflect.DeepEqual(got, []time.Duration{7 * time.Second}) {
		t.Errorf("waits %v, want the Retry-After [7s]", got)
	}
}

func TestItemNotFoundDefersOnlyItsRecord(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	ids := putSmall(t, e, 5)
	e.srv.NotReady(ids[2], 1)
	got := fetchAll(t, e.c, ids)
	for _, id := range ids {
		if want := id == ids[2]; errors.Is(got[id], ErrNotFound) != want || (got[id] != nil) != want {
			t.Errorf("%s: %v", id, got[id])
		}
	}
	if IsRetryable(got[ids[2]]) {
		t.Errorf("a 404 is retryable: %v", got[ids[2]])
	}
	// The 404 is not retried, and its participants are not asked for.
	if st := e.srv.Stats(); st.Requests != 9 || st.NotFound != 1 {
		t.Errorf("%d requests, %d not found: want 9 and 1", st.Requests, st.NotFound)
	}
}

func TestItemFailureRetriedWithBackoff(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	ids := putSmall(t, e, 3)
	e.srv.FailNext(1, http.StatusServiceUnavailable)
	for id, err := range fetchAll(t, e.c, ids) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if st := e.srv.Stats(); st.Requests != 7 || st.Failed != 1 {
		t.Errorf("%d requests, %d failed: want 7 and 1", st.Requests, st.Failed)
	}
	if got := e.rec.Waits(); !reflect.DeepEqual(got, []time.Duration{500 * time.Millisecond}) {
		t.Errorf("waits %v, want [500ms]", got)
	}
}

func TestBatchFailureRetriesItsRequests(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	ids := putSmall(t, e, 3)
	e.srv.FailNextBatch(1, http.StatusBadGateway)
	for id, err := range fetchAll(t, e.c, ids) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if st := e.srv.Stats(); st.Requests != 6 || st.Batches != 3 {
		t.Errorf("%d requests in %d batches, want 6 in 3 (the failed batch served none)", st.Requests, st.Batches)
	}

	// A batch that keeps failing gives up on its records, retryably.
	e.srv.FailNextBatch(100, http.StatusServiceUnavailable)
	for id, err := range fetchAll(t, e.c, ids) {
		if !errors.Is(err, ErrSourceFailed) || !IsRetryable(err) {
			t.Errorf("%s: %v, want ErrSourceFailed", id, err)
		}
	}
}

func TestPagingInsideBatches(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	var ids []string
	for i := range 3 {
		ids = append(ids, fmt.Sprintf("b1600000-0000-4000-8000-%012d", i))
		e.put(t, bigRecord(t, ids[i], 150, 300)) // 3 pages of sessions, 3 of participants
	}
	err := e.c.FetchAll(t.Context(), ids, func(id string, rec *CallRecord, err error) error {
		if err != nil {
			return err
		}
		if len(rec.Sessions) != 150 || len(rec.ParticipantsV2) != 300 || rec.SessionsNextLink != "" || rec.ParticipantsV2NextLink != "" {
			return fmt.Errorf("%s: %d sessions, %d participants", id, len(rec.Sessions), len(rec.ParticipantsV2))
		}
		for i, s := range rec.Sessions {
			if want := fmt.Sprintf("s-%04d", i); s.ID != want {
				return fmt.Errorf("%s: session %d is %s, want %s", id, i, s.ID, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Per record: the record, 2 more pages of sessions, 3 of participants;
	// the records' requests share batches: record, then sessions and
	// participants twice, then participants: 4 batches.
	if st := e.srv.Stats(); st.Requests != 18 || st.Batches != 4 {
		t.Errorf("%d requests in %d batches, want 18 in 4", st.Requests, st.Batches)
	}
}

func TestRecordPacedOnItsOwn(t *testing.T) {
	// A record with many pages against a limit of 4 per record per 20 s:
	// its requests wait for its own window, in a synctest bubble (its clock
	// is fake, and the server and the client share it).
	srv := graphtest.NewServer(graphtest.Options{SessionsPageSize: 1, ParticipantsPageSize: 1})
	t.Cleanup(srv.Close)
	const id = "b1600000-0000-4000-8000-000000000001"
	if err := srv.Put(bigRecord(t, id, 5, 3)); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		c := bubbleClient(t, srv, func(c *ClientConfig) { c.RecordRequestsPer20s = 4 })
		start := time.Now()
		rec, err := c.Fetch(t.Context(), id)
		if err != nil || len(rec.Sessions) != 5 || len(rec.ParticipantsV2) != 3 {
			t.Fatalf("fetch: %v", err)
		}
		// 1 + 4 + 3 = 8 requests at 4 per 20.5 s: one window's wait.
		elapsed := time.Since(start)
		if st := srv.Stats(); st.Requests != 8 || st.MaxInWindow > 4 || elapsed < 20*time.Second || elapsed > 21*time.Second {
			t.Errorf("%d requests, %d in the fullest 20 s, in %v: want 8, at most 4, one window", st.Requests, st.MaxInWindow, elapsed)
		}
	})
}

// bubbleClient is a client of srv that reaches it without the network, for
// a synctest bubble.
func bubbleClient(t *testing.T, srv *graphtest.Server, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1",
		GraphURL: srv.URL, LoginURL: srv.URL,
		HTTPClient: &http.Client{Transport: handlerTransport{srv.Handler()}},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBatchesInFlightFollowLatency(t *testing.T) {
	tests := []struct {
		latency time.Duration
		most    int
		want    int
	}{
		{0, 8, 2},
		{150 * time.Millisecond, 8, 3}, // 11 requests on the wire
		{400 * time.Millisecond, 8, 4}, // 30
		{2 * time.Second, 8, 8},        // 150, bounded by Concurrency
		{0, 1, 1},
	}
	for _, tt := range tests {
		if got := batchesFor(75, tt.latency, maxBatchItems, tt.most); got != tt.want {
			t.Errorf("batchesFor(75/s, %v, most %d) = %d, want %d", tt.latency, tt.most, got, tt.want)
		}
	}
}

// handlerTransport serves requests with a handler, without the network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestFetchAllKeepsToTheBudget fetches records from a fake Graph with
// latency, in a synctest bubble (its clock is fake), at a budget of 100
// requests per 20 s: no sliding 20 s window on the server holds more than
// 100 requests, none is throttled, and the rate is at least 90 % of the
// budget whatever the latency.
func TestFetchAllKeepsToTheBudget(t *testing.T) {
	const perWindow, records = 100, 300
	for _, latency := range []time.Duration{0, 150 * time.Millisecond, 400 * time.Millisecond, 3 * time.Second} {
		t.Run(latency.String(), func(t *testing.T) {
			srv := graphtest.NewServer(graphtest.Options{
				Latency:           func(*http.Request) time.Duration { return latency },
				RequestsPerWindow: perWindow,
			})
			t.Cleanup(srv.Close)
			var ids []string
			for i := range records {
				ids = append(ids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
				if err := srv.Put(smallRecord(ids[i])); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Test(t, func(t *testing.T) {
				c := bubbleClient(t, srv, func(c *ClientConfig) { c.RequestsPer20s = perWindow })
				start := time.Now()
				n := 0
				err := c.FetchAll(t.Context(), ids, func(id string, _ *CallRecord, err error) error {
					n++
					return err
				})
				if err != nil || n != records {
					t.Fatalf("FetchAll: %v, %d of %d", err, n, records)
				}
				elapsed := time.Since(start)
				st := srv.Stats()
				// The rate from the first batch to the last one's sending.
				rate := float64(st.Requests-maxBatchItems) / (elapsed - latency).Seconds()
				share := rate / (perWindow / 20.0)
				t.Logf("%d requests in %v: %.1f%% of the budget, %d in the fullest window", st.Requests, elapsed, 100*share, st.MaxInWindow)
				if st.MaxInWindow > perWindow || st.Throttled != 0 || share < 0.9 {
					t.Errorf("%d requests in the fullest 20 s, %d throttled, %.1f%% of the budget", st.MaxInWindow, st.Throttled, 100*share)
				}
			})
		})
	}
}
