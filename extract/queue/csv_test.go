package queue

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// summary lists calls as "source/id×notifications".
func summary(calls []Call) string {
	var s []string
	for _, c := range calls {
		s = append(s, fmt.Sprintf("%s/%s×%d", c.Source, c.ID, c.Notifications))
	}
	return strings.Join(s, " ")
}

type wantErr struct {
	line int
	err  error
}

func TestReadCSV(t *testing.T) {
	const (
		hdr = "PartitionKey,RowKey,Timestamp,CallId,CallId@type,ChangeType,ChangeType@type,Source,Source@type\r\n"
		at  = "2026-11-12T10:00:00.000Z"
	)
	for _, tc := range []struct {
		name      string
		content   string
		wantCalls string
		wantErrs  []wantErr
	}{
		{"quoted comma and quote",
			"PartitionKey,RowKey,Timestamp,CallId,CallId@type,Note\r\n" +
				`p,"x,""y""-created",` + at + `,"x,""y""",Edm.String,"n, ""q"""` + "\r\n",
			`teams/x,"y"×1`, nil},
		{"multi-line field, then errors on the right lines",
			"Note,RowKey,Timestamp,CallId,CallId@type\n" +
				"\"one\ntwo\nthree\",a-created," + at + ",a,Edm.String\n" + // lines 2-4
				"x,b-created," + at + ",b,Edm.Int32\n" + // line 5
				"\n" + // blank line 6
				"x,c-created," + at + ",c,Edm.String\n", // line 7
			"teams/a×1 teams/c×1", []wantErr{{5, errBadType}}},
		{"no @type columns, unknown columns, LF",
			"Extra,Timestamp,RowKey,Other\nq," + at + ",a-created,r\nq," + at + ",a-updated,r\n",
			"teams/a×2", nil},
		{"byte order mark",
			"\ufeffTimestamp,RowKey\r\n" + at + ",a-created\r\n",
			"teams/a×1", nil},
		{"missing versus empty property",
			hdr +
				"p,a-created," + at + ",,,,,,\r\n" + // no CallId, ChangeType, Source: from RowKey, teams
				"p,b-created," + at + ",b,Edm.String,created,Edm.String,,Edm.String\r\n" + // Source present and empty
				"p,c-created," + at + ",,Edm.String,created,Edm.String,teams,Edm.String\r\n" + // CallId present and empty
				"p,s-d-Disconnected," + at + ",s-d,,Disconnected,,RingCentral,\r\n", // values without @type
			"ringcentral/s-d×1 teams/a×1", []wantErr{{3, errBadSource}, {4, errEmptyID}}},
		{"non-string types",
			hdr +
				"p,a-created," + at + ",a,Edm.Guid,created,Edm.String,teams,Edm.String\r\n" +
				"p,a-created," + at + ",a,Edm.String,1,Edm.Int32,teams,Edm.String\r\n" +
				"p,a-created," + at + ",a,Edm.String,created,Edm.String,true,Edm.Boolean\r\n" +
				"p,a-created," + at + ",a,Edm.String,created,Edm.String,teams,Edm.String\r\n",
			"teams/a×1", []wantErr{{2, errBadType}, {3, errBadType}, {4, errBadType}}},
		{"entity rules apply",
			hdr +
				"p,a-created,,a,Edm.String,created,Edm.String,teams,Edm.String\r\n" +
				"p,a-created,yesterday,a,Edm.String,created,Edm.String,teams,Edm.String\r\n" +
				"p,a-created," + at + ",b,Edm.String,created,Edm.String,teams,Edm.String\r\n" +
				"p,," + at + ",,,created,Edm.String,teams,Edm.String\r\n",
			"", []wantErr{{2, errNoTimestamp}, {3, errBadTimestamp}, {4, errIDMismatch}, {5, errNoID}}},
		{"wrong number of fields",
			hdr + "p,a-created," + at + "\r\np,b-created," + at + ",b,Edm.String,created,Edm.String,teams,Edm.String,extra\r\n",
			"", []wantErr{{2, errFieldCount}, {3, errFieldCount}}},
		{"bare quote",
			hdr + `p,a"-created,` + at + ",,,,,,\r\np,b-created," + at + ",,,,,,\r\n",
			"teams/b×1", []wantErr{{2, csv.ErrBareQuote}}},
		{"unterminated quote",
			hdr + "p,b-created," + at + ",,,,,,\r\n" + `p,"a-created,` + at + ",,,,,,\r\np,c-created," + at + ",,,,,,\r\n",
			"teams/b×1", []wantErr{{3, csv.ErrQuote}}},
		{"record too long",
			hdr + "p,b-created," + at + ",,,,,,\r\n" + `p,"` + strings.Repeat("a", 2*maxLine) + "\r\n",
			"teams/b×1", []wantErr{{3, errRecordTooLong}}},
		{"duplicate column", "RowKey,Timestamp,RowKey\r\na-created," + at + ",b-created\r\n", "", []wantErr{{1, errBadHeader}}},
		{"no Timestamp column", "RowKey,CallId\r\na-created,a\r\n", "", []wantErr{{1, errBadHeader}}},
		{"no id column", "PartitionKey,Timestamp\r\np," + at + "\r\n", "", []wantErr{{1, errBadHeader}}},
		{"header with a bad quote", "Row\"Key,Timestamp\r\na-created," + at + "\r\n", "", []wantErr{{1, csv.ErrBareQuote}}},
		{"header only", hdr, "", nil},
		{"empty file", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRead(t, writeFile(t, "q.csv", tc.content), Cursor{})
			if got := summary(res.Calls); got != tc.wantCalls {
				t.Errorf("calls %q, want %q", got, tc.wantCalls)
			}
			// An error over several lines skips a row for each (see
			// TestReadCSVRowsLost).
			skipped := 0
			for _, e := range res.Errors {
				skipped += max(e.Rows, 1)
			}
			if len(res.Errors) != len(tc.wantErrs) || res.Skipped != skipped {
				t.Fatalf("errors %v, want %v", res.Errors, tc.wantErrs)
			}
			for i, e := range res.Errors {
				if e.Line != tc.wantErrs[i].line || !errors.Is(e, tc.wantErrs[i].err) {
					t.Errorf("error %d = %v, want line %d: %v", i, e, tc.wantErrs[i].line, tc.wantErrs[i].err)
				}
			}
			entities := 0
			for _, c := range res.Calls {
				entities += c.Notifications
			}
			if res.Entities != entities || res.Next != (Cursor{}) || res.Pending || res.Restarted {
				t.Errorf("Entities %d (calls count %d), Next %+v, Pending %t, Restarted %t; want no cursor",
					res.Entities, entities, res.Next, res.Pending, res.Restarted)
			}
		})
	}
}

// TestReadCSVColumnOrder reads the sample export with its columns in other
// orders; the result must not change.
func TestReadCSVColumnOrder(t *testing.T) {
	f, err := os.Open("testdata/callids-storage-explorer.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := len(records[0])
	reversed := make([]int, n)
	for i := range reversed {
		reversed[i] = n - 1 - i
	}
	rotated := make([]int, n)
	for i := range rotated {
		rotated[i] = (i + 4) % n
	}
	for name, order := range map[string][]int{"reversed": reversed, "rotated": rotated} {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			w := csv.NewWriter(&b)
			for _, rec := range records {
				out := make([]string, n)
				for i, j := range order {
					out[i] = rec[j]
				}
				if err := w.Write(out); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			if slices.Equal(strings.Split(b.String(), "\n")[0:1], []string{strings.Join(records[0], ",")}) {
				t.Fatal("header did not move")
			}
			res := mustRead(t, writeFile(t, "q.csv", b.String()), Cursor{})
			if !reflect.DeepEqual(res.Calls, sampleCalls(t)) || res.Entities != 7 || len(res.Errors) != 0 {
				t.Errorf("calls %s, %d entities, errors %v; want the sample's", summary(res.Calls), res.Entities, res.Errors)
			}
		})
	}
}

// TestReadCSVIgnoresCursor checks that an export is always read whole.
func TestReadCSVIgnoresCursor(t *testing.T) {
	res := mustRead(t, "testdata/callids-storage-explorer.csv", Cursor{Offset: 500, Line: 3, Head: "ab"})
	if res.Entities != 7 || res.Restarted || res.Next != (Cursor{}) {
		t.Errorf("Entities %d, Restarted %t, Next %+v; want 7, false, zero", res.Entities, res.Restarted, res.Next)
	}
}

// TestReadCSVRowsLost checks that a quote that runs on over several lines
// reports every row it swallowed, with the line range, not one bad line.
func TestReadCSVRowsLost(t *testing.T) {
	const (
		hdr = "PartitionKey,RowKey,Timestamp\r\n"
		at  = "2026-11-12T10:00:00Z"
	)
	row := func(id string) string { return "p," + id + "-created," + at + "\r\n" }
	for _, tc := range []struct {
		name       string
		content    string
		wantCalls  string
		line, last int
		rows       int
		wantErr    error
	}{
		{"unterminated quote to the end", hdr + row("a") + `p,"b-created,` + at + "\r\n" + row("c") + row("d") + row("e") + row("f"),
			"teams/a×1", 3, 7, 5, errUnterminated},
		{"blank lines are not rows", hdr + row("a") + `p,"b-created,` + at + "\r\n" + row("c") + "\r\n" + row("e"),
			"teams/a×1", 3, 6, 3, errUnterminated},
		{"no newline at the end", hdr + row("a") + `p,"b-created,` + at + "\r\n" + strings.TrimSuffix(row("c"), "\r\n"),
			"teams/a×1", 3, 4, 2, errUnterminated},
		{"quote closed lines later", hdr + row("a") + `p,"b-created,` + at + "\r\n" + `p,"c-created,` + at + "\r\n" + row("d"),
			"teams/a×1 teams/d×1", 3, 4, 2, csv.ErrQuote},
		{"record too long", hdr + row("a") + `p,"` + strings.Repeat("b", 2*maxLine) + "\r\n" + row("c") + row("d"),
			"teams/a×1", 3, 5, 3, errRecordTooLong},
		{"bad header", "RowKey,Timestamp,RowKey\r\n" + row("a") + "\r\n" + row("b"),
			"", 1, 4, 2, errBadHeader},
		{"header quote not closed", "\"RowKey,Timestamp\r\n" + row("a") + row("b"),
			"", 1, 3, 2, csv.ErrQuote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRead(t, writeFile(t, "q.csv", tc.content), Cursor{})
			if got := summary(res.Calls); got != tc.wantCalls {
				t.Errorf("calls %q, want %q", got, tc.wantCalls)
			}
			if len(res.Errors) != 1 {
				t.Fatalf("errors %v, want one", res.Errors)
			}
			e := res.Errors[0]
			if e.Line != tc.line || e.LastLine != tc.last || e.Rows != tc.rows || res.Skipped != tc.rows || !errors.Is(e, tc.wantErr) {
				t.Errorf("error %v: lines %d-%d, Skipped %d; want lines %d-%d, %d rows, %v",
					e, e.Line, e.LastLine, res.Skipped, tc.line, tc.last, tc.rows, tc.wantErr)
			}
			want := fmt.Sprintf(":%d-%d: ", tc.line, tc.last)
			if msg := e.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, fmt.Sprintf("%d rows lost (lines %d-%d)", tc.rows, max(tc.line, 2), tc.last)) {
				t.Errorf("message %q does not give the lines and the rows lost", msg)
			}
		})
	}
}
