//go:build unix

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"
)

// JobFunc runs one job once. It stops at a safe point when ctx is cancelled,
// and leaves a run record (SaveRunRecord): catch-up after downtime reads them.
type JobFunc func(ctx context.Context) error

// Clock is the scheduler's time source: SystemClock, or a fake in tests.
type Clock interface {
	Now() time.Time
	// WakeAt returns a channel that receives a value once the clock has
	// reached t (at once if it has), or earlier: the scheduler looks at the
	// time again on every wake-up.
	WakeAt(t time.Time) <-chan time.Time
}

// SystemClock is the real clock. It wakes at least once a minute, so that a
// suspended machine or a stepped system clock is noticed within a minute.
type SystemClock struct{}

// Now returns the system time.
func (SystemClock) Now() time.Time { return time.Now() }

// WakeAt wakes at t, or in a minute if that is sooner.
func (SystemClock) WakeAt(t time.Time) <-chan time.Time {
	return time.After(min(time.Until(t), time.Minute))
}

// Scheduler runs jobs at the times of their cron specs, one job at a time.
//
// A job whose time comes while its previous run is still going (or still
// waiting for another job) is skipped and logged, not queued: the same as
// cron.SkipIfStillRunning. A job whose time comes while another job runs
// waits for it, so that jobs sharing the state directory's lock never run
// into each other.
type Scheduler struct {
	loc      *time.Location
	entries  []*entry // sorted by name
	stateDir string
	log      *slog.Logger
	clock    Clock
	hasFuncs bool

	mu   sync.Mutex
	next map[string]time.Time
}

// entry is one scheduled job.
type entry struct {
	name  string
	fn    JobFunc
	loc   *time.Location
	spec  *cron.SpecSchedule          // 5-field specs and @daily-like descriptors
	every *cron.ConstantDelaySchedule // @every <duration>
}

// NewScheduler reads the jobs' cron specs (5 fields, minute hour
// day-of-month month day-of-week, or a descriptor: @daily, @weekly,
// @monthly, @hourly, @every 1h30m) in loc. specs maps a job name ("ingest",
// "report", "reconcile") to its spec; an empty spec leaves the job out. jobs
// maps the names to their functions; it may be nil when the scheduler is
// only asked for the next times (callstats status). A nil log discards; a
// nil clock is SystemClock. Every bad spec is reported, naming its key
// (schedule.<job>).
func NewScheduler(specs map[string]string, loc *time.Location, jobs map[string]JobFunc, stateDir string, log *slog.Logger, clock Clock) (*Scheduler, error) {
	if loc == nil {
		loc = time.UTC
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = SystemClock{}
	}
	s := &Scheduler{loc: loc, stateDir: stateDir, log: log, clock: clock, hasFuncs: jobs != nil}
	now := clock.Now()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(specs)) {
		spec := strings.TrimSpace(specs[name])
		if spec == "" {
			continue
		}
		e, err := newEntry(name, spec, loc)
		if err == nil && e.nextAfter(now).IsZero() {
			err = fmt.Errorf("cron spec %q never fires", spec)
		}
		if err == nil && jobs != nil && jobs[name] == nil {
			err = errors.New("no such job")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule.%s: %w", name, err))
			continue
		}
		if jobs != nil {
			e.fn = jobs[name]
		}
		s.entries = append(s.entries, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(s.entries) == 0 {
		return nil, errors.New("schedule: no job has a cron spec")
	}
	s.setNext(now)
	return s, nil
}

func newEntry(name, spec string, loc *time.Location) (*entry, error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("bad cron spec %q: set the zone in schedule.timezone, not with a TZ= prefix", spec)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("bad cron spec %q: %w", spec, err)
	}
	e := &entry{name: name, loc: loc}
	switch c := sched.(type) {
	case *cron.SpecSchedule:
		e.spec = c
	case cron.ConstantDelaySchedule:
		e.every = &c
	default:
		return nil, fmt.Errorf("bad cron spec %q: unsupported schedule %T", spec, sched)
	}
	return e, nil
}

// nextAfter returns the job's first time strictly after t, in the
// scheduler's zone, or the zero time if there is none within five years.
//
// Specs are read on the local wall clock, so that each local time fires
// once: a time inside the hour skipped when clocks go forward fires at the
// moment of the change, and a time inside the hour repeated when clocks go
// back fires once, the first time it comes. (cron.Cron itself skips the
// former and runs the latter twice.) @every counts real time.
func (e *entry) nextAfter(t time.Time) time.Time {
	if e.every != nil {
		return e.every.Next(t).In(e.loc)
	}
	t = t.In(e.loc)
	w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	for range 1000 {
		w = e.spec.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		for _, at := range wallInstants(w, e.loc) {
			if at.After(t) {
				return at
			}
		}
	}
	return time.Time{}
}

// wallInstants returns the instants at which the clocks in loc read the wall
// time w (given with its fields in UTC), earliest first: one, two in the
// hour repeated when clocks go back, or, when the clocks skip it, the
// instant they jump.
func wallInstants(w time.Time, loc *time.Location) []time.Time {
	// The zone offsets a day before and after bracket any change near w.
	_, before := w.Add(-26 * time.Hour).In(loc).Zone()
	_, after := w.Add(26 * time.Hour).In(loc).Zone()
	var out []time.Time
	for i, off := range []int{before, after} {
		if i == 1 && off == before {
			break
		}
		at := w.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWall(at, w) {
			out = append(out, at)
		}
	}
	if len(out) == 0 {
		// Skipped: read with the old offset, w lies after the jump; the zone
		// in effect there starts at the jump.
		at := w.Add(-time.Duration(before) * time.Second).In(loc)
		if start, _ := at.ZoneBounds(); !start.IsZero() {
			at = start.In(loc)
		}
		out = append(out, at)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func sameWall(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay() && a.Hour() == b.Hour() &&
		a.Minute() == b.Minute() && a.Second() == b.Second()
}

// prevAtOrBefore returns the job's latest time at or before t; ok is false
// for @every jobs (they have no fixed times) and when there is none within
// five years.
func (e *entry) prevAtOrBefore(t time.Time) (time.Time, bool) {
	if e.every != nil {
		return time.Time{}, false
	}
	for step := time.Minute; step <= 5*366*24*time.Hour; step *= 2 {
		at := e.nextAfter(t.Add(-step))
		if at.IsZero() || at.After(t) {
			continue
		}
		for {
			n := e.nextAfter(at)
			if n.IsZero() || n.After(t) {
				return at, true
			}
			at = n
		}
	}
	return time.Time{}, false
}

func (s *Scheduler) setNext(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = map[string]time.Time{}
	for _, e := range s.entries {
		s.next[e.name] = e.nextAfter(now)
	}
}

// Next returns when each scheduled job runs next, in the schedule's zone.
// It is safe to call while Run runs.
func (s *Scheduler) Next() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.next)
}

// Run first runs, once, each job whose last scheduled time passed while no
// scheduler ran (catch-up: the job has run records, but no completed run
// since that time; a job that never ran waits for its time), then runs the
// jobs at their times until ctx is done. It then waits for a running job,
// whose context is cancelled, to return. It returns an error only when it
// cannot run at all; a failing job is logged and does not stop it.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.hasFuncs {
		return errors.New("schedule: the scheduler has no job functions")
	}
	if err := os.MkdirAll(filepath.Join(s.stateDir, runsDir), 0o755); err != nil {
		return fmt.Errorf("schedule: state directory: %w", err)
	}
	now := s.clock.Now()
	unlock, err := lockScheduler(s.stateDir, now)
	if err != nil {
		return err
	}
	defer unlock()
	s.setNext(now)
	queue := s.catchUp(now)
	attrs := []any{"timezone", s.loc.String()}
	for _, e := range s.entries {
		attrs = append(attrs, slog.Time(e.name+"_next", s.Next()[e.name]))
	}
	s.log.Info("scheduler started", attrs...)

	var cur *jobRun // the running job, or nil
	finish := func(err error) {
		cur.cancel()
		s.logFinished(cur.e, cur.started, err, ctx.Err() != nil)
		cur = nil
	}
	for {
		if cur == nil && len(queue) > 0 {
			cur = s.start(ctx, queue[0])
			queue = queue[1:]
		}
		var done <-chan error
		if cur != nil {
			done = cur.done
		}
		wake := s.clock.WakeAt(s.earliest())
		select {
		case <-ctx.Done():
			if cur != nil {
				s.log.Info("stopping: waiting for the running job to stop at a safe point", "job", cur.e.name)
				finish(<-done)
			}
			s.log.Info("scheduler stopped")
			return nil
		case err := <-done:
			finish(err)
		case <-wake:
			now := s.clock.Now()
			for _, e := range s.entries {
				at := s.Next()[e.name]
				if at.After(now) {
					continue
				}
				s.mu.Lock()
				s.next[e.name] = e.nextAfter(now)
				s.mu.Unlock()
				switch {
				case cur != nil && e == cur.e:
					s.log.Warn("skipped a run: the job's previous run is still going", "job", e.name, "scheduled", at)
				case slices.Contains(queue, e):
					s.log.Warn("skipped a run: the job's previous run is still waiting for another job", "job", e.name, "scheduled", at)
				default:
					if cur != nil {
						s.log.Info("job waits for the running job", "job", e.name, "running", cur.e.name, "scheduled", at)
					}
					queue = append(queue, e)
				}
			}
		}
	}
}

// lockScheduler keeps a second scheduler off the state directory while this
// one runs ({state_dir}/schedule.lock; flock, so the kernel releases it when
// the process dies). The jobs take the state directory's own lock per run.
func lockScheduler(stateDir string, now time.Time) (unlock func(), err error) {
	path := filepath.Join(stateDir, "schedule.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("schedule: locking %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("schedule: locking %s: %w", path, err)
		}
		var h lockHolder
		if b, _ := os.ReadFile(path); json.Unmarshal(b, &h) == nil && h.PID != 0 {
			return nil, fmt.Errorf("schedule: %w: another scheduler runs on it: PID %d, started %s on %s (%s)",
				ErrLocked, h.PID, h.Started.Format(time.RFC3339), h.Host, path)
		}
		return nil, fmt.Errorf("schedule: %w: another scheduler runs on it (%s)", ErrLocked, path)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(lockHolder{PID: os.Getpid(), Job: "schedule", Started: now.UTC(), Host: host})
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(b, '\n'), 0)
	}
	return func() {
		f.Truncate(0)
		f.Close() // releases the flock
	}, nil
}

// jobRun is a job's run in progress.
type jobRun struct {
	e       *entry
	started time.Time
	done    chan error
	cancel  context.CancelFunc
}

// start runs a job in its own goroutine, with a context of its own.
func (s *Scheduler) start(ctx context.Context, e *entry) *jobRun {
	jobCtx, cancel := context.WithCancel(ctx)
	r := &jobRun{e: e, started: s.clock.Now(), done: make(chan error, 1), cancel: cancel}
	s.log.Info("job started", "job", e.name)
	go runJob(jobCtx, e, r.done)
	return r
}

// runJob runs a job and sends its error; a panic is turned into an error,
// so that one bad run does not end the scheduler.
func runJob(ctx context.Context, e *entry, done chan<- error) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %s panicked: %v\n%s", e.name, r, debug.Stack())
		}
		done <- err
	}()
	err = e.fn(ctx)
}

func (s *Scheduler) logFinished(e *entry, started time.Time, err error, stopping bool) {
	elapsed := s.clock.Now().Sub(started)
	next := s.Next()[e.name]
	switch {
	case err == nil:
		s.log.Info("job finished", "job", e.name, "elapsed", elapsed.String(), "next", next)
	case stopping:
		s.log.Warn("job stopped by shutdown; its next run resumes it", "job", e.name, "elapsed", elapsed.String(), "error", err.Error())
	default:
		s.log.Error("job failed", "job", e.name, "elapsed", elapsed.String(), "error", err.Error(), "next", next)
	}
}

// earliest is the nearest next time of any job.
func (s *Scheduler) earliest() time.Time {
	var t time.Time
	for _, at := range s.Next() {
		if !at.IsZero() && (t.IsZero() || at.Before(t)) {
			t = at
		}
	}
	if t.IsZero() {
		t = s.clock.Now().Add(24 * time.Hour) // no job fires any more: idle until stopped
	}
	return t
}

// catchUp lists the jobs to run at start, the earliest missed first.
func (s *Scheduler) catchUp(now time.Time) []*entry {
	type missed struct {
		e  *entry
		at time.Time
	}
	var due []missed
	for _, e := range s.entries {
		prev, ok := e.prevAtOrBefore(now)
		if !ok {
			continue
		}
		runs, err := lastRuns(s.stateDir, e.name, 1)
		if err != nil {
			s.log.Warn("cannot read run records; no catch-up", "job", e.name, "error", err.Error())
			continue
		}
		if len(runs) == 0 {
			continue // never ran here: it waits for its time
		}
		last, ok, err := LastSuccess(s.stateDir, e.name)
		if err != nil {
			s.log.Warn("cannot read run records; no catch-up", "job", e.name, "error", err.Error())
			continue
		}
		if ok && !last.Before(prev) {
			continue
		}
		attrs := []any{"job", e.name, "missed", prev}
		if ok {
			attrs = append(attrs, "last_success", last)
		}
		s.log.Info("catching up a run missed while no scheduler ran", attrs...)
		due = append(due, missed{e, prev})
	}
	slices.SortStableFunc(due, func(a, b missed) int { return a.at.Compare(b.at) })
	out := make([]*entry, len(due))
	for i, m := range due {
		out[i] = m.e
	}
	return out
}
