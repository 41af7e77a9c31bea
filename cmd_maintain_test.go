package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callstats/internal/memlimit"
)

// TestMaintainCommand: maintain on the plain lake says there is nothing to
// do and exits 0; on an Iceberg lake it runs (quietly, off a terminal).
// Each run sets the soft memory limit of its lake's format.
func TestMaintainCommand(t *testing.T) {
	t.Setenv("TEST_MAINTAIN_GRAPH_SECRET", "secret-1") // maintain loads every secret
	var limits []int64
	applyMemoryLimit = func(l int64) { limits = append(limits, l) }
	t.Cleanup(func() { applyMemoryLimit = nil })
	for _, tc := range []struct {
		format, wantOut string
		wantLimit       int64
	}{
		{"plain", "nothing to maintain", memlimit.Default},
		{"iceberg", "", memlimit.Iceberg},
	} {
		limits = nil
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
		if len(limits) != 1 || limits[0] != tc.wantLimit {
			t.Errorf("%s: memory limits set %v, want [%d]", tc.format, limits, tc.wantLimit)
		}
		if tc.format == "iceberg" {
			if _, err := os.Stat(filepath.Join(dir, "state", "iceberg", "catalog.db")); err != nil {
				t.Errorf("iceberg: no catalog after maintain: %v", err)
			}
		}
	}
}
