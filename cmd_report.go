package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"callstats/jobs"
	"callstats/report"
)

var reportCmd = &command{
	name:    "report",
	args:    "--config FILE [--week 2026-W47]",
	summary: "write the week's workbooks to reports.dir: the tenant's, and one per delivery scope; mails nothing",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		week := weekFlag(fs)
		return func(ctx context.Context, c *cli) int {
			w, err := parseWeek(*week)
			if err != nil {
				return c.usageError("%v", err)
			}
			cfg, code := c.loadConfig(true)
			if cfg == nil {
				return code
			}
			books, err := jobs.Report(ctx, cfg, c.jobEnv(), w)
			if err != nil {
				fmt.Fprintf(c.stderr, "callstats: %s\n", oneLine(err))
				return exitCannot
			}
			out := io.Discard // quiet under cron
			if isTerminal(os.Stdout) {
				out = c.stdout
			}
			fig := books[0].Figures
			fmt.Fprintf(out, "%s: %s\n%s\n", fig.Week, books[0].Path, fig.Headline)
			for _, b := range books[1:] {
				fmt.Fprintf(out, "%s (%s): %s\n", fig.Week, b.Name, b.Path)
			}
			return exitOK
		}
	},
}

// weekFlag declares --week.
func weekFlag(fs *flag.FlagSet) *string {
	return fs.String("week", "", "ISO `week`, e.g. 2026-W47 (default: the last complete week in reports.timezone)")
}

// parseWeek reads --week; "" is the zero Week, the last complete week.
func parseWeek(s string) (report.Week, error) {
	if s == "" {
		return report.Week{}, nil
	}
	w, err := report.ParseWeek(s)
	if err != nil {
		return report.Week{}, fmt.Errorf("--week: %w", err)
	}
	return w, nil
}
