package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrepareDemoDir: the demo may run again over a directory it made (which
// it empties), over an empty or missing one, and refuses any other.
func TestPrepareDemoDir(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(dir string)
		wantErr string
	}{
		{name: "missing", setup: func(dir string) { os.Remove(dir) }},
		{name: "empty", setup: func(string) {}},
		{name: "made by an earlier demo", setup: func(dir string) {
			os.WriteFile(filepath.Join(dir, demoMarker), nil, 0o644)
			os.MkdirAll(filepath.Join(dir, "lake", "calls"), 0o755)
			os.WriteFile(filepath.Join(dir, "lake", "calls", "old.parquet"), []byte("x"), 0o644)
		}},
		{name: "foreign", setup: func(dir string) {
			os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644)
		}, wantErr: "was not made by the demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tc.setup(dir)
			err := prepareDemoDir(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
					t.Fatalf("the foreign directory was touched: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			es, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].Name() != demoMarker {
				t.Fatalf("after prepareDemoDir the directory holds %v, want only the marker", es)
			}
		})
	}
}
