package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParquetRoundTrip(t *testing.T) {
	Require(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "t.parquet")

	if _, err := Query(ctx, fmt.Sprintf(
		`COPY (SELECT 1 AS a, 'x' AS b) TO '%s' (FORMAT parquet, COMPRESSION zstd)`, file)); err != nil {
		t.Fatalf("writing %s: %v", file, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("DuckDB wrote no file: %v", err)
	}
	if !strings.HasPrefix(string(data), "PAR1") || !strings.HasSuffix(string(data), "PAR1") {
		t.Fatalf("%s is not a Parquet file (no PAR1 magic)", file)
	}

	// A second process reads it back: the rows come from the file, not memory.
	rows, err := Query(ctx, fmt.Sprintf(`SELECT * FROM read_parquet('%s')`, file))
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	want := []map[string]any{{"a": json.Number("1"), "b": "x"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("read back %#v, want %#v", rows, want)
	}
}

func TestQueryConversions(t *testing.T) {
	Require(t)
	tests := []struct {
		name string
		expr string
		want any
	}{
		{"timestamp micros", `TIMESTAMP '2026-11-13 18:23:26.795123'`, "2026-11-13T18:23:26.795123Z"},
		{"timestamp whole second", `TIMESTAMP '2026-11-13 18:00:00'`, "2026-11-13T18:00:00Z"},
		{"timestamp before epoch", `TIMESTAMP '1969-12-31 23:59:59.5'`, "1969-12-31T23:59:59.5Z"},
		{"timestamptz is UTC", `TIMESTAMPTZ '2026-11-13 18:23:26+02'`, "2026-11-13T16:23:26Z"},
		{"timestamp ns", `'2026-11-13 18:23:26.1234567'::TIMESTAMP_NS`, "2026-11-13T18:23:26.1234567Z"},
		{"list of bigint with null", `[1, 2, NULL]::BIGINT[]`, []any{json.Number("1"), json.Number("2"), nil}},
		{"list of timestamps", `[TIMESTAMP '2026-01-01 00:00:00.25']`, []any{"2026-01-01T00:00:00.25Z"}},
		{"empty list", `[]::VARCHAR[]`, []any{}},
		{"struct", `{'k': 1.5::DOUBLE, 'v': 'x'}`, map[string]any{"k": json.Number("1.5"), "v": "x"}},
		{"safe bigint", `9007199254740991::BIGINT`, json.Number("9007199254740991")},
		{"unsafe bigint", `9007199254740993::BIGINT`, "9007199254740993"},
		{"null", `NULL::VARCHAR`, nil},
		{"boolean", `true`, true},
		{"date", `DATE '2026-11-13'`, "2026-11-13"},
	}
	// One query for all cases: each starts node and DuckDB afresh.
	cols := make([]string, len(tests))
	for i, tt := range tests {
		cols[i] = fmt.Sprintf("%s AS c%d", tt.expr, i)
	}
	rows, err := Query(context.Background(), "SELECT "+strings.Join(cols, ", "))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rows[0][fmt.Sprintf("c%d", i)]
			if !ok {
				t.Fatalf("column c%d missing from %v", i, rows[0])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SELECT %s = %#v, want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestQueryTimestampParsesInGo(t *testing.T) {
	Require(t)
	rows, err := Query(context.Background(), `SELECT TIMESTAMP '2026-11-13 18:23:26.795123' AS ts`)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := rows[0]["ts"].(string)
	got, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("ts %q is not RFC 3339: %v", s, err)
	}
	want := time.Date(2026, 11, 13, 18, 23, 26, 795123000, time.UTC)
	if !got.Equal(want) {
		t.Errorf("ts = %v, want %v", got, want)
	}
}

func TestQueryStatements(t *testing.T) {
	Require(t)
	tests := []struct {
		name    string
		sql     string
		want    []map[string]any
		wantErr string
	}{
		{
			name: "last statement's rows",
			sql:  "CREATE TABLE t AS SELECT 1 AS x; INSERT INTO t VALUES (2); SELECT sum(x) AS s FROM t;",
			want: []map[string]any{{"s": json.Number("3")}},
		},
		{
			name: "no rows",
			sql:  "SELECT 1 AS x WHERE false",
			want: []map[string]any{},
		},
		{
			name:    "DuckDB error is returned",
			sql:     "SELECT * FROM no_such_table",
			wantErr: "no_such_table",
		},
		{
			name:    "empty SQL",
			sql:     " \n",
			wantErr: "no SQL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Query(context.Background(), tt.sql)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("rows = %#v, want %#v", rows, tt.want)
			}
		})
	}
}

func TestQueryCanceled(t *testing.T) {
	Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Query(ctx, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("err = %v, want context canceled", err)
	}
}

func TestAvailableSaysWhatIsMissing(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "package not installed",
			env:  map[string]string{DirEnv: empty},
			want: []string{"@duckdb/node-api", empty, "run scripts/test-deps"},
		},
		{
			name: "no node",
			env:  map[string]string{"PATH": empty},
			want: []string{"node", "run scripts/test-deps"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := Available()
			if err == nil {
				t.Fatal("Available() = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Available() = %q, want it to mention %q", err, w)
				}
			}
			if _, qerr := Query(context.Background(), "SELECT 1"); qerr == nil {
				t.Error("Query succeeded although DuckDB is not available")
			}
		})
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of stopping.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(args ...any)      { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatal(args ...any)     { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skipf(string, ...any)  { panic("unexpected Skipf") }
func (r *recorder) Fatalf(string, ...any) { panic("unexpected Fatalf") }

func TestRequire(t *testing.T) {
	tests := []struct {
		name      string
		require   string
		wantSkip  bool
		wantFatal bool
	}{
		{name: "skips by default", require: "", wantSkip: true},
		{name: "fails when required", require: "1", wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(DirEnv, t.TempDir())
			t.Setenv(RequireEnv, tt.require)
			r := &recorder{TB: t}
			Require(r)
			if got := r.skipped != ""; got != tt.wantSkip {
				t.Errorf("skipped = %q, want skip %v", r.skipped, tt.wantSkip)
			}
			if got := r.fatal != ""; got != tt.wantFatal {
				t.Errorf("fatal = %q, want fatal %v", r.fatal, tt.wantFatal)
			}
			msg := r.skipped + r.fatal
			if !strings.HasPrefix(msg, "DuckDB not available: ") || !strings.Contains(msg, "; run scripts/test-deps") {
				t.Errorf("message %q lacks the documented form", msg)
			}
		})
	}
}
