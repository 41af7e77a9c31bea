//go:build unix

package jobs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test sets it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []fakeWait
}

type fakeWait struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock { return &fakeClock{now: now} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) WakeAt(t time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !t.After(c.now) {
		ch <- c.now
	} else {
		c.waits = append(c.waits, fakeWait{t, ch})
	}
	return ch
}

// Set moves the clock to t and wakes whoever waits for a time up to t.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	keep := c.waits[:0]
	for _, w := range c.waits {
		if w.at.After(t) {
			keep = append(keep, w)
		} else {
			w.ch <- t
		}
	}
	c.waits = keep
}

// logEvent is one log record the scheduler wrote.
type logEvent struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// logRecorder is a slog handler that hands the records to the test.
type logRecorder struct{ ch chan logEvent }

func newLogRecorder() (*logRecorder, *slog.Logger) {
	r := &logRecorder{ch: make(chan logEvent, 1000)}
	return r, slog.New(r)
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	ev := logEvent{level: rec.Level, msg: rec.Message, attrs: map[string]string{}}
	rec.Attrs(func(a slog.Attr) bool {
		ev.attrs[a.Key] = a.Value.Resolve().String()
		return true
	})
	r.ch <- ev
	return nil
}

// expect reads log records until one whose message starts with msg and,
// if job is set, is about that job. It fails the test if none comes.
func (r *logRecorder) expect(t *testing.T, msg, job string) logEvent {
	t.Helper()
	timeout := time.After(10 * time.Second) // a guard against a hung scheduler, not a wait
	for {
		select {
		case ev := <-r.ch:
			if strings.HasPrefix(ev.msg, msg) && (job == "" || ev.attrs["job"] == job) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no log record %q for job %q", msg, job)
		}
	}
}

// runScheduler runs s until the test ends or stop is called; stop returns Run's error.
func runScheduler(t *testing.T, s *Scheduler) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestScheduleNextTimes(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	newYork := mustLoc(t, "America/New_York")
	at := func(loc *time.Location, s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The wanted times are written as instants with their offsets, so that a
	// time that Go would normalise differently cannot pass unnoticed.
	inst := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04 -0700", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		spec string
		loc  *time.Location
		from time.Time
		want []time.Time
	}{
		{"daily in UTC", "0 2 * * *", time.UTC, at(time.UTC, "2026-11-16 01:59"),
			[]time.Time{inst("2026-11-16 02:00 +0000"), inst("2026-11-17 02:00 +0000")}},
		{"strictly after the given time", "0 2 * * *", time.UTC, at(time.UTC, "2026-11-16 02:00"),
			[]time.Time{inst("2026-11-17 02:00 +0000")}},
		{"weekly report in Berlin, winter", "0 6 * * MON", berlin, at(berlin, "2026-11-16 06:00"),
			[]time.Time{inst("2026-11-23 06:00 +0100"), inst("2026-11-30 06:00 +0100")}},
		{"day-of-week name and number agree", "0 6 * * 1", berlin, at(berlin, "2026-11-16 06:00"),
			[]time.Time{inst("2026-11-23 06:00 +0100")}},
		// Clocks go forward at 02:00 on 2026-03-29 in Berlin: 02:00-02:59 never
		// happens. The run fires once, at the change, not a day late.
		{"daily in the skipped hour", "0 2 * * *", berlin, at(berlin, "2026-03-28 12:00"),
			[]time.Time{inst("2026-03-29 03:00 +0200"), inst("2026-03-30 02:00 +0200")}},
		{"half-hourly across the skipped hour", "*/30 * * * *", berlin, at(berlin, "2026-03-29 01:15"),
			[]time.Time{inst("2026-03-29 01:30 +0100"), inst("2026-03-29 03:00 +0200"), inst("2026-03-29 03:30 +0200")}},
		// Clocks go back at 03:00 on 2026-10-25 in Berlin: 02:00-02:59 happens
		// twice. The run fires once, the first time.
		{"daily in the repeated hour", "30 2 * * *", berlin, at(berlin, "2026-10-24 12:00"),
			[]time.Time{inst("2026-10-25 02:30 +0200"), inst("2026-10-26 02:30 +0100")}},
		{"hourly across the repeated hour", "0 * * * *", berlin, at(berlin, "2026-10-25 01:30"),
			[]time.Time{inst("2026-10-25 02:00 +0200"), inst("2026-10-25 03:00 +0100"), inst("2026-10-25 04:00 +0100")}},
		{"descriptor @daily across New York's change", "@daily", newYork, at(newYork, "2026-03-07 12:00"),
			[]time.Time{inst("2026-03-08 00:00 -0500"), inst("2026-03-09 00:00 -0400")}},
		{"descriptor @weekly is Sunday midnight", "@weekly", time.UTC, at(time.UTC, "2026-11-16 12:00"),
			[]time.Time{inst("2026-11-22 00:00 +0000")}},
		{"descriptor @monthly", "@monthly", berlin, at(berlin, "2026-11-16 12:00"),
			[]time.Time{inst("2026-12-01 00:00 +0100"), inst("2027-01-01 00:00 +0100")}},
		{"descriptor @hourly", "@hourly", time.UTC, at(time.UTC, "2026-11-16 12:10"),
			[]time.Time{inst("2026-11-16 13:00 +0000")}},
		// @every counts real time, so it keeps its interval across the change.
		{"@every across the skipped hour", "@every 90m", berlin, at(berlin, "2026-03-29 01:00"),
			[]time.Time{inst("2026-03-29 03:30 +0200"), inst("2026-03-29 05:00 +0200")}},
		{"leap day", "0 0 29 2 *", time.UTC, at(time.UTC, "2026-03-01 00:00"),
			[]time.Time{inst("2028-02-29 00:00 +0000")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := newEntry("ingest", tt.spec, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			cur := tt.from
			for i, want := range tt.want {
				got := e.nextAfter(cur)
				if !got.Equal(want) {
					t.Fatalf("next #%d after %s: got %s, want %s", i+1, cur, got, want)
				}
				if got.Location() != tt.loc {
					t.Errorf("next #%d is in %s, want %s", i+1, got.Location(), tt.loc)
				}
				cur = got
			}
		})
	}
}

func TestSchedulePreviousTime(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name string
		spec string
		now  time.Time
		want time.Time // zero: none
	}{
		{"weekly, days later", "0 6 * * MON", time.Date(2026, 11, 18, 10, 0, 0, 0, berlin), time.Date(2026, 11, 16, 6, 0, 0, 0, berlin)},
		{"weekly, at the very time", "0 6 * * MON", time.Date(2026, 11, 16, 6, 0, 0, 0, berlin), time.Date(2026, 11, 16, 6, 0, 0, 0, berlin)},
		{"weekly, a second before", "0 6 * * MON", time.Date(2026, 11, 16, 5, 59, 59, 0, berlin), time.Date(2026, 11, 9, 6, 0, 0, 0, berlin)},
		{"every minute", "* * * * *", time.Date(2026, 11, 16, 6, 0, 30, 0, time.UTC), time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC)},
		{"yearly", "0 0 1 1 *", time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@every has no fixed times", "@every 1h", time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := newEntry("report", tt.spec, tt.now.Location())
			if err != nil {
				t.Fatal(err)
			}
			got, ok := e.prevAtOrBefore(tt.now)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Fatalf("prev at or before %s: got %s (%v), want %s", tt.now, got, ok, tt.want)
			}
		})
	}
}

func TestNewSchedulerRejectsBadSpecs(t *testing.T) {
	noop := func(context.Context) error { return nil }
	tests := []struct {
		name  string
		specs map[string]string
		jobs  map[string]JobFunc
		want  []string // substrings of the error
	}{
		{"out of range", map[string]string{"ingest": "61 * * * *", "report": "0 6 * * MON"}, nil,
			[]string{`schedule.ingest: bad cron spec "61 * * * *"`}},
		{"every bad spec named", map[string]string{"ingest": "0 2 * *", "report": "@fortnightly"}, nil,
			[]string{"schedule.ingest:", "schedule.report:"}},
		{"seconds field is not standard", map[string]string{"ingest": "0 0 2 * * *"}, nil, []string{"schedule.ingest"}},
		{"zone prefix", map[string]string{"ingest": "TZ=Europe/Berlin 0 2 * * *"}, nil, []string{"schedule.timezone"}},
		{"never fires", map[string]string{"report": "0 0 30 2 *"}, nil, []string{"schedule.report", "never fires"}},
		{"no function for a job", map[string]string{"ingest": "0 2 * * *", "reconcile": "0 3 * * *"},
			map[string]JobFunc{"ingest": noop}, []string{"schedule.reconcile: no such job"}},
		{"nothing to run", map[string]string{"reconcile": ""}, nil, []string{"no job has a cron spec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewScheduler(tt.specs, time.UTC, tt.jobs, t.TempDir(), nil, newFakeClock(time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSchedulerNextLeavesOutEmptySpecs(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	clock := newFakeClock(time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC))
	s, err := NewScheduler(map[string]string{"ingest": "0 2 * * *", "report": "0 6 * * MON", "reconcile": ""},
		berlin, nil, t.TempDir(), nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	next := s.Next()
	want := map[string]time.Time{
		"ingest": time.Date(2026, 11, 19, 2, 0, 0, 0, berlin),
		"report": time.Date(2026, 11, 23, 6, 0, 0, 0, berlin),
	}
	if len(next) != len(want) {
		t.Fatalf("Next() = %v, want %v", next, want)
	}
	for job, w := range want {
		if !next[job].Equal(w) {
			t.Errorf("next %s = %s, want %s", job, next[job], w)
		}
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("Run without job functions did not fail")
	}
}

// blockingJob is a job that tells the test when it starts and returns
// when the test releases it or its context is cancelled.
type blockingJob struct {
	clock   *fakeClock
	started chan time.Time // the clock's time at each start
	release chan error
}

func newBlockingJob(clock *fakeClock) *blockingJob {
	return &blockingJob{clock: clock, started: make(chan time.Time, 10), release: make(chan error)}
}

func (j *blockingJob) run(ctx context.Context) error {
	j.started <- j.clock.Now()
	select {
	case err := <-j.release:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *blockingJob) waitStart(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-j.started:
		return at
	case <-time.After(10 * time.Second): // a guard, not a wait
		t.Fatal("job did not start")
	}
	return time.Time{}
}

func TestSchedulerSkipsAJobStillRunning(t *testing.T) {
	day1 := time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)
	clock := newFakeClock(day1.Add(-time.Hour))
	ingest := newBlockingJob(clock)
	logs, log := newLogRecorder()
	s, err := NewScheduler(map[string]string{"ingest": "0 2 * * *"}, time.UTC,
		map[string]JobFunc{"ingest": ingest.run}, t.TempDir(), log, clock)
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	logs.expect(t, "scheduler started", "")

	clock.Set(day1)
	if at := ingest.waitStart(t); !at.Equal(day1) {
		t.Fatalf("first run started at %s, want %s", at, day1)
	}
	// The next night comes while the first run still goes: skipped and logged.
	clock.Set(day1.AddDate(0, 0, 1))
	ev := logs.expect(t, "skipped a run", "ingest")
	if ev.level != slog.LevelWarn || !strings.Contains(ev.attrs["scheduled"], "2026-11-17 02:00:00") {
		t.Errorf("skip record: %+v", ev)
	}
	ingest.release <- nil
	logs.expect(t, "job finished", "ingest")

	// The skipped run was not queued: the next run is the third night's.
	day3 := day1.AddDate(0, 0, 2)
	clock.Set(day3)
	if at := ingest.waitStart(t); !at.Equal(day3) {
		t.Fatalf("second run started at %s, want %s (a skipped run was queued)", at, day3)
	}
	ingest.release <- errors.New("boom")
	if ev := logs.expect(t, "job failed", "ingest"); ev.attrs["error"] != "boom" {
		t.Errorf("failure record: %+v", ev)
	}
	// A failed run does not stop the scheduler.
	clock.Set(day3.AddDate(0, 0, 1))
	ingest.waitStart(t)
	ingest.release <- nil
}

func TestSchedulerRunsOneJobAtATime(t *testing.T) {
	// Ingest is still running when the weekly report is due: the report
	// waits for it instead of running into its lock, and is not skipped.
	mon := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(mon)
	ingest, report := newBlockingJob(clock), newBlockingJob(clock)
	logs, log := newLogRecorder()
	s, err := NewScheduler(map[string]string{"ingest": "0 2 * * *", "report": "0 6 * * MON"}, time.UTC,
		map[string]JobFunc{"ingest": ingest.run, "report": report.run}, t.TempDir(), log, clock)
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	logs.expect(t, "scheduler started", "")
	clock.Set(mon.Add(2 * time.Hour))
	ingest.waitStart(t)
	clock.Set(mon.Add(6 * time.Hour))
	logs.expect(t, "job waits for the running job", "report")
	select {
	case <-report.started:
		t.Fatal("report started while ingest was running")
	default:
	}
	ingest.release <- nil
	if at := report.waitStart(t); !at.Equal(mon.Add(6 * time.Hour)) {
		t.Fatalf("report started at %s", at)
	}
	report.release <- nil
	logs.expect(t, "job finished", "report")
}

func TestSchedulerCatchUp(t *testing.T) {
	const spec = "0 6 * * MON" // UTC
	lastMon := time.Date(2026, 11, 9, 6, 0, 0, 0, time.UTC)
	thisMon := time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC)
	tue := time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		records []RunRecord
		start   time.Time
		want    bool
	}{
		{"missed while down", []RunRecord{{Job: "report", Started: lastMon, OK: true}}, tue, true},
		{"already ran", []RunRecord{{Job: "report", Started: lastMon, OK: true}, {Job: "report", Started: thisMon.Add(3 * time.Second), OK: true}}, tue, false},
		{"ran this week but failed", []RunRecord{{Job: "report", Started: lastMon, OK: true}, {Job: "report", Started: thisMon, Error: "lake missing"}}, tue, true},
		{"failed every time so far", []RunRecord{{Job: "report", Started: lastMon, Error: "lake missing"}}, tue, true},
		{"never ran here: waits for its time", nil, tue, false},
		{"started at the very time", []RunRecord{{Job: "report", Started: lastMon, OK: true}}, thisMon, true},
		{"only another job's record", []RunRecord{{Job: "ingest", Started: lastMon, OK: true}}, tue, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, r := range tt.records {
				if err := SaveRunRecord(dir, r); err != nil {
					t.Fatal(err)
				}
			}
			clock := newFakeClock(tt.start)
			var ran []time.Time
			report := func(ctx context.Context) error {
				ran = append(ran, clock.Now())
				return SaveRunRecord(dir, RunRecord{Job: "report", Started: clock.Now(), OK: true})
			}
			logs, log := newLogRecorder()
			s, err := NewScheduler(map[string]string{"report": spec}, time.UTC, map[string]JobFunc{"report": report}, dir, log, clock)
			if err != nil {
				t.Fatal(err)
			}
			stop := runScheduler(t, s)
			if tt.want {
				logs.expect(t, "catching up", "report")
				logs.expect(t, "job finished", "report")
			} else {
				logs.expect(t, "scheduler started", "")
			}
			stop() // Run returns only after a started job returned: ran is complete
			if got := len(ran) == 1; got != tt.want || len(ran) > 1 {
				t.Fatalf("catch-up runs: %v, want catch-up %v", ran, tt.want)
			}
			if !tt.want {
				return
			}
			// Once only: the next week's run comes at its time, and a restart
			// after the catch-up does not run the report again.
			s, err = NewScheduler(map[string]string{"report": spec}, time.UTC, map[string]JobFunc{"report": report}, dir, log, clock)
			if err != nil {
				t.Fatal(err)
			}
			stop = runScheduler(t, s)
			logs.expect(t, "scheduler started", "")
			next := thisMon.AddDate(0, 0, 7)
			clock.Set(next)
			logs.expect(t, "job finished", "report")
			stop()
			if len(ran) != 2 || !ran[1].Equal(next) {
				t.Fatalf("runs after restart: %v, want the catch-up and %s", ran, next)
			}
		})
	}
}

func TestSchedulerStopCancelsRunningJob(t *testing.T) {
	night := time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)
	clock := newFakeClock(night.Add(-time.Minute))
	var (
		mu     sync.Mutex
		events []string
	)
	event := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, s)
	}
	cancelled := make(chan struct{})
	finish := make(chan struct{})
	job := func(ctx context.Context) error {
		event("job started")
		<-ctx.Done()
		close(cancelled)
		<-finish // the job's safe point: it returns only when the test lets it
		event("job returned")
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	logs, log := newLogRecorder()
	s, err := NewScheduler(map[string]string{"ingest": "0 2 * * *"}, time.UTC, map[string]JobFunc{"ingest": job}, t.TempDir(), log, clock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() {
		err := s.Run(ctx)
		event("Run returned")
		runErr <- err
	}()
	logs.expect(t, "scheduler started", "")
	clock.Set(night)
	logs.expect(t, "job started", "ingest")
	cancel()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second): // a guard, not a wait
		t.Fatal("the running job's context was not cancelled")
	}
	logs.expect(t, "stopping: waiting for the running job", "ingest")
	close(finish)
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"job started", "job returned", "Run returned"}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", events, want)
	}
	if ev := logs.expect(t, "job stopped by shutdown", "ingest"); !strings.Contains(ev.attrs["error"], "context canceled") {
		t.Errorf("stop record: %+v", ev)
	}
}

func TestSecondSchedulerOnAStateDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock(time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC))
	newSched := func(log *slog.Logger) *Scheduler {
		s, err := NewScheduler(map[string]string{"ingest": "0 2 * * *"}, time.UTC,
			map[string]JobFunc{"ingest": func(context.Context) error { return nil }}, dir, log, clock)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	logs, log := newLogRecorder()
	stop := runScheduler(t, newSched(log))
	logs.expect(t, "scheduler started", "")

	// flock excludes another descriptor in this process as it does another process.
	err := newSched(nil).Run(context.Background())
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
		t.Fatalf("second scheduler: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Once the first has stopped, another may run.
	logs2, log2 := newLogRecorder()
	runScheduler(t, newSched(log2))
	logs2.expect(t, "scheduler started", "")
}

func TestSchedulerSurvivesAPanickingJob(t *testing.T) {
	night := time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)
	clock := newFakeClock(night.Add(-time.Minute))
	calls := 0
	job := func(context.Context) error {
		calls++
		if calls == 1 {
			var m map[string]int
			m["x"] = 1 // a bug: panics
		}
		return nil
	}
	logs, log := newLogRecorder()
	s, err := NewScheduler(map[string]string{"ingest": "0 2 * * *"}, time.UTC, map[string]JobFunc{"ingest": job}, t.TempDir(), log, clock)
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	logs.expect(t, "scheduler started", "")
	clock.Set(night)
	if ev := logs.expect(t, "job failed", "ingest"); !strings.Contains(ev.attrs["error"], "panicked") {
		t.Errorf("failure record: %+v", ev)
	}
	clock.Set(night.AddDate(0, 0, 1))
	logs.expect(t, "job finished", "ingest")
}

// TestHelperLockHolder is not a test: TestLockTakenOverFromKilledProcess runs
// it in a child process, where it takes the state directory's lock and holds
// it until it is killed.
func TestHelperLockHolder(t *testing.T) {
	dir := os.Getenv("CALLSTATS_TEST_LOCK_DIR")
	if dir == "" {
		t.Skip("helper process for TestLockTakenOverFromKilledProcess")
	}
	l, err := AcquireLock(dir, "ingest", time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer l.Release()
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin) // blocks while the parent keeps stdin open
	os.Exit(2)                    // not reached unless the parent goes away
}

func TestLockTakenOverFromKilledProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLockHolder$")
	cmd.Env = append(os.Environ(), "CALLSTATS_TEST_LOCK_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not take the lock: %q %v\n%s", line, err, stderr.String())
	}

	// While the child lives, a second process is refused at once, naming it.
	now := time.Date(2026, 11, 16, 3, 0, 0, 0, time.UTC)
	_, err = AcquireLock(dir, "report", now)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", cmd.Process.Pid)) ||
		!strings.Contains(err.Error(), "started 2026-11-16T02:00:00Z") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("lock held by the child: %v", err)
	}

	// Killed (no chance to release anything), its lock goes with it.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed but exited: %v\n%s", cmd.ProcessState, stderr.String())
	}
	l, err := AcquireLock(dir, "report", now)
	if err != nil {
		t.Fatalf("lock of a killed process not taken over: %v", err)
	}
	defer l.Release()
	b, _ := os.ReadFile(filepath.Join(dir, "lock"))
	if !strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, os.Getpid())) || !strings.Contains(string(b), `"job":"report"`) {
		t.Errorf("lock file names %s, want this process and job", b)
	}
}

// FuzzScheduleSpec checks, for any spec the standard parser accepts, in
// zones with and without daylight saving time, that the next time is after
// the given one and that no time of the spec lies between the previous time
// and the given one.
func FuzzScheduleSpec(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "0 6 * * MON", "*/30 * * * *", "30 2 * * *", "@daily", "@weekly",
		"@monthly", "@hourly", "@every 90m", "0 0 29 2 *", "5 4 * * SUN", "0 0 1,15 * 1-5"} {
		f.Add(s, int64(1774744200), uint8(1)) // 2026-03-29 00:30 UTC, the spring change in Berlin
		f.Add(s, int64(1792886400), uint8(2)) // 2026-10-25 00:00 UTC, the autumn change
	}
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"}
	f.Fuzz(func(t *testing.T, spec string, unix int64, zone uint8) {
		if len(spec) > 64 {
			return
		}
		loc, err := time.LoadLocation(zones[int(zone)%len(zones)])
		if err != nil {
			t.Skip(err)
		}
		e, err := newEntry("ingest", spec, loc)
		if err != nil {
			return
		}
		now := time.Unix(unix%(1<<33), 0).In(loc) // up to the year 2242
		next := e.nextAfter(now)
		if !next.IsZero() && !next.After(now) {
			t.Fatalf("%q: next %s is not after %s", spec, next, now)
		}
		if prev, ok := e.prevAtOrBefore(now); ok {
			if prev.After(now) {
				t.Fatalf("%q: previous %s is after %s", spec, prev, now)
			}
			if n := e.nextAfter(prev); !n.IsZero() && !n.After(now) {
				t.Fatalf("%q: %s fires between the previous time %s and %s", spec, n, prev, now)
			}
		}
	})
}

// FuzzRecordName checks that a run record's file name gives back the job and
// start time it was made from, and that no name makes the parser fail badly.
func FuzzRecordName(f *testing.F) {
	f.Add("ingest", int64(1794794400), "20261116T020000.000000000Z-ingest-3f9a0c12.json")
	f.Add("report-weekly", int64(0), ".20261116T020000.000000000Z-ingest-3f9a0c12.json.partial")
	f.Add("x", int64(-1), "20261116T020000.000000000Z--.json")
	f.Fuzz(func(t *testing.T, job string, unix int64, file string) {
		parseRecordName(file)
		if !validJobName(job) {
			return
		}
		started := time.Unix(unix%(1<<35), unix%1e9).UTC()
		if started.Year() < 1 || started.Year() > 9999 {
			return
		}
		name := started.Format(runStamp) + "-" + job + "-0a1b2c3d.json"
		n, ok := parseRecordName(name)
		if !ok || n.job != job || !n.started.Equal(started) {
			t.Fatalf("%s parsed as %+v, %v", name, n, ok)
		}
	})
}
