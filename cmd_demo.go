package main

import (
	"context"
	"flag"
)

var demoCmd = &command{
	name:    "demo",
	args:    "[--dir DIR] [--queue file|azure-table] [--mail graph] [--format plain|iceberg]",
	summary: "run ingest against a built-in fake Graph and RingCentral with a generated week",
	globals: []string{flagLogFormat, flagVerbose},
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		dir := fs.String("dir", "callstats-demo", "where to put the demo's queue, lake, state and reports (`DIR`)")
		queue := fs.String("queue", demoQueueFile, "where the receiver's notifications go: a JSON Lines `file`, or an Azure table on Azurite (azure-table; install it with scripts/test-deps azurite)")
		mail := fs.String("mail", "", "`graph`: mail the scoped workbooks through the fake Graph's sendMail (default: no mail)")
		format := fs.String("format", "plain", "the lake's table `format`: plain Parquet, or iceberg (Iceberg tables in a SQLite catalog, on local disk)")
		return func(ctx context.Context, c *cli) int {
			if *mail != "" && *mail != "graph" {
				return c.fail(exitUsage, "demo: --mail: must be graph, got %q", *mail)
			}
			return runDemo(ctx, demoOptions{dir: *dir, queue: *queue, mail: *mail, format: *format}, c.stdout, c.stderr, c.jobEnv())
		}
	},
}
