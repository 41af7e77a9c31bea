package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"callstats/transform/lake"
)

// TestReportReadsUnderTheLakeLock: a report does not read while a commit
// applies (it holds the lake's read lock for its whole read), so an ingest
// committing meanwhile never removes a file it listed.
func TestReportReadsUnderTheLakeLock(t *testing.T) {
	dir := sharedGraphLake(t)
	f, err := os.OpenFile(filepath.Join(dir, lake.LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// As a commit's apply step does.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // waiting for the lock ends at once
	_, err = Generate(ctx, Options{LakeDir: dir, Week: Week{2026, 46}, Location: time.UTC}, filepath.Join(t.TempDir(), "r.xlsx"))
	if err == nil || !strings.Contains(err.Error(), "locking lake") {
		t.Fatalf("report during a commit's apply: %v, want it waiting for the lake lock", err)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if _, err := Generate(context.Background(), Options{LakeDir: dir, Week: Week{2026, 46}, Location: time.UTC}, filepath.Join(t.TempDir(), "r.xlsx")); err != nil {
		t.Fatalf("report once the commit applied: %v", err)
	}
}
