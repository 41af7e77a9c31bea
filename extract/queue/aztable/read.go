package aztable

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"callstats/extract/queue"
)

// maxErrors is how many EntityErrors a result keeps; further skipped
// entities are only counted, so memory does not grow with a bad table.
const maxErrors = 1000

// Cursor is where the next read starts: the first partition hour (UTC) not
// yet closed at the previous read. The zero Cursor reads the whole table.
type Cursor struct {
	Hour time.Time
}

// String returns the cursor as a PartitionKey (yyyyMMddHH), or "" for the
// zero Cursor: the form to store it in.
func (c Cursor) String() string {
	if c.Hour.IsZero() {
		return ""
	}
	return PartitionKey(c.Hour)
}

// ParseCursor reads a cursor stored with Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	h, err := partitionHour(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("azure table cursor: %w", err)
	}
	return Cursor{Hour: h}, nil
}

// ReadResult is the outcome of a read.
type ReadResult struct {
	Entities int            // entities passed to the callback
	Skipped  int            // malformed entities skipped (may exceed len(Errors))
	Errors   []*EntityError // the first 1000 skipped entities, in table order
	// Next is the cursor for the next read: past every hour that is closed
	// (the hour's end plus the lookback is not after now), never before the
	// cursor read from. Commit it only together with the calls read.
	Next Cursor
	// From is the first PartitionKey read ("" when the whole table was read).
	From string
}

// Read streams every entity whose PartitionKey is at or after the hour of
// from minus the lookback, page by page in table order (by PartitionKey,
// then RowKey), to fn. Memory does not grow with the table. Malformed
// entities are skipped and reported in the result; an error from fn, the
// service or ctx stops the read.
//
// The entities of hours re-read for the lookback, and of hours still open,
// are read again by the next read: collapse them by call (ReadCalls does).
func (t *Table) Read(ctx context.Context, from Cursor, fn func(queue.Entity) error) (*ReadResult, error) {
	now := t.now().UTC()
	res := &ReadResult{Next: nextCursor(from, now, t.lookback)}
	opts := &aztables.ListEntitiesOptions{Select: ptr(selectProperties), Top: ptr(t.pageSize)}
	if !from.Hour.IsZero() {
		res.From = PartitionKey(from.Hour.Add(-t.lookback))
		opts.Filter = ptr(fmt.Sprintf("PartitionKey ge '%s'", res.From))
	}
	err := t.scan(ctx, opts, func(b []byte) error {
		e, err := parseEntity(b)
		if err != nil {
			res.skip(e, err)
			return nil
		}
		res.Entities++
		return fn(e)
	})
	if err != nil {
		return nil, fmt.Errorf("reading azure table %s from %s: %w", t.name, cmp.Or(res.From, "its start"), err)
	}
	return res, nil
}

func (r *ReadResult) skip(e queue.Entity, err error) {
	r.Skipped++
	if len(r.Errors) < maxErrors {
		r.Errors = append(r.Errors, &EntityError{PartitionKey: e.PartitionKey, RowKey: e.RowKey, Err: err})
	}
}

// nextCursor is the first hour not closed at now, or from when that is later.
func nextCursor(from Cursor, now time.Time, lookback time.Duration) Cursor {
	open := now.Add(-lookback).Truncate(time.Hour)
	if open.Before(from.Hour) {
		return from
	}
	return Cursor{Hour: open}
}

// scan pages through the entities opts selects, passing each to fn.
func (t *Table) scan(ctx context.Context, opts *aztables.ListEntitiesOptions, fn func([]byte) error) error {
	pager := t.client.NewListEntitiesPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, b := range page.Entities {
			if err := fn(b); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Calls is a read collapsed by call.
type Calls struct {
	*ReadResult
	Calls []queue.Call // one per (Source, ID), sorted by Source then ID
}

// ReadCalls reads as Read does and collapses the entities into one
// queue.Call per (Source, call id): memory grows with the calls read, not
// with the entities.
func (t *Table) ReadCalls(ctx context.Context, from Cursor) (*Calls, error) {
	type key struct{ source, id string }
	calls := map[key]*queue.Call{}
	res, err := t.Read(ctx, from, func(e queue.Entity) error {
		k := key{e.Source, e.CallID}
		c, ok := calls[k]
		if !ok {
			calls[k] = &queue.Call{ID: e.CallID, Source: e.Source, FirstNotified: e.Timestamp, LastNotified: e.Timestamp, Notifications: 1}
			return nil
		}
		c.Notifications++
		if e.Timestamp.Before(c.FirstNotified) {
			c.FirstNotified = e.Timestamp
		}
		if e.Timestamp.After(c.LastNotified) {
			c.LastNotified = e.Timestamp
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &Calls{ReadResult: res, Calls: make([]queue.Call, 0, len(calls))}
	for _, c := range calls {
		out.Calls = append(out.Calls, *c)
	}
	slices.SortFunc(out.Calls, func(a, b queue.Call) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// OldestHour returns the hour of the oldest well-formed partition, for a
// first run that reconciles back to the oldest day the queue names; ok is
// false for a table without one. Partitions sort by hour, so this reads
// only until the first well-formed entity.
func (t *Table) OldestHour(ctx context.Context) (hour time.Time, ok bool, err error) {
	opts := &aztables.ListEntitiesOptions{Select: ptr("PartitionKey,RowKey"), Top: ptr(t.pageSize)}
	err = t.scan(ctx, opts, func(b []byte) error {
		var keys struct{ PartitionKey string }
		if json.Unmarshal(b, &keys) != nil {
			return nil
		}
		if h, perr := partitionHour(keys.PartitionKey); perr == nil {
			hour, ok = h, true
			return errStop
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("finding the oldest partition of azure table %s: %w", t.name, err)
	}
	return hour, ok, nil
}

// errStop ends a scan early.
var errStop = errors.New("stop")
