// Package icebird reads Iceberg tables with icebird (npm), an Iceberg reader
// that is not iceberg-go: it parses the table metadata, the Avro manifest
// lists and manifests, and the Parquet data files itself. Tests use it to
// check what transform/lake/iceberg writes.
//
// Reads run `node read.mjs` (embedded here), which loads icebird from
// $CALLSTATS_ICEBIRD_DIR/node_modules or <repo>/.cache/icebird/node_modules;
// scripts/test-deps installs it there. read.mjs says how values convert and
// what it hands icebird (a file:// fetch, a zlib inflater for the manifests).
package icebird

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireEnv names the environment variable that, set to "1", turns the skip
// in Require into a failure.
const RequireEnv = "CALLSTATS_REQUIRE_ICEBIRD"

// DirEnv names the environment variable that overrides where the npm
// packages are installed (the folder holding node_modules).
const DirEnv = "CALLSTATS_ICEBIRD_DIR"

const hint = "run scripts/test-deps icebird"

//go:embed read.mjs
var script []byte

// Available reports whether Read can run: nil when node is on PATH and
// icebird is installed; otherwise an error saying what is missing.
func Available() error {
	_, _, err := setup()
	return err
}

// Require skips the test with "icebird not available: <reason>" when
// Available fails; when RequireEnv is "1" it fails the test instead.
func Require(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	msg := "icebird not available: " + err.Error()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg + " (" + RequireEnv + "=1)")
		return
	}
	t.Skip(msg)
}

// Rewrite maps locations starting with From to URLs starting with To: for
// tables in object storage whose locations (abfs://, wasb://) icebird cannot
// fetch, served over HTTP (an Azurite container with public read access).
type Rewrite struct {
	From, To string
}

// Read reads the rows of the table whose current metadata file is at
// metadataLocation (a file:// or http(s):// URL as the catalog gives it, or
// one a Rewrite maps to such), one map per row keyed by column name.
// Numbers decode as json.Number.
func Read(ctx context.Context, metadataLocation string, rewrites ...Rewrite) ([]map[string]any, error) {
	node, dir, err := setup()
	if err != nil {
		return nil, fmt.Errorf("icebird: %w", err)
	}
	u, err := url.Parse(metadataLocation)
	if err != nil {
		return nil, fmt.Errorf("icebird: metadata location %q: %w", metadataLocation, err)
	}
	name := path.Base(u.Path)
	u.Path = path.Dir(path.Dir(u.Path)) // <table>/metadata/<name>
	req, err := json.Marshal(struct {
		Table    string    `json:"table"`
		Metadata string    `json:"metadata"`
		Rewrites []Rewrite `json:"rewrites"`
	}{u.String(), name, rewrites})
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "icebird-read-*.mjs")
	if err != nil {
		return nil, fmt.Errorf("icebird: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(script); err != nil {
		f.Close()
		return nil, fmt.Errorf("icebird: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("icebird: %w", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, f.Name())
	cmd.Stdin = bytes.NewReader(req)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), DirEnv+"="+dir)
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("icebird reading %s: %w", metadataLocation, ctxErr)
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("icebird reading %s: %s (%w)", metadataLocation, msg, err)
		}
		return nil, fmt.Errorf("icebird reading %s: %w", metadataLocation, err)
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("icebird reading %s: decoding the output: %w", metadataLocation, err)
	}
	return rows, nil
}

func setup() (node, dir string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node (Node.js 20 or later) not found on PATH; install it and %s", hint)
	}
	dir = os.Getenv(DirEnv)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", fmt.Errorf("finding the repository root: %w; %s", err, hint)
		}
		root, err := findRoot(wd)
		if err != nil {
			return "", "", fmt.Errorf("%w; %s", err, hint)
		}
		dir = filepath.Join(root, ".cache", "icebird")
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", fmt.Errorf("resolving %s: %w; %s", DirEnv, err, hint)
	}
	for _, pkg := range []string{"icebird", "hyparquet-compressors"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return "", "", fmt.Errorf("npm package %s not installed in %s; %s", pkg, dir, hint)
		}
	}
	return node, dir, nil
}

// findRoot walks up from dir to the first folder whose go.mod declares
// module callstats.
func findRoot(dir string) (string, error) {
	for d := filepath.Clean(dir); ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], "\"`") == "callstats" {
				return d, nil
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod declaring module callstats in %s or above", dir)
		}
		d = parent
	}
}
