package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"callstats/config"
	"callstats/extract/queue/aztable"
)

// tableQueue is the receiver's Azure table (queue.azure_table), read from a
// cursor hour with a lookback for late writes (extract/queue/aztable). The
// cursor passes only hours that are closed; it is committed with the run's
// last transaction, so calls of hours it passed that could not be fetched
// yet stay in the pending list.
type tableQueue struct {
	tbl         *aztable.Table
	name        string // endpoint/table: a cursor of another table is not used
	deleteAfter time.Duration
	log         *slog.Logger
}

// tableCursor is the committed cursor of a tableQueue.
type tableCursor struct {
	Table string `json:"table"`
	Hour  string `json:"hour"` // aztable.Cursor.String: a PartitionKey, "" for the whole table
}

func openTableQueue(cfg *config.Config, log *slog.Logger) (*tableQueue, error) {
	a := cfg.Queue.AzureTable
	tbl, err := aztable.New(aztable.Config{Endpoint: a.Endpoint, Table: a.Table, Lookback: a.Lookback, Now: cfg.Now,
		Credential: aztable.Credential{ConnectionString: a.ConnectionString.Reveal(), AccountName: a.AccountName,
			AccountKey: a.AccountKey.Reveal(), SAS: a.SAS.Reveal()}})
	if err != nil {
		return nil, fmt.Errorf("queue.azure_table: %w", err)
	}
	d, err := a.DeleteAfterDuration()
	if err != nil {
		return nil, fmt.Errorf("queue.azure_table.delete_after: %w", err)
	}
	name := a.Endpoint
	if name == "" {
		name = "connection string"
	}
	return &tableQueue{tbl: tbl, name: name + "/" + a.Table, deleteAfter: d, log: log}, nil
}

func (q *tableQueue) Read(ctx context.Context, cursor []byte) (*Notified, error) {
	var from aztable.Cursor
	if cursor != nil {
		var c tableCursor
		// A cursor of a queue file, or of another table, reads this table whole.
		if err := json.Unmarshal(cursor, &c); err == nil && c.Table == q.name {
			cur, err := aztable.ParseCursor(c.Hour)
			if err != nil {
				return nil, fmt.Errorf("state %s: %w", cursorFile, err)
			}
			from = cur
		}
	}
	res, err := q.tbl.ReadCalls(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("reading queue table %s: %w", q.name, err)
	}
	for _, e := range res.Errors {
		q.log.Warn("skipped queue entity", "partition_key", e.PartitionKey, "row_key", e.RowKey, "error", e.Err.Error())
	}
	if res.Skipped > len(res.Errors) {
		q.log.Warn("more queue entities skipped", "count", res.Skipped-len(res.Errors))
	}
	next, err := json.MarshalIndent(tableCursor{Table: q.name, Hour: res.Next.String()}, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Notified{Calls: res.Calls, Entities: res.Entities, Skipped: res.Skipped, Next: next}, nil
}

// Pruned counts what pruning the queue table did after a run's commit.
type Pruned struct {
	Deleted, Kept, Skipped int
}

// prune deletes the entities older than delete_after whose call done
// accepts (in the lake or given up), after the run committed. A failure is
// logged and counted, not fatal: the next run prunes again.
func (q *tableQueue) prune(ctx context.Context, done func(source, id string) bool) (*Pruned, error) {
	if q.deleteAfter <= 0 {
		return nil, nil
	}
	res, err := q.tbl.Prune(ctx, q.deleteAfter, done)
	if res == nil {
		res = &aztable.PruneResult{}
	}
	p := &Pruned{Deleted: res.Deleted, Kept: res.Kept, Skipped: res.Skipped}
	if err != nil {
		return p, fmt.Errorf("pruning queue table %s: %w", q.name, err)
	}
	return p, nil
}
