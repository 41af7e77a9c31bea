package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile, at the top of a lake, is its read lock (flock): readers share it
// for the whole of a read, and the apply step of a commit (the renames and
// removals that change which files the lake holds) takes it alone. A reader
// holding it sees the lake as one commit left it: never a file that a commit
// is removing, never a replaced item twice. Other readers (scripts, DuckDB
// wrappers) can take it shared too.
const LockFile = ".callstats-read.lock"

// lockPoll is how often a lock held by another process is tried again.
const lockPoll = 20 * time.Millisecond

// ReadLock takes the read lock of the lake in dir, waiting while a commit
// applies (until ctx is done); release drops it. A lake directory that does
// not exist, or where the lock file is absent and cannot be made (a
// read-only lake), is read without the lock.
func ReadLock(ctx context.Context, dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDONLY|os.O_CREATE, 0o666)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("locking lake %s for reading: %w", dir, err)
	}
	if err := flock(ctx, f, syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking lake %s for reading: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// lockApply takes the read lock alone, for the apply step of a commit.
func (l *Lake) lockApply(ctx context.Context) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(l.dir, LockFile), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("locking lake %s: %w", l.dir, err)
	}
	if err := flock(ctx, f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking lake %s (waiting for its readers): %w", l.dir, err)
	}
	return func() { f.Close() }, nil
}

// lockWaiting lets tests see that a lock is being waited for; outside tests
// it does nothing.
var lockWaiting = func() {}

// flock takes a lock on f, waiting for it while ctx allows.
func flock(ctx context.Context, f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return err
		}
		lockWaiting()
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
