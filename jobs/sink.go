package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/config"
	"callstats/transform"
	"callstats/transform/lake"
)

// Sink is where a run writes: tables of items' rows, small per-day files and
// state blobs, changed only by transactions. The plain Parquet lake
// (transform/lake) is one; a table format such as Iceberg can be another.
//
// The contract every implementation keeps:
//
//   - Items. An item is named by (Item.Source, Item.ID); items of two sources
//     never touch. Items are put in groups with their rows: per table, one
//     Arrow record batch holding the rows of every item of the group. Each
//     table is declared when the sink is opened with its key, the string
//     column that names a row's item by its ID (so the items of one Put have
//     distinct IDs).
//   - Replacement. Putting an item the sink already holds replaces all its
//     rows in every table (old rows gone, new rows in, as one change) when the
//     new state is newer: a higher Version, or the same Version and a later
//     LastModified. Otherwise its rows are not written (Unchanged) and only
//     the entry's Fetched time (and a later Notified) is updated. An item is
//     filed under the UTC date of Item.Start.
//   - Atomicity. Everything staged in a transaction (the rows of every item
//     in every table, the files of PutFile, the blobs of SetState, the
//     entries Lookup returns) becomes visible and durable together at Commit,
//     or not at all: after Abort, a failed Commit, or a crash before Commit
//     returns, readers and a reopened sink see the state of the last
//     successful commit (or the finished crashed commit, if the crash came
//     after its commit point; never a part of it).
//   - Readers. A reader sees the tables as one commit left them, never a
//     commit half applied (the plain lake: under its read lock, LockFile).
//   - One writer. A sink is written from one state directory; opening it
//     from another fails, naming the owner (lake.ErrOtherOwner).
//   - Idempotence. Putting the same states again changes no row: a run
//     killed at any point and run again leaves the same rows, files and
//     state as a run that never died.
//   - Within one transaction an item can be put once; a Put naming it again
//     stages nothing and returns an error wrapping lake.ErrStaged (commit,
//     then put it again). After any other error from Put, Abort.
//   - Put does not keep the caller's record batches beyond what it retains
//     itself: the caller releases them when Put returns.
type Sink interface {
	// Begin starts a transaction; now is the Fetched time of its entries.
	Begin(now time.Time) SinkTx
	// Lookup returns the entry of an item as of the last commit.
	Lookup(source, id string) (lake.Entry, bool)
	// Len is the number of items held.
	Len() int
	// ReadState returns a blob committed with SetState, or nil if there is none.
	ReadState(name string) ([]byte, error)
	// ScanFile calls fn with each record batch of a file committed with
	// PutFile; a missing file calls fn never and is no error.
	ScanFile(ctx context.Context, table, date, name string, fn func(arrow.RecordBatch) error) error
	// Close releases the sink (its catalog connection).
	Close() error
}

// SinkTx is one transaction of a Sink; see Sink for its guarantees.
type SinkTx interface {
	// Put stages items with their rows, keyed by table name, and says what
	// committing each will change.
	Put(ctx context.Context, items []lake.Item, rows map[string]arrow.RecordBatch) ([]lake.Change, error)
	// PutFile stages a whole file of a table's partition for one UTC date
	// ("2026-11-12"), replacing the file of that name (such as a source's
	// reconcile counts for a day).
	PutFile(table, date, name string, rec arrow.RecordBatch) error
	// SetState stages a named state blob (the queue cursor, the pending
	// list) to be replaced in the same commit.
	SetState(name string, data []byte)
	// Commit makes the transaction durable and visible, and counts what it did.
	Commit(ctx context.Context) (lake.Stats, error)
	// Abort drops what is staged; after Commit it does nothing.
	Abort()
}

// lakeSink is the plain Parquet lake as a Sink.
type lakeSink struct{ *lake.Lake }

func (s lakeSink) Begin(now time.Time) SinkTx { return s.Lake.Begin(now) }

// Close does nothing: the plain lake holds nothing open between commits.
func (lakeSink) Close() error { return nil }

// lakeTables declares the tables of call rows with their keys.
func lakeTables() []lake.Table {
	out := make([]lake.Table, 0, len(transform.AllTables))
	for _, t := range transform.AllTables {
		out = append(out, lake.Table{Name: string(t), Key: transform.KeyColumn(t), Plain: transform.UniqueColumns(t)})
	}
	return out
}

// openSink opens the configured sink, finishing or undoing what a crashed
// run left behind.
func openSink(ctx context.Context, cfg *config.Config, log *slog.Logger) (Sink, error) {
	if cfg.Output.Format == config.FormatIceberg {
		lk, err := openIceberg(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		return icebergSink{lk}, nil
	}
	lk, err := lake.Open(ctx, cfg.Output.Dir, cfg.StateDir, lake.Options{Logger: log, Tables: lakeTables()})
	if err != nil {
		return nil, err
	}
	return lakeSink{lk}, nil
}
