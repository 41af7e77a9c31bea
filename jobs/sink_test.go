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

// TestTwoStateDirectoriesOneIcebergLake: the same for an Iceberg lake whose
// SQL catalogs (one per state directory) share the warehouse: an ingest and
// a maintenance (whose orphan deletion would remove the owner's files) from
// a second state directory are refused, naming the owner.
func TestTwoStateDirectoriesOneIcebergLake(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	cfg := icebergConfig(f.dir, f.srv.URL, night1)
	if _, err := Ingest(context.Background(), cfg, Env{Wait: noWait}); err != nil {
		t.Fatal(err)
	}
	second := icebergConfig(f.dir, f.srv.URL, night1)
	second.StateDir = filepath.Join(f.dir, "state-b")
	owner := cfg.IcebergStateDir()
	_, err := Ingest(context.Background(), second, Env{Wait: noWait})
	if !errors.Is(err, lake.ErrOtherOwner) || !errors.Is(err, ErrCannotRun) || !strings.Contains(err.Error(), owner) {
		t.Fatalf("ingest from a second state directory: %v, want ErrOtherOwner naming %s", err, owner)
	}
	_, err = Maintain(context.Background(), second, Env{Wait: noWait})
	if !errors.Is(err, lake.ErrOtherOwner) || !errors.Is(err, ErrCannotRun) {
		t.Fatalf("maintain from a second state directory: %v, want ErrOtherOwner", err)
	}
	if n := len(icebergDigest(t, cfg)["calls"]); n != 5 {
		t.Errorf("%d calls after the refused runs, want 5", n)
	}
}
