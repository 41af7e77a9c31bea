package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callstats/extract/graph/graphtest"
	"callstats/internal/duckdb"
)

func TestUsageAndBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "Usage:"},
		{[]string{"--help"}, exitOK, "Usage:"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"ingest", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"reconcile", "--from", "2026-11-10"}, exitUsage, "needs --from and --to"},
		{[]string{"reconcile", "--from", "2026-11-10", "--to", "2026-11-09"}, exitUsage, "before --from"},
		{[]string{"reconcile", "--from", "10.11.2026", "--to", "2026-11-09"}, exitUsage, "want YYYY-MM-DD"},
		{[]string{"ingest", "--config", "/does/not/exist.yaml"}, exitCannot, "config:"},
		{[]string{"ingest", "--log-format", "xml"}, exitUsage, "--log-format"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d; output %q does not say %q", tc.args, code, tc.code, out.String()+errb.String(), tc.want)
		}
	}
}

func TestConfigErrorNamesTheKey(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("teams:\n  tennant_id: x\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"ingest", "--config", cfg}, &out, &errb); code != exitCannot {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "tennant_id") {
		t.Fatalf("stderr does not name the bad key:\n%s", errb.String())
	}
}

// TestIngestExitStatus: a run that completes with a record given up for good
// exits 3 and names it; its rerun (nothing new) exits 0 and prints nothing
// (not a terminal), as under cron.
func TestIngestExitStatus(t *testing.T) {
	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	queue := filepath.Join(dir, "q.jsonl")
	os.WriteFile(queue, []byte(`{"PartitionKey":"2026101008","RowKey":"9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465-created","Timestamp":"2026-10-10T08:37:15.090Z","CallId":"9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465","ChangeType":"created","Source":"teams"}`+"\n"), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`queue: { path: %s }
state_dir: %s
output: { dir: %s }
teams:
  tenant_id: tenant-1
  client_id: client-1
  client_secret_env: TEST_GRAPH_SECRET
  graph_url: %s
  login_url: %s
`, queue, filepath.Join(dir, "state"), filepath.Join(dir, "lake"), srv.URL, srv.URL)), 0o644)
	t.Setenv("TEST_GRAPH_SECRET", "secret-1")
	t.Setenv("CALLSTATS_NOW", "2026-11-13T02:00:00Z")

	var out, errb bytes.Buffer
	if code := run([]string{"ingest", "--config", cfg}, &out, &errb); code != exitPartial {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitPartial, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465") || !strings.Contains(errb.String(), "1 records failed for good") {
		t.Fatalf("the failed record is not reported:\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"ingest", "--config", cfg}, &out, &errb); code != exitOK || out.Len() != 0 || errb.Len() != 0 {
		t.Fatalf("quiet rerun: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	// status reads what the runs left.
	out.Reset()
	if code := run([]string{"status", "--config", cfg}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "ingest") {
		t.Fatalf("status: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// TestDemo runs `callstats demo` and reads its lake back with DuckDB.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes a while")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--dir", dir}, &out, &errb); code != exitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"Night 1", "Night 2", "Reconciliation:", "never notified", "Weekly workbook", "Lake:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "reports")); err != nil {
		t.Error(err)
	}
	// Running it again over its own directory works; over a foreign one it refuses.
	if code := run([]string{"demo", "--dir", dir}, &out, &errb); code != exitOK {
		t.Fatalf("second demo exit %d: %s", code, errb.String())
	}
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "precious.txt"), []byte("x"), 0o644)
	if code := run([]string{"demo", "--dir", foreign}, &out, &errb); code != exitCannot {
		t.Fatalf("demo over a foreign directory: exit %d", code)
	}

	duckdb.Require(t)
	rows, err := duckdb.Query(context.Background(), fmt.Sprintf(`
		SELECT (SELECT count(*) FROM read_parquet('%[1]s/calls/*/*.parquet')) AS calls,
		       (SELECT count(DISTINCT call_id) FROM read_parquet('%[1]s/calls/*/*.parquet')) AS distinct_calls,
		       (SELECT count(*) FROM read_parquet('%[1]s/calls/*/*.parquet') WHERE source = 'ringcentral') AS rc,
		       (SELECT sum(missed) FROM read_parquet('%[1]s/reconcile/*/*.parquet') WHERE source = 'teams') AS missed,
		       (SELECT sum(recovered) FROM read_parquet('%[1]s/reconcile/*/*.parquet') WHERE source = 'teams') AS recovered`,
		filepath.Join(dir, "lake")))
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if fmt.Sprint(r["calls"]) != fmt.Sprint(r["distinct_calls"]) || fmt.Sprint(r["calls"]) != "484" || fmt.Sprint(r["rc"]) != "84" {
		t.Errorf("lake calls %v", r)
	}
	if fmt.Sprint(r["missed"]) != "25" || fmt.Sprint(r["recovered"]) != "25" {
		t.Errorf("reconcile %v, want 25 missed and recovered", r)
	}
}
