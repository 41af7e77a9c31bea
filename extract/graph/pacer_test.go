package graph

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"callstats/internal/httpretry"
)

// maxInWindow is the most of times (sorted) within any window [t, t+w).
func maxInWindow(times []time.Time, w time.Duration) int {
	most := 0
	for i, j := 0, 0; j < len(times); j++ {
		for times[j].Sub(times[i]) >= w {
			i++
		}
		most = max(most, j-i+1)
	}
	return most
}

// TestPacerNeverOverTheWindow: groups of 1 to 20 requests (the sizes of
// $batch requests) paced from several goroutines at once, at Graph's app
// limit, in a synctest bubble (its clock is fake), never put more than the
// limit in any 20 s window, and keep close to the limit's rate.
func TestPacerNeverOverTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 1500
		c := &Client{now: time.Now, wait: httpretry.Sleep}
		c.pacer = newPacer(limit, 20*time.Second, c.now)
		var mu sync.Mutex
		var sent []time.Time
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 400 {
					n := 1 + (g*7+i*3)%20
					if err := c.paceAll(t.Context(), []slots{{c.pacer, n}}); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for range n {
						sent = append(sent, time.Now())
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.SortFunc(sent, time.Time.Compare)
		if most := maxInWindow(sent, 20*time.Second); most > limit {
			t.Errorf("%d requests in one 20 s window, limit %d", most, limit)
		}
		span := sent[len(sent)-1].Sub(sent[0])
		if rate := float64(len(sent)-maxBatchItems) / span.Seconds(); rate < 0.9*limit/20 {
			t.Errorf("%.2f requests/s, want at least 90%% of %d/20 s", rate, limit)
		}
	})
}

func TestWindowLog(t *testing.T) {
	t0 := time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)
	w := newWindowLog(3, 10*time.Second)
	if got := w.earliest(3); !got.IsZero() {
		t.Errorf("empty log: %v", got)
	}
	w.add(t0, 2)
	w.add(t0.Add(time.Second), 1)
	tests := []struct {
		n    int
		want time.Time
	}{
		{1, t0.Add(10 * time.Second)}, // pushes out the first at t0
		{2, t0.Add(10 * time.Second)}, // both at t0
		{3, t0.Add(11 * time.Second)}, // all three
		{5, t0.Add(11 * time.Second)}, // more than the limit: waits for the whole log
	}
	for _, tt := range tests {
		if got := w.earliest(tt.n); !got.Equal(tt.want) {
			t.Errorf("earliest(%d) = %v, want %v", tt.n, got.Sub(t0), tt.want.Sub(t0))
		}
	}
	w.add(t0.Add(10*time.Second), 1) // the ring turns
	if got, want := w.earliest(1), t0.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("after turning: %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	if got, want := w.earliest(2), t0.Add(11*time.Second); !got.Equal(want) {
		t.Errorf("after turning, 2: %v, want %v", got.Sub(t0), want.Sub(t0))
	}
}
