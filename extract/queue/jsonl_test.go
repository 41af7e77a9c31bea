package queue

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// line returns a complete queue entity as a JSON line without its newline.
func line(id, change, when string) string {
	return fmt.Sprintf(`{"PartitionKey":"2026111210","RowKey":"%s-%s","Timestamp":"%s","CallId":"%s","ChangeType":"%s","Source":"teams"}`,
		id, change, when, id, change)
}

func callIDs(calls []Call) []string {
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	return ids
}

func errLines(errs []*ParseError) []int {
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	return lines
}

// TestReadPendingThenAppend follows the receiver writing a line in two parts:
// the first read leaves the partial line, the second picks it up from the
// cursor with absolute line numbers.
func TestReadPendingThenAppend(t *testing.T) {
	l1, l2, l3, l5 := line("a", "created", "2026-11-12T10:00:00Z"), line("b", "created", "2026-11-12T10:01:00Z"),
		line("c", "created", "2026-11-12T10:02:00Z"), line("d", "created", "2026-11-12T10:03:00Z")
	p := writeFile(t, "callids.jsonl", l1+"\n"+l2+"\n"+l3[:40])

	first := mustRead(t, p, Cursor{})
	if got := strings.Join(callIDs(first.Calls), ","); got != "a,b" || first.Entities != 2 || first.Skipped != 0 {
		t.Fatalf("first read: calls %s, Entities %d, Skipped %d; want a,b, 2, 0", got, first.Entities, first.Skipped)
	}
	if !first.Pending || first.Next.Offset != int64(len(l1)+len(l2)+2) || first.Next.Line != 2 {
		t.Fatalf("first read: Pending %t, Next %+v; want Pending and Next at offset %d line 2",
			first.Pending, first.Next, len(l1)+len(l2)+2)
	}

	appendFile(t, p, l3[40:]+"\n"+"garbage\n"+l5+"\n")
	second := mustRead(t, p, first.Next)
	if got := strings.Join(callIDs(second.Calls), ","); got != "c,d" || second.Entities != 2 {
		t.Errorf("second read: calls %s, Entities %d; want c,d and 2", got, second.Entities)
	}
	if got := errLines(second.Errors); len(got) != 1 || got[0] != 4 {
		t.Errorf("second read: error lines %v, want [4]", got)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if second.Pending || second.Restarted || second.Next.Offset != st.Size() || second.Next.Line != 5 {
		t.Errorf("second read: Pending %t, Restarted %t, Next %+v; want neither, Next at %d line 5",
			second.Pending, second.Restarted, second.Next, st.Size())
	}

	third := mustRead(t, p, second.Next)
	if third.Entities != 0 || third.Skipped != 0 || third.Restarted || third.Next != second.Next {
		t.Errorf("third read: %+v; want nothing new and the same cursor", third)
	}
}

func TestReadPendingFirstLine(t *testing.T) {
	for _, partial := range []string{`{"RowKey":"a-cre`, line("a", "created", "2026-11-12T10:00:00Z") + "\r"} {
		res := mustRead(t, writeFile(t, "q.jsonl", partial), Cursor{})
		if !res.Pending || res.Next != (Cursor{}) || res.Entities != 0 || res.Skipped != 0 {
			t.Errorf("%q: %+v; want only Pending", partial, res)
		}
	}
}

// TestReadSkipsBadLines checks that every kind of bad line is reported with
// its line number while the lines after it are still read.
func TestReadSkipsBadLines(t *testing.T) {
	good := func(id string) string { return line(id, "created", "2026-11-12T10:00:00Z") }
	lines := []struct {
		text    string
		wantErr error // nil: read (or blank)
	}{
		{good("a"), nil},
		{"not json", errNotObject},
		{"", nil},
		{`{"RowKey":"x-created"}`, errNoTimestamp},
		{"  \t", nil},
		{`{"RowKey":"b-created","Timestamp":"2026-11-12T10:00:00Z","CallId":"c"}`, errIDMismatch},
		{good("b") + "\r", nil},
		{`{"RowKey":"x-created","Timestamp":"2026-11-12T10:00:00Z","Source":"skype"}`, errBadSource},
		{"{" + strings.Repeat(" ", maxLine) + "}", errLineTooLong},
		{good("c"), nil},
	}
	var b strings.Builder
	var wantLines []int
	var wantErrs []error
	for i, l := range lines {
		b.WriteString(l.text + "\n")
		if l.wantErr != nil {
			wantLines = append(wantLines, i+1)
			wantErrs = append(wantErrs, l.wantErr)
		}
	}
	path := writeFile(t, "q.jsonl", b.String())
	res := mustRead(t, path, Cursor{})
	if got := strings.Join(callIDs(res.Calls), ","); got != "a,b,c" || res.Entities != 3 {
		t.Errorf("calls %s, Entities %d; want a,b,c and 3", got, res.Entities)
	}
	if len(res.Errors) != len(wantErrs) || res.Skipped != len(wantErrs) {
		t.Fatalf("errors %v (Skipped %d), want lines %v", res.Errors, res.Skipped, wantLines)
	}
	for i, e := range res.Errors {
		if e.Line != wantLines[i] || !errors.Is(e, wantErrs[i]) || e.File != path {
			t.Errorf("error %d = %v, want %s:%d: %v", i, e, path, wantLines[i], wantErrs[i])
		}
	}
	if res.Next.Line != len(lines) {
		t.Errorf("Next.Line = %d, want %d", res.Next.Line, len(lines))
	}
}

// TestReadLineLimit checks that a line of exactly maxLine bytes is read, with
// either line end, and one byte more is not.
func TestReadLineLimit(t *testing.T) {
	obj := func(n int) string { // an entity line of exactly n bytes
		head := `{"RowKey":"a-created","Timestamp":"2026-11-12T10:00:00Z","Pad":"`
		return head + strings.Repeat("p", n-len(head)-2) + `"}`
	}
	for _, tc := range []struct {
		name    string
		content string
		wantErr bool
	}{
		{"max LF", obj(maxLine) + "\n", false},
		{"max CRLF", obj(maxLine) + "\r\n", false},
		{"max+1 LF", obj(maxLine+1) + "\n", true},
		{"max+1 CRLF", obj(maxLine+1) + "\r\n", true},
		{"much longer", obj(3*maxLine) + "\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRead(t, writeFile(t, "q.jsonl", tc.content+line("b", "created", "2026-11-12T10:00:00Z")+"\n"), Cursor{})
			wantEntities := 2
			if tc.wantErr {
				wantEntities = 1
				if len(res.Errors) != 1 || res.Errors[0].Line != 1 || !errors.Is(res.Errors[0], errLineTooLong) {
					t.Errorf("errors %v, want line 1 too long", res.Errors)
				}
			} else if len(res.Errors) != 0 {
				t.Errorf("errors %v, want none", res.Errors)
			}
			if res.Entities != wantEntities || res.Next.Line != 2 || res.Next.Offset != int64(len(tc.content)+len(line("b", "created", "2026-11-12T10:00:00Z"))+1) {
				t.Errorf("Entities %d, Next %+v; want %d entities, Next after line 2", res.Entities, res.Next, wantEntities)
			}
		})
	}
}

func TestReadRotated(t *testing.T) {
	l1, l2, l3 := line("a", "created", "2026-11-12T10:00:00Z"), line("b", "created", "2026-11-12T10:01:00Z"),
		line("c", "created", "2026-11-12T10:02:00Z")
	orig := l1 + "\n" + l2 + "\n"
	sum := sha256.Sum256([]byte(orig[:5]))
	for _, tc := range []struct {
		name          string
		now           string // the file's content at the second read
		from          func(Cursor) Cursor
		wantRestarted bool
		wantCalls     string
		wantErrLines  []int
	}{
		{"appended", orig + l3 + "\n", nil, false, "c", nil},
		{"replaced by a longer file", "x\n" + l3 + "\n" + l1 + "\n" + l2 + "\n", nil, true, "a,b,c", []int{1}},
		{"replaced, same length", strings.Replace(orig, `"a-created"`, `"z-created"`, 1), nil, true, "b", []int{1}},
		{"truncated", l1 + "\n", nil, true, "a", nil},
		{"emptied", "", nil, true, "", nil},
		{"cursor without head", orig, func(c Cursor) Cursor { c.Head = ""; return c }, true, "a,b", nil},
		{"cursor not at a line end", orig, func(Cursor) Cursor {
			return Cursor{Offset: 5, Line: 1, Head: hex.EncodeToString(sum[:])}
		}, true, "a,b", nil},
		{"negative cursor", orig, func(Cursor) Cursor { return Cursor{Offset: -1, Line: 1} }, true, "a,b", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "callids.jsonl")
			if err := os.WriteFile(p, []byte(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			from := mustRead(t, p, Cursor{}).Next
			// Rotation: a new file is renamed over the old one.
			tmp := p + ".new"
			if err := os.WriteFile(tmp, []byte(tc.now), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
			if tc.from != nil {
				from = tc.from(from)
			}
			res := mustRead(t, p, from)
			if res.Restarted != tc.wantRestarted {
				t.Errorf("Restarted = %t, want %t", res.Restarted, tc.wantRestarted)
			}
			if got := strings.Join(callIDs(res.Calls), ","); got != tc.wantCalls {
				t.Errorf("calls %s, want %s", got, tc.wantCalls)
			}
			if got := errLines(res.Errors); fmt.Sprint(got) != fmt.Sprint(tc.wantErrLines) {
				t.Errorf("error lines %v, want %v", got, tc.wantErrLines)
			}
			if res.Next.Offset != int64(len(tc.now)) || res.Next.Line != strings.Count(tc.now, "\n") {
				t.Errorf("Next = %+v, want offset %d line %d", res.Next, len(tc.now), strings.Count(tc.now, "\n"))
			}
		})
	}
}

// TestReadHeadCoversStartOnly checks that a cursor past headSize still
// resumes: the head is over the first 4096 bytes, which appending leaves alone.
func TestReadHeadCoversStartOnly(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() <= 2*headSize; i++ {
		b.WriteString(line(fmt.Sprintf("id%03d", i), "created", "2026-11-12T10:00:00Z") + "\n")
	}
	p := writeFile(t, "q.jsonl", b.String())
	first := mustRead(t, p, Cursor{})
	sum := sha256.Sum256([]byte(b.String()[:headSize]))
	if first.Next.Head != hex.EncodeToString(sum[:]) {
		t.Errorf("Head = %s, want sha256 of the first %d bytes", first.Next.Head, headSize)
	}
	appendFile(t, p, line("zz", "updated", "2026-11-12T11:00:00Z")+"\n")
	second := mustRead(t, p, first.Next)
	if second.Restarted || second.Entities != 1 || second.Next.Head != first.Next.Head || second.Next.Line != first.Next.Line+1 {
		t.Errorf("second read %+v; want one entity, same head", second)
	}
}

func BenchmarkReadJSONL(b *testing.B) {
	const lines = 200_000 // about 40 MB, 50,000 calls
	p := filepath.Join(b.TempDir(), "bench.jsonl")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range lines {
		fmt.Fprintln(w, line(fmt.Sprintf("%08x-5be4-4d19-9e06-a1c7d2b84f5e", i%50_000), "updated", "2026-11-12T15:13:41.955Z"))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		res, err := Read(context.Background(), p, Cursor{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Entities != lines {
			b.Fatalf("read %d entities, want %d", res.Entities, lines)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestReadByteOrderMark checks that a UTF-8 byte order mark before the first
// line is not part of it, and that the same bytes elsewhere are.
func TestReadByteOrderMark(t *testing.T) {
	l1, l2 := line("a", "created", "2026-11-12T10:00:00Z"), line("b", "created", "2026-11-12T10:01:00Z")
	p := writeFile(t, "q.jsonl", "\ufeff"+l1+"\n\ufeff"+l2+"\n")
	res := mustRead(t, p, Cursor{})
	if got := strings.Join(callIDs(res.Calls), ","); got != "a" || fmt.Sprint(errLines(res.Errors)) != "[2]" {
		t.Errorf("calls %s, error lines %v; want a and [2]", got, errLines(res.Errors))
	}
}

// TestReadDuplicateKey checks that a line naming a key twice is a reported
// bad line that names the key, not the last value silently.
func TestReadDuplicateKey(t *testing.T) {
	l1 := line("a", "created", "2026-11-12T10:00:00Z")
	dup := `{"RowKey":"b-created","Timestamp":"2026-11-12T10:00:00Z","CallId":"b","CallId":"c"}`
	p := writeFile(t, "q.jsonl", l1+"\n"+dup+"\n")
	res := mustRead(t, p, Cursor{})
	if got := strings.Join(callIDs(res.Calls), ","); got != "a" || res.Skipped != 1 {
		t.Fatalf("calls %s, Skipped %d; want a and 1", got, res.Skipped)
	}
	if got, want := res.Errors[0].Error(), "queue "+p+`:2: duplicate key: "CallId"`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}

// TestReadRotation checks that a line appended to the queue file after the
// last read and before a rotation is read from the rotated file (found by
// its inode, or by its start after copy-and-truncate) before the new file,
// and that when the old file is gone the read says lines may be lost.
func TestReadRotation(t *testing.T) {
	l1, l2, l3, l4 := line("a", "created", "2026-11-12T10:00:00Z"), line("b", "created", "2026-11-12T10:01:00Z"),
		line("c", "created", "2026-11-12T10:02:00Z"), line("d", "created", "2026-11-12T10:03:00Z")
	for _, tc := range []struct {
		name        string
		rotate      func(t *testing.T, p string) // after l1 was read and l2 appended
		wantRotated string                       // base name
		wantCalls   string
		wantLost    bool
	}{
		{"renamed to .1", func(t *testing.T, p string) {
			mustRename(t, p, p+".1")
			writeTo(t, p, l3+"\n")
		}, "q.jsonl.1", "b,c", false},
		{"renamed with a date, older rotations beside it", func(t *testing.T, p string) {
			writeTo(t, p+"-20261110", l4+"\n") // an older rotation, not read
			writeTo(t, p+".2.gz", "not read")
			mustRename(t, p, p+"-20261112")
			writeTo(t, p, l3+"\n")
		}, "q.jsonl-20261112", "b,c", false},
		{"copied and truncated in place", func(t *testing.T, p string) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeTo(t, p+".1", string(b))
			if err := os.Truncate(p, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, p, l3+"\n")
		}, "q.jsonl.1", "b,c", false},
		{"old file gone", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			writeTo(t, p, l3+"\n")
		}, "", "c", true},
		{"old file compressed", func(t *testing.T, p string) {
			mustRename(t, p, p+".1.gz")
			writeTo(t, p, l3+"\n")
		}, "", "c", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "q.jsonl", l1+"\n")
			first := mustRead(t, p, Cursor{})
			if first.Next.Inode == 0 {
				t.Skip("no inode numbers on this system")
			}
			appendFile(t, p, l2+"\n")
			tc.rotate(t, p)
			res := mustRead(t, p, first.Next)
			if got := strings.Join(callIDs(res.Calls), ","); got != tc.wantCalls {
				t.Errorf("calls %s, want %s", got, tc.wantCalls)
			}
			if got := filepath.Base(res.Rotated); res.Rotated != "" && got != tc.wantRotated || res.Rotated == "" && tc.wantRotated != "" {
				t.Errorf("Rotated = %q, want %q", res.Rotated, tc.wantRotated)
			}
			if (res.Lost != nil) != tc.wantLost || res.Restarted != tc.wantLost {
				t.Errorf("Lost = %v, Restarted %t; want lost %t", res.Lost, res.Restarted, tc.wantLost)
			}
			if res.Lost != nil && (res.Lost.Line != 1 || !strings.Contains(res.Lost.Error(), "how many is unknown")) {
				t.Errorf("Lost = %v, want after line 1, count unknown", res.Lost)
			}
			// The next read goes on in the new file.
			if res.Next.Offset != int64(len(l3)+1) || res.Next.Line != 1 {
				t.Errorf("Next = %+v, want the end of the new file's line 1", res.Next)
			}
			appendFile(t, p, l4+"\n")
			if again := mustRead(t, p, res.Next); strings.Join(callIDs(again.Calls), ",") != "d" || again.Restarted || again.Rotated != "" {
				t.Errorf("next read: calls %v, Restarted %t, Rotated %q; want d alone", callIDs(again.Calls), again.Restarted, again.Rotated)
			}
		})
	}
}

// TestReadRotatedErrorsNameTheOldFile checks that a bad line in the rest of a
// rotated file is reported in that file, at its line.
func TestReadRotatedErrorsNameTheOldFile(t *testing.T) {
	l1 := line("a", "created", "2026-11-12T10:00:00Z")
	p := writeFile(t, "q.jsonl", l1+"\n")
	first := mustRead(t, p, Cursor{})
	appendFile(t, p, "not json\n"+`{"RowKey":"b-created","Timestamp":"2026-11-12T10:00:00Z"}`) // the last line without '\n'
	mustRename(t, p, p+".1")
	writeTo(t, p, "")
	res := mustRead(t, p, first.Next)
	if res.Rotated == "" {
		t.Skip("no inode numbers on this system")
	}
	if len(res.Errors) != 1 || res.Errors[0].File != p+".1" || res.Errors[0].Line != 2 {
		t.Errorf("errors %v, want %s.1:2", res.Errors, p)
	}
	if got := strings.Join(callIDs(res.Calls), ","); got != "b" {
		t.Errorf("calls %s, want b: a rotated file's last line is complete", got)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func writeTo(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadRotatedBeforeTheNewFile checks a rotation read before the receiver
// started the new file: the rest of the rotated file is read, and the next
// read finishes it (the receiver may have written more to it) before the new
// file.
func TestReadRotatedBeforeTheNewFile(t *testing.T) {
	l1, l2, l3, l4 := line("a", "created", "2026-11-12T10:00:00Z"), line("b", "created", "2026-11-12T10:01:00Z"),
		line("c", "created", "2026-11-12T10:02:00Z"), line("d", "created", "2026-11-12T10:03:00Z")
	p := writeFile(t, "q.jsonl", l1+"\n")
	first := mustRead(t, p, Cursor{})
	if first.Next.Inode == 0 {
		t.Skip("no inode numbers on this system")
	}
	appendFile(t, p, l2+"\n")
	mustRename(t, p, p+".1")
	second := mustRead(t, p, first.Next)
	if got := strings.Join(callIDs(second.Calls), ","); got != "b" || second.Rotated != p+".1" || second.Restarted || second.Lost != nil {
		t.Fatalf("calls %s, Rotated %q, Restarted %t, Lost %v; want b from %s.1", got, second.Rotated, second.Restarted, second.Lost, p)
	}
	appendFile(t, p+".1", l3+"\n") // the receiver had not reopened yet
	writeTo(t, p, l4+"\n")
	third := mustRead(t, p, second.Next)
	if got := strings.Join(callIDs(third.Calls), ","); got != "c,d" || third.Rotated != p+".1" || third.Restarted {
		t.Errorf("calls %s, Rotated %q, Restarted %t; want c,d", got, third.Rotated, third.Restarted)
	}

	// Without a rotated file, a missing queue is an error, as always.
	if err := os.Remove(p + ".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(context.Background(), p, third.Next); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing queue: %v, want fs.ErrNotExist", err)
	}
}
