package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"callstats/transform/lake"
)

// TestTwoStateDirectoriesOneLake: a second state directory cannot ingest
// into a lake another one owns (it would duplicate every row); the error
// names the owner.
func TestTwoStateDirectoriesOneLake(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	first := f.ingest(t, night1)
	cfg := testConfig(f.dir, f.srv.URL, night1)
	owner := cfg.StateDir
	cfg.StateDir = filepath.Join(f.dir, "state-b")
	_, err := Ingest(context.Background(), cfg, Env{Wait: noWait})
	if !errors.Is(err, lake.ErrOtherOwner) || !errors.Is(err, ErrCannotRun) || !strings.Contains(err.Error(), owner) {
		t.Fatalf("second state directory: %v, want ErrOtherOwner naming %s", err, owner)
	}
	if n := tableRows(t, filepath.Join(f.dir, "lake"), "calls"); n != first.LakeRecords {
		t.Errorf("%d calls rows after the refused run, want %d", n, first.LakeRecords)
	}
}
