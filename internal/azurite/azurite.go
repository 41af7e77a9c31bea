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
	"callstats/internal/nodepeer"
	"context"
	"fmt"
	"net"
	"os/exec"
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
	return nodepeer.Find("azurite", DirEnv, "node_modules/azurite/dist/src/azurite.js", hint)
}

// Start starts Azurite on free ports of 127.0.0.1 with its workspace in a
// temporary folder, waits until its services accept connections, and stops
// it when the test ends. Without Azurite installed it skips the test with a
// message saying how to install it, or fails when RequireEnv is 1.
func Start(t testing.TB) *Server {
	t.Helper()
	nodepeer.Require(t, "azurite", RequireEnv, Installed())
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
	ports, err := nodepeer.FreePorts(3)
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
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := nodepeer.WaitListening(ctx, addr, exited, 30*time.Second); err != nil {
			s.Close()
			return nil, fmt.Errorf("azurite did not come up: %w\n%s", err, s.out.String())
		}
	}
	return s, nil
}

// Close stops Azurite and waits for it to exit. Its in-memory data is gone.
func (s *Server) Close() {
	s.cancel()
	<-s.done
}
