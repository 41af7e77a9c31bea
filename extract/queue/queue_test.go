package queue

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// ts parses an RFC 3339 time for a want value.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// writeFile writes content to name in a new temporary directory and returns its path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func appendFile(t testing.TB, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t testing.TB, path string, from Cursor) *Result {
	t.Helper()
	res, err := Read(context.Background(), path, from)
	if err != nil {
		t.Fatalf("Read(%s): %v", path, err)
	}
	return res
}

// sampleCalls is what both sample queue files hold (see samples/README.md):
// 7 entities collapsing into 4 calls, sorted by Source then ID.
func sampleCalls(t testing.TB) []Call {
	return []Call{
		{ID: "s-a7c31b0e55f24c9d8e4b12f0c9a6d1e3", Source: "ringcentral",
			FirstNotified: ts(t, "2026-11-12T13:45:52.114Z"), LastNotified: ts(t, "2026-11-12T13:45:52.114Z"), Notifications: 1},
		{ID: "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e", Source: "teams", // the entity without CallId counts here
			FirstNotified: ts(t, "2026-11-12T15:13:41.802Z"), LastNotified: ts(t, "2026-11-12T16:04:49.306Z"), Notifications: 3},
		{ID: "9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465", Source: "teams",
			FirstNotified: ts(t, "2026-10-10T08:37:15.090Z"), LastNotified: ts(t, "2026-10-10T08:37:15.090Z"), Notifications: 1},
		{ID: "b62d0e94-1f73-4a8c-8d25-6e9f0c3a7b18", Source: "teams", // the entity without Source counts here
			FirstNotified: ts(t, "2026-11-12T09:44:02.417Z"), LastNotified: ts(t, "2026-11-12T09:44:02.561Z"), Notifications: 2},
	}
}

func TestReadSamples(t *testing.T) {
	jsonl, err := os.ReadFile("testdata/callids.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	crlf := strings.ReplaceAll(string(jsonl), "\n", "\r\n")
	for _, tc := range []struct {
		name     string
		path     string
		wantNext int64 // Next.Offset; 0 for CSV
	}{
		{"jsonl", "testdata/callids.jsonl", int64(len(jsonl))},
		{"jsonl crlf", writeFile(t, "callids.jsonl", crlf), int64(len(crlf))},
		{"csv", "testdata/callids-storage-explorer.csv", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRead(t, tc.path, Cursor{})
			if !reflect.DeepEqual(res.Calls, sampleCalls(t)) {
				t.Errorf("Calls =\n%+v\nwant\n%+v", res.Calls, sampleCalls(t))
			}
			if res.Entities != 7 || res.Skipped != 0 || len(res.Errors) != 0 || res.Pending || res.Restarted {
				t.Errorf("Entities %d, Skipped %d, Errors %v, Pending %t, Restarted %t; want 7 entities and nothing else",
					res.Entities, res.Skipped, res.Errors, res.Pending, res.Restarted)
			}
			if res.Next.Offset != tc.wantNext {
				t.Errorf("Next.Offset = %d, want %d", res.Next.Offset, tc.wantNext)
			}
			if tc.wantNext > 0 && (res.Next.Line != 7 || len(res.Next.Head) != 64) {
				t.Errorf("Next = %+v, want Line 7 and a sha256 Head", res.Next)
			}
		})
	}
}

// TestParseJSONLine checks the entity rules on single lines.
func TestParseJSONLine(t *testing.T) {
	const t0 = `"Timestamp":"2026-11-12T15:13:41.955Z"`
	when := ts(t, "2026-11-12T15:13:41.955Z")
	for _, tc := range []struct {
		name, line string
		want       Entity
		wantErr    error
	}{
		{"complete",
			`{"PartitionKey":"2026111215","RowKey":"3f8a-created",` + t0 + `,"CallId":"3f8a","ChangeType":"created","Source":"teams"}`,
			Entity{PartitionKey: "2026111215", RowKey: "3f8a-created", Timestamp: when, CallID: "3f8a", ChangeType: "created", Source: "teams", Line: 9}, nil},
		{"no CallId or ChangeType: from RowKey",
			`{"RowKey":"3f8a-2c71-updated",` + t0 + `}`,
			Entity{RowKey: "3f8a-2c71-updated", Timestamp: when, CallID: "3f8a-2c71", ChangeType: "updated", Source: "teams", Line: 9}, nil},
		{"ringcentral id with dashes, source case folded",
			`{"RowKey":"s-a7c3-Disconnected",` + t0 + `,"CallId":"s-a7c3","Source":"RingCentral"}`,
			Entity{RowKey: "s-a7c3-Disconnected", Timestamp: when, CallID: "s-a7c3", ChangeType: "Disconnected", Source: "ringcentral", Line: 9}, nil},
		{"CallId without RowKey",
			`{` + t0 + `,"CallId":"3f8a","ChangeType":"created","Source":"TEAMS"}`,
			Entity{Timestamp: when, CallID: "3f8a", ChangeType: "created", Source: "teams", Line: 9}, nil},
		{"offset time in UTC, nulls absent, unknown and differently cased keys ignored",
			`{"RowKey":"3f8a-created","Timestamp":"2026-11-12T16:13:41.955+01:00","CallId":null,"Source":null,"callid":"x","More":[{}]}`,
			Entity{RowKey: "3f8a-created", Timestamp: when, CallID: "3f8a", ChangeType: "created", Source: "teams", Line: 9}, nil},
		{"escaped strings", `{"RowKey":"\u0033f8a-created",` + t0 + `,"CallId":"3f8a"}`,
			Entity{RowKey: "3f8a-created", Timestamp: when, CallID: "3f8a", ChangeType: "created", Source: "teams", Line: 9}, nil},
		{"RowKey ending in -", `{"RowKey":"3f8a-",` + t0 + `}`,
			Entity{RowKey: "3f8a-", Timestamp: when, CallID: "3f8a", Source: "teams", Line: 9}, nil},

		{"not JSON", `{"RowKey":`, Entity{}, errNotObject},
		{"array", `["RowKey"]`, Entity{}, errNotObject},
		{"null", `null`, Entity{}, errNotObject},
		{"two objects", `{"RowKey":"a-b",` + t0 + `} {}`, Entity{}, errNotObject},
		{"no RowKey, no CallId", `{"PartitionKey":"x",` + t0 + `}`, Entity{}, errNoID},
		{"empty RowKey, no CallId", `{"RowKey":"",` + t0 + `}`, Entity{}, errNoID},
		{"no Timestamp", `{"RowKey":"a-b"}`, Entity{}, errNoTimestamp},
		{"Timestamp without zone", `{"RowKey":"a-b","Timestamp":"2026-11-12T15:13:41"}`, Entity{}, errBadTimestamp},
		{"Timestamp as number", `{"RowKey":"a-b","Timestamp":1763000000}`, Entity{}, errNotString},
		{"bad Source", `{"RowKey":"a-b",` + t0 + `,"Source":"zoom"}`, Entity{}, errBadSource},
		{"empty Source", `{"RowKey":"a-b",` + t0 + `,"Source":""}`, Entity{}, errBadSource},
		{"empty CallId", `{"RowKey":"a-b",` + t0 + `,"CallId":""}`, Entity{}, errEmptyID},
		{"empty id in RowKey", `{"RowKey":"-created",` + t0 + `}`, Entity{}, errEmptyID},
		{"CallId disagrees with RowKey", `{"RowKey":"a-b",` + t0 + `,"CallId":"c"}`, Entity{}, errIDMismatch},
		{"RowKey without -", `{"RowKey":"abc",` + t0 + `}`, Entity{}, errBadRowKey},
		{"CallId not a string", `{"RowKey":"a-b",` + t0 + `,"CallId":["a"]}`, Entity{}, errNotString},
		{"duplicate RowKey", `{"RowKey":"a-created",` + t0 + `,"RowKey":"b-created"}`, Entity{}, errDuplicateKey},
		{"duplicate key spelled with an escape", `{"RowKey":"a-b",` + t0 + `,"Call\u0049d":"a","CallId":"a"}`, Entity{}, errDuplicateKey},
		{"duplicate unknown key", `{"RowKey":"a-b",` + t0 + `,"x":1,"x":{"y":[1,"}"]}}`, Entity{}, errDuplicateKey},
		{"repeated keys in nested objects are not duplicates",
			`{"RowKey":"3f8a-created",` + t0 + `,"More":{"a":1,"a":2},"List":[{"a":"}"},{"a":"\"{"}]}`,
			Entity{RowKey: "3f8a-created", Timestamp: when, CallID: "3f8a", ChangeType: "created", Source: "teams", Line: 9}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lp lineParser
			got, err := lp.parse([]byte(tc.line), 9)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("entity =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// TestReadGolden pins the whole Result, error messages included, for the
// files in testdata. Run with -update to rewrite testdata/golden.
func TestReadGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.*")
	if err != nil || len(inputs) < 4 {
		t.Fatalf("inputs %v, %v", inputs, err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			got := render(mustRead(t, in, Cursor{}))
			golden := filepath.Join("testdata", "golden", filepath.Base(in)+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Result differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func render(r *Result) string {
	var b strings.Builder
	// The inode differs from checkout to checkout.
	fmt.Fprintf(&b, "entities %d, skipped %d, pending %t, restarted %t\nnext {Offset:%d Line:%d Head:%s}\n",
		r.Entities, r.Skipped, r.Pending, r.Restarted, r.Next.Offset, r.Next.Line, r.Next.Head)
	for _, c := range r.Calls {
		fmt.Fprintf(&b, "call %s %s first %s last %s notifications %d\n", c.Source, c.ID,
			c.FirstNotified.Format(time.RFC3339Nano), c.LastNotified.Format(time.RFC3339Nano), c.Notifications)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error %v\n", e)
	}
	return b.String()
}

func TestReadKeepsFirstErrors(t *testing.T) {
	p := writeFile(t, "bad.jsonl", strings.Repeat("x\n", maxErrors+3)+
		`{"RowKey":"a-created","Timestamp":"2026-11-12T10:00:00Z"}`+"\n")
	res := mustRead(t, p, Cursor{})
	if res.Skipped != maxErrors+3 || len(res.Errors) != maxErrors || res.Entities != 1 {
		t.Fatalf("Skipped %d, len(Errors) %d, Entities %d; want %d, %d, 1", res.Skipped, len(res.Errors), res.Entities, maxErrors+3, maxErrors)
	}
	if last := res.Errors[maxErrors-1]; last.Line != maxErrors {
		t.Errorf("last kept error is on line %d, want %d", last.Line, maxErrors)
	}
}

func TestParseErrorFormat(t *testing.T) {
	err := error(&ParseError{File: "file.jsonl", Line: 12, Err: errNoTimestamp})
	if got, want := err.Error(), "queue file.jsonl:12: no Timestamp"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, errNoTimestamp) {
		t.Error("ParseError does not unwrap to its Err")
	}
}

func TestReadIOError(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "missing.jsonl"),
		filepath.Join(dir, "missing.csv"),
		dir, // a directory opens but cannot be read
	} {
		res, err := Read(context.Background(), path, Cursor{})
		if err == nil || res != nil {
			t.Errorf("Read(%s) = %v, %v; want an error", path, res, err)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name %s", err, path)
		}
		if path != dir && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v is not fs.ErrNotExist", err)
		}
	}
}

// cancelAfter is a context whose Err reports cancellation after n calls.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

func TestReadContextCancelled(t *testing.T) {
	const lines = 3 * ctxCheckEvery
	var jsonl, csv strings.Builder
	csv.WriteString("PartitionKey,RowKey,Timestamp\n")
	for i := range lines {
		fmt.Fprintf(&jsonl, `{"RowKey":"c%d-created","Timestamp":"2026-11-12T10:00:00Z"}`+"\n", i)
		fmt.Fprintf(&csv, "p,c%d-created,2026-11-12T10:00:00Z\n", i)
	}
	paths := []string{writeFile(t, "q.jsonl", jsonl.String()), writeFile(t, "q.csv", csv.String())}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, path := range paths {
		for _, tc := range []struct {
			name string
			ctx  context.Context
		}{
			{"before", cancelled},
			// Read checks once on entry and once at the first line: only a
			// check inside the loop sees this cancellation.
			{"while reading", &cancelAfter{Context: context.Background(), n: 2}},
		} {
			t.Run(filepath.Ext(path)+" "+tc.name, func(t *testing.T) {
				res, err := Read(tc.ctx, path, Cursor{})
				if !errors.Is(err, context.Canceled) || res != nil {
					t.Fatalf("Read = %v, %v; want context.Canceled", res, err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
			})
		}
		// The same files read whole when not cancelled.
		if res := mustRead(t, path, Cursor{}); res.Entities != lines {
			t.Errorf("%s: Entities = %d, want %d", path, res.Entities, lines)
		}
	}
}
