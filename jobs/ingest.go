// Package jobs holds callstats' jobs (ingest, reconcile) as functions of the config.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"callstats/config"
)

// Env is what a job needs besides its config.
type Env struct {
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Progress, when set, receives a live progress line (a terminal).
	Progress io.Writer
	// HTTPClient for the sources; nil uses a default client.
	HTTPClient *http.Client
	// Wait replaces real waiting between retries (tests); nil waits.
	Wait func(ctx context.Context, d time.Duration) error
}

func (e Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// ErrCannotRun marks failures that stop a run as a whole (config,
// credentials, an unwritable lake): exit status 1.
var ErrCannotRun = errors.New("cannot run")

func cannot(err error) error { return fmt.Errorf("%w: %w", ErrCannotRun, err) }

// ErrRunTimeout ends the fetching of a run that reached run_timeout: what
// it fetched is committed, the rest stays pending, and the run fails (it is
// marked with ErrCannotRun too: exit status 1).
var ErrRunTimeout = errors.New("run_timeout reached")

// Window is a range of whole UTC days, both ends included.
type Window struct{ From, To time.Time }

// Ingest reads the queue, fetches the records it names (and those deferred by
// earlier runs), writes them to the lake, then reconciles the configured
// window of recent days.
func Ingest(ctx context.Context, cfg *config.Config, env Env) (*Summary, error) {
	var w *Window
	first := false
	if !cfg.Reconcile.Disabled && cfg.Teams != nil {
		now := cfg.Now()
		from, widened, err := ReconcileFrom(cfg.StateDir, "ingest", now, cfg.Reconcile.WindowDays, cfg.Teams.RetentionDays)
		if err != nil {
			return nil, cannot(err)
		}
		if widened {
			env.logger().Info("reconcile window widened to cover the gap since the last successful run",
				"job", "ingest", "from", from.Format(time.DateOnly))
		}
		w = &Window{From: from, To: now.UTC().Truncate(day)}
		if first, err = firstRun(cfg.StateDir); err != nil {
			return nil, cannot(err)
		}
	}
	return run(ctx, cfg, env, "ingest", w, first)
}

// Reconcile does what Ingest does, reconciling the given days instead of the
// configured window: the queue is read first so that notified calls are told
// apart from missed ones.
func Reconcile(ctx context.Context, cfg *config.Config, env Env, w Window) (*Summary, error) {
	return run(ctx, cfg, env, "reconcile", &w, false)
}

// runner is one run of a job: its sink, state, sources and summary.
type runner struct {
	cfg     *config.Config
	env     Env
	log     *slog.Logger
	sink    Sink
	st      *runState
	sum     *Summary
	queue   Queue
	sources []Source
	// listing is set when there is no queue: nothing counts as notified.
	listing bool
	// deadline ends the run's fetching (run_timeout, on the wall clock);
	// zero for none.
	deadline time.Time
}

// run runs a job; first (a first ingest) widens w back to where the queue
// starts (firstRunWindow).
func run(ctx context.Context, cfg *config.Config, env Env, job string, w *Window, first bool) (*Summary, error) {
	start := cfg.Now()
	wall := time.Now()
	r := &runner{cfg: cfg, env: env, log: env.logger(), sum: &Summary{Job: job, Started: start}}
	defer func() { r.sum.Elapsed = time.Since(wall) }()
	if cfg.RunTimeout > 0 {
		r.deadline = wall.Add(cfg.RunTimeout)
	}

	lock, err := AcquireLock(cfg.StateDir, job, start)
	if err != nil {
		return nil, cannot(err)
	}
	defer lock.Release()
	if r.sink, err = openSink(ctx, cfg, r.log); err != nil {
		return nil, cannot(err)
	}
	defer r.sink.Close()
	if r.st, err = loadRunState(r.sink); err != nil {
		return nil, cannot(err)
	}
	if r.sources, err = openSources(cfg, env); err != nil {
		return nil, cannot(err)
	}
	defer func() {
		for _, s := range r.sources {
			r.sum.Throttled += s.Throttled()
		}
	}()
	if r.queue, err = openQueue(cfg, r.log); err != nil {
		return nil, cannot(err)
	}

	q, err := r.readQueue(ctx)
	if err != nil {
		return r.sum, err
	}
	r.listing, r.sum.NoQueue = q.Listing, q.Listing
	if first && w != nil {
		if err := r.firstRunWindow(ctx, w, q); err != nil {
			return r.sum, cannot(err)
		}
	}
	pending := r.pendingBySource()
	for _, s := range r.sources {
		if !r.timedOut() {
			if err := s.Fetch(ctx, r, pending[s.Name()]); err != nil {
				return r.sum, err
			}
		}
		if w != nil && !r.timedOut() {
			if err := s.Reconcile(ctx, r, *w); err != nil {
				return r.sum, err
			}
		}
	}

	// The final commit carries the queue cursor and the pending and failed
	// lists, with the reconcile rows.
	r.st.cursor = q.Next
	tx := r.sink.Begin(cfg.Now())
	if err := r.stageReconcile(ctx, tx); err != nil {
		tx.Abort()
		return r.sum, cannot(err)
	}
	if err := r.st.stage(tx); err != nil {
		tx.Abort()
		return r.sum, cannot(err)
	}
	stats, err := tx.Commit(ctx)
	if err != nil {
		return r.sum, cannot(fmt.Errorf("committing state: %w", err))
	}
	r.sum.Lake.Add(stats)
	r.sum.Pending = len(r.st.pending)
	r.sum.LakeRecords = r.sink.Len()
	r.pruneQueue(ctx)
	if job == "ingest" {
		r.maintainAfterIngest(ctx)
	}
	r.sum.Done = true
	if r.sum.TimedOut {
		return r.sum, cannot(fmt.Errorf("%w (%s): fetching stopped; what was fetched is committed, %d calls wait for the next run",
			ErrRunTimeout, cfg.RunTimeout, r.sum.Pending))
	}
	return r.sum, nil
}

// timedOut reports whether the run reached its deadline, and notes it in
// the summary.
func (r *runner) timedOut() bool {
	if !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
		r.sum.TimedOut = true
	}
	return r.sum.TimedOut
}

// fetchContext is the context a source's requests run in: ctx with the
// run's deadline, whose cause is ErrRunTimeout. Writes to the sink keep ctx,
// so that what was fetched is committed after the deadline.
func (r *runner) fetchContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadlineCause(ctx, r.deadline, ErrRunTimeout)
}

// readStopped sorts out a read in fctx (from fetchContext) that failed
// with err: stopped is true when the run stopped rather than the source
// failing. The run's own errors (ErrCannotRun) and the end of ctx (an
// interruption) are returned; at the deadline nil is returned and
// r.sum.TimedOut set: the source commits what it read, leaves the rest
// pending and returns.
func (r *runner) readStopped(ctx, fctx context.Context, err error) (stopped bool, runErr error) {
	switch {
	case errors.Is(err, ErrCannotRun):
		return true, err
	case ctx.Err() != nil:
		return true, cannot(fmt.Errorf("interrupted: %w", ctx.Err()))
	case fctx.Err() != nil:
		r.sum.TimedOut = true
		return true, nil
	}
	return false, nil
}

// readQueue reads what the queue notified since the last run and turns every
// notified call that the lake does not cover yet into a pending call. It
// returns the read, whose Next is the cursor the next run reads from.
func (r *runner) readQueue(ctx context.Context) (*Notified, error) {
	q, err := r.queue.Read(ctx, r.st.cursor)
	if err != nil {
		return nil, cannot(err)
	}
	r.sum.QueueEntities = q.Entities
	r.sum.QueueErrors = q.Skipped
	r.sum.QueueCalls = len(q.Calls)
	for _, c := range q.Calls {
		if e, ok := r.sink.Lookup(c.Source, c.ID); ok && !c.LastNotified.After(e.Fetched) {
			r.sum.UpToDate++
			continue
		}
		if f, ok := r.st.failed[c.ID]; ok && !c.LastNotified.After(f.FailedAt) {
			r.sum.UpToDate++
			continue
		}
		delete(r.st.failed, c.ID)
		p := r.st.pending[c.ID]
		if p == nil {
			p = &Pending{ID: c.ID, Source: c.Source, FirstNotified: c.FirstNotified}
			r.st.pending[c.ID] = p
		}
		if p.FirstNotified.IsZero() || c.FirstNotified.Before(p.FirstNotified) {
			p.FirstNotified = c.FirstNotified
		}
		if c.LastNotified.After(p.LastNotified) {
			p.LastNotified = c.LastNotified
		}
	}
	return q, nil
}

// pendingBySource sorts the pending calls by the source that reads them,
// counting those of sources that are not configured (they stay pending).
func (r *runner) pendingBySource() map[string][]string {
	out := map[string][]string{}
	for _, s := range r.sources {
		out[s.Name()] = nil
	}
	for id, p := range r.st.pending {
		if _, ok := out[p.Source]; !ok {
			r.sum.NoSource++
			continue
		}
		out[p.Source] = append(out[p.Source], id)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}
