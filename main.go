// Command callstats fetches Teams call records named by a webhook receiver's
// ID queue, writes them to a Parquet data lake, and reports on them.
//
// main parses the command line and calls the jobs package: one file per verb
// (cmd_*.go), each with its own flag set, listed in the commands table.
package main

import (
	"callstats/internal/memlimit"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"callstats/config"
	"callstats/jobs"
)

// Exit statuses.
const (
	exitOK      = 0
	exitCannot  = 1 // the run could not complete
	exitUsage   = 2
	exitPartial = 3 // completed, but records failed for good or a source failed (reason on stderr)
)

// A command is one verb of the command line.
type command struct {
	name string
	// args is the verb's synopsis after its name; summary says what it does.
	args, summary string
	// globals lists the global flags the verb takes (config, log-format, v).
	globals []string
	// setup declares the verb's own flags on fs and returns the function
	// that runs the verb once the command line is parsed.
	setup func(fs *flag.FlagSet) func(ctx context.Context, c *cli) int
}

// commands are the verbs, in the order the usage lists them. A new verb is
// a cmd_<verb>.go file and a line here.
var commands = []*command{
	ingestCmd,
	reconcileCmd,
	reportCmd,
	deliverCmd,
	scheduleCmd,
	serveCmd,
	subscribeCmd,
	statusCmd,
	maintainCmd,
	demoCmd,
	versionCmd,
}

// The global flags, accepted before the verb and after it.
const (
	flagConfig    = "config"
	flagLogFormat = "log-format"
	flagVerbose   = "v"
)

// jobGlobals are the global flags of the verbs that read a config.
var jobGlobals = []string{flagConfig, flagLogFormat, flagVerbose}

// cli is one invocation: the global flags and the output streams.
type cli struct {
	verb           string
	stdout, stderr io.Writer
	config         string
	logFormat      string
	verbose        bool
	set            map[string]bool // the global flags given on the command line
}

// fail prints a one-line error for the verb and returns status.
func (c *cli) fail(status int, format string, a ...any) int {
	fmt.Fprintf(c.stderr, "callstats %s: %s\n", c.verb, fmt.Sprintf(format, a...))
	return status
}

// usageError prints a usage error with a pointer to the verb's help.
func (c *cli) usageError(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "callstats %s: %s\nRun 'callstats %s -h' for its flags.\n", c.verb, fmt.Sprintf(format, a...), c.verb)
	return exitUsage
}

func main() {
	memlimit.Apply(memlimit.Default)
	applyMemoryLimit = memlimit.Apply
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// globalFlags declares the global flags named in names on fs, writing into c.
func (c *cli) globalFlags(fs *flag.FlagSet, names []string) {
	for _, n := range names {
		switch n {
		case flagConfig:
			fs.StringVar(&c.config, n, c.config, "YAML config `FILE` (keys can be overridden by CALLSTATS_<SECTION>_<KEY>)")
		case flagLogFormat:
			fs.StringVar(&c.logFormat, n, c.logFormat, "log `format` on stderr, text or json (default: text on a terminal, json otherwise)")
		case flagVerbose:
			fs.BoolVar(&c.verbose, n, c.verbose, "verbose logs (debug level)")
		}
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, set: map[string]bool{}}
	top := flag.NewFlagSet("callstats", flag.ContinueOnError)
	top.SetOutput(io.Discard) // parse errors are printed below
	top.Usage = func() {}
	c.globalFlags(top, jobGlobals)
	showVersion := top.Bool("version", false, "print the version and exit")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage())
			return exitOK
		}
		fmt.Fprintf(stderr, "callstats: %v\nRun 'callstats -h' for usage.\n", err)
		return exitUsage
	}
	top.Visit(func(f *flag.Flag) {
		if f.Name != "version" {
			c.set[f.Name] = true
		}
	})
	rest := top.Args()
	if *showVersion {
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "callstats: --version takes no command (got %q)\n", rest[0])
			return exitUsage
		}
		rest = []string{versionCmd.name}
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage())
			return exitOK
		}
		name, rest = rest[0], []string{"-h"}
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "callstats: unknown command %q; the commands are: %s\nRun 'callstats -h' for usage.\n", name, strings.Join(commandNames(), ", "))
		return exitUsage
	}
	c.verb = cmd.name
	for g := range c.set {
		if !contains(cmd.globals, g) {
			return c.usageError("it does not take %s", flagName(g))
		}
	}

	fs := flag.NewFlagSet("callstats "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are printed below
	fs.Usage = func() {}
	c.globalFlags(fs, cmd.globals)
	runVerb := cmd.setup(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printVerbUsage(stdout, cmd, fs)
			return exitOK
		}
		return c.usageError("%v", err)
	}
	if fs.NArg() > 0 {
		return c.usageError("unexpected argument %q", fs.Arg(0))
	}
	if c.logFormat != "" && c.logFormat != "text" && c.logFormat != "json" {
		return c.usageError(`--log-format must be "text" or "json", not %q`, c.logFormat)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runVerb(ctx, c)
}

// flagName spells a flag as the usage does: -v, --config.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func lookup(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func commandNames() []string {
	var out []string
	for _, cmd := range commands {
		out = append(out, cmd.name)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// usage is the top-level help.
func usage() string {
	var b strings.Builder
	b.WriteString("callstats — Teams and RingCentral call records from a webhook ID queue into a Parquet lake.\n\nUsage:\n  callstats [--config FILE] [--log-format text|json] [-v] COMMAND [flags]\n\nCommands:\n")
	for _, cmd := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	b.WriteString(`
Global flags (before or after the command):
  --config FILE            YAML config (keys can be overridden by CALLSTATS_<SECTION>_<KEY>)
  --log-format text|json   log format on stderr (default: text on a terminal, json otherwise)
  -v                       verbose logs
  --version                print the version

Run 'callstats COMMAND -h' for a command's flags.
Exit status: 0 done; 1 could not run (reason on stderr); 2 usage; 3 done, but some records failed for good.
`)
	return b.String()
}

// printVerbUsage prints a verb's synopsis and its flags.
func printVerbUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: callstats %s %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// loadConfig loads --config for a verb. A verb that fetches or sends
// (ingest, reconcile, deliver, schedule, serve, subscribe) needs every secret
// the config names to resolve; a readOnly one (status, report) only reads the
// lake and the state directory, so the sources' secrets are not needed. When
// there is no config it prints why and returns nil and the exit status: a
// usage error without --config, exitCannot when the file does not load.
func (c *cli) loadConfig(readOnly bool) (*config.Config, int) {
	if c.config == "" {
		return nil, c.usageError("no config: pass --config FILE (the YAML config; see docs/config.md)")
	}
	var opts []config.LoadOption
	if readOnly {
		opts = append(opts, config.WithoutSecrets())
	}
	cfg, err := config.Load(c.config, os.Environ(), opts...)
	if err != nil {
		return nil, c.fail(exitCannot, "config: %v", err)
	}
	if applyMemoryLimit != nil {
		applyMemoryLimit(memlimit.ForFormat(cfg.Output.Format))
	}
	return cfg, exitOK
}

// applyMemoryLimit sets the process's soft memory limit (unless GOMEMLIMIT
// is set) once the config says the lake's format. main sets it; tests, which
// call run in their own process, leave it nil.
var applyMemoryLimit func(limit int64)

// runJob loads the config (see loadConfig for readOnly) and runs job with
// it; its error is printed on one line and is exit status 1.
func (c *cli) runJob(readOnly bool, job func(*config.Config) error) int {
	cfg, code := c.loadConfig(readOnly)
	if cfg == nil {
		return code
	}
	if err := job(cfg); err != nil {
		return c.fail(exitCannot, "%s", oneLine(err))
	}
	return exitOK
}

// oneLine is an error's first line, without the jobs' "cannot run" mark.
func oneLine(err error) string {
	s := strings.TrimPrefix(err.Error(), jobs.ErrCannotRun.Error()+": ")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more)"
	}
	return s
}
