package main

import (
	"context"
	"flag"

	"callstats/config"
	"callstats/jobs"
)

var statusCmd = &command{
	name:    "status",
	args:    "--config FILE",
	summary: "last runs, what is pending, when each job runs next",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			return c.runJob(true, func(cfg *config.Config) error {
				return jobs.StatusOf(c.stdout, cfg)
			})
		}
	},
}
