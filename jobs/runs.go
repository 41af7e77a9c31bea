package jobs

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"callstats/config"
	"callstats/internal/atomicfile"
)

// Run records live in {state_dir}/runs, one JSON file per run, named
// <started>-<job>-<random>.json so that names sort by start time and two runs
// with the same fixed clock (CALLSTATS_NOW) never overwrite each other.
const (
	runsDir = "runs"
	// keepRuns is how many records are kept per job; older ones are pruned.
	keepRuns = 200
	// maxRecordedFailed caps the failed IDs a record lists.
	maxRecordedFailed = 100
	// runStamp is the fixed-width UTC start time that begins a record's name.
	runStamp = "20060102T150405.000000000Z"
	// tempSuffix ends a record still being written (internal/atomicfile's
	// hidden ".<name>.*.tmp"); the lake cleans only its own staged files.
	tempSuffix = ".tmp"
	// utcDay is the length of a UTC day.
	utcDay = 24 * time.Hour
)

// RunRecord is what one run of a job did, kept in the state directory for
// `callstats status`, for catch-up after downtime, and for widening the
// reconcile window after a gap.
type RunRecord struct {
	Job string `json:"job"`
	// Started and Finished are on the job clock (CALLSTATS_NOW when set).
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	// OK is set when the run completed. A completed run may still have given
	// up some records for good: they are in Failed and Counts["failed"].
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Counts are the run's figures: fetched, deferred, failed, missed, rows...
	Counts map[string]int64 `json:"counts,omitempty"`
	// Failed lists the IDs given up for good in this run, at most 100.
	Failed []string `json:"failed,omitempty"`
	// Throttled is set when a source answered 429 during the run.
	Throttled bool `json:"throttled,omitempty"`
	// Problem is why a completed run needs attention (Summary.Problem).
	Problem string `json:"problem,omitempty"`
}

// RecordOf makes the run record of a job's run from its summary (nil when
// the run stopped before it had one) and its error. finished is the job
// clock's time at the end; it is the start time too when there is no summary.
func RecordOf(job string, s *Summary, err error, finished time.Time) RunRecord {
	r := RunRecord{Job: job, Started: finished, Finished: finished, OK: err == nil}
	if err != nil {
		r.Error = err.Error()
	}
	if s == nil {
		return r
	}
	if !s.Started.IsZero() {
		r.Started = s.Started
	}
	r.Elapsed = s.Elapsed
	if r.Elapsed == 0 && r.Finished.After(r.Started) {
		r.Elapsed = r.Finished.Sub(r.Started)
	}
	var missed, recovered int64
	for _, d := range s.Reconciled {
		if !d.NoQueue { // no queue: nothing was notified, so nothing missed
			missed += d.Missed
		}
		recovered += d.Recovered
	}
	var rows int64
	r.Counts = map[string]int64{
		"queue_entities": int64(s.QueueEntities), "queue_errors": int64(s.QueueErrors),
		"queue_calls": int64(s.QueueCalls), "up_to_date": int64(s.UpToDate),
		"to_fetch": int64(s.ToFetch), "fetched": int64(s.Fetched), "deferred": int64(s.Deferred),
		"pending": int64(s.Pending), "failed": int64(len(s.FailedCalls)),
		"reconciled_days": int64(len(s.Reconciled)), "missed": missed, "recovered": recovered,
		"added": int64(s.Lake.Added), "replaced": int64(s.Lake.Replaced), "unchanged": int64(s.Lake.Unchanged),
		"lake_records": int64(s.LakeRecords),
		"queue_pruned": int64(s.pruned()), "prune_errors": int64(s.PruneErrors),
		"throttled":       s.Throttled,
		"source_failures": int64(s.sourceFailures()), "recordings_refused": int64(len(s.RecordingsRefused)),
	}
	r.Throttled = s.Throttled > 0
	if s.Done {
		r.Problem = s.Problem()
	}
	for table, n := range s.Lake.Rows {
		r.Counts["rows_"+table] = n
		rows += n
	}
	r.Counts["rows"] = rows
	for i, f := range s.FailedCalls {
		if i == maxRecordedFailed {
			break
		}
		r.Failed = append(r.Failed, f.ID)
	}
	return r
}

// SaveRunRecord writes a run record into {stateDir}/runs atomically
// (internal/atomicfile) and prunes the job's records
// beyond the newest 200. It needs no lock: a run that could not take the
// state directory's lock records that too.
func SaveRunRecord(stateDir string, r RunRecord) error {
	return saveRunRecord(stateDir, r, keepRuns)
}

func saveRunRecord(stateDir string, r RunRecord, keep int) error {
	if !validJobName(r.Job) {
		return fmt.Errorf("saving run record: bad job name %q", r.Job)
	}
	if r.Started.IsZero() {
		return fmt.Errorf("saving run record of %s: no start time", r.Job)
	}
	dir := filepath.Join(stateDir, runsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving run record of %s: %w", r.Job, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("saving run record of %s: %w", r.Job, err)
	}
	var suffix [4]byte
	rand.Read(suffix[:])
	name := fmt.Sprintf("%s-%s-%s.json", r.Started.UTC().Format(runStamp), r.Job, hex.EncodeToString(suffix[:]))
	if err := atomicfile.WriteFile(filepath.Join(dir, name), append(b, '\n')); err != nil {
		return fmt.Errorf("saving run record of %s: %w", r.Job, err)
	}
	if err := pruneRuns(dir, r.Job, keep); err != nil {
		return fmt.Errorf("pruning run records of %s: %w", r.Job, err)
	}
	return nil
}

// pruneRuns removes a job's records beyond the newest keep, and temp files
// left by a crash more than an hour ago.
func pruneRuns(dir, job string, keep int) error {
	names, err := recordNames(dir, job)
	if err != nil {
		return err
	}
	removed := false
	if len(names) > keep {
		for _, n := range names[keep:] {
			if err := os.Remove(filepath.Join(dir, n.file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed = true
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), tempSuffix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
			os.Remove(filepath.Join(dir, e.Name()))
			removed = true
		}
	}
	if removed {
		return atomicfile.SyncDir(dir)
	}
	return nil
}

// recordName is a run record's file name, parsed.
type recordName struct {
	file    string
	job     string
	started time.Time
}

// recordNames lists the records in dir, of one job or of all (job ""),
// newest first.
func recordNames(dir, job string) ([]recordName, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []recordName
	for _, e := range ents {
		n, ok := parseRecordName(e.Name())
		if !ok || e.IsDir() || (job != "" && n.job != job) {
			continue
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b recordName) int {
		if c := b.started.Compare(a.started); c != 0 {
			return c
		}
		return strings.Compare(b.file, a.file)
	})
	return out, nil
}

func parseRecordName(file string) (recordName, bool) {
	base, ok := strings.CutSuffix(file, ".json")
	if !ok || len(base) < len(runStamp)+2 || base[len(runStamp)] != '-' {
		return recordName{}, false
	}
	started, err := time.Parse(runStamp, base[:len(runStamp)])
	if err != nil {
		return recordName{}, false
	}
	rest := base[len(runStamp)+1:]
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return recordName{}, false
	}
	return recordName{file: file, job: rest[:i], started: started}, true
}

// validJobName accepts names that are safe in a file name: a-z, 0-9, _ and -.
func validJobName(job string) bool {
	if job == "" || len(job) > 64 {
		return false
	}
	for _, c := range job {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func readRecord(path string) (RunRecord, error) {
	var r RunRecord
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("run record %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("run record %s: %w", path, err)
	}
	return r, nil
}

// LastRuns returns the newest n run records of every job (all of them when
// n <= 0), newest first. It takes no lock and writes nothing.
func LastRuns(stateDir string, n int) ([]RunRecord, error) {
	return lastRuns(stateDir, "", n)
}

func lastRuns(stateDir, job string, n int) ([]RunRecord, error) {
	dir := filepath.Join(stateDir, runsDir)
	names, err := recordNames(dir, job)
	if err != nil {
		return nil, fmt.Errorf("listing run records: %w", err)
	}
	if n > 0 && len(names) > n {
		names = names[:n]
	}
	out := make([]RunRecord, 0, len(names))
	for _, nm := range names {
		r, err := readRecord(filepath.Join(dir, nm.file))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // pruned by another process meanwhile
			}
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// LastSuccess returns the start time of the newest completed run of a job;
// ok is false when no completed run is recorded.
func LastSuccess(stateDir, job string) (started time.Time, ok bool, err error) {
	dir := filepath.Join(stateDir, runsDir)
	names, err := recordNames(dir, job)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("listing run records: %w", err)
	}
	for _, nm := range names {
		r, err := readRecord(filepath.Join(dir, nm.file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return time.Time{}, false, err
		}
		if r.OK {
			return r.Started, true, nil
		}
	}
	return time.Time{}, false, nil
}

// ReconcileFrom returns the first UTC day a job's reconcile should list.
// Normally that is today-(windowDays-1). After a gap, when the job's last
// completed run is older than that, it is the day of that run, so that the
// days no run listed are listed now, but never before the first day the
// source still wholly keeps (retentionDays); widened is then true and the
// caller should say so. A job that never completed gets the normal window.
func ReconcileFrom(stateDir, job string, now time.Time, windowDays, retentionDays int) (from time.Time, widened bool, err error) {
	today := now.UTC().Truncate(utcDay)
	from = today.AddDate(0, 0, 1-max(windowDays, 1))
	last, ok, err := LastSuccess(stateDir, job)
	if err != nil || !ok {
		return from, false, err
	}
	lastDay := last.UTC().Truncate(utcDay)
	if !lastDay.Before(from) {
		return from, false, nil
	}
	oldest := now.UTC().Add(-time.Duration(max(retentionDays, 1)) * utcDay).Truncate(utcDay).Add(utcDay)
	if lastDay.Before(oldest) {
		lastDay = oldest
	}
	if !lastDay.Before(from) {
		return from, false, nil
	}
	return lastDay, true, nil
}

// Recorded runs an ingest or a reconcile (run), logs its summary and leaves
// its run record in the state directory (read by status, catch-up and the
// reconcile window).
func Recorded(cfg *config.Config, env Env, job string, run func() (*Summary, error)) (*Summary, error) {
	sum, err := run()
	if sum != nil && sum.Done {
		env.logger().Info("run finished", sum.LogAttrs()...)
	}
	if rerr := SaveRunRecord(cfg.StateDir, RecordOf(job, sum, err, cfg.Now())); rerr != nil {
		env.logger().Warn("could not save the run record", "job", job, "error", rerr.Error())
	}
	return sum, err
}
