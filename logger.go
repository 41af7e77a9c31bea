package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"callstats/jobs"
)

// jobEnv makes the jobs' environment: the logger on stderr, and a progress
// line when stderr is a terminal.
func (c *cli) jobEnv() jobs.Env {
	env := jobs.Env{Logger: c.logger(), Wait: testWait}
	if isTerminal(os.Stderr) {
		env.Progress = c.stderr
	}
	return env
}

// testWait replaces the clients' waits (pacing, Retry-After, backoff) in
// every verb when set; nil waits for real. Tests of this package set it
// (skipWaits): the pacing is tested beside each client, and their assertions
// do not depend on it.
var testWait func(ctx context.Context, d time.Duration) error

// logger logs to stderr. On a terminal, or when a format is asked for, info
// lines (the run summary among them) are logged; under cron, with no
// terminal and no flag, only warnings and errors, so a healthy run is quiet.
// The format was checked when the command line was parsed.
func (c *cli) logger() *slog.Logger {
	level := slog.LevelWarn
	if c.logFormat != "" || isTerminal(os.Stderr) {
		level = slog.LevelInfo
	}
	if c.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	format := c.logFormat
	if format == "" {
		format = "json"
		if isTerminal(os.Stderr) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(c.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(c.stderr, opts))
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
