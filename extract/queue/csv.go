package queue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// errRecordTooLong stops a CSV read at a record longer than maxLine (most
// likely an unterminated quote), so that memory stays bounded.
var errRecordTooLong = errors.New("record too long")

// edmString is the only @type a CallId, ChangeType or Source may have.
const edmString = "Edm.String"

// readCSV reads a whole Azure Storage Explorer CSV export of the queue table.
func readCSV(ctx context.Context, path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	c := newCollector(path)
	lim := &recordLimiter{r: f, limit: maxLine + 8<<10}
	r := csv.NewReader(lim)
	r.FieldsPerRecord = -1 // checked against the header below, with a clearer message
	r.ReuseRecord = true
	lost := &lostRows{path: path}
	defer lost.close()

	header, err := r.Read()
	switch {
	case err == io.EOF:
		return c.result(), nil // an empty export
	case err != nil:
		perr := csvParseError(err, 0)
		if perr == nil {
			return nil, err
		}
		if err := lost.header(c, fmt.Errorf("%w: %w", errBadHeader, perr.Err)); err != nil {
			return nil, err
		}
		return c.result(), nil
	}
	cols, err := parseHeader(header)
	if err != nil {
		if err := lost.header(c, err); err != nil {
			return nil, err
		}
		return c.result(), nil
	}

	lastLine := 1 // the last line of the last record read
	for read := 0; ; read++ {
		if read%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		lim.n = 0
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			perr := csvParseError(err, lastLine)
			if perr == nil {
				return nil, err
			}
			if errors.Is(err, errRecordTooLong) {
				perr.LastLine = -1 // the rest of the file
			}
			if perr.LastLine != 0 {
				if err := lost.report(c, perr); err != nil {
					return nil, err
				}
			} else {
				c.skip(perr.Line, perr.Err)
			}
			if errors.Is(err, errRecordTooLong) {
				break
			}
			lastLine = max(perr.Line, perr.LastLine)
			continue
		}
		line, _ := r.FieldPos(0)
		last := len(rec) - 1
		lastLine, _ = r.FieldPos(last)
		lastLine += strings.Count(rec[last], "\n")

		if len(rec) != cols.n {
			c.skip(line, fmt.Errorf("%w: %d, header has %d", errFieldCount, len(rec), cols.n))
			continue
		}
		raw, err := cols.entity(rec)
		if err != nil {
			c.skip(line, err)
			continue
		}
		e, err := raw.entity(line)
		if err != nil {
			c.skip(line, err)
			continue
		}
		c.add(e)
	}
	return c.result(), nil
}

// csvParseError turns an error from csv.Reader.Read about the input (not
// about reading it) into a ParseError without File; lastLine is the last line
// of the record before. It returns nil for an I/O error.
func csvParseError(err error, lastLine int) *ParseError {
	if errors.Is(err, errRecordTooLong) {
		return &ParseError{Line: lastLine + 1, Err: fmt.Errorf(
			"%w: a record starting on or after this line is longer than %d bytes; the rest of the file was not read",
			errRecordTooLong, maxLine)}
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return nil
	}
	if pe.Line != pe.StartLine {
		// A quote opened on StartLine ran on to Line: every row on those
		// lines is lost, not one.
		return &ParseError{Line: pe.StartLine, LastLine: pe.Line, Err: fmt.Errorf(
			"%w: the quote opened on this line runs on to line %d, column %d: %w",
			errUnterminated, pe.Line, pe.Column, pe.Err)}
	}
	return &ParseError{Line: pe.StartLine, Err: fmt.Errorf("column %d: %w", pe.Column, pe.Err)}
}

// recordLimiter fails a read once more than limit bytes were read since n was
// last set to 0.
type recordLimiter struct {
	r        io.Reader
	n, limit int
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n > l.limit {
		return 0, errRecordTooLong
	}
	k, err := l.r.Read(p)
	l.n += k
	return k, err
}

// columns says which column holds each property; -1 when there is none.
type columns struct {
	n                                      int // fields in the header
	partitionKey, rowKey, timestamp        int
	callID, changeType, source             int
	callIDType, changeTypeType, sourceType int
}

// parseHeader finds the columns the queue needs in a header row. Columns may
// come in any order; unknown ones are ignored.
func parseHeader(header []string) (columns, error) {
	cols := columns{n: len(header)}
	idx := map[string]*int{
		"PartitionKey":    &cols.partitionKey,
		"RowKey":          &cols.rowKey,
		"Timestamp":       &cols.timestamp,
		"CallId":          &cols.callID,
		"CallId@type":     &cols.callIDType,
		"ChangeType":      &cols.changeType,
		"ChangeType@type": &cols.changeTypeType,
		"Source":          &cols.source,
		"Source@type":     &cols.sourceType,
	}
	for _, p := range idx {
		*p = -1
	}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a UTF-8 byte order mark
		}
		p, ok := idx[name]
		if !ok {
			continue
		}
		if *p >= 0 {
			return columns{}, fmt.Errorf("%w: column %q appears twice", errBadHeader, name)
		}
		*p = i
	}
	switch {
	case cols.timestamp < 0:
		return columns{}, fmt.Errorf("%w: no Timestamp column", errBadHeader)
	case cols.rowKey < 0 && cols.callID < 0:
		return columns{}, fmt.Errorf("%w: no RowKey and no CallId column", errBadHeader)
	}
	return cols, nil
}

// entity picks the properties out of a record that has cols.n fields.
func (cols *columns) entity(rec []string) (rawEntity, error) {
	var (
		e   rawEntity
		err error
	)
	e.partitionKey = systemProperty(rec, cols.partitionKey)
	e.rowKey = systemProperty(rec, cols.rowKey)
	e.timestamp = systemProperty(rec, cols.timestamp)
	if e.callID, err = property(rec, "CallId", cols.callID, cols.callIDType); err != nil {
		return rawEntity{}, err
	}
	if e.changeType, err = property(rec, "ChangeType", cols.changeType, cols.changeTypeType); err != nil {
		return rawEntity{}, err
	}
	if e.source, err = property(rec, "Source", cols.source, cols.sourceType); err != nil {
		return rawEntity{}, err
	}
	return e, nil
}

// systemProperty returns a system property (PartitionKey, RowKey, Timestamp)
// from column i, -1 if none. It has no @type column: empty means absent.
func systemProperty(rec []string, i int) field {
	if i < 0 || rec[i] == "" {
		return field{}
	}
	return field{s: rec[i], ok: true}
}

// property returns the string property name from its value and @type columns
// (i and typ, -1 if none). An empty value with an empty @type is a property
// the entity does not have.
func property(rec []string, name string, i, typ int) (field, error) {
	if i < 0 {
		return field{}, nil
	}
	t := ""
	if typ >= 0 {
		t = rec[typ]
	}
	if t != "" && t != edmString {
		return field{}, fmt.Errorf("%s: %w: %s", name, errBadType, quote(t))
	}
	if rec[i] == "" && t == "" {
		return field{}, nil
	}
	return field{s: rec[i], ok: true}, nil
}

// lostRows counts the rows a ParseError that covers several lines swallowed,
// reading the file a second time, forward only, so that counting every such
// error costs one pass over the file.
type lostRows struct {
	path string
	f    *os.File
	br   *bufio.Reader
	line int // lines consumed
}

// report skips perr, counting as lost every non-blank line from perr.Line to
// perr.LastLine (-1: to the end of the file), and says so in its error.
func (l *lostRows) report(c *collector, perr *ParseError) error {
	rows, last, err := l.count(perr.Line, perr.LastLine)
	if err != nil {
		return err
	}
	c.skipRows(perr.Line, last, rows, fmt.Errorf("%w; %d rows lost (lines %d-%d)", perr.Err, rows, perr.Line, last))
	return nil
}

// header skips a header that cannot be read (err): no row of the file is
// read, and the error says how many were lost (a quote not closed in the
// header swallows rows too: they are counted from line 2).
func (l *lostRows) header(c *collector, err error) error {
	rows, end, cerr := l.count(2, -1)
	if cerr != nil {
		return cerr
	}
	if rows == 0 {
		c.skip(1, err)
		return nil
	}
	c.skipRows(1, end, rows, fmt.Errorf("%w; no row was read: %d rows lost (lines 2-%d)", err, rows, end))
	return nil
}

// count returns how many non-blank lines (rows, for encoding/csv skips blank
// ones) lie from line from to line to (-1: the end of the file), and the
// last line counted.
func (l *lostRows) count(from, to int) (rows, last int, err error) {
	if l.f == nil {
		if l.f, err = os.Open(l.path); err != nil {
			return 0, 0, err
		}
		l.br = bufio.NewReaderSize(l.f, 64<<10)
	}
	last = from - 1
	for to < 0 || l.line < to {
		blank, err := l.skipLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if l.line >= from {
			last = l.line
			if !blank {
				rows++
			}
		}
	}
	return rows, max(last, from), nil
}

// skipLine consumes one line and reports whether it was blank.
func (l *lostRows) skipLine() (blank bool, err error) {
	blank = true
	n := 0
	for {
		frag, err := l.br.ReadSlice('\n')
		n += len(frag)
		if len(bytes.TrimRight(frag, "\r\n")) > 0 {
			blank = false
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && n > 0: // a last line without '\n'
			l.line++
			return blank, nil
		case err != nil:
			return false, err
		}
		l.line++
		return blank, nil
	}
}

func (l *lostRows) close() {
	if l.f != nil {
		l.f.Close()
	}
}
