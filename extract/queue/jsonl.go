package queue

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"
)

const (
	// maxLine is the longest line (without its line end) that is parsed;
	// a longer one is skipped as a ParseError.
	maxLine = 1 << 20
	// headSize is how much of the file's start Cursor.Head covers.
	headSize = 4096
)

// readJSONL reads the JSON Lines file at path from the cursor on. When the
// cursor does not fit the file (it was rotated, truncated or replaced), the
// rest of the old file is read first if a file beside it still holds it (see
// findRotated); else Result.Lost says lines may have been lost.
func readJSONL(ctx context.Context, path string, from Cursor) (*Result, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && from.Offset > 0 {
		return readRotatedOnly(ctx, path, from, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}

	c := newCollector(path)
	var start Cursor
	if from != (Cursor{}) {
		ok, err := resumable(f, st.Size(), from)
		if err != nil {
			return nil, err
		}
		if ok {
			start = from
		} else if err := c.finishRotated(ctx, path, st, from); err != nil {
			return nil, err
		}
	}

	next, pending, err := c.readLines(ctx, f, start, false)
	if err != nil {
		return nil, err
	}
	res := c.result()
	res.Next, res.Pending = next, pending
	if next.Offset > 0 {
		res.Next.Inode = fileInode(st)
	}
	return res, nil
}

// readLines reads the lines of f from start on into c and returns where the
// next read starts. Bytes after the last '\n' are a line still being
// written: they are left for the next read (pending), unless the file is
// finished (a rotated file nobody writes to), when they are read as a line.
func (c *collector) readLines(ctx context.Context, f *os.File, start Cursor, finished bool) (next Cursor, pending bool, err error) {
	if _, err := f.Seek(start.Offset, io.SeekStart); err != nil {
		return Cursor{}, false, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	off, line := start.Offset, start.Line
	var (
		buf []byte
		lp  lineParser
	)
	for read := 0; ; read++ {
		if read%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return Cursor{}, false, err
			}
		}
		lineStart := off
		raw, n, err := readLine(br, buf[:0])
		buf = raw
		if err == io.EOF && (n == 0 || !finished) {
			pending = n > 0
			break
		}
		if err != nil && err != io.EOF {
			return Cursor{}, false, err
		}
		off += n
		line++
		text := trimEOL(raw)
		if lineStart == 0 {
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		if len(text) > maxLine {
			c.skip(line, fmt.Errorf("%w: more than %d bytes", errLineTooLong, maxLine))
			continue
		}
		if isBlank(text) {
			continue
		}
		e, perr := lp.parse(text, line)
		if perr != nil {
			c.skip(line, perr)
			continue
		}
		c.add(e)
	}
	next = Cursor{Offset: off, Line: line}
	if off > 0 {
		if next.Head, err = headHash(f, off); err != nil {
			return Cursor{}, false, err
		}
	}
	return next, pending, nil
}

// utf8BOM is the byte order mark some editors and tools write at the start
// of a UTF-8 file; it is not part of the first line.
var utf8BOM = []byte("\ufeff")

// resumable reports whether reading f (of the given size) can go on at from:
// the file still starts with the bytes from.Head covers, and from.Offset is
// within the file, just after a line end.
func resumable(f *os.File, size int64, from Cursor) (bool, error) {
	if from.Offset <= 0 || from.Line <= 0 || from.Offset > size || from.Head == "" {
		return false, nil
	}
	head, err := headHash(f, from.Offset)
	if err != nil || head != from.Head {
		return false, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], from.Offset-1); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	return last[0] == '\n', nil
}

// headHash returns the hex SHA-256 of the first min(n, headSize) bytes of f,
// or "" when f is shorter than that.
func headHash(f *os.File, n int64) (string, error) {
	b := make([]byte, min(n, headSize))
	if _, err := f.ReadAt(b, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// readLine reads one line through its '\n', appending it to buf. It returns
// the line (or, past maxLine+2 bytes, only its start, which is enough to tell
// it is too long) and n, the number of bytes it consumed. At the end of the
// input it returns io.EOF, with n > 0 when there was a last line without a
// '\n'.
func readLine(br *bufio.Reader, buf []byte) (line []byte, n int64, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		n += int64(len(frag))
		// A cut line does not end in '\n', so it stays longer than maxLine
		// once its (absent) line end is trimmed.
		if room := maxLine + 2 - len(buf); room > 0 {
			buf = append(buf, frag[:min(room, len(frag))]...)
		}
		if err != bufio.ErrBufferFull {
			return buf, n, err
		}
	}
}

// trimEOL removes a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// isBlank reports whether b holds only spaces, tabs and carriage returns.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// lineParser parses lines of the JSON Lines queue, reusing its map.
type lineParser struct {
	m map[string]json.RawMessage
}

// parse parses one non-blank line of the JSON Lines queue. The map (not
// a struct) keeps key matching exact: encoding/json folds case for struct fields.
func (lp *lineParser) parse(text []byte, line int) (Entity, error) {
	if t := bytes.TrimLeft(text, " \t\r"); len(t) == 0 || t[0] != '{' {
		return Entity{}, errNotObject
	}
	if lp.m == nil {
		lp.m = make(map[string]json.RawMessage, 8)
	}
	clear(lp.m)
	m := lp.m
	if err := json.Unmarshal(text, &m); err != nil {
		return Entity{}, fmt.Errorf("%w: %v", errNotObject, err)
	}
	if k, ok := duplicateKey(text, len(m)); ok {
		return Entity{}, fmt.Errorf("%w: %s", errDuplicateKey, quote(k))
	}
	var (
		raw rawEntity
		err error
	)
	for _, p := range []struct {
		key string
		dst *field
	}{
		{"PartitionKey", &raw.partitionKey},
		{"RowKey", &raw.rowKey},
		{"Timestamp", &raw.timestamp},
		{"CallId", &raw.callID},
		{"ChangeType", &raw.changeType},
		{"Source", &raw.source},
	} {
		if *p.dst, err = jsonString(m[p.key]); err != nil {
			return Entity{}, fmt.Errorf("%s: %w", p.key, err)
		}
	}
	return raw.entity(line)
}

// jsonString decodes a JSON value that must be a string; an absent value or
// null gives an absent field.
func jsonString(v json.RawMessage) (field, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || v[0] == 'n': // absent or null (the line was valid JSON)
		return field{}, nil
	case v[0] != '"':
		return field{}, errNotString
	}
	if s := v[1 : len(v)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return field{s: string(s), ok: true}, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return field{}, err
	}
	return field{s: s, ok: true}, nil
}

// duplicateKey returns a key that the JSON object text (valid JSON: it was
// decoded into a map of distinct keys) holds more than once. encoding/json
// keeps the last value of a repeated key silently; a queue line with two
// RowKeys or CallIds is ambiguous and is refused instead.
func duplicateKey(text []byte, distinct int) (string, bool) {
	n := 0
	topLevelKeys(text, func([]byte) bool { n++; return true })
	if n == distinct {
		return "", false
	}
	seen := make(map[string]bool, n)
	dup, found := "", false
	topLevelKeys(text, func(raw []byte) bool {
		var k string
		if err := json.Unmarshal(raw, &k); err != nil {
			return true
		}
		if seen[k] {
			dup, found = k, true
			return false
		}
		seen[k] = true
		return true
	})
	return dup, found
}

// topLevelKeys calls yield with each key, still quoted, of the JSON object
// text, which must be valid JSON, until yield returns false.
func topLevelKeys(text []byte, yield func(raw []byte) bool) {
	i := skipSpace(text, 0)
	if i >= len(text) || text[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(text, i)
		if i >= len(text) || text[i] != '"' {
			return // '}': the end of the object
		}
		end := stringEnd(text, i)
		if !yield(text[i:end]) {
			return
		}
		i = skipSpace(text, end) + 1 // past ':'
		i = skipSpace(text, valueEnd(text, skipSpace(text, i)))
		if i < len(text) && text[i] == ',' {
			i++
		}
	}
}

func skipSpace(text []byte, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at text[i].
func stringEnd(text []byte, i int) int {
	for i++; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(text)
}

// valueEnd returns the index just past the JSON value starting at text[i].
func valueEnd(text []byte, i int) int {
	if i >= len(text) {
		return i
	}
	switch text[i] {
	case '"':
		return stringEnd(text, i)
	case '{', '[':
		depth := 0
		for i < len(text) {
			switch text[i] {
			case '"':
				i = stringEnd(text, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(text) && !strings.ContainsRune(",}] \t\r\n", rune(text[i])) {
		i++
	}
	return i
}
