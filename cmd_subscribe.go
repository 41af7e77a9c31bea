package main

import (
	"context"
	"flag"

	"callstats/jobs"
)

var subscribeCmd = &command{
	name:    "subscribe",
	args:    "--config FILE",
	summary: "create or renew the Graph and RingCentral webhook subscriptions once (serve keeps them alive by itself)",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			cfg, code := c.loadConfig(false)
			if cfg == nil {
				return code
			}
			if err := jobs.Subscribe(ctx, cfg, c.jobEnv()); err != nil {
				return c.fail(exitCannot, "%s", oneLine(err))
			}
			return exitOK
		}
	},
}
