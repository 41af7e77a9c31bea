package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaintainCommand: maintain on the plain lake says there is nothing to
// do and exits 0; on an Iceberg lake it runs (quietly, off a terminal).
func TestMaintainCommand(t *testing.T) {
	t.Setenv("TEST_MAINTAIN_GRAPH_SECRET", "secret-1") // maintain loads every secret
	for _, tc := range []struct{ format, wantOut string }{
		{"plain", "nothing to maintain"},
		{"iceberg", ""},
	} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "callstats.yaml")
		yaml := "state_dir: " + filepath.Join(dir, "state") + "\noutput:\n  dir: " + filepath.Join(dir, "lake") + "\n  format: " + tc.format + "\n" +
			"teams:\n  tenant_id: tenant-1\n  client_id: client-1\n  client_secret_env: TEST_MAINTAIN_GRAPH_SECRET\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		if code := run([]string{"maintain", "--config", cfg}, &out, &errb); code != exitOK {
			t.Fatalf("%s: exit %d\n%s", tc.format, code, errb.String())
		}
		if got := out.String(); tc.wantOut == "" && got != "" || !strings.Contains(got, tc.wantOut) {
			t.Errorf("%s: stdout %q, want %q", tc.format, got, tc.wantOut)
		}
		if tc.format == "iceberg" {
			if _, err := os.Stat(filepath.Join(dir, "state", "iceberg", "catalog.db")); err != nil {
				t.Errorf("iceberg: no catalog after maintain: %v", err)
			}
		}
	}
}
