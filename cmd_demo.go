package main

import (
	"context"
	"flag"
)

var demoCmd = &command{
	name:    "demo",
	args:    "[--dir DIR] [--mail graph]",
	summary: "run ingest against a built-in fake Graph and RingCentral with a generated week",
	globals: []string{flagLogFormat, flagVerbose},
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		dir := fs.String("dir", "callstats-demo", "where to put the demo's queue, lake, state and reports (`DIR`)")
		mail := fs.String("mail", "", "`graph`: mail the scoped workbooks through the fake Graph's sendMail (default: no mail)")
		return func(ctx context.Context, c *cli) int {
			if *mail != "" && *mail != "graph" {
				return c.fail(exitUsage, "demo: --mail: must be graph, got %q", *mail)
			}
			return runDemo(ctx, demoOptions{dir: *dir, mail: *mail}, c.stdout, c.stderr, c.jobEnv())
		}
	},
}
