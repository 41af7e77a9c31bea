package jobs

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// update is the -update flag of the jobs package's golden tests.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// snapshot records every file under dir with its content and modification time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var b []byte
		if !d.IsDir() {
			if b, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		out[p] = info.ModTime().String() + " " + string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatusGolden(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	now := time.Date(2026, 11, 16, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		golden  string
		fixture string // "" for an empty state directory
		next    map[string]time.Time
	}{
		{"status.golden", "testdata/status", map[string]time.Time{
			"ingest": time.Date(2026, 11, 17, 2, 0, 0, 0, berlin),
			"report": time.Date(2026, 11, 23, 6, 0, 0, 0, berlin),
		}},
		{"status-empty.golden", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			dir := t.TempDir()
			if tt.fixture != "" {
				if err := os.CopyFS(dir, os.DirFS(tt.fixture)); err != nil {
					t.Fatal(err)
				}
			}
			// A job holds the state directory meanwhile: status still works.
			lock, err := AcquireLock(dir, "ingest", now)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Release()
			before := snapshot(t, dir)

			var out bytes.Buffer
			if err := Status(&out, dir, tt.next, now); err != nil {
				t.Fatal(err)
			}
			if after := snapshot(t, dir); len(after) != len(before) {
				t.Errorf("status changed the state directory: %d entries before, %d after", len(before), len(after))
			} else {
				for p, v := range before {
					if after[p] != v {
						t.Errorf("status changed %s", p)
					}
				}
			}

			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("status output differs from %s (run with -update to accept):\n%s", path, out.String())
			}
		})
	}
}

func TestStatusReportsDamagedStateAndGoesOn(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/status")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pending.json"), []byte(`[{"id": "x"`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Status(&out, dir, nil, time.Date(2026, 11, 16, 9, 30, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "pending.json")) {
		t.Fatalf("error %v does not name pending.json", err)
	}
	s := out.String()
	for _, want := range []string{"cannot read: state " + filepath.Join(dir, "pending.json"), "Failed for good: 2", "ingest", "2026-11-14, 2026-11-15"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
