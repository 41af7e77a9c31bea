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
	"callstats/extract/graph"
	"callstats/extract/queue"
	"callstats/extract/ringcentral"
	"callstats/transform/lake"
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

// Window is a range of whole UTC days, both ends included.
type Window struct{ From, To time.Time }

// Ingest reads the queue, fetches the records it names (and those deferred by
// earlier runs), writes them to the lake, then reconciles the configured
// window of recent days.
func Ingest(ctx context.Context, cfg *config.Config, env Env) (*Summary, error) {
	var w *Window
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
	}
	return run(ctx, cfg, env, "ingest", w)
}

// Reconcile does what Ingest does, reconciling the given days instead of the
// configured window: the queue is read first so that notified calls are told
// apart from missed ones.
func Reconcile(ctx context.Context, cfg *config.Config, env Env, w Window) (*Summary, error) {
	return run(ctx, cfg, env, "reconcile", &w)
}

// runner is one run of a job: its lake, state and summary.
type runner struct {
	cfg    *config.Config
	env    Env
	log    *slog.Logger
	lk     *lake.Lake
	st     *runState
	sum    *Summary
	client *graph.Client
	rc     *ringcentral.Client
}

func run(ctx context.Context, cfg *config.Config, env Env, job string, w *Window) (*Summary, error) {
	start := cfg.Now()
	wall := time.Now()
	r := &runner{cfg: cfg, env: env, log: env.logger(), sum: &Summary{Job: job, Started: start}}
	defer func() { r.sum.Elapsed = time.Since(wall) }()

	lock, err := AcquireLock(cfg.StateDir, job, start)
	if err != nil {
		return nil, cannot(err)
	}
	defer lock.Release()
	if r.lk, err = lake.Open(ctx, cfg.Output.Dir, cfg.StateDir, lake.Options{Logger: r.log}); err != nil {
		return nil, cannot(err)
	}
	if r.st, err = loadRunState(r.lk); err != nil {
		return nil, cannot(err)
	}
	if cfg.Teams != nil {
		// The client paces by the wall clock, never by the job clock: that one
		// stands still when CALLSTATS_NOW fixes it.
		r.client, err = graph.NewClient(graph.ClientConfig{
			TenantID: cfg.Teams.TenantID, ClientID: cfg.Teams.ClientID,
			ClientSecret: cfg.Teams.ClientSecret.Reveal(),
			GraphURL:     cfg.Teams.GraphURL, LoginURL: cfg.Teams.LoginURL,
			Concurrency: cfg.Teams.Concurrency, MaxAttempts: cfg.Teams.MaxAttempts,
			HTTPClient: env.HTTPClient, Logger: r.log, Wait: env.Wait,
		})
		if err != nil {
			return nil, cannot(err)
		}
	}

	if rc := cfg.RingCentral; rc != nil {
		r.rc, err = ringcentral.NewClient(ringcentral.ClientConfig{
			ServerURL: rc.ServerURL, MediaURL: rc.MediaURL, ClientID: rc.ClientID,
			ClientSecret: rc.ClientSecret.Reveal(), JWT: rc.JWT.Reveal(),
			HTTPClient: env.HTTPClient, Logger: r.log, Wait: env.Wait,
		})
		if err != nil {
			return nil, cannot(err)
		}
	}

	next, err := r.readQueue(ctx)
	if err != nil {
		return r.sum, err
	}
	if err := r.fetchTeams(ctx, r.pendingTeams()); err != nil {
		return r.sum, err
	}
	if w != nil && r.client != nil {
		if err := r.reconcileTeams(ctx, *w); err != nil {
			return r.sum, err
		}
	}
	if r.rc != nil {
		if err := r.syncRingCentral(ctx); err != nil {
			return r.sum, err
		}
	}

	// The final commit carries the queue cursor and the pending and failed
	// lists, with the reconcile rows.
	r.st.cursor = cursorState{Path: cfg.Queue.Path, Cursor: next}
	tx := r.lk.Begin(cfg.Now())
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
	r.sum.LakeRecords = r.lk.Len()
	r.sum.Done = true
	return r.sum, nil
}

// readQueue reads the new part of the queue and turns every notified call
// that the lake does not cover yet into a pending call. It returns where the
// next run's read starts.
func (r *runner) readQueue(ctx context.Context) (queue.Cursor, error) {
	from := r.st.cursor.Cursor
	if r.st.cursor.Path != r.cfg.Queue.Path {
		from = queue.Cursor{}
	}
	q, err := queue.Read(ctx, r.cfg.Queue.Path, from)
	if err != nil {
		return queue.Cursor{}, cannot(fmt.Errorf("reading queue: %w", err))
	}
	for _, pe := range q.Errors {
		r.log.Warn("skipped queue line", "error", pe.Error())
	}
	if q.Skipped > len(q.Errors) {
		r.log.Warn("more queue lines skipped", "count", q.Skipped-len(q.Errors))
	}
	if q.Restarted {
		r.log.Warn("queue file was replaced or truncated since the last run; reading it from the start", "path", r.cfg.Queue.Path)
	}
	r.sum.QueueEntities = q.Entities
	r.sum.QueueErrors = q.Skipped
	r.sum.QueueCalls = len(q.Calls)
	for _, c := range q.Calls {
		if e, ok := r.lk.Lookup(c.Source, c.ID); ok && !c.LastNotified.After(e.Fetched) {
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
	return q.Next, nil
}

// pendingTeams lists the pending Teams calls, counting the calls of sources
// that are not configured (they stay pending).
func (r *runner) pendingTeams() []string {
	var ids []string
	for id, p := range r.st.pending {
		switch {
		case p.Source == queue.SourceTeams && r.client != nil:
			ids = append(ids, id)
		case p.Source == queue.SourceRingCentral && r.rc != nil:
			// read by window in syncRingCentral
		default:
			r.sum.NoSource++
		}
	}
	slices.Sort(ids)
	return ids
}

// fetchTeams fetches pending Teams calls and commits them in batches.
func (r *runner) fetchTeams(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := r.cfg.Now()
	retention := time.Duration(r.cfg.Teams.RetentionDays) * 24 * time.Hour
	r.sum.ToFetch += len(ids)
	prog := newProgress(r.env.Progress, "fetching Teams call records", len(ids))
	defer prog.done()

	b := r.newBatch()
	err := r.client.FetchAll(ctx, ids, func(id string, rec *graph.CallRecord, err error) error {
		p := r.st.pending[id]
		p.Attempts++
		p.LastAttempt = now
		switch {
		case err == nil:
			r.sum.Fetched++
			err := b.put(ctx, func(tx *lake.Tx) error {
				_, err := tx.PutGraph(ctx, rec, p.LastNotified)
				return err
			})
			if err != nil {
				return err
			}
			delete(r.st.pending, id)
		case errors.Is(err, graph.ErrAuth):
			return cannot(err)
		case errors.Is(err, graph.ErrNotFound) && now.Sub(p.FirstNotified) > retention:
			r.sum.fail(r.st, p, now, fmt.Sprintf("not found %d days after its notification (past the %d-day retention)",
				int(now.Sub(p.FirstNotified).Hours()/24), r.cfg.Teams.RetentionDays))
		case errors.Is(err, graph.ErrNotFound), graph.IsRetryable(err):
			p.LastError = err.Error()
			r.sum.Deferred++
			r.log.Debug("deferred call", "id", id, "error", err)
		default:
			r.sum.fail(r.st, p, now, err.Error())
			r.log.Warn("call failed", "id", id, "error", err)
		}
		prog.step(r.sum.Deferred, len(r.sum.FailedCalls))
		return nil
	})
	if err != nil {
		b.abort()
		if ctx.Err() != nil {
			return cannot(fmt.Errorf("interrupted: %w", ctx.Err()))
		}
		return err
	}
	return b.commit(ctx)
}
