package lake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCommitWaitsForReaders: while a reader holds the read lock, a commit
// that replaces an item stages and journals but does not apply: every file
// the reader listed stays. Once the reader is done the commit applies.
func TestCommitWaitsForReaders(t *testing.T) {
	waiting := make(chan struct{}, 1)
	lockWaiting = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}
	defer func() { lockWaiting = func() {} }()
	dir := t.TempDir()
	recs := samples(t)
	l := open(t, dir, nil)
	put(t, l, t0, recs[:2]...)
	release, err := ReadLock(context.Background(), l.Dir())
	if err != nil {
		t.Fatal(err)
	}
	listed, _ := Files(l.Dir(), "calls")

	v2 := *recs[1]
	v2.Version = 2
	done := make(chan error, 1)
	go func() {
		tx := l.Begin(t0.Add(time.Hour))
		if _, err := putGraph(tx, &v2); err != nil {
			done <- err
			return
		}
		_, err := tx.Commit(context.Background())
		done <- err
	}()
	<-waiting // the commit waits for the lock
	select {
	case err := <-done:
		t.Fatalf("the commit returned (%v) while a reader held the lake", err)
	default:
	}
	for _, f := range listed {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("a file the reader listed is gone: %v", err)
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e, _ := l.Lookup("teams", v2.ID); e.Version != 2 {
		t.Errorf("version %d after the commit, want 2", e.Version)
	}
}

// TestReadersShareTheLock: two readers at once, and a reader of a lake
// directory that does not exist, do not wait.
func TestReadersShareTheLock(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r1, err := ReadLock(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r1()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r2, err := ReadLock(cancelled, dir) // would fail if it had to wait
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	r2()
	r3, err := ReadLock(cancelled, filepath.Join(dir, "absent"))
	if err != nil {
		t.Fatalf("a lake that does not exist: %v", err)
	}
	r3()
}

// TestCommitGivesUpWaitingWithItsContext: a commit cancelled while a reader
// holds the lake fails after its commit point, and the next Open applies it.
func TestCommitGivesUpWaitingWithItsContext(t *testing.T) {
	dir := t.TempDir()
	recs := samples(t)
	l := open(t, dir, nil)
	release, err := ReadLock(context.Background(), l.Dir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tx := l.Begin(t0)
	if _, err := putGraph(tx, recs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("commit: %v, want cancelled", err)
	}
	release()
	if got := callIDs(t, filepath.Join(dir, "lake"), nil); len(got) != 0 {
		t.Fatalf("calls %v before the journal is replayed", got)
	}
	open(t, dir, nil)
	if got := callIDs(t, filepath.Join(dir, "lake"), nil); len(got) != 1 {
		t.Fatalf("calls %v after reopening, want the committed one", got)
	}
}
