package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/config"
	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
	"callstats/internal/duckdb"
	"callstats/internal/heavytest"
	"callstats/transform"
	"callstats/transform/lake"
)

var (
	weekStart = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	night1    = time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)
)

// The kill-and-rerun test runs ingest in a child process (this test binary
// again), which it kills mid-run.
func TestMain(m *testing.M) {
	if dir := os.Getenv("CALLSTATS_TEST_CHILD_DIR"); dir != "" {
		cfg := testConfig(dir, os.Getenv("CALLSTATS_TEST_CHILD_URL"), night1)
		cfg.Output.BatchSize = 7
		if format := os.Getenv("CALLSTATS_TEST_CHILD_FORMAT"); format != "" {
			cfg.Output.Format = format
		}
		if _, err := Ingest(context.Background(), cfg, Env{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testConfig(dir, url string, now time.Time) *config.Config {
	cfg := config.Default()
	cfg.Queue.Path = filepath.Join(dir, "callids.jsonl")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Output.Dir = filepath.Join(dir, "lake")
	cfg.Teams = &config.Teams{TenantID: "tenant-1", ClientID: "client-1",
		ClientSecret: config.NewSecret("secret-1"), GraphURL: url, LoginURL: url}
	cfg.ApplyDefaults()
	cfg.Now = func() time.Time { return now }
	return cfg
}

// fixture is a fake Graph holding a generated week and the queue naming it.
type fixture struct {
	srv   *graphtest.Server
	calls []graphgen.Call
	dir   string
}

func newFixture(t *testing.T, n int) *fixture {
	return newFixtureOn(t, n, graphtest.Options{})
}

func newFixtureOn(t *testing.T, n int, opts graphtest.Options) *fixture {
	t.Helper()
	srv := graphtest.NewServer(opts)
	t.Cleanup(srv.Close)
	calls := graphgen.Week(graphgen.Options{Seed: 3, Start: weekStart, Calls: n})
	for _, c := range calls {
		if err := srv.Put(c.Raw); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{srv: srv, calls: calls, dir: t.TempDir()}
	var q bytes.Buffer
	for _, c := range calls {
		entity(&q, c.ID, "created", c.End.Add(3*time.Minute))
	}
	if err := os.WriteFile(filepath.Join(f.dir, "callids.jsonl"), q.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func entity(b *bytes.Buffer, id, change string, at time.Time) {
	entityOf(b, id, change, "teams", at)
}

func entityOf(b *bytes.Buffer, id, change, source string, at time.Time) {
	line, _ := json.Marshal(map[string]string{
		"PartitionKey": at.UTC().Format("2006010215"), "RowKey": id + "-" + change,
		"Timestamp": at.UTC().Format(time.RFC3339Nano), "CallId": id, "ChangeType": change, "Source": source})
	b.Write(append(line, '\n'))
}

func (f *fixture) appendQueue(t *testing.T, data []byte) {
	t.Helper()
	q, err := os.OpenFile(filepath.Join(f.dir, "callids.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	q.Write(data)
	q.Close()
}

func (f *fixture) ingest(t *testing.T, now time.Time) *Summary {
	t.Helper()
	sum, err := Ingest(context.Background(), testConfig(f.dir, f.srv.URL, now), Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func noWait(ctx context.Context, d time.Duration) error { return ctx.Err() }

// digest renders every row of every table but ingested_at, sorted, so two lakes
// can be compared whatever their files.
func digest(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range transform.GraphTables {
		err := lake.Scan(context.Background(), dir, string(table), nil, func(rec arrow.RecordBatch) error {
			for i := range int(rec.NumRows()) {
				var cells []string
				for c := range int(rec.NumCols()) {
					if rec.ColumnName(c) != "ingested_at" {
						cells = append(cells, rec.Column(c).ValueStr(i))
					}
				}
				out[string(table)] = append(out[string(table)], strings.Join(cells, "|"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out[string(table)])
	}
	return out
}

func sameLake(a, b map[string][]string) error {
	for _, table := range transform.GraphTables {
		x, y := a[string(table)], b[string(table)]
		if !slices.Equal(x, y) {
			return fmt.Errorf("%s: %d rows vs %d rows, or different values", table, len(x), len(y))
		}
	}
	return nil
}

func TestIngestFetchesQueuedCallsIntoLake(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 60)
	f.srv.NotReady(f.calls[0].ID, 1)
	sum := f.ingest(t, night1)
	if sum.QueueCalls != 60 || sum.ToFetch != 60 || sum.Fetched != 59 || sum.Deferred != 1 || sum.Lake.Added != 59 || sum.Pending != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Lake.Rows["calls"] != 59 || sum.Lake.Rows["streams"] == 0 {
		t.Fatalf("rows %v", sum.Lake.Rows)
	}

	// The next night the deferred record is ready and fetched; nothing else is.
	sum = f.ingest(t, night1.Add(24*time.Hour))
	if sum.ToFetch != 1 || sum.Fetched != 1 || sum.Lake.Added != 1 || sum.Pending != 0 || sum.LakeRecords != 60 {
		t.Fatalf("second night %+v", sum)
	}

	// A rerun with nothing new changes nothing.
	before := digest(t, filepath.Join(f.dir, "lake"))
	sum = f.ingest(t, night1.Add(25*time.Hour))
	if sum.ToFetch != 0 || sum.Lake.FilesWritten != 0 {
		t.Fatalf("rerun %+v", sum)
	}
	if err := sameLake(before, digest(t, filepath.Join(f.dir, "lake"))); err != nil {
		t.Fatal(err)
	}
}

func TestIngestReplacesNewerVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 30)
	f.ingest(t, night1)
	c := f.calls[4]
	c2 := graphgen.Update(c, 9)
	if err := f.srv.Put(c2.Raw); err != nil {
		t.Fatal(err)
	}
	var q bytes.Buffer
	entity(&q, c.ID, "updated", night1.Add(3*time.Hour))
	f.appendQueue(t, q.Bytes())

	sum := f.ingest(t, night1.Add(24*time.Hour))
	if sum.ToFetch != 1 || sum.Lake.Replaced != 1 || sum.LakeRecords != 30 {
		t.Fatalf("summary %+v", sum)
	}
	versions := map[string][]int64{}
	lake.Scan(context.Background(), filepath.Join(f.dir, "lake"), "calls", nil, func(rec arrow.RecordBatch) error {
		ids := rec.Column(rec.Schema().FieldIndices("call_id")[0])
		vs := rec.Column(rec.Schema().FieldIndices("version")[0])
		for i := range int(rec.NumRows()) {
			var v int64
			fmt.Sscan(vs.ValueStr(i), &v)
			versions[ids.ValueStr(i)] = append(versions[ids.ValueStr(i)], v)
		}
		return nil
	})
	if got := versions[c.ID]; len(got) != 1 || got[0] != int64(c2.Version) {
		t.Fatalf("call %s has versions %v in the lake, want only %d", c.ID, got, c2.Version)
	}
	if len(versions) != 30 {
		t.Fatalf("%d calls in the lake", len(versions))
	}
}

func TestIngestGivesUpAfterRetention(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 20)
	var q bytes.Buffer
	gone := "9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465"
	entity(&q, gone, "created", night1.AddDate(0, 0, -40))
	q.WriteString("{not json\n")
	f.appendQueue(t, q.Bytes())

	sum := f.ingest(t, night1)
	if len(sum.FailedCalls) != 1 || sum.FailedCalls[0].ID != gone || !strings.Contains(sum.FailedCalls[0].Reason, "retention") {
		t.Fatalf("failed %+v", sum.FailedCalls)
	}
	if sum.QueueErrors != 1 || sum.Fetched != 20 {
		t.Fatalf("a bad queue line must be skipped, not stop the run: %+v", sum)
	}
	var out bytes.Buffer
	sum.Print(&out)
	if !strings.Contains(out.String(), gone) {
		t.Errorf("summary does not list the failed call:\n%s", out.String())
	}
	// It is not tried again on the next run.
	sum = f.ingest(t, night1.Add(24*time.Hour))
	if sum.ToFetch != 0 || len(sum.FailedCalls) != 0 {
		t.Fatalf("given-up call retried: %+v", sum)
	}
}

func TestIngestStopsOnBadCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	cfg := testConfig(f.dir, f.srv.URL, night1)
	cfg.Teams.ClientSecret = config.NewSecret("wrong")
	_, err := Ingest(context.Background(), cfg, Env{Wait: noWait})
	if !errors.Is(err, ErrCannotRun) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v, want ErrCannotRun without the secret", err)
	}
	// Nothing was lost: the calls are fetched once the secret is right.
	sum := f.ingest(t, night1)
	if sum.Fetched != 5 {
		t.Fatalf("after fixing credentials: %+v", sum)
	}
}

func TestIngestExcludesSecondProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := AcquireLock(dir, "ingest", night1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	// flock excludes other descriptors, in this process too.
	_, err = AcquireLock(dir, "ingest", night1)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	l.Release()
	l2, err := AcquireLock(dir, "ingest", night1)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}

// TestKillAndRerun kills ingest (SIGKILL) at several points of a run and
// reruns it; the lake must end up equal to the lake of a run never killed.
func TestKillAndRerun(t *testing.T) {
	heavytest.Skip(t)
	t.Parallel()
	// A slower Graph, so that a run lasts long enough to be killed in the middle.
	f := newFixtureOn(t, 80, graphtest.Options{Hook: func(*http.Request) { time.Sleep(2 * time.Millisecond) }})
	// The reference: a clean run into another directory on the same server.
	ref := t.TempDir()
	os.Link(filepath.Join(f.dir, "callids.jsonl"), filepath.Join(ref, "callids.jsonl"))
	cfg := testConfig(ref, f.srv.URL, night1)
	cfg.Output.BatchSize = 7
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	want := digest(t, filepath.Join(ref, "lake"))

	// Each child is killed just after it has committed something new, at a
	// different offset each time: inside the next batch's fetches, its staging
	// or its commit.
	parquetFiles := func() int {
		n, _ := filepath.Glob(filepath.Join(f.dir, "lake", "*", "*", "*.parquet"))
		return len(n)
	}
	killed := 0
	for i := range 4 {
		before := parquetFiles()
		if runChildKilled(t, []string{"CALLSTATS_TEST_CHILD_DIR=" + f.dir, "CALLSTATS_TEST_CHILD_URL=" + f.srv.URL}, func() bool { return parquetFiles() > before }, time.Duration(i*7)*time.Millisecond) {
			killed++
		}
	}
	if killed < 2 {
		t.Fatalf("only %d of 4 children were killed mid-run; the test proves nothing", killed)
	}
	cfg = testConfig(f.dir, f.srv.URL, night1)
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	if err := sameLake(want, digest(t, filepath.Join(f.dir, "lake"))); err != nil {
		t.Fatalf("lake after kills and rerun differs from a clean run: %v", err)
	}
	filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
			t.Errorf("staging file left after rerun: %s", p)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(f.dir, "state", "journal.json")); !os.IsNotExist(err) {
		t.Errorf("journal left after rerun")
	}
}

// TestLakeReadByDuckDB reads the lake with an independent reader and checks
// counts and values against the source records.
func TestLakeReadByDuckDB(t *testing.T) {
	t.Parallel()
	duckdb.Require(t)
	f := newFixture(t, 40)
	f.ingest(t, night1)
	dir := filepath.Join(f.dir, "lake")
	var groupCalls, p2p int
	for _, c := range f.calls {
		switch {
		case bytes.Contains(c.Raw, []byte(`"type":"groupCall"`)):
			groupCalls++
		case bytes.Contains(c.Raw, []byte(`"type":"peerToPeer"`)):
			p2p++
		}
	}
	first := f.calls[0]
	rows, err := duckdb.Query(context.Background(), fmt.Sprintf(`
		SELECT
		  (SELECT count(*) FROM read_parquet('%[1]s/calls/*/*.parquet', hive_partitioning=true)) AS calls,
		  (SELECT count(DISTINCT call_id) FROM read_parquet('%[1]s/calls/*/*.parquet')) AS distinct_calls,
		  (SELECT count(*) FILTER (WHERE call_type = 'groupCall') FROM read_parquet('%[1]s/calls/*/*.parquet')) AS group_calls,
		  (SELECT count(*) FILTER (WHERE call_type = 'peerToPeer') FROM read_parquet('%[1]s/calls/*/*.parquet')) AS p2p,
		  (SELECT count(*) FROM read_parquet('%[1]s/calls/*/*.parquet', hive_partitioning=true) WHERE CAST(date AS VARCHAR) <> strftime(start_time AT TIME ZONE 'UTC', '%%Y-%%m-%%d')) AS misfiled,
		  (SELECT sum(session_count) FROM read_parquet('%[1]s/calls/*/*.parquet')) AS sessions_claimed,
		  (SELECT count(*) FROM read_parquet('%[1]s/sessions/*/*.parquet')) AS sessions,
		  (SELECT count(*) FROM read_parquet('%[1]s/streams/*/*.parquet') WHERE quality NOT IN ('good','poor','unclassified')) AS bad_quality,
		  (SELECT version FROM read_parquet('%[1]s/calls/*/*.parquet') WHERE call_id = '%[2]s') AS first_version,
		  (SELECT strftime(start_time AT TIME ZONE 'UTC', '%%Y-%%m-%%dT%%H:%%M:%%S') FROM read_parquet('%[1]s/calls/*/*.parquet') WHERE call_id = '%[2]s') AS first_start
	`, dir, first.ID))
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	check := func(name string, want any) {
		t.Helper()
		if got := fmt.Sprint(r[name]); got != fmt.Sprint(want) {
			t.Errorf("%s = %s, want %v", name, got, want)
		}
	}
	check("calls", 40)
	check("distinct_calls", 40)
	check("group_calls", groupCalls)
	check("p2p", p2p)
	check("misfiled", 0)
	check("sessions_claimed", r["sessions"])
	check("bad_quality", 0)
	check("first_version", first.Version)
	check("first_start", first.Start.UTC().Format("2006-01-02T15:04:05"))
}

// withholdQueue rewrites the fixture's queue without the calls for which skip
// is true, as if their notifications were lost.
func (f *fixture) withholdQueue(t *testing.T, skip func(i int) bool) (withheld []string) {
	t.Helper()
	var q bytes.Buffer
	for i, c := range f.calls {
		if skip(i) {
			withheld = append(withheld, c.ID)
			continue
		}
		entity(&q, c.ID, "created", c.End.Add(3*time.Minute))
	}
	if err := os.WriteFile(filepath.Join(f.dir, "callids.jsonl"), q.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return withheld
}

var week = Window{From: weekStart, To: weekStart.AddDate(0, 0, 6)}

func reconcileTable(t *testing.T, dir string) map[string]transform.ReconcileDay {
	t.Helper()
	out := map[string]transform.ReconcileDay{}
	err := lake.Scan(context.Background(), dir, "reconcile", nil, func(rec arrow.RecordBatch) error {
		days, err := transform.ReadReconcileDays(rec)
		for _, d := range days {
			out[d.Source+" "+d.Day.Format(time.DateOnly)] = d
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReconcileRecoversWithheldCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 50)
	// The reference: every call notified.
	ref := t.TempDir()
	os.Link(filepath.Join(f.dir, "callids.jsonl"), filepath.Join(ref, "callids.jsonl"))
	if _, err := Ingest(context.Background(), testConfig(ref, f.srv.URL, night1), Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	withheld := f.withholdQueue(t, func(i int) bool { return i%10 == 3 })

	sum, err := Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1), Env{Wait: noWait}, week)
	if err != nil {
		t.Fatal(err)
	}
	var listed, notified, missed, recovered int64
	for _, r := range sum.Reconciled {
		if !r.Complete {
			t.Errorf("day %s incomplete", r.Day.Format(time.DateOnly))
		}
		listed += r.Listed
		notified += r.Notified
		missed += r.Missed
		recovered += r.Recovered
	}
	if listed != 50 || notified != 45 || missed != int64(len(withheld)) || recovered != missed {
		t.Fatalf("listed %d notified %d missed %d recovered %d; withheld %d", listed, notified, missed, recovered, len(withheld))
	}
	if len(sum.Reconciled) != 7 {
		t.Fatalf("%d days reconciled, want the 7 of the window", len(sum.Reconciled))
	}
	// The recovered calls' rows equal those of calls fetched by notification.
	if err := sameLake(digest(t, filepath.Join(ref, "lake")), digest(t, filepath.Join(f.dir, "lake"))); err != nil {
		t.Fatalf("lake with recovered calls differs from the fully notified one: %v", err)
	}
	table := reconcileTable(t, filepath.Join(f.dir, "lake"))
	var inTable int64
	for _, r := range table {
		inTable += r.Missed
	}
	if len(table) != 7 || inTable != missed {
		t.Fatalf("reconcile table %v", table)
	}

	// Reconciling again adds nothing and rewrites nothing.
	before := digest(t, filepath.Join(f.dir, "lake"))
	sum, err = Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(time.Hour)), Env{Wait: noWait}, week)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ToFetch != 0 || sum.Lake.FilesWritten != 0 {
		t.Fatalf("second reconcile fetched %d, wrote %d files", sum.ToFetch, sum.Lake.FilesWritten)
	}
	if err := sameLake(before, digest(t, filepath.Join(f.dir, "lake"))); err != nil {
		t.Fatal(err)
	}

	// A late notification for a recovered call turns it from missed into notified.
	var q bytes.Buffer
	entity(&q, withheld[0], "updated", night1.Add(2*time.Hour))
	f.appendQueue(t, q.Bytes())
	sum, err = Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(3*time.Hour)), Env{Wait: noWait}, week)
	if err != nil {
		t.Fatal(err)
	}
	missed = 0
	for _, r := range sum.Reconciled {
		missed += r.Missed
	}
	if missed != int64(len(withheld)-1) {
		t.Fatalf("after a late notification %d missed, want %d", missed, len(withheld)-1)
	}
}

func TestReconcileListingFailsMidway(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 50)
	f.withholdQueue(t, func(i int) bool { return i%10 == 3 })
	f.srv.FailListAfter(3, 503) // three days list, the rest fail
	sum, err := Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1), Env{Wait: noWait}, week)
	if err != nil {
		t.Fatal(err)
	}
	complete, incomplete := 0, 0
	for _, r := range sum.Reconciled {
		if r.Complete {
			complete++
		} else {
			incomplete++
		}
	}
	if complete != 3 || incomplete != 4 {
		t.Fatalf("%d complete, %d incomplete days, want 3 and 4", complete, incomplete)
	}
	for key, r := range reconcileTable(t, filepath.Join(f.dir, "lake")) {
		if !r.Complete && r.Listed != 0 {
			t.Errorf("%s: an unlisted day claims %d listed", key, r.Listed)
		}
	}

	// The next run, with its usual 3-day window, lists the failed days again.
	f.srv.FailListAfter(0, 0)
	if _, err := Ingest(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(24*time.Hour)), Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	var missed int64
	for key, r := range reconcileTable(t, filepath.Join(f.dir, "lake")) {
		if !r.Complete {
			t.Errorf("%s still incomplete after the retry", key)
		}
		missed += r.Missed
	}
	if missed != 5 {
		t.Errorf("missed %d over the week, want 5", missed)
	}
}

func TestReconcileReadsPstnAndDirectRoutingLogs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 60)
	pstn, dr := graphgen.PstnRows(f.calls, 5)
	if len(pstn) == 0 || len(dr) == 0 {
		t.Fatalf("generator gave %d PSTN and %d Direct Routing rows", len(pstn), len(dr))
	}
	if err := f.srv.PutPstn(pstn...); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.PutDirectRouting(dr...); err != nil {
		t.Fatal(err)
	}
	// A window wider than the week, so that every row is in it.
	w := Window{From: weekStart.AddDate(0, 0, -1), To: weekStart.AddDate(0, 0, 8)}
	sum, err := Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(48*time.Hour)), Env{Wait: noWait}, w)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lake.Rows["pstn_calls"] != int64(len(pstn)) || sum.Lake.Rows["direct_routing_calls"] != int64(len(dr)) {
		t.Fatalf("rows %v, want %d PSTN and %d Direct Routing", sum.Lake.Rows, len(pstn), len(dr))
	}
	// Reading the logs again adds nothing.
	before := tableRows(t, filepath.Join(f.dir, "lake"), "pstn_calls")
	sum, err = Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(49*time.Hour)), Env{Wait: noWait}, w)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lake.Rows["pstn_calls"] != 0 || sum.Lake.FilesWritten != 0 {
		t.Fatalf("second read wrote %v", sum.Lake)
	}
	if after := tableRows(t, filepath.Join(f.dir, "lake"), "pstn_calls"); after != before || after != len(pstn) {
		t.Fatalf("pstn_calls has %d rows, had %d; want %d", after, before, len(pstn))
	}
}

func tableRows(t *testing.T, dir, table string) int {
	t.Helper()
	n := 0
	if err := lake.Scan(context.Background(), dir, table, nil, func(rec arrow.RecordBatch) error {
		n += int(rec.NumRows())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A record that changed after its fetch, with no notification saying so, is
// fetched again because the listing shows a newer lastModifiedDateTime.
func TestReconcileRefetchesRecordsChangedSinceTheirFetch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 30)
	f.ingest(t, night1)
	c := f.calls[7]
	c2 := graphgen.Update(c, 4)
	if err := f.srv.Put(c2.Raw); err != nil {
		t.Fatal(err)
	}
	sum, err := Reconcile(context.Background(), testConfig(f.dir, f.srv.URL, night1.Add(time.Hour)), Env{Wait: noWait}, week)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ToFetch != 1 || sum.Lake.Replaced != 1 {
		t.Fatalf("fetched %d, replaced %d; want the changed record only", sum.ToFetch, sum.Lake.Replaced)
	}
	var missed int64
	for _, r := range sum.Reconciled {
		missed += r.Missed
	}
	if missed != 0 {
		t.Fatalf("a notified call counted as missed after its refetch: %d", missed)
	}
}
