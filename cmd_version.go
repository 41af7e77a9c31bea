package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

var versionCmd = &command{
	name:    "version",
	args:    "",
	summary: "print the version (also: callstats --version)",
	setup: func(fs *flag.FlagSet) func(context.Context, *cli) int {
		return func(ctx context.Context, c *cli) int {
			info, ok := debug.ReadBuildInfo()
			fmt.Fprintf(c.stdout, "callstats %s\n", version(info, ok))
			return exitOK
		}
	},
}

// version is the module's version from the build info, or the VCS revision
// it was built from (marked "-dirty" when the tree had changes), or
// "(devel)".
func version(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "(devel)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
