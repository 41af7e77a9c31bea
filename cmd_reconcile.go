package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"callstats/config"
	"callstats/jobs"
)

var reconcileCmd = &command{
	name:    "reconcile",
	args:    "--config FILE --from YYYY-MM-DD --to YYYY-MM-DD",
	summary: "like ingest, reconciling the given UTC days (both ends included)",
	globals: jobGlobals,
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		from := fs.String("from", "", "first UTC `day` to reconcile, YYYY-MM-DD")
		to := fs.String("to", "", "last UTC `day` to reconcile, YYYY-MM-DD (included)")
		return func(ctx context.Context, c *cli) int {
			w, err := parseWindow(*from, *to)
			if err != nil {
				return c.usageError("%v", err)
			}
			return c.runRecorded(ctx, "reconcile", func(ctx context.Context, cfg *config.Config, env jobs.Env) (*jobs.Summary, error) {
				return jobs.Reconcile(ctx, cfg, env, w)
			})
		}
	},
}

// parseWindow reads --from and --to: UTC days, both ends included.
func parseWindow(from, to string) (jobs.Window, error) {
	if from == "" || to == "" {
		return jobs.Window{}, errors.New("reconcile needs --from and --to (UTC days, YYYY-MM-DD, both included)")
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return jobs.Window{}, fmt.Errorf("--from %q: want YYYY-MM-DD", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return jobs.Window{}, fmt.Errorf("--to %q: want YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return jobs.Window{}, fmt.Errorf("--to %s is before --from %s", to, from)
	}
	return jobs.Window{From: f, To: t}, nil
}
