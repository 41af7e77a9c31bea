package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"callstats/config"
	"callstats/extract/queue"
)

// Queue is where a run learns which calls were notified since the last run:
// a queue file today. A Queue reads from an opaque cursor, which the run
// commits with its last transaction, so that a run that dies reads the same
// notifications again and one that commits never reads them twice.
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
}

// openQueue builds the configured queue.
func openQueue(cfg *config.Config, log *slog.Logger) (Queue, error) {
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
	next, err := json.MarshalIndent(fileCursor{Path: q.path, Cursor: res.Next}, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Notified{Calls: res.Calls, Entities: res.Entities, Skipped: res.Skipped, Next: next}, nil
}
