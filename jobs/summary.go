package jobs

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

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
	// Reconciled holds a row per source and day reconciled.
	Reconciled []transform.ReconcileDay
	// Lake counts what the commits did; LakeRecords is the records (calls and
	// PSTN / Direct Routing rows) in the lake after the run.
	Lake        lake.Stats
	LakeRecords int
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
	fmt.Fprintf(tw, "  deferred\t%d (tried again next run; %d pending in all)\n", s.Deferred, s.Pending)
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
