package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"callstats/delivery"
	"callstats/jobs"
)

var deliverCmd = &command{
	name:    "deliver",
	args:    "--config FILE [--week 2026-W47] [--resend]",
	summary: "render the week's workbooks and mail each delivery recipient theirs, once a week unless --resend",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		week := weekFlag(fs)
		resend := fs.Bool("resend", false, "mail recipients already sent this week again")
		return func(ctx context.Context, c *cli) int {
			w, err := parseWeek(*week)
			if err != nil {
				return c.usageError("%v", err)
			}
			cfg, code := c.loadConfig(false)
			if cfg == nil {
				return code
			}
			wk, res, err := jobs.Deliver(ctx, cfg, c.jobEnv(), w, *resend)
			// Quiet under cron: a line per recipient on a terminal, or when one failed.
			out := io.Discard
			if isTerminal(os.Stdout) || err != nil {
				out = c.stdout
			}
			for _, r := range res {
				line := fmt.Sprintf("%s %s: %s (%s)", wk, r.Address, r.Status, r.Workbook)
				if r.Err != nil {
					line += ": " + oneLine(r.Err)
				}
				fmt.Fprintln(out, line)
			}
			switch {
			case errors.Is(err, delivery.ErrFailed):
				fmt.Fprintf(c.stderr, "callstats: %s\n", oneLine(err))
				return exitPartial
			case err != nil:
				fmt.Fprintf(c.stderr, "callstats: %s\n", oneLine(err))
				return exitCannot
			}
			return exitOK
		}
	},
}
