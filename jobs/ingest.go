// Package jobs holds callstats' jobs (ingest, ...) as functions of the config.
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

// Ingest reads the queue, fetches the records it names (and those deferred by
// earlier runs), and writes them to the lake.
func Ingest(ctx context.Context, cfg *config.Config, env Env) (*Summary, error) {
	log := env.logger()
	start := cfg.Now()
	wall := time.Now()
	sum := &Summary{Job: "ingest", Started: start}

	lock, err := AcquireLock(cfg.StateDir, "ingest", start)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	defer lock.Release()

	lk, err := lake.Open(ctx, cfg.Output.Dir, cfg.StateDir, lake.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	st, err := loadRunState(lk)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}

	// 1. The queue.
	from := st.cursor.Cursor
	if st.cursor.Path != cfg.Queue.Path {
		from = queue.Cursor{}
	}
	q, err := queue.Read(ctx, cfg.Queue.Path, from)
	if err != nil {
		return nil, fmt.Errorf("%w: reading queue: %w", ErrCannotRun, err)
	}
	for _, pe := range q.Errors {
		log.Warn("skipped queue line", "error", pe.Error())
	}
	if q.Restarted {
		log.Warn("queue file was replaced or truncated since the last run; reading it from the start", "path", cfg.Queue.Path)
	}
	sum.QueueEntities = q.Entities
	sum.QueueErrors = len(q.Errors)
	sum.QueueCalls = len(q.Calls)

	// 2. What to fetch: notified calls newer than our copy, and deferred ones.
	var teams []string
	want := map[string]bool{}
	for _, c := range q.Calls {
		if e, ok := lk.Lookup(c.Source, c.ID); ok && !c.LastNotified.After(e.Fetched) {
			sum.UpToDate++
			continue
		}
		if f, ok := st.failed[c.ID]; ok && !c.LastNotified.After(f.FailedAt) {
			sum.UpToDate++
			continue
		}
		delete(st.failed, c.ID)
		p := st.pending[c.ID]
		if p == nil {
			p = &Pending{ID: c.ID, Source: c.Source, FirstNotified: c.FirstNotified}
			st.pending[c.ID] = p
		}
		if c.FirstNotified.Before(p.FirstNotified) {
			p.FirstNotified = c.FirstNotified
		}
		if c.LastNotified.After(p.LastNotified) {
			p.LastNotified = c.LastNotified
		}
	}
	for id, p := range st.pending {
		switch p.Source {
		case "teams":
			if cfg.Teams != nil && !want[id] {
				want[id] = true
				teams = append(teams, id)
			}
		default:
			sum.NoSource++
		}
	}
	slices.Sort(teams)
	sum.ToFetch = len(teams)

	// 3. Fetch and write, committing every batch.
	if len(teams) > 0 {
		client, err := graph.NewClient(graph.ClientConfig{
			TenantID: cfg.Teams.TenantID, ClientID: cfg.Teams.ClientID,
			ClientSecret: cfg.Teams.ClientSecret.Reveal(),
			GraphURL:     cfg.Teams.GraphURL, LoginURL: cfg.Teams.LoginURL,
			Concurrency: cfg.Teams.Concurrency, MaxAttempts: cfg.Teams.MaxAttempts,
			HTTPClient: env.HTTPClient, Logger: log, Wait: env.Wait,
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
		}
		if err := fetchTeams(ctx, cfg, env, client, lk, st, teams, sum); err != nil {
			return sum, err
		}
	}

	// 4. The final commit carries the queue cursor and the pending and failed lists.
	st.cursor = cursorState{Path: cfg.Queue.Path, Cursor: q.Next}
	tx := lk.Begin(cfg.Now())
	if err := st.stage(tx); err != nil {
		tx.Abort()
		return sum, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		return sum, fmt.Errorf("%w: committing state: %w", ErrCannotRun, err)
	}
	sum.Pending = len(st.pending)
	sum.Elapsed = time.Since(wall)
	sum.Done = true
	sum.LakeCalls = lk.Len()
	return sum, nil
}

// fetchTeams fetches Teams records and commits them in batches.
func fetchTeams(ctx context.Context, cfg *config.Config, env Env, client *graph.Client, lk *lake.Lake,
	st *runState, ids []string, sum *Summary) error {
	log := env.logger()
	now := cfg.Now()
	retention := time.Duration(cfg.Teams.RetentionDays) * 24 * time.Hour
	prog := newProgress(env.Progress, "fetching Teams call records", len(ids))
	defer prog.done()

	tx := lk.Begin(now)
	commit := func() error {
		stats, err := tx.Commit(ctx)
		if err != nil {
			return fmt.Errorf("%w: writing lake: %w", ErrCannotRun, err)
		}
		sum.Lake.Add(stats)
		tx = lk.Begin(cfg.Now())
		return nil
	}
	err := client.FetchAll(ctx, ids, func(id string, rec *graph.CallRecord, err error) error {
		p := st.pending[id]
		p.Attempts++
		p.LastAttempt = now
		switch {
		case err == nil:
			sum.Fetched++
			if _, err := tx.PutGraph(ctx, rec); errors.Is(err, lake.ErrStaged) {
				if err := commit(); err != nil {
					return err
				}
				if _, err := tx.PutGraph(ctx, rec); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			delete(st.pending, id)
		case errors.Is(err, graph.ErrAuth):
			return fmt.Errorf("%w: %w", ErrCannotRun, err)
		case errors.Is(err, graph.ErrNotFound) && now.Sub(p.FirstNotified) > retention:
			sum.fail(st, p, now, fmt.Sprintf("not found %d days after its notification (past the %d-day retention)",
				int(now.Sub(p.FirstNotified).Hours()/24), cfg.Teams.RetentionDays))
		case errors.Is(err, graph.ErrNotFound), graph.IsRetryable(err):
			p.LastError = err.Error()
			sum.Deferred++
			log.Debug("deferred call", "id", id, "error", err)
		default:
			sum.fail(st, p, now, err.Error())
			log.Warn("call failed", "id", id, "error", err)
		}
		prog.step(sum.Deferred, len(sum.FailedCalls))
		if tx.Len() >= cfg.Output.BatchSize {
			return commit()
		}
		return nil
	})
	if err != nil {
		tx.Abort()
		if ctx.Err() != nil {
			return fmt.Errorf("%w: interrupted: %w", ErrCannotRun, ctx.Err())
		}
		return err
	}
	return commit()
}
