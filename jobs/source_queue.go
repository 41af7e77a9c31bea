package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"callstats/config"
	"callstats/extract/queue"
)

// Queue is where a run learns which calls were notified since the last run:
// a queue file, the receiver's Azure table, or none (calls found by listing
// each day; see source_queue_listing.go). A Queue reads from an opaque
// cursor, which the run commits with its last transaction, so that a run
// that dies reads the same notifications again and one that commits never
// reads them twice.
type Queue interface {
	// Read returns the calls notified after cursor (nil: from the start).
	// Unreadable notifications are logged and counted, never fatal.
	Read(ctx context.Context, cursor []byte) (*Notified, error)
}

// Notified is one read of a Queue.
type Notified struct {
	// Calls are the notified calls, one per (Source, ID).
	Calls []queue.Call
	// Entities counts the notifications read, Skipped those that could not be.
	Entities, Skipped int
	// Next is the cursor the next run reads from.
	Next []byte
	// Listing is set when there is no queue: the calls are discovered by
	// listing each day, and nothing counts as notified.
	Listing bool
}

// oldest is the earliest notification among the calls read; ok is false
// when none was read.
func (n *Notified) oldest() (t time.Time, ok bool) {
	for _, c := range n.Calls {
		if !ok || c.FirstNotified.Before(t) {
			t, ok = c.FirstNotified, true
		}
	}
	return t, ok
}

// openQueue builds the configured queue.
func openQueue(cfg *config.Config, log *slog.Logger) (Queue, error) {
	switch cfg.Queue.Kind() {
	case config.QueueAzureTable:
		return openTableQueue(cfg, log)
	case config.QueueNone:
		return listingQueue{}, nil
	}
	return &fileQueue{path: cfg.Queue.Path, log: log}, nil
}

// fileQueue is a JSON Lines queue file (read on from its cursor) or a CSV
// export (read whole).
type fileQueue struct {
	path string
	log  *slog.Logger
}

// fileCursor is where the last run stopped reading the queue file; a cursor
// of another file reads this one from its start.
type fileCursor struct {
	Path   string       `json:"path"`
	Cursor queue.Cursor `json:"cursor"`
}

func (q *fileQueue) Read(ctx context.Context, cursor []byte) (*Notified, error) {
	var from fileCursor
	if cursor != nil {
		if err := json.Unmarshal(cursor, &from); err != nil {
			return nil, fmt.Errorf("state %s: %w", cursorFile, err)
		}
	}
	if from.Path != q.path {
		from.Cursor = queue.Cursor{}
	}
	res, err := queue.Read(ctx, q.path, from.Cursor)
	if err != nil {
		return nil, fmt.Errorf("reading queue: %w", err)
	}
	for _, pe := range res.Errors {
		q.log.Warn("skipped queue line", "error", pe.Error())
	}
	if res.Skipped > len(res.Errors) {
		q.log.Warn("more queue lines skipped", "count", res.Skipped-len(res.Errors))
	}
	if res.Restarted {
		q.log.Warn("queue file was replaced or truncated since the last run; reading it from the start", "path", q.path)
	}
	if res.Lost != nil {
		q.log.Warn("queue lines may be lost: the rest of the rotated queue file was not found; the reconcile window recovers the calls it named",
			"path", q.path, "error", res.Lost.Error())
	}
	if res.Rotated != "" {
		q.log.Debug("finished the rotated queue file before reading the new one", "rotated", res.Rotated, "path", q.path)
	}
	next, err := json.MarshalIndent(fileCursor{Path: q.path, Cursor: res.Next}, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Notified{Calls: res.Calls, Entities: res.Entities, Skipped: res.Skipped, Next: next}, nil
}
