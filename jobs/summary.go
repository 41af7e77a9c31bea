package jobs

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"callstats/internal/httpretry"
	"callstats/transform"
	"callstats/transform/lake"
)

// Summary is what a run did, printed at its end and logged.
type Summary struct {
	Job string
	// Started is the run's time on the job clock (CALLSTATS_NOW when set);
	// Elapsed is the wall-clock time it took.
	Started time.Time
	Elapsed time.Duration
	// Done is set when the run got to its end.
	Done bool
	// The queue; NoQueue is set when there is none (calls found by listing).
	QueueEntities, QueueErrors, QueueCalls int
	NoQueue                                bool
	// Pruned is what pruning the queue table did (nil when it did not run);
	// PruneErrors counts prunes that failed.
	Pruned      *Pruned
	PruneErrors int
	// UpToDate counts notified calls whose latest notification the lake already covers.
	UpToDate int
	// NoSource counts queued calls of a source that is not configured; they stay pending.
	NoSource int
	// ToFetch, Fetched, Deferred: records asked for, received, put off to a later run.
	ToFetch, Fetched, Deferred int
	// FailedCalls are the records given up for good in this run.
	FailedCalls []Failed
	// Pending is how many calls wait for a later run after this one.
	Pending int
	// RingCentralRecords counts call-log records read; RecordingsSaved and
	// RecordingsPending the recordings downloaded and still waiting.
	RingCentralRecords, RecordingsSaved, RecordingsPending int
	// CallLogErrors counts PSTN / Direct Routing log reads that failed.
	CallLogErrors int
	// SourceFailures are the sources that kept failing during the run; the
	// work they failed is deferred to a later run, and the run needs
	// attention (see Problem).
	SourceFailures []SourceFailure
	// Throttled counts the 429 answers the sources gave: above 0, the run
	// was throttled.
	Throttled int64
	// RecordingsRefused are the recordings given up for good: over
	// ringcentral.max_recording_bytes, or with an id that may not be used.
	RecordingsRefused []RefusedRecording
	// TimedOut is set when run_timeout ended the fetching: what was fetched
	// is committed, the rest waits for the next run.
	TimedOut bool
	// Reconciled holds a row per source and day reconciled.
	Reconciled []transform.ReconcileDay
	// Lake counts what the commits did; LakeRecords is the records (calls and
	// PSTN / Direct Routing rows) in the lake after the run.
	Lake        lake.Stats
	LakeRecords int
}

// SourceFailure is a source that kept failing (5xx, network errors, stalled
// or undecodable answers, a redirect off its origin) or kept answering 429
// until a request's attempts ran out, Count times in a run.
type SourceFailure struct {
	Source    string // "teams", "ringcentral"
	Throttled bool   // it kept answering 429
	Count     int
	LastError string
}

// RefusedRecording is a recording given up for good, with why.
type RefusedRecording struct {
	ID, Reason string
}

// sourceFailed counts a read of source that failed with err (a retryable
// error: its work is deferred to a later run).
func (s *Summary) sourceFailed(source string, err error) {
	throttled := errors.Is(err, httpretry.ErrThrottled)
	for i := range s.SourceFailures {
		if f := &s.SourceFailures[i]; f.Source == source && f.Throttled == throttled {
			f.Count++
			f.LastError = err.Error()
			return
		}
	}
	s.SourceFailures = append(s.SourceFailures, SourceFailure{Source: source, Throttled: throttled, Count: 1, LastError: err.Error()})
}

// Problem says in one line why a run that completed needs attention (exit
// status 3): records given up for good, recordings refused, a source that
// kept failing or throttling, so that its work was deferred. It is "" for a
// run that needs none; work deferred because it was not ready yet is normal.
func (s *Summary) Problem() string {
	var parts []string
	if n := len(s.FailedCalls); n > 0 {
		parts = append(parts, fmt.Sprintf("%d records failed for good", n))
	}
	if n := len(s.RecordingsRefused); n > 0 {
		parts = append(parts, fmt.Sprintf("%d recordings refused", n))
	}
	for _, f := range s.SourceFailures {
		parts = append(parts, fmt.Sprintf("%s %s %d times, its work is deferred to the next run (last: %s)",
			f.Source, f.kind(), f.Count, firstLine(f.LastError)))
	}
	return strings.Join(parts, "; ")
}

func (f SourceFailure) kind() string {
	if f.Throttled {
		return "throttled"
	}
	return "source failed"
}

func (s *Summary) fail(st *runState, p *Pending, now time.Time, reason string) {
	f := Failed{ID: p.ID, Source: p.Source, LastNotified: p.LastNotified, FailedAt: now, Reason: reason}
	st.failed[p.ID] = &f
	delete(st.pending, p.ID)
	s.FailedCalls = append(s.FailedCalls, f)
}

// Print writes the summary for a person to read.
func (s *Summary) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s finished in %s\n", s.Job, s.Elapsed.Round(time.Millisecond))
	if s.NoQueue {
		fmt.Fprintf(tw, "  queue\tnone: calls are found by listing each day\n")
	} else {
		fmt.Fprintf(tw, "  queue\t%d notifications, %d calls, %d bad lines skipped\n", s.QueueEntities, s.QueueCalls, s.QueueErrors)
	}
	if p := s.Pruned; p != nil || s.PruneErrors > 0 {
		if p == nil {
			p = &Pruned{}
		}
		fmt.Fprintf(tw, "  queue pruned\t%d old entities deleted, %d kept (call not in the lake yet), %d malformed kept; %d prune errors\n",
			p.Deleted, p.Kept, p.Skipped, s.PruneErrors)
	}
	fmt.Fprintf(tw, "  fetched\t%d of %d (%d already up to date)\n", s.Fetched, s.ToFetch, s.UpToDate)
	fmt.Fprintf(tw, "  lake\t%d added, %d replaced by a newer version, %d unchanged; %d records in the lake\n",
		s.Lake.Added, s.Lake.Replaced, s.Lake.Unchanged, s.LakeRecords)
	tables := make([]string, 0, len(s.Lake.Rows))
	for t := range s.Lake.Rows {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	var rows []string
	for _, t := range tables {
		rows = append(rows, fmt.Sprintf("%s %d", t, s.Lake.Rows[t]))
	}
	if len(rows) > 0 {
		fmt.Fprintf(tw, "  rows written\t%s\n", strings.Join(rows, ", "))
	}
	if s.RingCentralRecords > 0 || s.RecordingsSaved > 0 || s.RecordingsPending > 0 {
		fmt.Fprintf(tw, "  ringcentral\t%d call-log records read; recordings: %d saved, %d waiting\n",
			s.RingCentralRecords, s.RecordingsSaved, s.RecordingsPending)
	}
	for _, r := range s.RecordingsRefused {
		fmt.Fprintf(tw, "    refused recording %q\t%s\n", r.ID, r.Reason)
	}
	fmt.Fprintf(tw, "  deferred\t%d (tried again next run; %d pending in all)\n", s.Deferred, s.Pending)
	if s.TimedOut {
		fmt.Fprintf(tw, "  run_timeout\treached: fetching stopped, what was fetched is committed, the rest is pending\n")
	}
	if s.Throttled > 0 {
		fmt.Fprintf(tw, "  throttled\t%d answers 429 (too many requests)\n", s.Throttled)
	}
	for _, f := range s.SourceFailures {
		fmt.Fprintf(tw, "  %s\t%s %d times, its work deferred to the next run; last: %s\n", f.kind(), f.Source, f.Count, firstLine(f.LastError))
	}
	if s.NoSource > 0 {
		fmt.Fprintf(tw, "  no source\t%d queued calls of an unconfigured source, kept pending\n", s.NoSource)
	}
	fmt.Fprintf(tw, "  failed\t%d\n", len(s.FailedCalls))
	for _, f := range s.FailedCalls {
		fmt.Fprintf(tw, "    %s %s\t%s\n", f.Source, f.ID, f.Reason)
	}
	tw.Flush()
	if len(s.Reconciled) > 0 {
		fmt.Fprintln(w, "  reconcile (calls the source holds vs. notifications received, per UTC day):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "    source\tday\tlisted\tnotified\tmissed\trecovered\tdeferred\tfailed\tcomplete\t")
		for _, r := range s.Reconciled {
			complete := "yes"
			if !r.Complete {
				complete = "NO: listed again next run"
			}
			notified, missed := fmt.Sprint(r.Notified), fmt.Sprint(r.Missed)
			if r.NoQueue {
				notified, missed = "n/a", "n/a"
			}
			fmt.Fprintf(tw, "    %s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t\n", r.Source, r.Day.Format(time.DateOnly),
				r.Listed, notified, missed, r.Recovered, r.Deferred, r.Failed, complete)
		}
		tw.Flush()
	}
}

// LogAttrs renders the summary as structured log attributes.
func (s *Summary) LogAttrs() []any {
	return []any{
		"job", s.Job, "elapsed", LogDuration(s.Elapsed),
		"queue_entities", s.QueueEntities, "queue_errors", s.QueueErrors, "queue_calls", s.QueueCalls,
		"up_to_date", s.UpToDate, "to_fetch", s.ToFetch, "fetched", s.Fetched,
		"added", s.Lake.Added, "replaced", s.Lake.Replaced, "unchanged", s.Lake.Unchanged,
		"deferred", s.Deferred, "pending", s.Pending, "failed", len(s.FailedCalls),
		"rows", s.Lake.Rows, "lake_records", s.LakeRecords,
		"reconciled_days", len(s.Reconciled), "missed", s.missed(),
		"queue_pruned", s.pruned(), "prune_errors", s.PruneErrors,
		"throttled", s.Throttled, "source_failures", s.sourceFailures(), "recordings_refused", len(s.RecordingsRefused),
		"timed_out", s.TimedOut,
	}
}

// missed totals the calls no notification announced, over the reconciled days.
func (s *Summary) missed() int64 {
	var n int64
	for _, r := range s.Reconciled {
		if !r.NoQueue { // no queue: nothing was notified, so nothing missed
			n += r.Missed
		}
	}
	return n
}

// pruned is how many queue entities pruning deleted.
func (s *Summary) pruned() int {
	if s.Pruned == nil {
		return 0
	}
	return s.Pruned.Deleted
}

// sourceFailures totals the failed reads of every source.
func (s *Summary) sourceFailures() int {
	n := 0
	for _, f := range s.SourceFailures {
		n += f.Count
	}
	return n
}
