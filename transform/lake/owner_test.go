package lake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecondStateDirectoryCannotTakeTheLake: a lake written with one state
// directory refuses another, naming its owner, and keeps serving its own
// (also by another spelling of its path).
func TestSecondStateDirectoryCannotTakeTheLake(t *testing.T) { // not parallel: it changes directory
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	first := filepath.Join(dir, "state")
	l := open(t, dir, nil)
	put(t, l, t0, samples(t)[0])

	_, err := Open(context.Background(), lakeDir, filepath.Join(dir, "state2"), Options{Tables: tables()})
	if !errors.Is(err, ErrOtherOwner) || !strings.Contains(err.Error(), first) {
		t.Fatalf("open with a second state directory: %v, want ErrOtherOwner naming %s", err, first)
	}
	if _, err := os.Stat(filepath.Join(dir, "state2", "ledger")); err == nil {
		t.Error("the refused state directory got a ledger")
	}

	// The owner again, by a relative path and through a symbolic link.
	link := filepath.Join(dir, "state-link")
	if err := os.Symlink(first, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, sd := range []string{"state", link, "./state/"} {
		if _, err := Open(context.Background(), lakeDir, sd, Options{Tables: tables()}); err != nil {
			t.Errorf("the owner by %q: %v", sd, err)
		}
	}
}

func TestDamagedOwnerFileIsReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "lake"), 0o755)
	os.WriteFile(filepath.Join(dir, "lake", ownerName), []byte("{"), 0o644)
	_, err := Open(context.Background(), filepath.Join(dir, "lake"), filepath.Join(dir, "state"), Options{})
	if err == nil || !strings.Contains(err.Error(), ownerName) {
		t.Fatalf("open with a damaged owner file: %v", err)
	}
}
