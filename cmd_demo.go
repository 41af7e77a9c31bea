package main

import (
	"context"
	"flag"
	"time"
)

var demoCmd = &command{
	name:    "demo",
	args:    "[--dir DIR]",
	summary: "run ingest against a built-in fake Graph and RingCentral with a generated week",
	globals: []string{flagLogFormat, flagVerbose},
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		dir := fs.String("dir", "callstats-demo", "where to put the demo's queue, lake, state and reports (`DIR`)")
		return func(ctx context.Context, c *cli) int {
			env := c.jobEnv()
			env.Wait = demoWait
			return runDemo(ctx, *dir, c.stdout, c.stderr, env)
		}
	},
}

// demoWait replaces the clients' waits (pacing, Retry-After, backoff) in the
// demo when set; nil waits for real. TestDemo sets it: the pacing is tested
// beside each client, and the demo's assertions do not depend on it.
var demoWait func(ctx context.Context, d time.Duration) error
