package jobs

import (
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

	b := r.newBatch()
	err := s.client.FetchAll(ctx, ids, func(id string, rec *graph.CallRecord, err error) error {
		p := r.st.pending[id]
		p.Attempts++
		p.LastAttempt = now
		switch {
		case err == nil:
			r.sum.Fetched++
			it := lake.Item{Source: queue.SourceTeams, ID: rec.ID, Version: rec.Version,
				LastModified: rec.LastModifiedDateTime, Start: rec.StartDateTime, Notified: p.LastNotified}
			if err := b.put(ctx, it, func(b *transform.Builder, at time.Time) { b.AddGraph(rec, at) }); err != nil {
				return err
			}
			delete(r.st.pending, id)
		case errors.Is(err, graph.ErrAuth):
			return cannot(err)
		case errors.Is(err, graph.ErrNotFound) && now.Sub(p.FirstNotified) > retention:
			r.sum.fail(r.st, p, now, fmt.Sprintf("not found %d days after its notification (past the %d-day retention)",
				int(now.Sub(p.FirstNotified).Hours()/24), s.cfg.RetentionDays))
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
