package main

import (
	"context"
	"flag"

	"callstats/config"
	"callstats/jobs"
)

var subscribeCmd = &command{
	name:    "subscribe",
	args:    "--config FILE",
	summary: "create or renew the Graph and RingCentral webhook subscriptions once (serve keeps them alive by itself)",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			return c.runJob(false, func(cfg *config.Config) error {
				return jobs.Subscribe(ctx, cfg, c.jobEnv())
			})
		}
	},
}
