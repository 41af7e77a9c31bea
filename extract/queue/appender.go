package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// TimestampFormat is how the receiver writes an entity's Timestamp: UTC with
// milliseconds, as Azure Table Storage does.
const TimestampFormat = "2006-01-02T15:04:05.000Z"

// PartitionFormat is the PartitionKey of an entity: the hour it arrived, UTC.
const PartitionFormat = "2006010215"

// maxBatchBytes bounds the lines one group commit writes; requests beyond it
// wait for the next commit.
const maxBatchBytes = 4 << 20

// ErrAppenderClosed is returned by Append after Close.
var ErrAppenderClosed = errors.New("queue appender is closed")

// Appender appends entities to a JSON Lines queue file with group commit:
// the entities of concurrent Append calls are gathered into one batch,
// written with one write and made durable with one fsync, and every call
// returns only after its batch's fsync. A reader (Read) never sees a torn
// line as complete: a batch is written whole or, when the write fails, cut
// off again, and a torn tail left by a crash is cut off when the file is
// opened. One process appends at a time: the file is locked (flock) while
// open. It is safe for concurrent use.
type Appender struct {
	path string
	f    *os.File
	reqs chan *appendReq

	closeOnce sync.Once
	mu        sync.RWMutex // held for reading while sending to reqs; Close takes it to close reqs
	closed    bool
	done      chan struct{} // closed when the writer goroutine has ended

	// size is the length of the file's complete lines; owned by the writer.
	size int64
	// broken is set, and fails every later batch, when a failed batch could
	// not be cut off again; owned by the writer.
	broken error
	// sync is f.Sync; tests count and slow it.
	sync func() error
}

// appendReq is one Append call waiting for its batch.
type appendReq struct {
	lines []byte
	done  chan error // buffered: the writer never blocks on it
}

// OpenAppender opens (creating it and its directory if needed) the JSON
// Lines file at path for appending, locks it against other appenders, and
// cuts off a torn last line (bytes after the last newline, left by a crash
// mid-write) so that it is never completed by the next line.
func OpenAppender(path string) (*Appender, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("opening queue %s: %w", path, err)
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening queue %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("opening queue %s: another process is appending to it", path)
		}
		return nil, fmt.Errorf("locking queue %s: %w", path, err)
	}
	size, err := completeLength(f)
	if err == nil {
		err = cutTo(f, size)
	}
	if err == nil && errors.Is(statErr, os.ErrNotExist) {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening queue %s: %w", path, err)
	}
	a := &Appender{
		path: path,
		f:    f,
		reqs: make(chan *appendReq, 1024),
		done: make(chan struct{}),
		size: size,
		sync: f.Sync,
	}
	go a.write()
	return a, nil
}

// completeLength returns the length of f up to and including its last
// newline.
func completeLength(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := st.Size()
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

// cutTo truncates f to size when it is longer, durably.
func cutTo(f *os.File, size int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == size {
		return nil
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Append writes entities as one JSON line each and returns once they are
// durable (fsynced), together with those of concurrent calls. An error means
// that they may not be durable; they are then not in the file as complete
// lines unless ctx ended after they were handed to the writer (an error is
// then still returned: the caller retries, and entities are collapsed by
// call id anyway).
func (a *Appender) Append(ctx context.Context, entities []Entity) error {
	if len(entities) == 0 {
		return nil
	}
	var b bytes.Buffer
	for _, e := range entities {
		if err := appendLine(&b, e); err != nil {
			return fmt.Errorf("appending to queue %s: %w", a.path, err)
		}
	}
	req := &appendReq{lines: b.Bytes(), done: make(chan error, 1)}
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return ErrAppenderClosed
	}
	select {
	case a.reqs <- req:
		a.mu.RUnlock()
	case <-ctx.Done():
		a.mu.RUnlock()
		return fmt.Errorf("appending to queue %s: %w", a.path, ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("appending to queue %s: %w", a.path, ctx.Err())
	}
}

// storedLine is an entity as the JSON Lines queue stores it (DESIGN.md, "The ID
// queue"), in that field order.
type storedLine struct {
	PartitionKey string
	RowKey       string
	Timestamp    string
	CallID       string `json:"CallId"`
	ChangeType   string
	Source       string
}

// appendLine checks e and appends it to b as one line.
func appendLine(b *bytes.Buffer, e Entity) error {
	switch {
	case e.CallID == "" || e.ChangeType == "":
		return errors.New("entity without CallId or ChangeType")
	case e.RowKey != e.CallID+"-"+e.ChangeType:
		return fmt.Errorf("call %s: RowKey %s is not <callId>-<changeType>", quote(e.CallID), quote(e.RowKey))
	case e.Timestamp.IsZero() || e.PartitionKey != e.Timestamp.UTC().Format(PartitionFormat):
		return fmt.Errorf("call %s: PartitionKey %s is not the hour of Timestamp", quote(e.CallID), quote(e.PartitionKey))
	case e.Source != SourceTeams && e.Source != SourceRingCentral:
		return fmt.Errorf("call %s: %w: %s", quote(e.CallID), errBadSource, quote(e.Source))
	}
	raw, err := json.Marshal(storedLine{
		PartitionKey: e.PartitionKey, RowKey: e.RowKey, Timestamp: e.Timestamp.UTC().Format(TimestampFormat),
		CallID: e.CallID, ChangeType: e.ChangeType, Source: e.Source,
	})
	if err != nil {
		return err
	}
	b.Write(raw) // json.Marshal escapes every control character: no newline inside
	b.WriteByte('\n')
	return nil
}

// NewEntity is the entity of one notification that arrived at: PartitionKey
// its hour, RowKey "<callID>-<changeType>".
func NewEntity(source, callID, changeType string, at time.Time) Entity {
	at = at.UTC().Truncate(time.Millisecond)
	return Entity{
		PartitionKey: at.Format(PartitionFormat),
		RowKey:       callID + "-" + changeType,
		Timestamp:    at,
		CallID:       callID,
		ChangeType:   changeType,
		Source:       source,
	}
}

// write is the writer goroutine: it takes the first waiting request, every
// other one already waiting (up to maxBatchBytes), writes them at once,
// fsyncs and releases them. Requests that arrive during the fsync make the
// next batch.
func (a *Appender) write() {
	defer close(a.done)
	var (
		buf   []byte
		batch []*appendReq
	)
	for first := range a.reqs {
		buf, batch = append(buf[:0], first.lines...), append(batch[:0], first)
	gather:
		for len(buf) < maxBatchBytes {
			select {
			case r, ok := <-a.reqs:
				if !ok {
					break gather
				}
				buf = append(buf, r.lines...)
				batch = append(batch, r)
			default:
				break gather
			}
		}
		err := a.commit(buf)
		for _, r := range batch {
			r.done <- err
		}
		clear(batch)
	}
}

// commit writes buf and fsyncs. On failure it cuts the file back to its
// complete lines, so that a partly written batch is never completed by a
// later one.
func (a *Appender) commit(buf []byte) error {
	if a.broken != nil {
		return a.broken
	}
	n, err := a.f.Write(buf)
	if err == nil {
		err = a.sync()
	}
	if err != nil {
		if n > 0 {
			if terr := cutTo(a.f, a.size); terr != nil {
				err = errors.Join(err, fmt.Errorf("cutting off the failed batch: %w", terr))
				a.broken = fmt.Errorf("appending to queue %s: a failed batch could not be cut off, appending stopped: %w", a.path, terr)
			}
		}
		return fmt.Errorf("appending to queue %s: %w", a.path, err)
	}
	a.size += int64(n)
	return nil
}

// Close waits for the batches being written, then closes the file. Append
// calls after Close fail with ErrAppenderClosed.
func (a *Appender) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		close(a.reqs)
		a.mu.Unlock()
		<-a.done
		err = a.f.Close()
	})
	return err
}
