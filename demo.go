package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"callstats/config"
	"callstats/delivery"
	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
	"callstats/extract/queue"
	"callstats/extract/queue/aztable"
	"callstats/extract/ringcentral/rctest"
	"callstats/internal/atomicfile"
	"callstats/internal/azurite"
	"callstats/jobs"
	"callstats/report"
	"callstats/transform/lake"
)

// demoMarker marks a directory the demo made, so that it may clear it on the next run.
const demoMarker = ".callstats-demo"

// Demo queue kinds (--queue).
const (
	demoQueueFile  = "file"
	demoQueueTable = "azure-table"
)

// runDemo starts the fake Graph with a generated week, writes the queue a
// receiver would have written, and runs two nights of ingest against it.
// demoOptions are the demo's flags.
type demoOptions struct {
	dir string
	// queue azure-table writes the queue into an Azure table on Azurite
	// (Teams only: Azurite stamps each entity with the wall clock, while the
	// demo's nights run on a clock of their own, and RingCentral's call-log
	// windows follow the notification times).
	queue string
	mail  string // "graph": mail the workbooks through the fake Graph
}

func runDemo(ctx context.Context, opts demoOptions, stdout, stderr io.Writer, env jobs.Env) int {
	dir, queueKind := opts.dir, opts.queue
	table := false
	switch queueKind {
	case demoQueueFile:
	case demoQueueTable:
		if err := azurite.Installed(); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: --queue azure-table needs Azurite, the Azure Storage emulator, which scripts/test-deps azurite installs: %v\n", err)
			return exitCannot
		}
		table = true
	default:
		fmt.Fprintf(stderr, "callstats: demo: --queue must be %s or %s, got %q\n", demoQueueFile, demoQueueTable, queueKind)
		return exitUsage
	}
	if err := prepareDemoDir(dir); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
		return exitCannot
	}
	clock := time.Now().UTC()
	if v, ok := os.LookupEnv("CALLSTATS_NOW"); ok {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			fmt.Fprintf(stderr, "callstats: demo: CALLSTATS_NOW: %v\n", err)
			return exitCannot
		}
		clock = t.UTC()
	}
	// The last complete ISO week before the clock, in UTC.
	week := report.LastCompleteWeek(clock, time.UTC)
	monday, _ := week.Range(time.UTC)
	calls := graphgen.Week(graphgen.Options{Seed: 47, Start: monday, Days: 7, Calls: 400})

	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()
	// A RingCentral account beside the tenant (its fake's Heavy limit is
	// raised: the demo's two nights run seconds apart, not a day).
	rc := rctest.NewServer(rctest.Options{HeavyLimit: 1000})
	defer rc.Close()
	rcCalls := demoRingCentral(rc, monday)
	for _, c := range calls {
		if err := srv.Put(c.Raw); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
	}
	pstn, dr := graphgen.PstnRows(calls, 47)
	if err := srv.PutPstn(pstn...); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
		return exitCannot
	}
	if err := srv.PutDirectRouting(dr...); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
		return exitCannot
	}
	// Night 1 runs early on the Monday after the week.
	night1 := monday.AddDate(0, 0, 7).Add(2 * time.Hour)
	abs, _ := filepath.Abs(dir)
	cfg := config.Default()
	cfg.Queue.Path = filepath.Join(abs, "queue", "callids.jsonl")
	cfg.StateDir = filepath.Join(abs, "state")
	cfg.Output.Dir = filepath.Join(abs, "lake")
	cfg.Reports.Dir = filepath.Join(abs, "reports")
	cfg.Teams = &config.Teams{
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: config.NewSecret("secret-1"),
		GraphURL: srv.URL, LoginURL: srv.URL,
	}
	cfg.RingCentral = &config.RingCentral{ServerURL: rc.URL, MediaURL: rc.MediaURL, ClientID: "rc-client-1",
		ClientSecret: config.NewSecret("rc-secret-1"), JWT: config.NewSecret("rc-jwt-1"), DownloadRecordings: true}
	var enqueue func(entities []queue.Entity) error
	if table {
		tbl, closeTable, err := demoTable(ctx, cfg, filepath.Join(abs, "azurite"))
		if err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		defer closeTable()
		enqueue = func(es []queue.Entity) error { return tbl.Upsert(ctx, es) }
		cfg.RingCentral, rcCalls = nil, nil
	} else {
		enqueue = func(es []queue.Entity) error { return appendEntities(cfg.Queue.Path, es) }
	}
	cfg.ApplyDefaults()
	cfg.Reconcile.WindowDays = 9 // the demo week and the two nights after it
	cfg.Reports.Timezone = "Europe/Berlin"
	now := night1
	cfg.Now = func() time.Time { return now }
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: config: %v\n", err)
		return exitCannot
	}

	// The receiver's queue: a created and sometimes an updated notification
	// per call, a few minutes after it ended. One call in 16 is never notified,
	// as when a receiver is down: reconciliation finds and fetches those.
	var q []queue.Entity
	withheld := 0
	for i, c := range calls {
		if i%16 == 11 {
			withheld++
			continue
		}
		at := c.End.Add(time.Duration(2+i%7) * time.Minute)
		q = append(q, queue.NewEntity(queue.SourceTeams, c.ID, "created", at))
		if i%3 == 0 {
			q = append(q, queue.NewEntity(queue.SourceTeams, c.ID, "updated", at.Add(40*time.Second)))
		}
	}
	for i, c := range rcCalls {
		if i%12 != 7 { // RingCentral does not retry a failed webhook: some sessions are never notified
			q = append(q, queue.NewEntity(queue.SourceRingCentral, "s-"+c.ID, "Disconnected", c.Start.Add(c.Duration+20*time.Second)))
		}
	}
	if !table {
		if err := os.MkdirAll(filepath.Dir(cfg.Queue.Path), 0o755); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		if err := atomicfile.WriteFile(cfg.Queue.Path, nil); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
	}
	if err := enqueue(q); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: writing the queue: %v\n", err)
		return exitCannot
	}
	// Records not ready at first (404), and Graph throttling the first requests.
	for _, c := range calls[len(calls)-6:] {
		srv.NotReady(c.ID, 1)
	}
	srv.Throttle(3, time.Second)

	fmt.Fprintf(stdout, "callstats demo: %d generated Teams calls of the week of %s on a fake Graph at %s,\n",
		len(calls), monday.Format("2006-01-02"), srv.URL)
	if table {
		fmt.Fprintf(stdout, "The receiver's queue is the Azure table %s on Azurite at %s;\nit names %d of the Teams calls (%d notifications were lost on the way).\n\n",
			cfg.Queue.AzureTable.Table, cfg.Queue.AzureTable.Endpoint, len(calls)-withheld, withheld)
	} else {
		fmt.Fprintf(stdout, "and %d RingCentral calls on a fake RingCentral at %s.\n", len(rcCalls), rc.URL)
		fmt.Fprintf(stdout, "The receiver's queue names %d of the Teams calls (%d notifications were lost on the way)\nand most RingCentral sessions (RingCentral does not retry a failed webhook).\n\n", len(calls)-withheld, withheld)
	}
	fmt.Fprintf(stdout, "Night 1 (%s):\n", night1.Format(time.RFC3339))
	sum, err := jobs.Ingest(ctx, cfg, env)
	if code := demoStep(sum, err, stdout, stderr); code != exitOK {
		return code
	}

	// During the day, later telemetry raises the version of some records and
	// the receiver queues their "updated" notifications.
	var upd []queue.Entity
	for i, c := range calls {
		if i%40 != 5 {
			continue
		}
		c2 := graphgen.Update(c, 1)
		if err := srv.Put(c2.Raw); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		upd = append(upd, queue.NewEntity(queue.SourceTeams, c.ID, "updated", night1.Add(5*time.Hour)))
	}
	if err := enqueue(upd); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
		return exitCannot
	}
	now = night1.Add(24 * time.Hour)
	fmt.Fprintf(stdout, "\nNight 2 (%s):\n", now.Format(time.RFC3339))
	sum, err = jobs.Ingest(ctx, cfg, env)
	if code := demoStep(sum, err, stdout, stderr); code != exitOK {
		return code
	}

	var listed, missed, recovered int64
	for _, r := range sum.Reconciled {
		listed += r.Listed
		missed += r.Missed
		recovered += r.Recovered
	}
	if listed > 0 {
		fmt.Fprintf(stdout, "\nReconciliation: %d of %d calls listed by Graph were never notified (%.1f%%); %d of them recovered into the lake.\n",
			missed, listed, 100*float64(missed)/float64(listed), recovered)
	}
	if err := printHeadlines(ctx, stdout, cfg.Output.Dir); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: reading the lake back: %v\n", err)
		return exitCannot
	}
	books, err := jobs.Report(ctx, cfg, env, week)
	if err != nil {
		fmt.Fprintf(stderr, "callstats: demo: report: %s\n", oneLine(err))
		return exitCannot
	}
	fig := books[0].Figures
	fmt.Fprintf(stdout, "\nWeekly workbook for %s: %s\n  %s\n", fig.Week, books[0].Path, fig.Headline)
	// Two managers get their own team's workbook, scoped by administrative
	// unit; no mail is sent (the demo has no SMTP server).
	cfg.Delivery = &config.Delivery{Host: "127.0.0.1", Port: 25, TLS: "none", From: "callstats@kestrel-bay.example",
		Recipients: []config.Recipient{
			{Address: "sales-lead@kestrel-bay.example", Scope: config.Scope{Name: "Sales", AdminUnits: []string{graphgen.AdminUnitSales}}},
			{Address: "support-lead@kestrel-bay.example", Scope: config.Scope{Name: "Support", AdminUnits: []string{graphgen.AdminUnitSupport}}},
		}}
	books, err = delivery.Render(ctx, cfg, fig.Week, false)
	if err != nil {
		fmt.Fprintf(stderr, "callstats: demo: scoped reports: %s\n", oneLine(err))
		return exitCannot
	}
	for _, b := range books {
		fmt.Fprintf(stdout, "  scoped to %s: %s (%d calls)\n", b.Name, b.Path, b.Figures.ThisWeek.Calls)
	}
	if opts.mail == "graph" {
		if code := demoGraphMail(ctx, cfg, env, srv, fig.Week, stdout, stderr); code != exitOK {
			return code
		}
	}
	fmt.Fprintf(stdout, "\nLake:  %s\n", cfg.Output.Dir)
	fmt.Fprintf(stdout, "Query it, e.g. with DuckDB:\n  SELECT quality, count(*) FROM read_parquet('%s/streams/*/*.parquet', hive_partitioning=true) GROUP BY 1;\n", cfg.Output.Dir)
	return exitOK
}

func demoStep(sum *jobs.Summary, err error, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "callstats: demo: %s\n", oneLine(err))
		return exitCannot
	}
	sum.Print(stdout)
	return exitOK
}

// prepareDemoDir empties a directory an earlier demo made, and refuses to
// touch one it did not make.
func prepareDemoDir(dir string) error {
	es, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(es) == 0:
	default:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("%s exists and was not made by the demo; choose another --dir", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by callstats demo; removed by the next demo run\n"), 0o644)
}

// appendEntities appends entities to the JSON Lines queue as the receiver
// does, with every property DESIGN.md names.
func appendEntities(path string, entities []queue.Entity) error {
	var b bytes.Buffer
	for _, e := range entities {
		line, err := json.Marshal(map[string]string{
			"PartitionKey": e.PartitionKey, "RowKey": e.RowKey,
			"Timestamp": e.Timestamp.UTC().Format(queue.TimestampFormat),
			"CallId":    e.CallID, "ChangeType": e.ChangeType, "Source": e.Source,
		})
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// demoTable starts Azurite in dir, points cfg's queue at a new table on it
// and returns the table to write the notifications into; closeTable stops
// Azurite.
func demoTable(ctx context.Context, cfg *config.Config, dir string) (tbl *aztable.Table, closeTable func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	srv, err := azurite.Launch(ctx, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("starting Azurite: %w", err)
	}
	cfg.Queue.Path = ""
	cfg.Queue.AzureTable = &config.AzureTable{Endpoint: srv.TableURL, Table: "callids",
		AccountName: azurite.Account, AccountKey: config.NewSecret(azurite.Key)}
	tbl, err = aztable.New(aztable.Config{Endpoint: srv.TableURL, Table: "callids",
		Credential: aztable.Credential{AccountName: azurite.Account, AccountKey: azurite.Key}})
	if err == nil {
		err = tbl.Create(ctx)
	}
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("creating the queue table on Azurite: %w", err)
	}
	return tbl, srv.Close, nil
}

// printHeadlines reads the lake back and prints a few figures.
func printHeadlines(ctx context.Context, w io.Writer, dir string) error {
	calls := map[string]int{}
	n := 0
	err := lake.Scan(ctx, dir, "calls", nil, func(rec arrow.RecordBatch) error {
		types := column[*array.String](rec, "call_type")
		for i := range int(rec.NumRows()) {
			n++
			if types != nil && types.IsValid(i) {
				calls[types.Value(i)]++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	quality := map[string]map[string]int{}
	err = lake.Scan(ctx, dir, "streams", nil, func(rec arrow.RecordBatch) error {
		q := column[*array.String](rec, "quality")
		mt := column[*array.String](rec, "media_type")
		for i := range int(rec.NumRows()) {
			m := "all"
			if mt != nil && mt.IsValid(i) {
				m = mt.Value(i)
			}
			if quality[m] == nil {
				quality[m] = map[string]int{}
			}
			quality[m][q.Value(i)]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nIn the lake: %d calls (Teams: %d peer-to-peer, %d group calls; RingCentral: %d)\n",
		n, calls["peerToPeer"], calls["groupCall"], calls["Voice"]+calls["Fax"])
	for _, m := range []string{"audio", "video", "vbss"} {
		c := quality[m]
		if c == nil {
			continue
		}
		classified := c["good"] + c["poor"]
		rate := 0.0
		if classified > 0 {
			rate = 100 * float64(c["poor"]) / float64(classified)
		}
		fmt.Fprintf(w, "  %-5s streams: %5d classified, %4.1f%% poor, %d unclassified\n", m, classified, rate, c["unclassified"])
	}
	return nil
}

// column returns a record's column by name, or nil.
func column[T arrow.Array](rec arrow.RecordBatch, name string) T {
	var zero T
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return zero
	}
	c, _ := rec.Column(idx[0]).(T)
	return c
}

// demoRingCentral puts a week of RingCentral calls on the fake: inbound and
// outbound, answered, missed and voicemail, some recorded.
func demoRingCentral(rc *rctest.Server, monday time.Time) []rctest.Call {
	results := []string{"Accepted", "Accepted", "Accepted", "Call connected", "Missed", "Voicemail", "Busy"}
	var calls []rctest.Call
	for i := range 84 {
		day := monday.AddDate(0, 0, i%7)
		c := rctest.Call{
			ID:        fmt.Sprintf("RC%05dX%d", 31000+i*37, i%10),
			Start:     day.Add(time.Duration(7*60+(i*53)%600) * time.Minute),
			Duration:  time.Duration(30+(i*97)%900) * time.Second,
			Direction: []string{"Inbound", "Outbound"}[i%2],
			Result:    results[(i+i/7)%len(results)],
		}
		if c.Result == "Missed" || c.Result == "Busy" {
			c.Duration = 0
		}
		if i%9 == 4 && c.Duration > 0 {
			c.RecordingID = fmt.Sprintf("rec-%d", i)
			rc.SetRecording(c.RecordingID, []string{"audio/mpeg", "audio/wav"}[i%2], []byte("demo audio"))
		}
		rc.Add(rc.Record(c))
		calls = append(calls, c)
	}
	return calls
}

// demoGraphMail sends the week's workbooks to the demo's managers through
// the fake Graph's sendMail, signed in as the Teams app (delivery.via:
// graph), and lists what the fake received.
func demoGraphMail(ctx context.Context, cfg *config.Config, env jobs.Env, srv *graphtest.Server, w report.Week, stdout, stderr io.Writer) int {
	cfg.Delivery.Via = config.ViaGraph
	cfg.Delivery.Sender = "callstats@kestrel-bay.example"
	cfg.Delivery.Attach = true
	if _, _, err := jobs.Deliver(ctx, cfg, env, w, false); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: mail through Graph: %s\n", oneLine(err))
		return exitCannot
	}
	fmt.Fprintf(stdout, "\nMailed through Graph (POST /users/%s/sendMail on the fake):\n", cfg.Delivery.Sender)
	for _, m := range srv.Mails() {
		for _, a := range m.Attachments {
			fmt.Fprintf(stdout, "  to %s: %q with %s (%d bytes)\n", strings.Join(m.To, ", "), m.Subject, a.Name, len(a.Content))
		}
	}
	return exitOK
}
