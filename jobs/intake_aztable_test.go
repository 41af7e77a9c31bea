package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"callstats/config"
	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
	"callstats/extract/queue/aztable"
	"callstats/internal/azurite"
	"callstats/internal/heavytest"
)

// The Azure table tests run on the wall clock: Azurite stamps every entity
// with the time it was written, which is the notification time a run
// compares with its fetches. No test waits on it.

// The kill-and-rerun test of the table queue runs ingest in a child process
// (this test binary again), started with these variables.
const (
	tableChildDir   = "CALLSTATS_TEST_TABLE_CHILD_DIR"
	tableChildGraph = "CALLSTATS_TEST_TABLE_CHILD_GRAPH"
	tableChildURL   = "CALLSTATS_TEST_TABLE_CHILD_URL"
)

func init() {
	dir := os.Getenv(tableChildDir)
	if dir == "" {
		return
	}
	cfg := tableConfig(dir, os.Getenv(tableChildGraph), os.Getenv(tableChildURL), "calls")
	cfg.Output.BatchSize = 7
	if _, err := Ingest(context.Background(), cfg, Env{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// tableConfig is testConfig reading the queue from an Azure table on
// Azurite, on the wall clock.
func tableConfig(dir, graphURL, tableURL, table string) *config.Config {
	cfg := testConfig(dir, graphURL, time.Time{})
	cfg.Queue.Path = ""
	cfg.Queue.AzureTable = &config.AzureTable{Endpoint: tableURL, Table: table, AccountName: azurite.Account,
		AccountKey: config.NewSecret(azurite.Key), Lookback: aztable.DefaultLookback}
	cfg.Now = func() time.Time { return time.Now().UTC() }
	return cfg
}

// seedEntity is an entity of the seed's shape: only PartitionKey and RowKey.
type seedEntity struct{ pk, rk string }

func (e seedEntity) key() string { return e.pk + "/" + e.rk }

// seedRow is the entity of a call's notification in the partition of hour.
func seedRow(hour time.Time, id, change string) seedEntity {
	return seedEntity{aztable.PartitionKey(hour), id + "-" + change}
}

// tableClient is a plain aztables client on Azurite's table, created.
func tableClient(t *testing.T, srv *azurite.Server, name string) *aztables.Client {
	t.Helper()
	key, err := aztables.NewSharedKeyCredential(azurite.Account, azurite.Key)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := aztables.NewServiceClientWithSharedKey(srv.TableURL, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := svc.NewClient(name)
	if _, err := c.CreateTable(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// writeSeed writes entities as the seed's receiver does (PartitionKey and
// RowKey only), in entity group transactions of up to 100 per partition.
func writeSeed(t *testing.T, c *aztables.Client, entities []seedEntity) {
	t.Helper()
	byPK := map[string][]aztables.TransactionAction{}
	var order []string
	for _, e := range entities {
		b, _ := json.Marshal(map[string]string{"PartitionKey": e.pk, "RowKey": e.rk})
		if _, ok := byPK[e.pk]; !ok {
			order = append(order, e.pk)
		}
		byPK[e.pk] = append(byPK[e.pk], aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: b})
	}
	for _, pk := range order {
		for a := byPK[pk]; len(a) > 0; {
			k := min(len(a), 100)
			if _, err := c.SubmitTransaction(context.Background(), a[:k], nil); err != nil {
				t.Fatal(err)
			}
			a = a[k:]
		}
	}
}

// tableKeys lists the keys of every entity in the table.
func tableKeys(t *testing.T, c *aztables.Client) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	sel := "PartitionKey,RowKey"
	pager := c.NewListEntitiesPager(&aztables.ListEntitiesOptions{Select: &sel})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Entities {
			var k struct{ PartitionKey, RowKey string }
			if err := json.Unmarshal(b, &k); err != nil {
				t.Fatal(err)
			}
			keys[k.PartitionKey+"/"+k.RowKey] = true
		}
	}
	return keys
}

// seedTable makes the seed-shaped table of calls: a created row per call in
// the hour the call ended (at the latest at-3h), updated rows in
// the same or later partitions (some RowKeys twice, an hour apart), and a
// malformed entity. No partition lies within an hour of the prune age edge,
// so the test does not depend on the second it runs in.
func seedTable(calls []graphgen.Call, pruneAge time.Duration, at time.Time) (rows []seedEntity, hourOf map[string]time.Time) {
	last := at.Truncate(time.Hour).Add(-3 * time.Hour)
	upTo := func(h time.Time) time.Time {
		if h.After(last) {
			return last
		}
		return h
	}
	edge := at.Add(-pruneAge - time.Hour) // partitions starting before this are old enough to prune
	hourOf = map[string]time.Time{}
	for i, c := range calls {
		h := upTo(c.End.Add(3 * time.Minute).Truncate(time.Hour))
		if d := h.Sub(edge); d > -2*time.Hour && d < time.Hour {
			h = h.Add(-3 * time.Hour)
		}
		hourOf[c.ID] = h
		rows = append(rows, seedRow(h, c.ID, "created"))
		for u := range i % 4 {
			rows = append(rows, seedRow(upTo(h.Add(time.Duration(u)*time.Hour)), c.ID, "updated"))
		}
		if i%7 == 0 {
			rows = append(rows, seedRow(upTo(h.Add(5*time.Hour)), c.ID, "updated"))
		}
	}
	rows = append(rows, seedEntity{"not-an-hour", calls[0].ID + "-created"}, seedEntity{aztable.PartitionKey(last.Add(-60 * time.Hour)), "nodash"})
	return rows, hourOf
}

// TestIngestFromAzureTable ingests twice from a seed-shaped table on
// Azurite, with new entities in between (new calls, a late write into an
// hour the first run had passed, an update), then prunes: nothing is read
// twice into the lake, nothing is missed, and pruning deletes exactly the
// old entities of calls in the lake.
func TestIngestFromAzureTable(t *testing.T) {
	srv := azurite.Start(t)
	raw := tableClient(t, srv, "calls")
	graph := graphtest.NewServer(graphtest.Options{})
	t.Cleanup(graph.Close)
	start := time.Now().UTC()
	calls := graphgen.Week(graphgen.Options{Seed: 9, Start: start.Truncate(day).AddDate(0, 0, -4), Days: 3, Calls: 300})
	later := graphgen.Week(graphgen.Options{Seed: 10, Start: start.Truncate(day).AddDate(0, 0, -1), Days: 1, Calls: 12})
	for _, c := range append(slices.Clone(calls), later...) {
		if err := graph.Put(c.Raw); err != nil {
			t.Fatal(err)
		}
	}
	// Two calls are not ready through both runs: they stay pending, and
	// their old entities must survive pruning.
	notReady := []string{calls[1].ID, calls[2].ID}
	for _, id := range notReady {
		graph.NotReady(id, 1000)
	}
	const pruneAge = 48 * time.Hour
	rows, hourOf := seedTable(calls, pruneAge, start)
	if len(rows) < 700 || len(rows) > 2500 {
		t.Fatalf("%d entities", len(rows))
	}
	writeSeed(t, raw, rows)

	dir := t.TempDir()
	var logs bytes.Buffer
	env := Env{Wait: noWait, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	cfg := tableConfig(dir, graph.URL, srv.TableURL, "calls")
	cfg.Reconcile.Disabled = true // the queue alone says what to fetch
	sum, err := Ingest(context.Background(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	if sum.QueueEntities != len(rows)-2 || sum.QueueErrors != 2 || sum.QueueCalls != len(calls) {
		t.Fatalf("first run read %d entities (%d skipped) naming %d calls; want %d, 2, %d", sum.QueueEntities, sum.QueueErrors, sum.QueueCalls, len(rows)-2, len(calls))
	}
	if sum.Fetched != len(calls)-2 || sum.Pending != 2 {
		t.Fatalf("first run fetched %d, %d pending", sum.Fetched, sum.Pending)
	}
	if !strings.Contains(logs.String(), "partition_key=not-an-hour row_key="+calls[0].ID+"-created") {
		t.Errorf("the malformed entity is not logged with its keys:\n%s", logs.String())
	}

	// Between the runs the receiver writes new calls into the open hour, one
	// late into an hour the first run had passed (within the lookback), and
	// an update of a call already in the lake.
	now := time.Now().UTC()
	var more []seedEntity
	for i, c := range later {
		h := now.Truncate(time.Hour)
		if i == 0 {
			h = now.Add(-3 * time.Hour).Truncate(time.Hour) // closed when the first run read
		}
		more = append(more, seedRow(h, c.ID, "created"))
	}
	changed := graphgen.Update(calls[10], 3)
	if err := graph.Put(changed.Raw); err != nil {
		t.Fatal(err)
	}
	more = append(more, seedRow(now.Truncate(time.Hour), changed.ID, "updated"))
	writeSeed(t, raw, more)

	cfg.Queue.AzureTable.DeleteAfter = "48h"
	sum, err = Ingest(context.Background(), cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	// It read on from its cursor (less the lookback), not the whole table.
	if sum.QueueEntities < len(more) || sum.QueueEntities > len(more)+len(rows)/4 {
		t.Fatalf("second run read %d entities; %d were new, %d older", sum.QueueEntities, len(more), len(rows))
	}
	if sum.ToFetch != len(later)+1+2 || sum.Lake.Added != len(later) || sum.Lake.Replaced != 1 {
		t.Fatalf("second run asked for %d calls, added %d, replaced %d; want %d (new, changed, still pending), %d, 1",
			sum.ToFetch, sum.Lake.Added, sum.Lake.Replaced, len(later)+3, len(later))
	}
	want := callIDs(append(slices.Clone(calls), later...), func(c graphgen.Call) bool { return !slices.Contains(notReady, c.ID) })
	if got := lakeCallIDs(t, filepath.Join(dir, "lake")); !slices.Equal(got, want) {
		t.Fatalf("lake holds %d call rows, want each of the %d calls once", len(got), len(want))
	}

	// Pruning deleted exactly the entities of old partitions whose call is
	// in the lake; the pending calls' and the malformed ones stayed.
	all := append(slices.Clone(rows), more...)
	wantLeft := map[string]bool{}
	wantDeleted := map[string]bool{}
	cut := start.Add(-pruneAge - time.Hour) // partitions before it are old enough at any time after start
	for _, e := range all {
		id := e.rk[:max(strings.LastIndexByte(e.rk, '-'), 0)]
		h, err := time.Parse("2006010215", e.pk)
		inLake := slices.Contains(want, id)
		if err == nil && h.Before(cut) && inLake {
			wantDeleted[e.key()] = true
		} else {
			wantLeft[e.key()] = true
		}
	}
	if len(wantDeleted) == 0 {
		t.Fatal("no entity old enough to prune: the test proves nothing")
	}
	got := tableKeys(t, raw)
	if sum.Pruned == nil || sum.Pruned.Deleted != len(wantDeleted) || !mapsEqual(got, wantLeft) {
		t.Fatalf("pruned %+v: %d entities left, want %d", sum.Pruned, len(got), len(wantLeft))
	}
	if rec := RecordOf("ingest", sum, nil, time.Now()); rec.Counts["queue_pruned"] != int64(len(wantDeleted)) {
		t.Errorf("run record counts %d pruned, want %d", rec.Counts["queue_pruned"], len(wantDeleted))
	}
	var printed bytes.Buffer
	sum.Print(&printed)
	if !strings.Contains(printed.String(), fmt.Sprintf("%d old entities deleted", len(wantDeleted))) {
		t.Errorf("summary does not show the prune:\n%s", printed.String())
	}
	for _, id := range notReady {
		if !got[seedRow(hourOf[id], id, "created").key()] {
			t.Errorf("the old entity of pending call %s was deleted", id)
		}
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestAzureTableKillAndRerun kills a first ingest from the table (SIGKILL)
// several times mid-run and reruns it: the lake equals that of a clean run.
// A quarter of the calls were never notified: the first run's backfill
// (listing back to the table's oldest day) fetches them, in batches.
func TestAzureTableKillAndRerun(t *testing.T) {
	heavytest.Skip(t)
	srv := azurite.Start(t)
	raw := tableClient(t, srv, "calls")
	graph := graphtest.NewServer(graphtest.Options{Hook: func(*http.Request) { time.Sleep(2 * time.Millisecond) }})
	t.Cleanup(graph.Close)
	start := time.Now().UTC()
	calls := graphgen.Week(graphgen.Options{Seed: 12, Start: start.Truncate(day).AddDate(0, 0, -3), Days: 3, Calls: 60})
	for _, c := range calls {
		if err := graph.Put(c.Raw); err != nil {
			t.Fatal(err)
		}
	}
	var notified []graphgen.Call
	for i, c := range calls {
		if i%4 != 1 {
			notified = append(notified, c)
		}
	}
	rows, _ := seedTable(notified, 48*time.Hour, start)
	writeSeed(t, raw, rows)

	ref := t.TempDir()
	cfg := tableConfig(ref, graph.URL, srv.TableURL, "calls")
	cfg.Output.BatchSize = 7
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	want := digest(t, filepath.Join(ref, "lake"))
	if got := lakeCallIDs(t, filepath.Join(ref, "lake")); len(got) != len(calls) {
		t.Fatalf("clean first run holds %d calls, want all %d", len(got), len(calls))
	}

	dir := t.TempDir()
	parquetFiles := func() int {
		n, _ := filepath.Glob(filepath.Join(dir, "lake", "*", "*", "*.parquet"))
		return len(n)
	}
	killed := 0
	for i := range 4 {
		before := parquetFiles()
		if runChildKilled(t, []string{tableChildDir + "=" + dir, tableChildGraph + "=" + graph.URL, tableChildURL + "=" + srv.TableURL}, func() bool { return parquetFiles() > before }, time.Duration(i*7)*time.Millisecond) {
			killed++
		}
	}
	if killed < 2 {
		t.Fatalf("only %d of 4 children were killed mid-run; the test proves nothing", killed)
	}
	cfg = tableConfig(dir, graph.URL, srv.TableURL, "calls")
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	if err := sameLake(want, digest(t, filepath.Join(dir, "lake"))); err != nil {
		t.Fatalf("lake after kills and rerun differs from a clean run: %v", err)
	}
}

// TestServeWritesToAzureTable proves that serve, with queue.azure_table
// set, upserts the notifications it accepts into the table (in the
// entities' seed shape, plus CallId/ChangeType/Source), that a retried
// notification is no second row, and that serve without any queue refuses
// to start.
func TestServeWritesToAzureTable(t *testing.T) {
	srv := azurite.Start(t)
	dir := t.TempDir()
	cfg := serveConfig(dir, "http://127.0.0.1:1", nil, "")
	cfg.Queue.Path = ""
	cfg.Queue.AzureTable = &config.AzureTable{Endpoint: srv.TableURL, Table: "received", AccountName: azurite.Account,
		AccountKey: config.NewSecret(azurite.Key), Lookback: aztable.DefaultLookback}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		served <- serve(ctx, cfg, Env{}, serveOptions{clock: SystemClock{}, listener: ln, ready: func(a string) { ready <- a }})
	}()
	addr := <-ready
	post := func(ids ...string) {
		t.Helper()
		var items []string
		for _, id := range ids {
			items = append(items, `{"changeType":"created","resourceData":{"id":"`+id+`"},"clientState":"`+serveClientState+`","tenantId":"`+serveTenant+`"}`)
		}
		resp, err := http.Post("http://"+addr+"/graph/callrecords", "application/json", strings.NewReader(`{"value":[`+strings.Join(items, ",")+`]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("answered %d", resp.StatusCode)
		}
	}
	ids := []string{"9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465", "0b6f4d12-8e5a-4f31-a7bd-960c8a94c3e2"}
	post(ids...)
	post(ids[0]) // Graph retries
	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v", err)
	}

	tq, err := openTableQueue(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tq.tbl.ReadCalls(context.Background(), aztable.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Calls {
		got = append(got, c.ID)
	}
	slices.Sort(ids)
	if res.Entities != 2 || !slices.Equal(got, ids) {
		t.Fatalf("table holds %d entities naming %v, want 2 naming %v", res.Entities, got, ids)
	}

	cfg.Queue.AzureTable = nil
	if err := Serve(context.Background(), cfg, Env{}); err == nil || !strings.Contains(err.Error(), "needs a queue") {
		t.Errorf("serve without a queue: %v", err)
	}
}
