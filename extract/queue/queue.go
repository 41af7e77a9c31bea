// Package queue reads the ID queue the notification receiver writes: one
// entity per Graph or RingCentral notification, either as a JSON Lines file
// that the receiver appends to or as an Azure Storage Explorer CSV export of
// the same table. It collapses the entities into one Call per call id.
//
// A line that cannot be read is reported as a *ParseError and skipped; only
// I/O errors and cancellation stop a read. The file is never written. A JSON
// Lines file that was rotated since the cursor is finished from the rotated
// file beside it first. docs/queue.md is the contract for receivers.
package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Sources a call can come from.
const (
	SourceTeams       = "teams"
	SourceRingCentral = "ringcentral"
)

// maxErrors is how many ParseErrors a Result keeps; further skipped lines are
// only counted in Result.Skipped, so memory does not grow with a bad file.
const maxErrors = 1000

// ctxCheckEvery is how many lines are read between checks of the context.
const ctxCheckEvery = 4096

// Entity is one notification as the receiver stored it.
type Entity struct {
	PartitionKey, RowKey string
	Timestamp            time.Time // in UTC
	CallID               string    // from CallId, else RowKey before its last '-'
	ChangeType           string    // from ChangeType, else RowKey after its last '-'
	Source               string    // SourceTeams (default when missing) or SourceRingCentral
	Line                 int       // 1-based line number in the file (for CSV, the line the record starts on)
}

// Call is every notification of one call collapsed: one per (Source, ID).
type Call struct {
	ID, Source                  string
	FirstNotified, LastNotified time.Time // min/max entity Timestamp, in UTC
	Notifications               int       // how many entities named it
}

// ParseError reports a line that could not be read, in the manner of
// encoding/csv's ParseError. The line was skipped.
type ParseError struct {
	File string // the path given to Read
	Line int    // 1-based line number
	// LastLine is the last line the error covers when it is more than one
	// (a CSV quote not closed on its line swallows the rows after it), and
	// Rows how many rows those lines held; both are 0 for one line.
	LastLine, Rows int
	Err            error // what is wrong with the line
}

// Error returns "queue FILE:LINE: WHAT", or "queue FILE:LINE-LAST: WHAT"
// when the error covers several lines.
func (e *ParseError) Error() string {
	if e.LastLine > e.Line {
		return fmt.Sprintf("queue %s:%d-%d: %v", e.File, e.Line, e.LastLine, e.Err)
	}
	return fmt.Sprintf("queue %s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns what is wrong with the line.
func (e *ParseError) Unwrap() error { return e.Err }

// Cursor is where the previous read of an append-only JSON Lines file stopped.
// The zero Cursor reads a file from its start.
type Cursor struct {
	Offset int64  // bytes consumed: always the end of a complete line
	Line   int    // lines consumed (blank ones included)
	Head   string // hex SHA-256 of the file's first min(Offset, 4096) bytes; detects a replaced file
	// Inode is the file's inode number (0 where the system has none): it
	// finds the file again after a rotation renamed it.
	Inode uint64
}

// Result is one read of the queue.
type Result struct {
	Calls    []Call        // collapsed, sorted by Source then ID
	Errors   []*ParseError // the first 1000 skipped lines, in file order
	Skipped  int           // lines (CSV: rows) skipped as unreadable (may exceed len(Errors))
	Entities int           // entities read successfully
	// Next is where the next read of a JSON Lines file starts; zero for CSV.
	Next Cursor
	// Pending is true when a last line without its newline was left for the
	// next read: the receiver is still writing it.
	Pending bool
	// Restarted is true when the cursor given to Read did not fit the file
	// (it was rotated, truncated or replaced) and no file beside it held the
	// rest of the old one, so the file was read from its start and Lost is
	// set.
	Restarted bool
	// Rotated is the file the cursor was in, found beside path after a
	// rotation (path.1, path-20261204, ...) and read from the cursor to its
	// end before path was read from its start; "" when there was none.
	Rotated string
	// Lost is set when the cursor did not fit the file and the old file was
	// not found: lines appended to it after the previous read were not read,
	// and how many is unknown. It should be logged loudly.
	Lost *LostError
}

// LostError says that the rest of a rotated, truncated or replaced queue file
// could not be read.
type LostError struct {
	File string // the queue file
	Line int    // the last line the previous read consumed
}

func (e *LostError) Error() string {
	return fmt.Sprintf("queue %s was rotated, truncated or replaced since the last read, which stopped after line %d, "+
		"and no file beside it (%[1]s.* or %[1]s-*) holds the rest of the old file: "+
		"lines appended to it after that read were lost (how many is unknown); see docs/queue.md on rotation",
		e.File, e.Line)
}

// Read reads the queue file at path. A path ending in .csv is read whole as an
// Azure Storage Explorer export and from is ignored; any other path is read as
// JSON Lines from the cursor on (see Cursor, and Result.Rotated, Restarted and
// Lost for a file rotated or replaced since).
//
// Lines that cannot be read are skipped and reported in Result.Errors. The
// returned error is non-nil only when the file cannot be read or ctx is done.
func Read(ctx context.Context, path string, from Cursor) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading queue %s: %w", path, err)
	}
	var (
		res *Result
		err error
	)
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		res, err = readCSV(ctx, path)
	} else {
		res, err = readJSONL(ctx, path, from)
	}
	if err != nil {
		return nil, fmt.Errorf("reading queue %s: %w", path, err)
	}
	return res, nil
}

// What can be wrong with an entity.
var (
	errNoID         = errors.New("no RowKey and no CallId")
	errEmptyID      = errors.New("empty call id")
	errBadRowKey    = errors.New("RowKey is not <callId>-<changeType>")
	errIDMismatch   = errors.New("CallId does not match RowKey")
	errNoTimestamp  = errors.New("no Timestamp")
	errBadTimestamp = errors.New("Timestamp is not RFC 3339")
	errBadSource    = errors.New("Source is not teams or ringcentral")
	errNotString    = errors.New("not a string")
	errNotObject    = errors.New("not a JSON object")
	errLineTooLong  = errors.New("line too long")
	errBadType      = errors.New("type is not Edm.String")
	errFieldCount   = errors.New("wrong number of fields")
	errBadHeader    = errors.New("bad header")
	errDuplicateKey = errors.New("duplicate key")
	errUnterminated = errors.New("quoted field not closed on its line")
)

// field is a property of a stored entity; ok is false when it is absent.
type field struct {
	s  string
	ok bool
}

// rawEntity is an entity's properties as stored, before the rules apply.
type rawEntity struct {
	partitionKey, rowKey, timestamp, callID, changeType, source field
}

// entity applies the queue's rules (see DESIGN.md, "The ID queue") to e.
func (e *rawEntity) entity(line int) (Entity, error) {
	out := Entity{PartitionKey: e.partitionKey.s, RowKey: e.rowKey.s, Line: line}

	if !e.timestamp.ok {
		return Entity{}, errNoTimestamp
	}
	ts, err := time.Parse(time.RFC3339, e.timestamp.s)
	if err != nil {
		return Entity{}, fmt.Errorf("%w: %s", errBadTimestamp, quote(e.timestamp.s))
	}
	out.Timestamp = ts.UTC()

	// An empty RowKey counts as none: a CSV export cannot tell them apart.
	if out.RowKey == "" && !e.callID.ok {
		return Entity{}, errNoID
	}
	var idPart, changePart string
	if out.RowKey != "" {
		i := strings.LastIndexByte(out.RowKey, '-')
		if i < 0 {
			return Entity{}, fmt.Errorf("%w: %s", errBadRowKey, quote(out.RowKey))
		}
		idPart, changePart = out.RowKey[:i], out.RowKey[i+1:]
	}
	out.CallID = idPart
	if e.callID.ok {
		out.CallID = e.callID.s
	}
	if out.CallID == "" {
		return Entity{}, errEmptyID
	}
	if e.callID.ok && out.RowKey != "" && e.callID.s != idPart {
		return Entity{}, fmt.Errorf("%w: CallId %s, RowKey %s", errIDMismatch, quote(e.callID.s), quote(out.RowKey))
	}
	out.ChangeType = changePart
	if e.changeType.ok {
		out.ChangeType = e.changeType.s
	}

	switch {
	case !e.source.ok:
		out.Source = SourceTeams
	case strings.EqualFold(e.source.s, SourceTeams):
		out.Source = SourceTeams
	case strings.EqualFold(e.source.s, SourceRingCentral):
		out.Source = SourceRingCentral
	default:
		return Entity{}, fmt.Errorf("%w: %s", errBadSource, quote(e.source.s))
	}
	return out, nil
}

// quote quotes s for an error message, cut short so that a huge value does
// not make a huge error.
func quote(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

// collector gathers the outcome of a read: calls collapsed by (Source, ID),
// counts and the first errors.
type collector struct {
	file  string
	calls map[callKey]*Call
	res   Result
}

type callKey struct{ source, id string }

func newCollector(file string) *collector {
	return &collector{file: file, calls: make(map[callKey]*Call)}
}

func (c *collector) add(e Entity) {
	c.res.Entities++
	k := callKey{e.Source, e.CallID}
	call, ok := c.calls[k]
	if !ok {
		c.calls[k] = &Call{ID: e.CallID, Source: e.Source, FirstNotified: e.Timestamp, LastNotified: e.Timestamp, Notifications: 1}
		return
	}
	call.Notifications++
	if e.Timestamp.Before(call.FirstNotified) {
		call.FirstNotified = e.Timestamp
	}
	if e.Timestamp.After(call.LastNotified) {
		call.LastNotified = e.Timestamp
	}
}

func (c *collector) skip(line int, err error) { c.skipRows(line, 0, 1, err) }

// skipRows records err for lines line to last (0: line alone), which held
// rows rows (at least one is counted).
func (c *collector) skipRows(line, last, rows int, err error) {
	c.res.Skipped += max(rows, 1)
	if len(c.res.Errors) < maxErrors {
		pe := &ParseError{File: c.file, Line: line, Err: err}
		if last > 0 {
			pe.LastLine, pe.Rows = last, rows
		}
		c.res.Errors = append(c.res.Errors, pe)
	}
}

// result returns the collected Result with its calls sorted.
func (c *collector) result() *Result {
	res := c.res
	res.Calls = make([]Call, 0, len(c.calls))
	for _, call := range c.calls {
		res.Calls = append(res.Calls, *call)
	}
	slices.SortFunc(res.Calls, func(a, b Call) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	return &res
}
