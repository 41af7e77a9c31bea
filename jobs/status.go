package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// How much Status shows.
const (
	statusRuns  = 10  // run records
	statusIDs   = 5   // deferred and failed IDs
	statusWidth = 100 // characters of an error message (the last column)
)

// Status writes for a person what the jobs of a state directory did and
// will do: when each job runs next (next, as the scheduler computes it;
// nil when none is configured) and when it last completed, the last runs,
// the calls deferred to the next run, the calls given up for good and the
// reconcile days listed incompletely. now is the time relative times are
// counted from. Status takes no lock, so it works while a job runs, and
// writes nothing. What cannot be read is said in its place, and the errors
// are returned after everything else is written.
func Status(w io.Writer, stateDir string, next map[string]time.Time, now time.Time) error {
	var errs []error
	fail := func(tw io.Writer, err error) {
		fmt.Fprintf(tw, "  cannot read: %v\n", err)
		errs = append(errs, err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)

	runs, err := LastRuns(stateDir, statusRuns)
	if err != nil {
		errs = append(errs, err)
	}
	names := slices.Collect(maps.Keys(next))
	for _, r := range runs {
		names = append(names, r.Job)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	fmt.Fprintln(tw, "Jobs")
	if len(names) == 0 {
		fmt.Fprintln(tw, "  none scheduled, none run yet")
	} else {
		fmt.Fprintln(tw, "  JOB\tNEXT RUN\tLAST COMPLETED RUN")
	}
	for _, job := range names {
		nextRun := "not scheduled"
		if at, ok := next[job]; ok && !at.IsZero() {
			nextRun = fmt.Sprintf("%s (in %s)", at.Format("2006-01-02 15:04 MST"), human(at.Sub(now)))
		}
		last := "never"
		if at, ok, err := LastSuccess(stateDir, job); err != nil {
			last = "cannot read"
			errs = append(errs, err)
		} else if ok {
			last = fmt.Sprintf("%s (%s ago)", at.UTC().Format("2006-01-02 15:04 MST"), human(now.Sub(at)))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", job, nextRun, last)
	}
	tw.Flush()

	fmt.Fprintln(tw, "\nLast runs, newest first")
	switch {
	case err != nil:
		fail(tw, err)
	case len(runs) == 0:
		fmt.Fprintln(tw, "  none")
	default:
		fmt.Fprintln(tw, "  JOB\tSTARTED (UTC)\tTOOK\tRESULT")
	}
	for _, r := range runs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Job, r.Started.UTC().Format(time.DateTime),
			roundElapsed(r.Elapsed), runResult(r))
	}
	tw.Flush()

	var pend []Pending
	if err := readStateJSON(stateDir, pendingFile, &pend); err != nil {
		fmt.Fprintln(tw, "\nDeferred calls")
		fail(tw, err)
	} else if len(pend) == 0 {
		fmt.Fprintln(tw, "\nDeferred calls: none")
	} else {
		slices.SortStableFunc(pend, func(a, b Pending) int { return a.FirstNotified.Compare(b.FirstNotified) })
		fmt.Fprintf(tw, "\nDeferred calls: %d, tried again on the next run; the oldest was notified %s (%s ago)\n",
			len(pend), pend[0].FirstNotified.UTC().Format("2006-01-02 15:04 MST"), human(now.Sub(pend[0].FirstNotified)))
		fmt.Fprintln(tw, "  SOURCE\tID\tFIRST NOTIFIED (UTC)\tATTEMPTS\tLAST ERROR")
		for _, p := range pend[:min(len(pend), statusIDs)] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", p.Source, p.ID, p.FirstNotified.UTC().Format(time.DateTime),
				p.Attempts, firstLine(p.LastError))
		}
		if len(pend) > statusIDs {
			fmt.Fprintf(tw, "  ... and %d more, all in %s in the state directory\n", len(pend)-statusIDs, pendingFile)
		}
	}
	tw.Flush()

	var failed []Failed
	if err := readStateJSON(stateDir, failedFile, &failed); err != nil {
		fmt.Fprintln(tw, "\nFailed for good")
		fail(tw, err)
	} else if len(failed) == 0 {
		fmt.Fprintln(tw, "\nFailed for good: none")
	} else {
		slices.SortStableFunc(failed, func(a, b Failed) int { return b.FailedAt.Compare(a.FailedAt) })
		fmt.Fprintf(tw, "\nFailed for good: %d, tried again only if a new notification names them\n", len(failed))
		fmt.Fprintln(tw, "  SOURCE\tID\tGIVEN UP (UTC)\tREASON")
		for _, f := range failed[:min(len(failed), statusIDs)] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Source, f.ID, f.FailedAt.UTC().Format(time.DateTime), firstLine(f.Reason))
		}
		if len(failed) > statusIDs {
			fmt.Fprintf(tw, "  ... and %d more, all in %s in the state directory\n", len(failed)-statusIDs, failedFile)
		}
	}
	tw.Flush()

	var days []string
	if err := readStateJSON(stateDir, incompleteFile, &days); err != nil {
		fmt.Fprintln(tw, "\nReconcile days listed incompletely")
		fail(tw, err)
	} else if len(days) == 0 {
		fmt.Fprintln(tw, "\nReconcile days listed incompletely: none")
	} else {
		slices.Sort(days)
		fmt.Fprintf(tw, "\nReconcile days listed incompletely, listed again on the next run: %s\n", strings.Join(days, ", "))
	}
	tw.Flush()
	return errors.Join(errs...)
}

// readStateJSON decodes a state file; a missing one leaves v as it is.
func readStateJSON(stateDir, name string, v any) error {
	path := filepath.Join(stateDir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("state %s: %w", path, err)
	}
	return nil
}

// runResult says how a run ended, with its main counts.
func runResult(r RunRecord) string {
	if !r.OK {
		res := "FAILED: " + firstLine(strings.TrimPrefix(r.Error, ErrCannotRun.Error()+": "))
		if r.Throttled {
			res += " (throttled)"
		}
		return res
	}
	res := "ok"
	if r.Counts["failed"] > 0 {
		res = fmt.Sprintf("ok, %d failed for good", r.Counts["failed"])
	}
	if r.Throttled {
		res += ", throttled"
	}
	if n := r.Counts["source_failures"]; n > 0 {
		res += fmt.Sprintf(", source failed %d times", n)
	}
	if n := r.Counts["recordings_refused"]; n > 0 {
		res += fmt.Sprintf(", %d recordings refused", n)
	}
	if c := countsLine(r.Counts); c != "" {
		res += ": " + c
	}
	return res
}

// headlineCounts are the counts a status line shows first, in this order.
var headlineCounts = []string{"fetched", "deferred", "missed", "recovered", "rows"}

// ingestCounts are the other counts RecordOf makes, left out of the line;
// counts of other jobs (the report) are shown.
var ingestCounts = map[string]bool{
	"queue_entities": true, "queue_errors": true, "queue_calls": true, "up_to_date": true,
	"to_fetch": true, "pending": true, "failed": true, "reconciled_days": true,
	"added": true, "replaced": true, "unchanged": true, "lake_records": true,
	"throttled": true, "source_failures": true, "recordings_refused": true,
}

func countsLine(c map[string]int64) string {
	var parts []string
	for _, k := range headlineCounts {
		if n, ok := c[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if !slices.Contains(headlineCounts, k) && !ingestCounts[k] && !strings.HasPrefix(k, "rows_") {
			parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// firstLine shortens a message to its first line, at most statusWidth characters.
func firstLine(s string) string {
	s, _, more := strings.Cut(s, "\n")
	if r := []rune(s); len(r) > statusWidth {
		return string(r[:statusWidth-3]) + "..."
	}
	if more {
		return s + " ..."
	}
	return s
}

// human writes a duration the way a person says it: 6d 23h, 19h 5m, 42m, 30s.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

func roundElapsed(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
