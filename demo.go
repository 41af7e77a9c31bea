package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"callstats/config"
	"callstats/delivery"
	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
	"callstats/extract/queue"
	"callstats/extract/ringcentral/rctest"
	"callstats/internal/azurite"
	"callstats/internal/icebergcat"
	"callstats/jobs"
	"callstats/report"
	"callstats/transform/lake/iceberg"
)

// demoTenant is the fake tenant's GUID (the receiver checks each
// notification's tenantId against it).
const demoTenant = "3f6c2a91-5d7e-4b08-9c1a-64e0b2d8f715"

// demoMarker marks a directory the demo made, so that it may clear it on the next run.
const demoMarker = ".callstats-demo"

// Demo queue kinds (--queue).
const (
	demoQueueFile  = "file"
	demoQueueTable = "azure-table"
)

// demoOptions are the demo's flags.
type demoOptions struct {
	dir string
	// queue azure-table writes the queue into an Azure table on Azurite
	// (Teams only: Azurite stamps each entity with the wall clock, while the
	// demo's nights run on a clock of their own, and RingCentral's call-log
	// windows follow the notification times).
	queue string
	mail  string // "graph": mail the workbooks through the fake Graph
	// format is output.format: plain, or iceberg (Iceberg tables in a
	// SQLite catalog under the demo's state, the warehouse its lake).
	format string
}

// runDemo starts the fake Graph and RingCentral with a generated week and
// the receiver (callstats serve), which they notify of the week's calls (or,
// with --queue azure-table, writes the notifications into a table on
// Azurite), and runs two nights of ingest over the queue, a report and the
// scoped workbooks.
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
	switch opts.format {
	case "", config.FormatPlain, config.FormatIceberg:
	default:
		fmt.Fprintf(stderr, "callstats: demo: --format must be %s or %s, got %q\n", config.FormatPlain, config.FormatIceberg, opts.format)
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

	srv := graphtest.NewServer(graphtest.Options{TenantID: demoTenant})
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
		TenantID: demoTenant, ClientID: "client-1", ClientSecret: config.NewSecret("secret-1"),
		GraphURL: srv.URL, LoginURL: srv.URL,
	}
	cfg.RingCentral = &config.RingCentral{ServerURL: rc.URL, MediaURL: rc.MediaURL, ClientID: "rc-client-1",
		ClientSecret: config.NewSecret("rc-secret-1"), JWT: config.NewSecret("rc-jwt-1"), DownloadRecordings: true}
	var intake demoIntake
	if table {
		tbl, closeTable, err := demoTable(ctx, cfg, filepath.Join(abs, "azurite"))
		if err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		defer closeTable()
		intake = tableIntake{upsert: tbl.Upsert}
		cfg.RingCentral, rcCalls = nil, nil
	} else if err := demoServeConfig(cfg); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
		return exitCannot
	}
	cfg.ApplyDefaults()
	if opts.format != "" {
		cfg.Output.Format = opts.format
	}
	cfg.Reconcile.WindowDays = 9 // the demo week and the two nights after it
	cfg.Reports.Timezone = "Europe/Berlin"
	now := night1
	cfg.Now = func() time.Time { return now }
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: config: %v\n", err)
		return exitCannot
	}
	var rcv *demoReceiver
	if !table {
		if err := os.MkdirAll(filepath.Dir(cfg.Queue.Path), 0o755); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		var err error
		if rcv, err = startDemoReceiver(ctx, cfg, env, srv, rc); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		defer rcv.stop()
		intake = rcv
	}

	// The notifications: a created and sometimes an updated one per call, a
	// few minutes after it ended. One call in 16 is never notified, as when
	// a receiver is down: reconciliation finds and fetches those.
	notes, withheld := demoNotes(calls, rcCalls)
	if err := intake.deliver(ctx, notes); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: notifying the receiver: %v\n", err)
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
			cfg.Queue.AzureTable.Table, cfg.Queue.AzureTable.Endpoint, len(calls)-withheld.teams, withheld.teams)
	} else {
		fmt.Fprintf(stdout, "and %d RingCentral calls on a fake RingCentral at %s.\n", len(rcCalls), rc.URL)
		n, err := rcv.queued(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		fmt.Fprintf(stdout, "The receiver (callstats serve on %s) queued %d notifications: %d of the Teams calls\n"+
			"(%d were withheld, as when the receiver is down) and %d of the RingCentral sessions\n"+
			"(%d withheld: RingCentral does not retry a failed webhook).\n\n",
			rcv.addr, n, len(calls)-withheld.teams, withheld.teams, len(rcCalls)-withheld.rc, withheld.rc)
	}
	fmt.Fprintf(stdout, "Night 1 (%s):\n", night1.Format(time.RFC3339))
	sum, err := jobs.Ingest(ctx, cfg, env)
	if code := demoStep(sum, err, stdout, stderr); code != exitOK {
		return code
	}

	// During the day, later telemetry raises the version of some records and
	// Graph notifies their updates.
	var upd []demoNote
	for i, c := range calls {
		if i%40 != 5 {
			continue
		}
		c2 := graphgen.Update(c, 1)
		if err := srv.Put(c2.Raw); err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		upd = append(upd, demoNote{source: queue.SourceTeams, id: c.ID, change: "updated", at: night1.Add(5 * time.Hour)})
	}
	if err := intake.deliver(ctx, upd); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: notifying the receiver: %v\n", err)
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
	scan := plainScan(cfg.Output.Dir)
	var view *iceberg.View
	if cfg.Output.Format == config.FormatIceberg {
		v, closeCatalog, err := icebergcat.OpenView(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "callstats: demo: reading the lake back: %v\n", err)
			return exitCannot
		}
		defer closeCatalog()
		view, scan = v, icebergScan(v)
	}
	if err := printHeadlines(ctx, stdout, scan); err != nil {
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
	if rcv != nil {
		n, err := rcv.queued(ctx)
		if err == nil {
			err = rcv.stop()
		}
		if err != nil {
			fmt.Fprintf(stderr, "callstats: demo: %v\n", err)
			return exitCannot
		}
		fmt.Fprintf(stdout, "\nThe receiver queued %d notifications in all, %d of them during the day; it is stopped.\n", n, len(upd))
	}
	if opts.mail == "graph" {
		if code := demoGraphMail(ctx, cfg, env, srv, fig.Week, stdout, stderr); code != exitOK {
			return code
		}
	}
	if view != nil {
		printIcebergHowTo(stdout, cfg, view)
		return exitOK
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
