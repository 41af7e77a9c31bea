package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"callstats/config"
	"callstats/extract/graph"
	"callstats/extract/queue"
	"callstats/transform"
	"callstats/transform/lake"
)

// teamsSource reads Teams call records, and the PSTN and Direct Routing
// logs, from Microsoft Graph.
type teamsSource struct {
	cfg    *config.Teams
	client *graph.Client
}

func newTeamsSource(cfg *config.Config, env Env) (Source, error) {
	if cfg.Teams == nil {
		return nil, nil
	}
	client, err := newGraphClient(cfg.Teams, env)
	if err != nil {
		return nil, err
	}
	return &teamsSource{cfg: cfg.Teams, client: client}, nil
}

func (s *teamsSource) Name() string { return queue.SourceTeams }

// Fetch fetches pending Teams calls and commits them in batches.
func (s *teamsSource) Fetch(ctx context.Context, r *runner, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := r.cfg.Now()
	retention := time.Duration(s.cfg.RetentionDays) * 24 * time.Hour
	r.sum.ToFetch += len(ids)
	prog := newProgress(r.env.Progress, "fetching Teams call records", len(ids))
	defer prog.done()

	fctx, cancel := r.fetchContext(ctx)
	defer cancel()
	b := r.newBatch()
	err := s.client.FetchAll(fctx, ids, func(id string, rec *graph.CallRecord, err error) error {
		p := r.st.pending[id]
		p.Attempts++
		p.LastAttempt = now
		age := now.Sub(p.FirstNotified)
		switch {
		case err == nil:
			r.sum.Fetched++
			it := lake.Item{Source: queue.SourceTeams, ID: rec.ID, Version: rec.Version,
				LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime, Notified: p.LastNotified}
			if err := b.put(ctx, it, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
				return err
			}
			delete(r.st.pending, id)
			delete(r.st.failed, id)
		case errors.Is(err, graph.ErrAuth):
			return cannot(err)
		case errors.Is(err, graph.ErrInvalidID):
			r.sum.fail(r.st, p, now, err.Error())
			r.log.Warn("call failed: its id is not a Graph call record id", "id", id, "error", err)
		case errors.Is(err, graph.ErrNotFound) && age > retention:
			r.sum.fail(r.st, p, now, fmt.Sprintf("not found %d days after its notification (past the %d-day retention)",
				int(age.Hours()/24), s.cfg.RetentionDays))
		case graph.IsRetryable(err) && age > retention:
			r.sum.fail(r.st, p, now, fmt.Sprintf("still failing %d days after its notification (past the %d-day retention): %v",
				int(age.Hours()/24), s.cfg.RetentionDays, err))
		case errors.Is(err, graph.ErrNotFound):
			p.LastError = err.Error()
			r.sum.Deferred++
			r.log.Debug("deferred call: not ready", "id", id, "error", err)
		case graph.IsRetryable(err):
			// Graph kept failing or throttling (5xx, cut, stalled or
			// undecodable answers, 429s): a deferral, reported.
			p.LastError = err.Error()
			r.sum.Deferred++
			r.sum.sourceFailed(queue.SourceTeams, err)
			r.log.Debug("deferred call: the source failed", "id", id, "error", err)
		default:
			r.sum.fail(r.st, p, now, err.Error())
			r.log.Warn("call failed", "id", id, "error", err)
		}
		prog.step(r.sum.Deferred, len(r.sum.FailedCalls))
		return nil
	})
	if err != nil {
		// FetchAll ends early on an error of the run or with its context;
		// at the deadline, what was read is kept and the rest stays pending.
		if stopped, runErr := r.readStopped(ctx, fctx, err); !stopped || runErr != nil {
			b.abort()
			return cmp.Or(runErr, err)
		}
	}
	return b.commit(ctx)
}

// Throttled is the number of 429 answers Graph gave.
func (s *teamsSource) Throttled() int64 { return s.client.Throttled() }
