package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// State files, committed with the lake in the same transaction.
const (
	cursorFile  = "queue-cursor.json"
	pendingFile = "pending.json"
	failedFile  = "failed.json"
	// incompleteFile lists the days whose reconcile listing failed part-way.
	incompleteFile = "reconcile-incomplete.json"
	// rcIncompleteFile lists the days whose RingCentral call log could not be read.
	rcIncompleteFile = "ringcentral-incomplete.json"
	// recordingsFile lists recordings waiting to be downloaded.
	recordingsFile = "recordings-pending.json"
)

// Pending is a call that could not be fetched yet (not ready, throttled, a
// server error) and is tried again on the next run.
type Pending struct {
	ID            string    `json:"id"`
	Source        string    `json:"source"`
	FirstNotified time.Time `json:"first_notified"`
	LastNotified  time.Time `json:"last_notified"`
	Attempts      int       `json:"attempts"`
	LastAttempt   time.Time `json:"last_attempt,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
}

// Failed is a call given up for good: a permanent error, or still not found
// after the source's retention. It is tried again only if a newer
// notification for it arrives.
type Failed struct {
	ID           string    `json:"id"`
	Source       string    `json:"source"`
	LastNotified time.Time `json:"last_notified"`
	FailedAt     time.Time `json:"failed_at"`
	Reason       string    `json:"reason"`
}

// runState is the part of the state the ingest job keeps between runs.
type runState struct {
	cursor       []byte // the queue's, opaque
	pending      map[string]*Pending
	failed       map[string]*Failed
	incomplete   map[string]bool // UTC days, YYYY-MM-DD
	rcIncomplete map[string]bool
	recordings   map[string]*PendingRecording
}

func loadRunState(lk Sink) (*runState, error) {
	st := &runState{pending: map[string]*Pending{}, failed: map[string]*Failed{}, incomplete: map[string]bool{},
		rcIncomplete: map[string]bool{}, recordings: map[string]*PendingRecording{}}
	var err error
	if st.cursor, err = lk.ReadState(cursorFile); err != nil {
		return nil, err
	}
	var pend []*Pending
	if err := readJSON(lk, pendingFile, &pend); err != nil {
		return nil, err
	}
	for _, p := range pend {
		st.pending[p.ID] = p
	}
	var failed []*Failed
	if err := readJSON(lk, failedFile, &failed); err != nil {
		return nil, err
	}
	for _, f := range failed {
		st.failed[f.ID] = f
	}
	var days []string
	if err := readJSON(lk, incompleteFile, &days); err != nil {
		return nil, err
	}
	for _, d := range days {
		st.incomplete[d] = true
	}
	days = nil
	if err := readJSON(lk, rcIncompleteFile, &days); err != nil {
		return nil, err
	}
	for _, d := range days {
		st.rcIncomplete[d] = true
	}
	var recs []*PendingRecording
	if err := readJSON(lk, recordingsFile, &recs); err != nil {
		return nil, err
	}
	for _, pr := range recs {
		st.recordings[pr.ID] = pr
	}
	return st, nil
}

func readJSON(lk Sink, name string, v any) error {
	b, err := lk.ReadState(name)
	if err != nil || b == nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("state %s: %w", name, err)
	}
	return nil
}

// stage puts the run state into a transaction.
func (st *runState) stage(tx SinkTx) error {
	tx.SetState(cursorFile, st.cursor)
	pend := sortedValues(st.pending, func(p *Pending) string { return p.Source + "/" + p.ID })
	b, err := json.MarshalIndent(pend, "", "  ")
	if err != nil {
		return err
	}
	tx.SetState(pendingFile, b)
	failed := sortedValues(st.failed, func(f *Failed) string { return f.Source + "/" + f.ID })
	b, err = json.MarshalIndent(failed, "", "  ")
	if err != nil {
		return err
	}
	tx.SetState(failedFile, b)
	b, err = json.Marshal(sortedKeys(st.incomplete))
	if err != nil {
		return err
	}
	tx.SetState(incompleteFile, b)
	if b, err = json.Marshal(sortedKeys(st.rcIncomplete)); err != nil {
		return err
	}
	tx.SetState(rcIncompleteFile, b)
	recs := sortedValues(st.recordings, func(p *PendingRecording) string { return p.ID })
	if b, err = json.MarshalIndent(recs, "", "  "); err != nil {
		return err
	}
	tx.SetState(recordingsFile, b)
	return nil
}

func sortedValues[T any](m map[string]T, key func(T) string) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
