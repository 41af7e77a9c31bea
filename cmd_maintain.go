package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"callstats/jobs"
)

var maintainCmd = &command{
	name:    "maintain",
	args:    "--config FILE",
	summary: "compact the Iceberg lake's small files, expire old snapshots, delete orphan files",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			cfg, code := c.loadConfig(false)
			if cfg == nil {
				return code
			}
			st, err := jobs.Maintain(ctx, cfg, c.jobEnv())
			if err != nil {
				return c.fail(exitCannot, "%s", oneLine(err))
			}
			if st == nil {
				fmt.Fprintf(c.stdout, "nothing to maintain: output.format is %s\n", cfg.Output.Format)
				return exitOK
			}
			// Quiet under cron: what it did only on a terminal.
			if isTerminal(os.Stdout) {
				fmt.Fprintf(c.stdout, "compacted %d files in %d partitions, expired %d snapshots, deleted %d orphan files\n",
					st.FilesCompacted, st.PartitionsCompacted, st.SnapshotsExpired, st.OrphansDeleted)
			}
			return exitOK
		}
	},
}
