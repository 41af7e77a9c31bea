package main

import (
	"context"
	"flag"

	"callstats/jobs"
)

var serveCmd = &command{
	name:    "serve",
	args:    "--config FILE",
	summary: "the webhook receiver (Graph and RingCentral notifications into the queue) and subscription upkeep, until stopped (SIGINT/SIGTERM)",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			cfg, code := c.loadConfig(false)
			if cfg == nil {
				return code
			}
			env := c.jobEnv()
			env.Progress = nil // a service draws no progress line
			// nil after SIGINT/SIGTERM once the requests in flight are answered
			if err := jobs.Serve(ctx, cfg, env); err != nil {
				return c.fail(exitCannot, "%s", oneLine(err))
			}
			return exitOK
		}
	},
}
