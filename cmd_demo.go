package main

import (
	"context"
	"flag"
)

var demoCmd = &command{
	name:    "demo",
	args:    "[--dir DIR] [--queue file|azure-table]",
	summary: "run ingest against a built-in fake Graph and RingCentral with a generated week",
	globals: []string{flagLogFormat, flagVerbose},
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		dir := fs.String("dir", "callstats-demo", "where to put the demo's queue, lake, state and reports (`DIR`)")
		queue := fs.String("queue", demoQueueFile, "where the receiver's notifications go: a JSON Lines `file`, or an Azure table on Azurite (azure-table; install it with scripts/test-deps azurite)")
		return func(ctx context.Context, c *cli) int {
			return runDemo(ctx, *dir, *queue, c.stdout, c.stderr, c.jobEnv())
		}
	},
}
