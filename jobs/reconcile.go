package jobs

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/extract/graph"
	"callstats/extract/queue"
	"callstats/transform"
	"callstats/transform/lake"
)

const day = 24 * time.Hour

// reconcileTeams lists what Graph holds for each day of the window (and for
// days an earlier run could not list completely), fetches the records that
// were never notified or changed since their fetch, and counts, per day,
// what was listed, notified, missed and recovered.
func (s *teamsSource) Reconcile(ctx context.Context, r *runner, w Window) error {
	now := r.cfg.Now().UTC()
	retention := time.Duration(s.cfg.RetentionDays) * day
	oldest := now.Add(-retention).Truncate(day).Add(day) // the first day still wholly kept
	today := now.Truncate(day)
	var days []time.Time
	seen := map[time.Time]bool{}
	addDay := func(d time.Time) {
		if d.Before(oldest) || d.After(today) || seen[d] {
			return
		}
		seen[d] = true
		days = append(days, d)
	}
	from, to := w.From.UTC().Truncate(day), w.To.UTC().Truncate(day)
	if from.Before(oldest) {
		r.log.Warn("reconcile window clipped to the source's retention", "from", from.Format(time.DateOnly), "clipped_to", oldest.Format(time.DateOnly))
	}
	for d := from; !d.After(to); d = d.Add(day) {
		addDay(d)
	}
	for _, s := range sortedKeys(r.st.incomplete) {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			if !seen[d] {
				r.log.Info("listing again a day an earlier run could not list completely", "day", s)
			}
			addDay(d)
		}
		delete(r.st.incomplete, s) // kept only if it fails again and is still in retention
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })

	type listing struct {
		day      time.Time
		items    map[string]graph.ListItem
		complete bool
	}
	var lists []listing
	var fetch []string
	prog := newProgress(r.env.Progress, "listing Teams call records by day", len(days))
	fctx, cancel := r.fetchContext(ctx)
	defer cancel()
	for _, d := range days {
		prog.step(0, 0)
		if r.sum.TimedOut {
			r.st.incomplete[d.Format(time.DateOnly)] = true // listed by the next run
			continue
		}
		l := listing{day: d, items: map[string]graph.ListItem{}, complete: true}
		err := s.client.List(fctx, d, d.Add(day), func(page []graph.ListItem) error {
			for _, it := range page {
				l.items[it.ID] = it
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, graph.ErrAuth) {
				return cannot(err)
			}
			stopped, runErr := r.readStopped(ctx, fctx, err)
			if runErr != nil {
				return runErr
			}
			l.complete = false
			r.st.incomplete[d.Format(time.DateOnly)] = true
			if stopped {
				continue // the deadline: the day is listed by the next run
			}
			r.sum.sourceFailed(queue.SourceTeams, err)
			r.log.Warn("listing call records failed part-way; the day is marked incomplete and listed again next run",
				"day", d.Format(time.DateOnly), "listed_so_far", len(l.items), "error", err)
		}
		// Every listed call the lake lacks is fetched, even one an earlier
		// run gave up: only the retention ends the retries.
		for _, id := range sortedKeys(l.items) {
			it := l.items[id]
			if _, ok := r.st.pending[id]; ok {
				continue // deferred: tried already in this run
			}
			e, inLake := r.sink.Lookup("teams", id)
			switch {
			case !inLake:
				r.st.pending[id] = &Pending{ID: id, Source: "teams", FirstNotified: it.StartDateTime}
			case it.Version > e.Version || it.LastModifiedDateTime.After(e.LastModified):
				r.st.pending[id] = &Pending{ID: id, Source: "teams", FirstNotified: it.StartDateTime, LastNotified: e.Notified}
			default:
				continue
			}
			fetch = append(fetch, id)
		}
		lists = append(lists, l)
	}
	prog.done()
	if err := s.Fetch(ctx, r, fetch); err != nil {
		return err
	}
	if len(days) > 0 && !r.sum.TimedOut {
		if err := s.readCallLogs(ctx, r, days[0], days[len(days)-1].Add(day)); err != nil {
			return err
		}
	}

	for _, l := range lists {
		row := transform.ReconcileDay{Source: "teams", Day: l.day, Complete: l.complete, ReconciledAt: now, NoQueue: r.listing}
		for id := range l.items {
			row.Listed++
			e, inLake := r.sink.Lookup("teams", id)
			p, pending := r.st.pending[id]
			f, failed := r.st.failed[id]
			notified := inLake && !e.Notified.IsZero() || pending && !p.LastNotified.IsZero() || failed && !f.LastNotified.IsZero()
			switch {
			case notified && !r.listing:
				row.Notified++
				continue
			case inLake:
				row.Recovered++
			case pending:
				row.Deferred++
			case failed:
				row.Failed++
			}
			if !r.listing {
				row.Missed++
			}
		}
		r.sum.Reconciled = append(r.sum.Reconciled, row)
	}
	return nil
}

// stageReconcile writes the run's reconcile rows, one file per source and
// day, leaving alone the days whose counts did not change, so that a rerun
// changes nothing.
func (r *runner) stageReconcile(ctx context.Context, tx SinkTx) error {
	for _, row := range r.sum.Reconciled {
		date := row.Day.Format(time.DateOnly)
		same := false
		err := r.sink.ScanFile(ctx, string(transform.Reconcile), date, row.Source, func(rec arrow.RecordBatch) error {
			old, err := transform.ReadReconcileDays(rec)
			same = err == nil && len(old) == 1 && old[0].SameCounts(row)
			return nil
		})
		if err != nil {
			r.log.Warn("reading the reconcile table; rewriting the day", "day", date, "error", err)
		}
		if same {
			continue
		}
		rec := transform.NewReconcileRecord(nil, []transform.ReconcileDay{row})
		err = tx.PutFile(string(transform.Reconcile), date, row.Source, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// readCallLogs reads the PSTN and Direct Routing logs of [from, to) into
// their tables; a row already in the lake is kept once, by its id. A day
// whose log could not be read is logged: the next runs read it again, since
// the logs trail the calls by a day or two and every run's window covers it.
func (s *teamsSource) readCallLogs(ctx context.Context, r *runner, from, to time.Time) error {
	fctx, cancel := r.fetchContext(ctx)
	defer cancel()
	b := r.newBatch()
	logErr := func(kind string, err error) error {
		if err == nil {
			return nil
		}
		if errors.Is(err, graph.ErrAuth) {
			return cannot(err)
		}
		if stopped, runErr := r.readStopped(ctx, fctx, err); stopped {
			return runErr // nil at the deadline: the next runs read the days
		}
		r.log.Warn("reading a call log failed; the days are read again by the next runs", "log", kind, "error", err)
		r.sum.CallLogErrors++
		r.sum.sourceFailed(queue.SourceTeams, err)
		return nil
	}
	err := s.client.PstnCalls(fctx, from, to, func(rows []graph.PstnCall) error {
		for i := range rows {
			row := &rows[i]
			it := lake.Item{Source: "pstn", ID: row.ID, Start: row.StartDateTime}
			if err := b.put(ctx, it, func(b *transform.Builder, at time.Time) { b.AddPstnCall(row, at) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err := logErr("pstn", err); err != nil {
		b.abort()
		return err
	}
	err = s.client.DirectRoutingCalls(fctx, from, to, func(rows []graph.DirectRoutingCall) error {
		for i := range rows {
			row := &rows[i]
			it := lake.Item{Source: "direct_routing", ID: row.ID, Start: row.StartDateTime}
			if err := b.put(ctx, it, func(b *transform.Builder, at time.Time) { b.AddDirectRoutingCall(row, at) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err := logErr("direct routing", err); err != nil {
		b.abort()
		return err
	}
	return b.commit(ctx)
}
