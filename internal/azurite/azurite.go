// Package azurite starts Azurite, Microsoft's Azure Storage emulator from npm,
// on 127.0.0.1 for tests: its Table and Blob services (the queue service too,
// since the azurite binary always runs it), in memory, stopped when the test
// ends. scripts/test-deps installs it into <repo>/.cache/azurite (or
// $CALLSTATS_AZURITE_DIR).
//
// What works with aztables v1.4.1 (see docs/azurite.md):
//   - the path-style endpoint http://127.0.0.1:PORT/devstoreaccount1 (TableURL)
//     with the well-known development account (Account, Key), as a shared key
//     (aztables.NewSharedKeyCredential) or a connection string naming
//     TableEndpoint= (ConnectionString);
//   - a SAS only when it allows plain HTTP (spr=https,http): the SDK's
//     GetAccountSASURL signs spr=https, which Azurite over http refuses with
//     403 AuthorizationProtocolMismatch; and aztables' GetTableSASURL joins
//     the endpoint and table without a slash unless the endpoint ends in "/".
//
// Azurite runs with --disableProductStyleUrl (the account is always the first
// path segment, whatever the host), --skipApiVersionCheck (the Azure SDKs may
// send a newer x-ms-version than this Azurite knows) and --disableTelemetry.
package azurite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RequireEnv names the environment variable that, set to "1", turns the
// skip in Start into a failure, so CI cannot silently skip the Azurite tests.
const RequireEnv = "CALLSTATS_REQUIRE_AZURITE"

// DirEnv overrides the folder holding node_modules/azurite.
const DirEnv = "CALLSTATS_AZURITE_DIR"

// Azurite's well-known development account.
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

const hint = "run scripts/test-deps azurite"

// Server is a running Azurite.
type Server struct {
	TableURL string // the table service endpoint, http://127.0.0.1:PORT/devstoreaccount1
	BlobURL  string // the blob service endpoint, http://127.0.0.1:PORT/devstoreaccount1

	cancel context.CancelFunc
	done   chan struct{}
	out    bytes.Buffer
}

// ConnectionString is a storage connection string for the development
// account naming both endpoints explicitly (UseDevelopmentStorage=true is
// not understood by aztables, and would name the default ports).
func (s *Server) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + Account + ";AccountKey=" + Key +
		";TableEndpoint=" + s.TableURL + ";BlobEndpoint=" + s.BlobURL + ";"
}

// Installed reports whether Azurite and node can be found, and if not, why.
func Installed() error {
	_, _, err := binary()
	return err
}

// binary finds node and the installed azurite script.
func binary() (node, script string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node not found on PATH; %s", hint)
	}
	dir := os.Getenv(DirEnv)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		root, err := findRoot(wd)
		if err != nil {
			return "", "", fmt.Errorf("%w; %s", err, hint)
		}
		dir = filepath.Join(root, ".cache", "azurite")
	}
	script = filepath.Join(dir, "node_modules", "azurite", "dist", "src", "azurite.js")
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("azurite not installed in %s; %s", dir, hint)
	}
	return node, script, nil
}

func findRoot(dir string) (string, error) {
	for d := filepath.Clean(dir); ; {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module callstats")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod of module callstats in %s or above", dir)
		}
		d = parent
	}
}

// freePorts asks the kernel for n distinct free ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
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

// Start starts Azurite on free ports of 127.0.0.1 with its workspace in a
// temporary folder, waits until its services accept connections, and stops
// it when the test ends. Without Azurite installed it skips the test with a
// message saying how to install it, or fails when RequireEnv is 1.
func Start(t testing.TB) *Server {
	t.Helper()
	if err := Installed(); err != nil {
		msg := "azurite not available: " + err.Error()
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg + " (" + RequireEnv + "=1)")
		}
		t.Skip(msg)
	}
	s, err := Launch(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Launch starts Azurite in memory, running in dir (which must exist; Azurite
// may put its extent files there), and waits up to 30s until it accepts connections. Close stops it.
// Tests use Start; Launch is for a caller without a testing.TB.
func Launch(ctx context.Context, dir string) (*Server, error) {
	node, script, err := binary()
	if err != nil {
		return nil, fmt.Errorf("azurite not available: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, fmt.Errorf("azurite: finding free ports: %w", err)
	}
	blob, queue, table := ports[0], ports[1], ports[2]
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, node, script,
		"--inMemoryPersistence", "--silent",
		"--disableTelemetry", "--disableProductStyleUrl", "--skipApiVersionCheck",
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(blob),
		"--queueHost", "127.0.0.1", "--queuePort", strconv.Itoa(queue),
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(table),
	)
	cmd.Dir = dir
	s := &Server{
		TableURL: fmt.Sprintf("http://127.0.0.1:%d/%s", table, Account),
		BlobURL:  fmt.Sprintf("http://127.0.0.1:%d/%s", blob, Account),
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting azurite: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(s.done) }()

	for _, port := range []int{blob, table} {
		if err := waitListening(ctx, port, exited); err != nil {
			s.Close()
			return nil, fmt.Errorf("azurite did not come up: %w\n%s", err, s.out.String())
		}
	}
	return s, nil
}

// waitListening polls until something accepts connections on port, the
// process exits, or 30s pass.
func waitListening(ctx context.Context, port int, exited <-chan error) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("azurite exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("nothing listens on " + addr + " after 30s")
		}
	}
}

// Close stops Azurite and waits for it to exit. Its in-memory data is gone.
func (s *Server) Close() {
	s.cancel()
	<-s.done
}
