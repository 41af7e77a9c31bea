package main

import (
	"context"
	"flag"

	"callstats/config"
	"callstats/jobs"
)

var serveCmd = &command{
	name:    "serve",
	args:    "--config FILE",
	summary: "the webhook receiver (Graph and RingCentral notifications into the queue) and subscription upkeep, until stopped (SIGINT/SIGTERM)",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			return c.runJob(false, func(cfg *config.Config) error {
				env := c.jobEnv()
				env.Progress = nil // a service draws no progress line
				// nil after SIGINT/SIGTERM once the requests in flight are answered
				return jobs.Serve(ctx, cfg, env)
			})
		}
	},
}
