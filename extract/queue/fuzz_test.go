package queue

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func seed(f *testing.F, paths ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// rewrite replaces the file at path with a new one holding data. Removing
// first (rather than truncating) keeps ext4 from flushing the file to disk
// on close, which would make each fuzzing run wait for the disk.
func rewrite(path string, data []byte) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// checkCalls checks what holds for every Result: valid, unique, sorted calls
// whose notifications add up to Entities, and errors in file order.
func checkCalls(t *testing.T, res *Result) {
	t.Helper()
	n := 0
	for i, c := range res.Calls {
		if c.ID == "" || (c.Source != SourceTeams && c.Source != SourceRingCentral) {
			t.Errorf("call %d: %+v: empty ID or bad Source", i, c)
		}
		if c.Notifications < 1 || c.LastNotified.Before(c.FirstNotified) {
			t.Errorf("call %d: %+v: bad counts or times", i, c)
		}
		if i > 0 {
			p := res.Calls[i-1]
			if p.Source > c.Source || (p.Source == c.Source && p.ID >= c.ID) {
				t.Errorf("calls %d and %d not sorted and unique: %+v, %+v", i-1, i, p, c)
			}
		}
		n += c.Notifications
	}
	if n != res.Entities {
		t.Errorf("calls name %d notifications, Entities = %d", n, res.Entities)
	}
	rows := 0
	for _, e := range res.Errors {
		rows += max(e.Rows, 1)
	}
	if len(res.Errors) < maxErrors && rows != res.Skipped || len(res.Errors) > maxErrors || rows > res.Skipped {
		t.Errorf("%d errors kept, covering %d rows, of %d skipped", len(res.Errors), rows, res.Skipped)
	}
	for i, e := range res.Errors {
		if e.Line < 1 || (i > 0 && e.Line < res.Errors[i-1].Line) {
			t.Errorf("error %d on line %d, out of order", i, e.Line)
		}
	}
}

// FuzzReadJSONL reads arbitrary files as JSON Lines, whole and in two parts
// (the second part appended after the first read, as the receiver does).
func FuzzReadJSONL(f *testing.F) {
	samples := seed(f, "testdata/callids.jsonl", "testdata/malformed.jsonl", "testdata/bom-duplicate-keys.jsonl")
	for _, s := range samples {
		f.Add(s, uint16(len(s)/2))
		f.Add(bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n")), uint16(100))
		f.Add(s[:len(s)-10], uint16(len(s)-20))
	}
	f.Add([]byte("\n\n  \r\n{}\n{"), uint16(3))
	f.Add([]byte("\ufeff\n\ufeff{}\n"), uint16(1))                                                       // a BOM alone, and one not at the start
	f.Add([]byte(`{"RowKey":"a-b","Timestamp":"2026-11-12T10:00:00Z","RowKey":"c-d"}`+"\n"), uint16(30)) // a duplicate key
	f.Add([]byte(`{"RowKey":"a-b","Timestamp":"2026-11-12T10:00:00Z","x":{"y":1,"y":"}\""}}`+"\n"), uint16(9))
	// One file per fuzzing process, rewritten by each run: a directory per
	// run makes the disk, not Read, the bottleneck.
	path := filepath.Join(f.TempDir(), "q.jsonl")
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		if err := rewrite(path, data); err != nil {
			t.Fatal(err)
		}
		whole, err := Read(context.Background(), path, Cursor{})
		if err != nil {
			t.Fatal(err)
		}
		checkCalls(t, whole)

		// Every complete non-blank line is either an entity or an error.
		parts := strings.Split(string(data), "\n")
		complete, tail := parts[:len(parts)-1], parts[len(parts)-1]
		lines := 0
		for i, l := range complete {
			l = strings.TrimSuffix(l, "\r")
			if i == 0 {
				l = strings.TrimPrefix(l, "\ufeff")
			}
			if len(l) > maxLine || strings.Trim(l, " \t\r") != "" {
				lines++
			}
		}
		if whole.Entities+whole.Skipped != lines {
			t.Errorf("Entities %d + Skipped %d != %d non-blank complete lines", whole.Entities, whole.Skipped, lines)
		}
		if whole.Pending != (tail != "") || whole.Next.Offset != int64(len(data)-len(tail)) || whole.Next.Line != len(complete) {
			t.Errorf("Pending %t, Next %+v; want %t, offset %d, line %d", whole.Pending, whole.Next, tail != "", len(data)-len(tail), len(complete))
		}

		// Written in two parts, read from the cursor.
		k := int(cut) % (len(data) + 1)
		if err := rewrite(path, data[:k]); err != nil {
			t.Fatal(err)
		}
		first, err := Read(context.Background(), path, Cursor{})
		if err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, string(data[k:]))
		second, err := Read(context.Background(), path, first.Next)
		if err != nil {
			t.Fatal(err)
		}
		checkCalls(t, second)
		if second.Restarted {
			t.Fatalf("appending restarted the read: cursor %+v", first.Next)
		}
		if first.Entities+second.Entities != whole.Entities || first.Skipped+second.Skipped != whole.Skipped {
			t.Errorf("in parts: entities %d+%d, skipped %d+%d; whole: %d, %d",
				first.Entities, second.Entities, first.Skipped, second.Skipped, whole.Entities, whole.Skipped)
		}
		// The file was written anew in between, so its inode may differ.
		if second.Next.Inode = whole.Next.Inode; second.Next != whole.Next {
			t.Errorf("in parts Next %+v, whole %+v", second.Next, whole.Next)
		}
		parted := slices.Concat(errLines(first.Errors), errLines(second.Errors))
		if whole.Skipped <= maxErrors && !slices.Equal(parted, errLines(whole.Errors)) {
			t.Errorf("in parts error lines %v, whole %v", parted, errLines(whole.Errors))
		}
	})
}

// FuzzReadCSV reads arbitrary files as a Storage Explorer export.
func FuzzReadCSV(f *testing.F) {
	for _, s := range seed(f, "testdata/callids-storage-explorer.csv", "testdata/malformed.csv", "testdata/unterminated-quote.csv") {
		f.Add(s)
		f.Add(bytes.ReplaceAll(s, []byte("\r\n"), []byte("\n")))
	}
	f.Add([]byte("RowKey,Timestamp\n\"a\"\"-b\",2026-11-12T10:00:00Z\n"))
	path := filepath.Join(f.TempDir(), "q.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := rewrite(path, data); err != nil {
			t.Fatal(err)
		}
		res, err := Read(context.Background(), path, Cursor{Offset: 3, Line: 1})
		if err != nil {
			t.Fatal(err)
		}
		checkCalls(t, res)
		if res.Next != (Cursor{}) || res.Pending || res.Restarted {
			t.Errorf("Next %+v, Pending %t, Restarted %t for a CSV export", res.Next, res.Pending, res.Restarted)
		}
		if records := bytes.Count(data, []byte("\n")) + 1; res.Entities+res.Skipped > records {
			t.Errorf("Entities %d + Skipped %d > %d lines", res.Entities, res.Skipped, records)
		}
	})
}
