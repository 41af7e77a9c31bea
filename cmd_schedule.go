package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"callstats/jobs"
)

var scheduleCmd = &command{
	name:    "schedule",
	args:    "--config FILE",
	summary: "run the jobs on their cron schedules until stopped (SIGINT/SIGTERM); the report job also delivers",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			if _, fixed := os.LookupEnv("CALLSTATS_NOW"); fixed {
				return c.fail(exitUsage, "CALLSTATS_NOW fixes the clock, so no job would ever come due; unset it")
			}
			cfg, code := c.loadConfig(false)
			if cfg == nil {
				return code
			}
			env := c.jobEnv()
			env.Progress = nil // a service draws no progress line
			// nil after SIGINT/SIGTERM once the running job has stopped
			if err := jobs.Schedule(ctx, cfg, env); err != nil {
				fmt.Fprintf(c.stderr, "callstats: %s\n", oneLine(err))
				return exitCannot
			}
			return exitOK
		}
	},
}
