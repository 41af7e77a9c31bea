package main

import (
	"context"
	"flag"

	"callstats/jobs"
)

var statusCmd = &command{
	name:    "status",
	args:    "--config FILE",
	summary: "last runs, what is pending, when each job runs next",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			cfg, code := c.loadConfig(true)
			if cfg == nil {
				return code
			}
			if err := jobs.StatusOf(c.stdout, cfg); err != nil {
				return c.fail(exitCannot, "%s", oneLine(err))
			}
			return exitOK
		}
	},
}
