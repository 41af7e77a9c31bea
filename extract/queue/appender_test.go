package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

var appendAt = time.Date(2026, 11, 13, 18, 23, 26, 795_123_000, time.UTC)

func openTestAppender(t *testing.T, path string) *Appender {
	t.Helper()
	a, err := OpenAppender(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestAppenderLines proves that appended entities are lines of the DESIGN
// shape, in that field order, and that Read reads them back.
func TestAppenderLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q", "callids.jsonl")
	a := openTestAppender(t, path)
	err := a.Append(context.Background(), []Entity{
		NewEntity(SourceTeams, "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e", "created", appendAt),
		NewEntity(SourceRingCentral, "s-a7c3", "Disconnected", appendAt.Add(time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"PartitionKey":"2026111318","RowKey":"3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e-created","Timestamp":"2026-11-13T18:23:26.795Z","CallId":"3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e","ChangeType":"created","Source":"teams"}
{"PartitionKey":"2026111319","RowKey":"s-a7c3-Disconnected","Timestamp":"2026-11-13T19:23:26.795Z","CallId":"s-a7c3","ChangeType":"Disconnected","Source":"ringcentral"}
`
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	res, err := Read(context.Background(), path, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 0 || res.Entities != 2 || len(res.Calls) != 2 || res.Calls[0].ID != "s-a7c3" {
		t.Errorf("read back %+v", res)
	}
}

// TestAppenderRefusesBadEntities proves that an entity that would not read
// back as itself is refused and nothing of its call is written.
func TestAppenderRefusesBadEntities(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callids.jsonl")
	a := openTestAppender(t, path)
	good := NewEntity(SourceTeams, "id-1", "updated", appendAt)
	for name, e := range map[string]Entity{
		"no id":        NewEntity(SourceTeams, "", "updated", appendAt),
		"rowkey":       {PartitionKey: good.PartitionKey, RowKey: "x-y", Timestamp: appendAt, CallID: "id-1", ChangeType: "updated", Source: SourceTeams},
		"partition":    {PartitionKey: "2026010100", RowKey: good.RowKey, Timestamp: appendAt, CallID: "id-1", ChangeType: "updated", Source: SourceTeams},
		"source":       NewEntity("skype", "id-1", "updated", appendAt),
		"no timestamp": NewEntity(SourceTeams, "id-1", "updated", time.Time{}),
	} {
		if err := a.Append(context.Background(), []Entity{good, e}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("file has %q", b)
	}
}

// TestAppenderGroupCommit proves group commit: requests that arrive while a
// batch is being fsynced are written together with one write and one fsync,
// and none of them returns before that fsync has finished.
func TestAppenderGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "callids.jsonl")
		a, err := OpenAppender(path)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		turns := make(chan struct{})
		var syncs atomic.Int32
		fsync := a.sync
		a.sync = func() error {
			<-turns // each fsync waits for the test's turn
			syncs.Add(1)
			return fsync()
		}
		var returned atomic.Int32
		appendOne := func(i int) {
			err := a.Append(context.Background(), []Entity{NewEntity(SourceTeams, fmt.Sprintf("id-%d", i), "created", appendAt)})
			if err != nil {
				t.Error(err)
			}
			returned.Add(1)
		}
		var wg sync.WaitGroup
		wg.Go(func() { appendOne(0) })
		synctest.Wait() // the writer waits in the first fsync
		const n = 50
		for i := 1; i <= n; i++ {
			wg.Go(func() { appendOne(i) })
		}
		synctest.Wait()
		if r := returned.Load(); r != 0 {
			t.Fatalf("%d requests returned before any fsync", r)
		}
		turns <- struct{}{} // first fsync
		synctest.Wait()
		if r := returned.Load(); r != 1 {
			t.Fatalf("%d requests returned after the first fsync, want 1", r)
		}
		turns <- struct{}{} // second fsync: the other 50 together
		wg.Wait()
		if s := syncs.Load(); s != 2 {
			t.Errorf("%d fsyncs for 51 requests, want 2", s)
		}
		res, err := Read(context.Background(), path, Cursor{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entities != n+1 || res.Skipped != 0 {
			t.Errorf("read %d entities, %d skipped", res.Entities, res.Skipped)
		}
	})
}

// TestAppenderCutsTornTail proves that a last line without its newline (a
// crash mid-write) is cut off when the file is opened, so the next line
// does not complete it.
func TestAppenderCutsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callids.jsonl")
	var b bytes.Buffer
	if err := appendLine(&b, NewEntity(SourceTeams, "id-1", "created", appendAt)); err != nil {
		t.Fatal(err)
	}
	complete := b.String()
	if err := os.WriteFile(path, []byte(complete+`{"PartitionKey":"2026111318","RowKey":"id-2-cre`), 0o644); err != nil {
		t.Fatal(err)
	}
	a := openTestAppender(t, path)
	if err := a.Append(context.Background(), []Entity{NewEntity(SourceTeams, "id-3", "created", appendAt)}); err != nil {
		t.Fatal(err)
	}
	res, err := Read(context.Background(), path, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 0 || res.Entities != 2 || res.Pending {
		t.Errorf("read %+v (errors %v)", res, res.Errors)
	}
}

// TestAppenderFailedCommitIsCut proves that a batch whose fsync fails is
// reported to its callers and cut off the file, and that later batches
// still work.
func TestAppenderFailedCommitIsCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callids.jsonl")
	a := openTestAppender(t, path)
	ctx := context.Background()
	if err := a.Append(ctx, []Entity{NewEntity(SourceTeams, "id-1", "created", appendAt)}); err != nil {
		t.Fatal(err)
	}
	fsync := a.sync
	failed := errors.New("disk on fire")
	a.sync = func() error { return failed }
	if err := a.Append(ctx, []Entity{NewEntity(SourceTeams, "id-2", "created", appendAt)}); !errors.Is(err, failed) {
		t.Fatalf("error = %v, want %v", err, failed)
	}
	a.sync = fsync
	if err := a.Append(ctx, []Entity{NewEntity(SourceTeams, "id-3", "created", appendAt)}); err != nil {
		t.Fatal(err)
	}
	res, err := Read(ctx, path, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range res.Calls {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "id-1,id-3" || res.Skipped != 0 {
		t.Errorf("calls %v, skipped %d", ids, res.Skipped)
	}
}

// TestAppenderLocked proves that a second appender on the same file is
// refused while the first is open, and allowed after Close.
func TestAppenderLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callids.jsonl")
	a, err := OpenAppender(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := OpenAppender(path); err == nil {
		b.Close()
		t.Fatal("second appender opened")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(context.Background(), []Entity{NewEntity(SourceTeams, "id", "created", appendAt)}); !errors.Is(err, ErrAppenderClosed) {
		t.Errorf("append after close: %v", err)
	}
	b, err := OpenAppender(path)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

// TestAppenderReadWhileAppending proves that a reader following the file
// while batches are appended never sees an incomplete line as complete.
func TestAppenderReadWhileAppending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callids.jsonl")
	a := openTestAppender(t, path)
	ctx := context.Background()
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				batch := make([]Entity, 20)
				for j := range batch {
					batch[j] = NewEntity(SourceTeams, fmt.Sprintf("id-%d-%d-%d", w, i, j), "updated", appendAt)
				}
				if err := a.Append(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var cur Cursor
	total := 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		res, err := Read(ctx, path, cur)
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 0 || res.Restarted {
			t.Fatalf("reader saw %d bad lines (restarted %v): %v", res.Skipped, res.Restarted, res.Errors)
		}
		total += res.Entities
		cur = res.Next
	}
	if total != writers*perWriter*20 {
		t.Errorf("read %d entities, want %d", total, writers*perWriter*20)
	}
}
