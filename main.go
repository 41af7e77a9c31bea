// Command callstats fetches Teams call records named by a webhook receiver's
// ID queue, writes them to a Parquet data lake, and reports on them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"callstats/config"
	"callstats/delivery"
	"callstats/jobs"
	"callstats/report"
)

// Exit statuses.
const (
	exitOK      = 0
	exitCannot  = 1 // the run could not complete
	exitUsage   = 2
	exitPartial = 3 // completed, but some records failed for good
)

const usage = `callstats — Teams call records from a webhook ID queue into a Parquet lake.

Usage:
  callstats ingest --config FILE     queue -> fetch -> lake, then reconcile the last reconcile.window_days days
  callstats reconcile --config FILE --from YYYY-MM-DD --to YYYY-MM-DD
                                     like ingest, reconciling the given UTC days (both ends included)
  callstats report --config FILE [--week 2026-W47]
                                     the weekly workbook -> {reports.dir}/callstats-2026-W47.xlsx,
                                     and with a delivery section one per recipient scope (callstats-2026-W47-<scope>.xlsx)
  callstats deliver --config FILE [--week 2026-W47] [--resend]
                                     render the week's workbooks and mail each delivery recipient theirs;
                                     recipients already sent that week are skipped unless --resend
  callstats schedule --config FILE   run the jobs on their cron schedules until stopped (SIGINT/SIGTERM)
  callstats status --config FILE     last runs, what is pending, when each job runs next
  callstats demo [--dir DIR]         run ingest against a built-in fake Graph with a generated week

Flags common to every verb:
  --config FILE         YAML config (keys can be overridden by CALLSTATS_<SECTION>_<KEY>)
  --log-format text|json  log format on stderr (default: text on a terminal, json otherwise)
  -v                    verbose logs

Exit status: 0 done; 1 could not run (reason on stderr); 2 usage; 3 done, but some records failed for good.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	verb, rest := args[0], args[1:]
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML config file")
	logFormat := fs.String("log-format", "", "text or json")
	verbose := fs.Bool("v", false, "verbose logs")
	dir := fs.String("dir", "callstats-demo", "demo: where to put the demo's queue, lake and state")
	fromDay := fs.String("from", "", "reconcile: first UTC day, YYYY-MM-DD")
	toDay := fs.String("to", "", "reconcile: last UTC day, YYYY-MM-DD (included)")
	week := fs.String("week", "", "report, deliver: ISO week, e.g. 2026-W47 (default: the last complete week)")
	resend := fs.Bool("resend", false, "deliver: mail recipients already sent this week again")
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	log, err := newLogger(stderr, *logFormat, *verbose)
	if err != nil {
		fmt.Fprintf(stderr, "callstats: %v\n", err)
		return exitUsage
	}
	env := jobs.Env{Logger: log}
	if isTerminal(os.Stderr) {
		env.Progress = stderr
	}

	switch verb {
	case "ingest", "reconcile":
		var w jobs.Window
		if verb == "reconcile" {
			if w, err = parseWindow(*fromDay, *toDay); err != nil {
				fmt.Fprintf(stderr, "callstats: %v\n", err)
				return exitUsage
			}
		}
		cfg, err := config.Load(*cfgPath, os.Environ())
		if err != nil {
			fmt.Fprintf(stderr, "callstats: config: %v\n", err)
			return exitCannot
		}
		sum, err := recordRun(cfg, log, verb, func() (*jobs.Summary, error) {
			if verb == "ingest" {
				return jobs.Ingest(ctx, cfg, env)
			}
			return jobs.Reconcile(ctx, cfg, env, w)
		})
		return finish(sum, err, stdout, stderr)
	case "schedule", "status":
		cfg, err := config.Load(*cfgPath, os.Environ())
		if err != nil {
			fmt.Fprintf(stderr, "callstats: config: %v\n", err)
			return exitCannot
		}
		if verb == "status" {
			return status(cfg, stdout, stderr)
		}
		env.Progress = nil // a service draws no progress line
		return schedule(ctx, cfg, env, stderr)
	case "report":
		cfg, err := config.Load(*cfgPath, os.Environ())
		if err != nil {
			fmt.Fprintf(stderr, "callstats: config: %v\n", err)
			return exitCannot
		}
		out := io.Discard // quiet under cron
		if isTerminal(os.Stdout) {
			out = stdout
		}
		if err := runReport(ctx, cfg, log, *week, out); err != nil {
			fmt.Fprintf(stderr, "callstats: report: %s\n", oneLine(err))
			return exitCannot
		}
		return exitOK
	case "deliver":
		cfg, err := config.Load(*cfgPath, os.Environ())
		if err != nil {
			fmt.Fprintf(stderr, "callstats: config: %v\n", err)
			return exitCannot
		}
		if cfg.Delivery == nil {
			fmt.Fprintln(stderr, "callstats: deliver: the config has no delivery section")
			return exitCannot
		}
		err = runDeliver(ctx, cfg, log, *week, *resend, stdout)
		switch {
		case errors.Is(err, delivery.ErrFailed):
			fmt.Fprintf(stderr, "callstats: deliver: %s\n", oneLine(err))
			return exitPartial
		case err != nil:
			fmt.Fprintf(stderr, "callstats: deliver: %s\n", oneLine(err))
			return exitCannot
		}
		return exitOK
	case "demo":
		return runDemo(ctx, *dir, stdout, stderr, env)
	default:
		fmt.Fprintf(stderr, "callstats: unknown command %q\n\n%s", verb, usage)
		return exitUsage
	}
}

// recordRun runs a job, logs its summary and leaves its run record in the
// state directory (read by status, catch-up and the reconcile window).
func recordRun(cfg *config.Config, log *slog.Logger, job string, run func() (*jobs.Summary, error)) (*jobs.Summary, error) {
	sum, err := run()
	if sum != nil && sum.Done {
		log.Info("run finished", sum.LogAttrs()...)
	}
	if rerr := jobs.SaveRunRecord(cfg.StateDir, jobs.RecordOf(job, sum, err, cfg.Now())); rerr != nil {
		log.Warn("could not save the run record", "job", job, "error", rerr.Error())
	}
	return sum, err
}

// finish prints a run's summary and maps its outcome to an exit status.
// The summary goes to stdout on a terminal, or when records failed, so that a
// cron run stays quiet on success.
func finish(sum *jobs.Summary, err error, stdout, stderr io.Writer) int {
	if sum != nil && sum.Done && (isTerminal(os.Stdout) || len(sum.FailedCalls) > 0) {
		sum.Print(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "callstats: %s\n", oneLine(err))
		return exitCannot
	}
	if len(sum.FailedCalls) > 0 {
		fmt.Fprintf(stderr, "callstats: %s finished, but %d records failed for good\n", sum.Job, len(sum.FailedCalls))
		return exitPartial
	}
	return exitOK
}

// parseWindow reads --from and --to: UTC days, both ends included.
func parseWindow(from, to string) (jobs.Window, error) {
	if from == "" || to == "" {
		return jobs.Window{}, errors.New("reconcile needs --from and --to (UTC days, YYYY-MM-DD, both included)")
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return jobs.Window{}, fmt.Errorf("--from %q: want YYYY-MM-DD", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return jobs.Window{}, fmt.Errorf("--to %q: want YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return jobs.Window{}, fmt.Errorf("--to %s is before --from %s", to, from)
	}
	return jobs.Window{From: f, To: t}, nil
}

// scheduleSpecs are the jobs' cron specs; an empty one is left out.
func scheduleSpecs(cfg *config.Config) map[string]string {
	return map[string]string{"ingest": cfg.Schedule.Ingest, "report": cfg.Schedule.Report, "reconcile": cfg.Schedule.Reconcile}
}

func status(cfg *config.Config, stdout, stderr io.Writer) int {
	loc, err := time.LoadLocation(cfg.Schedule.Timezone) // validated by config.Load
	if err != nil {
		fmt.Fprintf(stderr, "callstats: config: schedule.timezone: %v\n", err)
		return exitCannot
	}
	s, err := jobs.NewScheduler(scheduleSpecs(cfg), loc, nil, cfg.StateDir, nil, jobs.SystemClock{})
	if err != nil {
		fmt.Fprintf(stderr, "callstats: config: %v\n", err)
		return exitCannot
	}
	if err := jobs.Status(stdout, cfg.StateDir, s.Next(), cfg.Now()); err != nil {
		fmt.Fprintf(stderr, "callstats: status: %s\n", oneLine(err))
		return exitCannot
	}
	failed, err := delivery.Failed(cfg.StateDir)
	if err != nil {
		fmt.Fprintf(stderr, "callstats: status: %s\n", oneLine(err))
		return exitCannot
	}
	for _, st := range failed {
		for _, f := range st.Sends {
			kind := "will be retried by the next deliver"
			if f.Permanent {
				kind = "refused by the server; retried by the next deliver"
			}
			fmt.Fprintf(stdout, "delivery %s: not sent to %s (%s, %d attempts, last %s): %s\n",
				st.Week, f.Address, kind, f.Attempts, f.At.Format(time.RFC3339), f.Error)
		}
	}
	return exitOK
}

func schedule(ctx context.Context, cfg *config.Config, env jobs.Env, stderr io.Writer) int {
	if _, fixed := os.LookupEnv("CALLSTATS_NOW"); fixed {
		fmt.Fprintln(stderr, "callstats: schedule: CALLSTATS_NOW fixes the clock, so no job would ever come due; unset it")
		return exitUsage
	}
	log := env.Logger
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		fmt.Fprintf(stderr, "callstats: config: schedule.timezone: %v\n", err)
		return exitCannot
	}
	fns := map[string]jobs.JobFunc{
		"ingest": func(ctx context.Context) error {
			_, err := recordRun(cfg, log, "ingest", func() (*jobs.Summary, error) { return jobs.Ingest(ctx, cfg, env) })
			return err
		},
		"report": func(ctx context.Context) error {
			if err := runReport(ctx, cfg, log, "", io.Discard); err != nil || cfg.Delivery == nil {
				return err
			}
			return runDeliver(ctx, cfg, log, "", false, io.Discard)
		},
	}
	if cfg.Teams != nil {
		fns["reconcile"] = func(ctx context.Context) error {
			now := cfg.Now()
			from, widened, err := jobs.ReconcileFrom(cfg.StateDir, "reconcile", now, cfg.Reconcile.WindowDays, cfg.Teams.RetentionDays)
			if err != nil {
				return err
			}
			if widened {
				log.Info("reconcile window widened to cover the gap since the last successful run", "job", "reconcile", "from", from.Format(time.DateOnly))
			}
			w := jobs.Window{From: from, To: now.UTC().Truncate(24 * time.Hour)}
			_, err = recordRun(cfg, log, "reconcile", func() (*jobs.Summary, error) { return jobs.Reconcile(ctx, cfg, env, w) })
			return err
		}
	}
	s, err := jobs.NewScheduler(scheduleSpecs(cfg), loc, fns, cfg.StateDir, log, jobs.SystemClock{})
	if err != nil {
		fmt.Fprintf(stderr, "callstats: config: %v\n", err)
		return exitCannot
	}
	if err := s.Run(ctx); err != nil { // nil after SIGINT/SIGTERM once the running job has stopped
		fmt.Fprintf(stderr, "callstats: %s\n", oneLine(err))
		return exitCannot
	}
	return exitOK
}

func oneLine(err error) string {
	s := err.Error()
	s = trimPrefix(s, jobs.ErrCannotRun.Error()+": ")
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i] + " (and more)"
		}
	}
	return s
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// newLogger logs to stderr. On a terminal, or when a format is asked for,
// info lines (the run summary among them) are logged; under cron, with no
// terminal and no flag, only warnings and errors, so a healthy run is quiet.
func newLogger(w io.Writer, format string, verbose bool) (*slog.Logger, error) {
	level := slog.LevelWarn
	if format != "" || isTerminal(os.Stderr) {
		level = slog.LevelInfo
	}
	if verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "" {
		format = "json"
		if isTerminal(os.Stderr) {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, errors.New(`--log-format must be "text" or "json"`)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runReport writes the weekly workbook and prints where it is.
func runReport(ctx context.Context, cfg *config.Config, log *slog.Logger, week string, stdout io.Writer) error {
	path, fig, err := jobs.Report(ctx, cfg, jobs.Env{Logger: log}, week)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n%s\n", fig.Week, path, fig.Headline)
	if cfg.Delivery == nil {
		return nil
	}
	books, err := delivery.Render(ctx, cfg, fig.Week, false)
	if err != nil {
		return err
	}
	for _, b := range books {
		fmt.Fprintf(stdout, "%s (%s): %s\n", fig.Week, b.Name, b.Path)
	}
	return nil
}

// runDeliver renders a week's workbooks ("" means the last complete week)
// and mails them to the delivery recipients. Its error wraps
// delivery.ErrFailed when only some recipients failed.
func runDeliver(ctx context.Context, cfg *config.Config, log *slog.Logger, week string, resend bool, stdout io.Writer) error {
	loc, err := time.LoadLocation(cfg.Reports.Timezone) // validated by config.Load
	if err != nil {
		return fmt.Errorf("reports.timezone: %w", err)
	}
	w := report.LastCompleteWeek(cfg.Now(), loc)
	if week != "" {
		if w, err = report.ParseWeek(week); err != nil {
			return fmt.Errorf("--week: %w", err)
		}
	}
	books, err := delivery.Render(ctx, cfg, w, true)
	if err != nil {
		return err
	}
	res, err := delivery.Deliver(ctx, cfg.Delivery, w, books, delivery.Options{StateDir: cfg.StateDir, Resend: resend,
		Now: cfg.Now, Logger: log})
	for _, r := range res {
		line := fmt.Sprintf("%s %s: %s (%s)", w, r.Address, r.Status, r.Workbook)
		if r.Err != nil {
			line += ": " + oneLine(r.Err)
		}
		fmt.Fprintln(stdout, line)
	}
	return err
}
