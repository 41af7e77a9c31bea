// Package nodepeer holds what the npm test peers (Azurite, MailDev, DuckDB)
// share: finding node and the package scripts/test-deps installed under
// <repo>/.cache/NAME (or the folder an environment variable names), the rule
// that a missing peer skips a test unless CALLSTATS_REQUIRE_<PEER>=1 makes it
// fail, free ports on 127.0.0.1, and waiting until a started peer listens.
package nodepeer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// moduleName is the module whose root holds .cache.
const moduleName = "callstats"

// Find returns the node executable and the path of rel (slash-separated)
// inside the folder holding the npm package: the one dirEnv names, else
// <repo>/.cache/name. The errors say what is missing and end with hint (how
// to install it).
func Find(name, dirEnv, rel, hint string) (node, path string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node not found on PATH; %s", hint)
	}
	dir := os.Getenv(dirEnv)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		root, err := Root(wd)
		if err != nil {
			return "", "", fmt.Errorf("%w; %s", err, hint)
		}
		dir = filepath.Join(root, ".cache", name)
	}
	path = filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		return "", "", fmt.Errorf("%s not installed in %s; %s", name, dir, hint)
	}
	return node, path, nil
}

// Require does nothing when err (why the peer cannot run) is nil. Otherwise
// it skips t with "<what> not available: <err>", or fails it with that
// message when requireEnv is "1", so CI cannot silently skip the peer's
// tests.
func Require(t testing.TB, what, requireEnv string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := what + " not available: " + err.Error()
	if os.Getenv(requireEnv) == "1" {
		t.Fatal(msg + " (" + requireEnv + "=1)")
		return
	}
	t.Skip(msg)
}

// FreePorts asks the kernel for n distinct free ports on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitListening polls until something accepts connections on addr, the peer
// exits (exited yields its Wait error), ctx ends, or timeout passes.
func WaitListening(ctx context.Context, addr string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
		}
	}
}

// Root walks up from dir to the first folder whose go.mod declares module
// callstats.
func Root(dir string) (string, error) {
	for d := filepath.Clean(dir); ; {
		ok, err := declaresModule(filepath.Join(d, "go.mod"))
		if err != nil {
			return "", err
		}
		if ok {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod declaring module %s in %s or above", moduleName, dir)
		}
		d = parent
	}
}

// declaresModule reports whether the go.mod at path declares module callstats;
// a missing file is false, not an error.
func declaresModule(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`+"`") == moduleName, nil
		}
	}
	return false, nil
}
