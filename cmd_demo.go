package main

import (
	"context"
	"flag"
)

var demoCmd = &command{
	name:    "demo",
	args:    "[--dir DIR]",
	summary: "run ingest against a built-in fake Graph and RingCentral with a generated week",
	globals: []string{flagLogFormat, flagVerbose},
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		dir := fs.String("dir", "callstats-demo", "where to put the demo's queue, lake, state and reports (`DIR`)")
		return func(ctx context.Context, c *cli) int {
			return runDemo(ctx, *dir, c.stdout, c.stderr, c.jobEnv())
		}
	},
}
