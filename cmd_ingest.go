package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"callstats/config"
	"callstats/jobs"
)

var ingestCmd = &command{
	name:    "ingest",
	args:    "--config FILE",
	summary: "queue -> fetch -> lake, then reconcile the last reconcile.window_days days",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			return c.runRecorded(ctx, "ingest", func(ctx context.Context, cfg *config.Config, env jobs.Env) (*jobs.Summary, error) {
				return jobs.Ingest(ctx, cfg, env)
			})
		}
	},
}

// runRecorded loads the config, runs an ingest or a reconcile with its run
// record, and reports its outcome.
func (c *cli) runRecorded(ctx context.Context, job string, fn func(context.Context, *config.Config, jobs.Env) (*jobs.Summary, error)) int {
	cfg, code := c.loadConfig(false)
	if cfg == nil {
		return code
	}
	env := c.jobEnv()
	sum, err := jobs.Recorded(cfg, env, job, func() (*jobs.Summary, error) { return fn(ctx, cfg, env) })
	return c.finish(sum, err)
}

// finish prints a run's summary and maps its outcome to an exit status.
// The summary goes to stdout on a terminal, or when the run needs attention
// (records failed, a source failed, run_timeout), so that a cron run stays
// quiet on success.
func (c *cli) finish(sum *jobs.Summary, err error) int {
	problem := ""
	if sum != nil && sum.Done {
		problem = sum.Problem()
		if isTerminal(os.Stdout) || problem != "" || err != nil {
			sum.Print(c.stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "callstats: %s\n", oneLine(err))
		return exitCannot
	}
	if problem != "" {
		fmt.Fprintf(c.stderr, "callstats: %s finished, but %s\n", sum.Job, problem)
		return exitPartial
	}
	return exitOK
}
