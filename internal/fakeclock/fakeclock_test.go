package fakeclock

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestRecorderMovesTheClock(t *testing.T) {
	r := &Recorder{Clock: New()}
	for _, d := range []time.Duration{time.Second, time.Minute} {
		if err := r.Wait(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r.Clock.Now(), Start.Add(time.Minute+time.Second); !got.Equal(want) {
		t.Errorf("Now = %s, want %s", got, want)
	}
	if got := r.Waits(); !slices.Equal(got, []time.Duration{time.Second, time.Minute}) || r.Total() != time.Minute+time.Second {
		t.Errorf("Waits = %v", got)
	}
	stop := errors.New("stop")
	r.OnWait = func(context.Context, time.Duration) error { return stop }
	if err := r.Wait(context.Background(), time.Hour); !errors.Is(err, stop) || !r.Clock.Now().Equal(Start.Add(time.Minute+time.Second)) {
		t.Errorf("OnWait's error: %v, clock %s", err, r.Clock.Now())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Wait(ctx, time.Hour); !errors.Is(err, context.Canceled) || len(r.Waits()) != 3 {
		t.Errorf("cancelled: %v, %d waits", err, len(r.Waits()))
	}
}
