package nodepeer

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRoot(t *testing.T) {
	tmp := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repo/go.mod", "// comment\nmodule callstats\n\ngo 1.26\n")
	write("repo/nested/go.mod", "module other\n")
	write("repo/a/b/.keep", "")
	write("repo/nested/deep/.keep", "")
	write("quoted/go.mod", "module \"callstats\" // quoted\n")
	write("lonely/x/.keep", "")
	write("prefix/go.mod", "module callstats2\n")

	tests := []struct {
		name    string
		start   string
		want    string
		wantErr bool
	}{
		{name: "in root", start: "repo", want: "repo"},
		{name: "below root", start: "repo/a/b", want: "repo"},
		{name: "skips other module", start: "repo/nested/deep", want: "repo"},
		{name: "quoted module path", start: "quoted", want: "quoted"},
		{name: "similar name is not it", start: "prefix", wantErr: true},
		{name: "none above", start: "lonely/x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Root(filepath.Join(tmp, filepath.FromSlash(tt.start)))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Root = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(tmp, filepath.FromSlash(tt.want)); got != want {
				t.Errorf("Root = %q, want %q", got, want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	bin, dir := t.TempDir(), t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv("CALLSTATS_TEST_PEER_DIR", dir)
	find := func() (string, error) {
		_, script, err := Find("peer", "CALLSTATS_TEST_PEER_DIR", "node_modules/peer/bin/peer", "run scripts/test-deps peer")
		return script, err
	}
	if _, err := find(); err == nil || !strings.Contains(err.Error(), "node not found on PATH; run scripts/test-deps peer") {
		t.Errorf("no node: %v", err)
	}
	if err := os.WriteFile(filepath.Join(bin, "node"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := find(); err == nil || !strings.Contains(err.Error(), "peer not installed in "+dir+"; run scripts/test-deps peer") {
		t.Errorf("no package: %v", err)
	}
	script := filepath.Join(dir, "node_modules", "peer", "bin", "peer")
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := find(); err != nil || got != script {
		t.Errorf("installed: %q, %v; want %q", got, err, script)
	}
}

func TestWaitListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := WaitListening(context.Background(), ln.Addr().String(), nil, time.Second); err != nil {
		t.Errorf("listening: %v", err)
	}
	ports, err := FreePorts(2)
	if err != nil || len(ports) != 2 || ports[0] == ports[1] {
		t.Fatalf("FreePorts = %v, %v", ports, err)
	}
	exited := make(chan error, 1)
	exited <- errors.New("exit status 1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	if err := WaitListening(context.Background(), addr, exited, time.Minute); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("exited peer: %v", err)
	}
}
