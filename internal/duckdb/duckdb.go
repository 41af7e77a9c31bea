// Package duckdb runs SQL in DuckDB (the npm build) as an independent reader of
// the lake, for tests and benchmarks.
//
// Queries run in a fresh in-memory DuckDB per call, through
// `node tools/duckdb/query.mjs`, which loads @duckdb/node-api from
// $CALLSTATS_DUCKDB_DIR/node_modules or <repo>/.cache/duckdb/node_modules.
// scripts/test-deps installs it there. Value conversions (timestamps, big
// integers, lists, ...) are documented in tools/duckdb/query.mjs.
package duckdb

import (
	"bytes"
	"callstats/internal/nodepeer"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireEnv names the environment variable that, set to "1", turns the skip
// in Require into a failure. scripts/test sets it once DuckDB is installed, so
// CI cannot silently skip the lake checks.
const RequireEnv = "CALLSTATS_REQUIRE_DUCKDB"

// DirEnv names the environment variable that overrides where the npm package
// is installed (the folder holding node_modules).
const DirEnv = "CALLSTATS_DUCKDB_DIR"

const (
	scriptPath = "tools/duckdb/query.mjs"
	hint       = "run scripts/test-deps"
)

// Available reports whether Query can run: nil when node is on PATH and the
// @duckdb/node-api package is installed; otherwise an error saying what is
// missing and to run scripts/test-deps.
func Available() error {
	_, err := setup()
	return err
}

// Query runs sql (one or more statements separated by `;`) in a fresh
// in-memory DuckDB and returns the rows of the last statement, one map per row
// keyed by column name. Numbers decode as json.Number; see
// tools/duckdb/query.mjs for how each DuckDB type converts. Relative paths in
// sql resolve against the current working directory.
func Query(ctx context.Context, sql string) ([]map[string]any, error) {
	r, err := setup()
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, r.node, r.script)
	cmd.Stdin = strings.NewReader(sql)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), DirEnv+"="+r.dir)
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("duckdb query: %w", ctxErr)
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("duckdb query: %s (%w)", msg, err)
		}
		return nil, fmt.Errorf("duckdb query: %w", err)
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("duckdb query: decoding output of %s: %w", scriptPath, err)
	}
	return rows, nil
}

// Require skips the test with "DuckDB not available: <reason>; run
// scripts/test-deps" when Available fails; when RequireEnv is "1" it fails the
// test with that message instead.
func Require(t testing.TB) {
	t.Helper()
	nodepeer.Require(t, "DuckDB", RequireEnv, Available())
}

// runner is what Query needs to start the script.
type runner struct {
	node   string // path of the node executable
	script string // path of tools/duckdb/query.mjs
	dir    string // folder holding node_modules/@duckdb/node-api
}

func setup() (runner, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return runner{}, fmt.Errorf("node (Node.js 20 or later) not found on PATH; install it and %s", hint)
	}
	wd, err := os.Getwd()
	if err != nil {
		return runner{}, fmt.Errorf("finding the repository root: %w; %s", err, hint)
	}
	root, err := nodepeer.Root(wd)
	if err != nil {
		return runner{}, fmt.Errorf("%w; %s", err, hint)
	}
	script := filepath.Join(root, filepath.FromSlash(scriptPath))
	if _, err := os.Stat(script); err != nil {
		return runner{}, fmt.Errorf("query script missing: %w; %s", err, hint)
	}
	dir := os.Getenv(DirEnv)
	if dir == "" {
		dir = filepath.Join(root, ".cache", "duckdb")
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return runner{}, fmt.Errorf("resolving %s: %w; %s", DirEnv, err, hint)
	}
	pkg := filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return runner{}, fmt.Errorf("npm package @duckdb/node-api not installed in %s; %s", dir, hint)
	}
	return runner{node: node, script: script, dir: dir}, nil
}
