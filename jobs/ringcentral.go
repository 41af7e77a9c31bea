package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"callstats/config"
	"callstats/extract/queue"
	"callstats/extract/ringcentral"
	"callstats/transform"
	"callstats/transform/lake"
)

// rcGiveUp is how long a notified RingCentral session may stay missing from
// the call log before it is given up and reported.
const rcGiveUp = 7 * 24 * time.Hour

// ringCentralSource reads RingCentral's company call log and recordings.
type ringCentralSource struct {
	cfg    *config.RingCentral
	client *ringcentral.Client
}

func newRingCentralSource(cfg *config.Config, env Env) (Source, error) {
	rc := cfg.RingCentral
	if rc == nil {
		return nil, nil
	}
	client, err := newRingCentralClient(rc, env)
	if err != nil {
		return nil, err
	}
	return &ringCentralSource{cfg: rc, client: client}, nil
}

func (s *ringCentralSource) Name() string { return queue.SourceRingCentral }

// Throttled is the number of 429 answers RingCentral gave.
func (s *ringCentralSource) Throttled() int64 { return s.client.Throttled() }

// Reconcile adds nothing: Fetch reads the call log by whole windows, which
// reconciles every day it covers.
func (s *ringCentralSource) Reconcile(context.Context, *runner, Window) error { return nil }

// Fetch reads the company call log over the days the queued sessions name
// plus the lookback, writes every record (the latest state of each wins),
// saves recordings when configured, and counts per day the sessions the log
// holds against those notified.
func (s *ringCentralSource) Fetch(ctx context.Context, r *runner, ids []string) error {
	rc := s.cfg
	now := r.cfg.Now().UTC()
	var days []time.Time
	for _, id := range ids {
		p := r.st.pending[id]
		days = append(days, p.FirstNotified, p.LastNotified)
	}
	for _, s := range sortedKeys(r.st.rcIncomplete) {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			days = append(days, d)
		}
		delete(r.st.rcIncomplete, s)
	}
	windows := ringcentral.Windows(days, now, rc.Lookback)

	type dayCount struct {
		sessions map[string][]string // telephony session id -> record ids
		complete bool
	}
	perDay := map[time.Time]*dayCount{}
	b := r.newBatch()
	put := func(rec *ringcentral.Record, notified time.Time) error {
		it := lake.Item{Source: queue.SourceRingCentral, ID: rec.ID, LastModified: rec.LastModifiedTime,
			Start: rec.StartTime, Notified: notified}
		return b.put(ctx, it, func(b *transform.Builder, at time.Time) { b.AddRingCentral(rec, at) })
	}
	// incomplete marks the days of a window that could not be read whole,
	// to be read again by the next run; while any is, no notified session
	// is given up for missing from the log.
	incomplete := false
	markIncomplete := func(w ringcentral.Window) {
		incomplete = true
		for d := w.From.Truncate(day); d.Before(w.To); d = d.Add(day) {
			r.st.rcIncomplete[d.Format(time.DateOnly)] = true
			if dc := perDay[d]; dc != nil {
				dc.complete = false
			} else {
				perDay[d] = &dayCount{sessions: map[string][]string{}}
			}
		}
	}
	fctx, cancel := r.fetchContext(ctx)
	defer cancel()
	prog := newProgress(r.env.Progress, "reading the RingCentral call log", 0)
	defer prog.done()
	for _, w := range windows {
		if r.sum.TimedOut {
			markIncomplete(w)
			continue
		}
		err := s.client.CallLog(fctx, w.From, w.To, func(recs []ringcentral.Record) error {
			for i := range recs {
				rec := &recs[i]
				sid := rec.TelephonySessionID
				if sid == "" {
					sid = rec.SessionID
				}
				var notified time.Time
				if p, ok := r.st.pending[sid]; ok && p.Source == queue.SourceRingCentral {
					notified = p.LastNotified
				}
				if err := put(rec, notified); err != nil {
					return err
				}
				r.sum.RingCentralRecords++
				d := rec.StartTime.UTC().Truncate(day)
				dc := perDay[d]
				if dc == nil {
					dc = &dayCount{sessions: map[string][]string{}, complete: true}
					perDay[d] = dc
				}
				dc.sessions[sid] = append(dc.sessions[sid], rec.ID)
				if rc.DownloadRecordings {
					for _, rg := range rec.Recordings() {
						if _, ok := r.st.recordings[rg.ID]; ok {
							continue
						}
						if err := ringcentral.CheckID(rg.ID); err != nil {
							// Kept as refused, so that the lookback does not report it again.
							r.st.recordings[rg.ID] = &PendingRecording{ID: rg.ID, Date: transform.PartitionDate(rec.StartTime),
								First: now, Refused: err.Error()}
							r.sum.RecordingsRefused = append(r.sum.RecordingsRefused, RefusedRecording{ID: rg.ID, Reason: err.Error()})
							r.log.Warn("recording refused", "record", rec.ID, "error", err)
							continue
						}
						if !r.recordingSaved(transform.PartitionDate(rec.StartTime), rg.ID) {
							r.st.recordings[rg.ID] = &PendingRecording{ID: rg.ID, ContentURI: rg.ContentURI,
								Date: transform.PartitionDate(rec.StartTime), First: now}
						}
					}
				}
				prog.step(0, 0)
			}
			return nil
		})
		if err == nil {
			continue
		}
		if errors.Is(err, ringcentral.ErrAuth) {
			b.abort()
			return cannot(err)
		}
		stopped, runErr := r.readStopped(ctx, fctx, err)
		if runErr != nil {
			b.abort()
			return runErr
		}
		markIncomplete(w)
		if !stopped {
			r.sum.sourceFailed(queue.SourceRingCentral, err)
			r.log.Warn("reading the RingCentral call log failed; its days are read again next run", "window", w.String(), "error", err)
		}
	}
	if err := b.commit(ctx); err != nil {
		return err
	}

	// Sessions the log held are done; notified ones it never showed wait for
	// a later run, up to rcGiveUp after a walk that read every window.
	for _, dc := range perDay {
		for sid := range dc.sessions {
			if p, ok := r.st.pending[sid]; ok && p.Source == queue.SourceRingCentral {
				delete(r.st.pending, sid)
			}
		}
	}
	for _, id := range sortedKeys(r.st.pending) {
		p := r.st.pending[id]
		if p.Source != queue.SourceRingCentral {
			continue
		}
		if !incomplete && now.Sub(p.FirstNotified) > rcGiveUp {
			r.sum.fail(r.st, p, now, fmt.Sprintf("session not in the call log %d days after its notification", int(now.Sub(p.FirstNotified)/day)))
			continue
		}
		r.sum.Deferred++
	}

	// Reconcile rows for the days the walk covered whole.
	for _, d := range slices.SortedFunc(func(yield func(time.Time) bool) {
		for d := range perDay {
			if !yield(d) {
				return
			}
		}
	}, func(a, b time.Time) int { return a.Compare(b) }) {
		dc := perDay[d]
		if !covers(windows, d, now) {
			continue
		}
		row := transform.ReconcileDay{Source: queue.SourceRingCentral, Day: d, Complete: dc.complete, ReconciledAt: now, NoQueue: r.listing}
		for _, ids := range dc.sessions {
			row.Listed++
			notified := false
			for _, id := range ids {
				if e, ok := r.sink.Lookup(queue.SourceRingCentral, id); ok && !e.Notified.IsZero() {
					notified = true
					break
				}
			}
			if notified {
				row.Notified++
			} else {
				row.Missed++
				row.Recovered++ // windows are read whole: its records are in the lake
			}
		}
		r.sum.Reconciled = append(r.sum.Reconciled, row)
	}
	if rc.DownloadRecordings && !r.sum.TimedOut {
		return s.saveRecordings(ctx, r)
	}
	return nil
}

// covers reports whether the windows read all of day d (up to now for today).
func covers(ws []ringcentral.Window, d, now time.Time) bool {
	end := d.Add(day)
	if end.After(now) {
		end = now
	}
	for _, w := range ws {
		if !w.From.After(d) && !w.To.Before(end) {
			return true
		}
	}
	return false
}
