package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"callstats/config"
	"callstats/extract/queue"
	"callstats/extract/webhook"
)

// firstRun reports whether ingest never completed a run in this state
// directory.
func firstRun(stateDir string) (bool, error) {
	_, ok, err := LastSuccess(stateDir, "ingest")
	return !ok, err
}

// firstRunWindow widens the reconcile window of a first run back to the
// oldest day the queue names (the oldest notification read), or with no
// queue to reconcile.initial_days, clipped to the days Graph still keeps
// whole. Calls whose notifications were lost before callstats ever ran are
// then recovered without an explicit reconcile. The listing and the fetches
// commit in batches of output.batch_size, so a first run that is killed
// resumes where it stopped: the rerun is a first run still, and finds the
// committed calls in the lake.
func (r *runner) firstRunWindow(ctx context.Context, w *Window, q *Notified) error {
	now := r.cfg.Now().UTC()
	var from time.Time
	oldest, ok := q.oldest()
	if tq, isTable := r.queue.(*tableQueue); isTable {
		// The oldest partition: the entities' Timestamps are when the
		// service stored them, which says less than the hour they name.
		var err error
		if oldest, ok, err = tq.tbl.OldestHour(ctx); err != nil {
			return fmt.Errorf("reading queue table %s: %w", tq.name, err)
		}
	}
	switch {
	case q.Listing:
		from = now.Truncate(day).AddDate(0, 0, 1-r.cfg.Reconcile.InitialDays)
	case ok:
		from = oldest.UTC().Truncate(day)
	default:
		return nil
	}
	if r.cfg.Teams != nil {
		kept := now.Add(-time.Duration(r.cfg.Teams.RetentionDays) * day).Truncate(day).Add(day)
		if from.Before(kept) {
			from = kept
		}
	}
	if !from.Before(w.From) {
		return nil
	}
	w.From = from
	r.log.Info("first run: reconciling back to the oldest day the queue names", "from", from.Format(time.DateOnly),
		"days", int(w.To.Sub(from)/day)+1)
	return nil
}

// pruneQueue prunes the Azure table queue (queue.azure_table.delete_after)
// once the run has committed: an old entity is deleted only when its call
// is in the lake or given up. A failure is logged and counted; the next run
// prunes again.
func (r *runner) pruneQueue(ctx context.Context) {
	tq, ok := r.queue.(*tableQueue)
	if !ok {
		return
	}
	p, err := tq.prune(ctx, func(source, id string) bool {
		if _, ok := r.sink.Lookup(source, id); ok {
			return true
		}
		f, ok := r.st.failed[id]
		return ok && f.Source == source
	})
	r.sum.Pruned = p
	if err != nil {
		r.sum.PruneErrors++
		r.log.Warn("pruning the queue table failed; the next run prunes again", "error", err)
	}
}

// openServeSink opens where serve writes the notifications it accepts: the
// Azure table when queue.azure_table is set (upserted in the seed's shape,
// so a retried notification is no second row), else the JSON Lines queue
// file. close releases it.
func openServeSink(ctx context.Context, cfg *config.Config, log *slog.Logger) (sink webhook.Sink, close func() error, err error) {
	switch cfg.Queue.Kind() {
	case config.QueueAzureTable:
		tq, err := openTableQueue(cfg, log)
		if err != nil {
			return nil, nil, err
		}
		// A credential scoped to the table (a SAS) may not create tables:
		// the receiver's table normally exists, and a missing one fails
		// every write, counted as sink errors.
		if err := tq.tbl.Create(ctx); err != nil {
			log.Warn("could not create the queue table; writing to it as it is", "table", tq.name, "error", err)
		}
		return webhook.SinkFunc(tq.tbl.Upsert), func() error { return nil }, nil
	case config.QueueNone:
		return nil, nil, fmt.Errorf("serve needs a queue to write notifications to: set queue.path or queue.azure_table")
	}
	a, err := queue.OpenAppender(cfg.Queue.Path)
	if err != nil {
		return nil, nil, err
	}
	return a, a.Close, nil
}
