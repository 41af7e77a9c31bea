//go:build unix

package jobs

import (
	"context"
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
	"time"
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
	// One scheduler per state directory ({state_dir}/schedule.lock); the
	// jobs take the state directory's own lock per run.
	lock, err := acquireFlock(filepath.Join(s.stateDir, "schedule.lock"), "schedule", now)
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	defer lock.Release()
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
		s.log.Info("job finished", "job", e.name, "elapsed", LogDuration(elapsed), "next", next)
	case stopping:
		s.log.Warn("job stopped by shutdown; its next run resumes it", "job", e.name, "elapsed", LogDuration(elapsed), "error", err.Error())
	default:
		s.log.Error("job failed", "job", e.name, "elapsed", LogDuration(elapsed), "error", err.Error(), "next", next)
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
