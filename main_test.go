package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"callstats/extract/graph/graphtest"
	"callstats/extract/queue"
	"callstats/internal/duckdb"
	"callstats/internal/maildev"
	"callstats/jobs"
)

// TestCommandLine: each rule of the command line, with where its output
// goes (stdout or stderr) and the exit status.
func TestCommandLine(t *testing.T) {
	verbs := "ingest, reconcile, report, deliver, schedule, serve, subscribe, status, maintain, demo, version"
	for _, tc := range []struct {
		args []string
		code int
		// wantOut and wantErr must appear on stdout and stderr; the other
		// stream must stay empty when its want is "".
		wantOut, wantErr string
		// notOut must not appear on stdout.
		notOut string
	}{
		{args: nil, code: exitUsage, wantErr: "Usage:"},
		{args: []string{"-h"}, code: exitOK, wantOut: "Usage:"},
		{args: []string{"--help"}, code: exitOK, wantOut: "Usage:"},
		{args: []string{"help"}, code: exitOK, wantOut: "Usage:"},
		{args: []string{"help", "deliver"}, code: exitOK, wantOut: "-resend"},
		{args: []string{"--version"}, code: exitOK, wantOut: "callstats "},
		{args: []string{"version"}, code: exitOK, wantOut: "callstats "},
		// A verb's help lists its own flags only, on stdout.
		{args: []string{"status", "-h"}, code: exitOK, wantOut: "Usage: callstats status", notOut: "-week"},
		{args: []string{"status", "--help"}, code: exitOK, wantOut: "-config FILE", notOut: "-dir"},
		{args: []string{"reconcile", "-h"}, code: exitOK, wantOut: "-from", notOut: "-resend"},
		{args: []string{"deliver", "--help"}, code: exitOK, wantOut: "-resend", notOut: "-from"},
		{args: []string{"demo", "-h"}, code: exitOK, wantOut: "-dir", notOut: "-config"},
		{args: []string{"frobnicate"}, code: exitUsage, wantErr: `unknown command "frobnicate"; the commands are: ` + verbs},
		{args: []string{"ingest", "--bogus"}, code: exitUsage, wantErr: "flag provided but not defined: -bogus"},
		// Flags another verb takes, and stray arguments, are usage errors naming them.
		{args: []string{"status", "--week", "2026-W47"}, code: exitUsage, wantErr: "-week"},
		{args: []string{"status", "--resend"}, code: exitUsage, wantErr: "-resend"},
		{args: []string{"status", "--dir", "x"}, code: exitUsage, wantErr: "-dir"},
		{args: []string{"status", "--config", "c.yaml", "extra"}, code: exitUsage, wantErr: `unexpected argument "extra"`},
		{args: []string{"--config", "c.yaml", "demo"}, code: exitUsage, wantErr: "callstats demo: it does not take --config"},
		{args: []string{"-v", "version"}, code: exitUsage, wantErr: "it does not take -v"},
		{args: []string{"--version", "status"}, code: exitUsage, wantErr: "--version takes no command"},
		// A bad --week is a usage error, like a bad --from.
		{args: []string{"report", "--config", "c.yaml", "--week", "2026-W99"}, code: exitUsage, wantErr: "--week"},
		{args: []string{"deliver", "--config", "c.yaml", "--week", "47"}, code: exitUsage, wantErr: "--week"},
		{args: []string{"reconcile", "--from", "2026-11-10"}, code: exitUsage, wantErr: "needs --from and --to"},
		{args: []string{"reconcile", "--from", "2026-11-10", "--to", "2026-11-09"}, code: exitUsage, wantErr: "before --from"},
		{args: []string{"reconcile", "--from", "10.11.2026", "--to", "2026-11-09"}, code: exitUsage, wantErr: "want YYYY-MM-DD"},
		// Missing --config says to pass it.
		{args: []string{"status"}, code: exitUsage, wantErr: "pass --config FILE"},
		{args: []string{"ingest"}, code: exitUsage, wantErr: "pass --config FILE"},
		{args: []string{"ingest", "--config", "/does/not/exist.yaml"}, code: exitCannot, wantErr: "config:"},
		{args: []string{"ingest", "--log-format", "xml"}, code: exitUsage, wantErr: "--log-format"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, out.String(), errb.String())
			continue
		}
		for _, c := range []struct {
			name, want string
			got        *bytes.Buffer
		}{{"stdout", tc.wantOut, &out}, {"stderr", tc.wantErr, &errb}} {
			if c.want == "" && c.got.Len() > 0 {
				t.Errorf("%q: %s is not empty:\n%s", tc.args, c.name, c.got.String())
			}
			if !strings.Contains(c.got.String(), c.want) {
				t.Errorf("%q: %s does not say %q:\n%s", tc.args, c.name, c.want, c.got.String())
			}
		}
		if tc.notOut != "" && strings.Contains(out.String(), tc.notOut) {
			t.Errorf("%q: stdout says %q, a flag of another verb:\n%s", tc.args, tc.notOut, out.String())
		}
	}
}

// TestVersion: the module version from the build info, else the VCS
// revision, else "(devel)".
func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "(devel)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "(devel)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "b313a46e"}, {Key: "vcs.modified", Value: "false"}}}, true, "b313a46e"},
		{&debug.BuildInfo{Main: debug.Module{Version: ""}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "b313a46e"}, {Key: "vcs.modified", Value: "true"}}}, true, "b313a46e-dirty"},
	} {
		if got := version(tc.info, tc.ok); got != tc.want {
			t.Errorf("version(%+v) = %q, want %q", tc.info, got, tc.want)
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
	skipWaits(t)
	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()
	cfg := writeIngestConfig(t, srv.URL, `{"PartitionKey":"2026101008","RowKey":"9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465-created","Timestamp":"2026-10-10T08:37:15.090Z","CallId":"9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465","ChangeType":"created","Source":"teams"}`, "")
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

// writeIngestConfig writes a queue holding queueLine and a config that
// ingests it from the Graph at graphURL (secret in TEST_GRAPH_SECRET), with
// extra lines added to its teams section; it returns the config's path.
func writeIngestConfig(t *testing.T, graphURL, queueLine, extraTeams string) string {
	t.Helper()
	dir := t.TempDir()
	queue := filepath.Join(dir, "q.jsonl")
	if err := os.WriteFile(queue, []byte(queueLine+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.yaml")
	y := fmt.Sprintf(`queue: { path: %s }
state_dir: %s
output: { dir: %s }
teams:
  tenant_id: tenant-1
  client_id: client-1
  client_secret_env: TEST_GRAPH_SECRET
  graph_url: %s
  login_url: %s
`, queue, filepath.Join(dir, "state"), filepath.Join(dir, "lake"), graphURL, graphURL) + extraTeams
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// skipWaits skips the clients' pacing and retry waits for the rest of the
// test: they are tested beside each client, and wait on the wall clock (the
// list pacer alone for 20 s of a run).
func skipWaits(t *testing.T) {
	t.Helper()
	testWait = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { testWait = nil })
}

// TestDemo runs `callstats demo` and reads its lake back with DuckDB.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes a while")
	}
	skipWaits(t)
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
	checkDemoQueue(t, out.String(), filepath.Join(dir, "queue", "callids.jsonl"))
	// Over a foreign directory it refuses (TestPrepareDemoDir has the rerun
	// over its own directory).
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

// checkDemoQueue checks what the demo's receiver (callstats serve) queued:
// every notification the fakes sent except those withheld (25 Teams calls,
// 7 RingCentral sessions), each stamped with the time it was sent on the
// demo's calendar: before night 1, or during the day after it (the 10
// updates), never at the wall clock, which would make night 2 fetch every
// call again.
func checkDemoQueue(t *testing.T, out, path string) {
	t.Helper()
	for _, want := range []string{
		"queued 578 notifications: 375 of the Teams calls\n(25 were withheld",
		"77 of the RingCentral sessions\n(7 withheld",
		"The receiver queued 588 notifications in all, 10 of them during the day",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	var night1 time.Time
	if _, rest, ok := strings.Cut(out, "Night 1 ("); ok {
		night1, _ = time.Parse(time.RFC3339, strings.SplitN(rest, ")", 2)[0])
	}
	if night1.IsZero() {
		t.Fatalf("no night 1 in the demo output:\n%s", out)
	}
	res, err := queue.Read(context.Background(), path, queue.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	var before, day int
	for _, c := range res.Calls {
		sources[c.Source]++
		switch {
		case c.FirstNotified.Before(night1.AddDate(0, 0, -8)) || !c.LastNotified.Before(night1.Add(6*time.Hour)):
			t.Errorf("%s %s notified %s..%s, outside the demo week and the day after night 1 (%s)",
				c.Source, c.ID, c.FirstNotified, c.LastNotified, night1)
		case c.LastNotified.After(night1):
			day++
		default:
			before++
		}
	}
	if res.Entities != 588 || res.Skipped != 0 || sources["teams"] != 375 || sources["ringcentral"] != 77 || day != 10 || before != 442 {
		t.Errorf("queue: %d entities (%d skipped), calls by source %v, %d notified before night 1 and %d after, want 588, 0, 375 teams and 77 ringcentral, 442 and 10",
			res.Entities, res.Skipped, sources, before, day)
	}
}

// writeReportConfig writes a config for report and deliver: an empty lake,
// a Teams section whose secret variable TEST_UNSET_GRAPH_SECRET is unset,
// and, when smtpPort > 0, a delivery section to 127.0.0.1:smtpPort.
func writeReportConfig(t *testing.T, smtpPort int) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	os.MkdirAll(filepath.Join(dir, "lake"), 0o755)
	y := fmt.Sprintf(`queue: { path: %[1]s/q.jsonl }
state_dir: %[1]s/state
output: { dir: %[1]s/lake }
reports: { dir: %[1]s/reports }
teams:
  tenant_id: tenant-1
  client_id: client-1
  client_secret_env: TEST_UNSET_GRAPH_SECRET
`, dir)
	if smtpPort > 0 {
		y += fmt.Sprintf(`delivery:
  host: 127.0.0.1
  port: %d
  tls: none
  from: stats@example.com
  recipients:
    - address: boss@example.com
    - address: lead@example.com
      scope: { name: Sales, admin_units: [au-sales] }
`, smtpPort)
	}
	path = filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CALLSTATS_NOW", "2026-11-23T06:00:00Z")
	os.Unsetenv("TEST_UNSET_GRAPH_SECRET")
	return path, dir
}

// TestReadOnlyVerbsNeedNoSecret: status and report run without the Graph
// secret, and take the global flags before the verb; ingest needs it.
func TestReadOnlyVerbsNeedNoSecret(t *testing.T) {
	cfg, dir := writeReportConfig(t, 0)
	for _, args := range [][]string{
		{"--config", cfg, "status"},
		{"--log-format", "json", "--config", cfg, "-v", "status"},
		{"status", "--config", cfg},
		{"--config", cfg, "report", "--week", "2026-W47"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK {
			t.Errorf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "callstats-2026-W47.xlsx")); err != nil {
		t.Error(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"ingest", "--config", cfg}, &out, &errb); code != exitCannot || !strings.Contains(errb.String(), "TEST_UNSET_GRAPH_SECRET") {
		t.Errorf("ingest without its secret: exit %d\n%s", code, errb.String())
	}
}

// TestDeliverQuietAndLocked: deliver under cron (no terminal, no
// --log-format) prints nothing when it succeeds; while another job holds
// the state directory, deliver --resend and report exit 1 naming the
// holder, and no mail is sent.
func TestDeliverQuietAndLocked(t *testing.T) {
	srv := maildev.Start(t)
	cfg, dir := writeReportConfig(t, srv.SMTPPort)
	t.Setenv("TEST_UNSET_GRAPH_SECRET", "secret-1") // deliver loads every secret
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run([]string{"deliver", "--config", cfg}, &out, &errb); code != exitOK || out.Len() != 0 || errb.Len() != 0 {
		t.Fatalf("deliver: exit %d, want 0 and no output\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	emails, err := srv.Emails(ctx)
	if err != nil || len(emails) != 2 {
		t.Fatalf("maildev received %d mails (%v), want 2", len(emails), err)
	}

	lock, err := jobs.AcquireLock(filepath.Join(dir, "state"), "ingest", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	for _, args := range [][]string{
		{"deliver", "--config", cfg, "--resend"},
		{"report", "--config", cfg},
	} {
		out.Reset()
		errb.Reset()
		code := run(args, &out, &errb)
		if code != exitCannot || !strings.Contains(errb.String(), "state directory is in use") || !strings.Contains(errb.String(), "(ingest, started") {
			t.Errorf("%q under a held lock: exit %d\nstderr:\n%s", args, code, errb.String())
		}
		if strings.Contains(errb.String(), "report: report:") || strings.Contains(errb.String(), "deliver: deliver:") {
			t.Errorf("%q: doubled prefix: %s", args, errb.String())
		}
	}
	if emails, err := srv.Emails(ctx); err != nil || len(emails) != 2 {
		t.Errorf("maildev has %d mails (%v) after deliver --resend under a held lock, want still 2", len(emails), err)
	}
}
