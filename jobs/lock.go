//go:build unix

package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLocked is returned when another process holds the state directory.
var ErrLocked = errors.New("state directory is in use")

// lockHolder is written into the lock file by the process holding it.
type lockHolder struct {
	PID     int       `json:"pid"`
	Job     string    `json:"job"`
	Started time.Time `json:"started"`
	Host    string    `json:"host"`
}

// Lock excludes other callstats processes from a state directory. The kernel
// drops the lock when its process dies, so a crashed run never leaves a lock
// behind.
type Lock struct{ f *os.File }

// AcquireLock takes the state directory's lock ({stateDir}/lock) for a job,
// or fails at once with ErrLocked naming the process that holds it.
func AcquireLock(stateDir, job string, now time.Time) (*Lock, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("locking state: %w", err)
	}
	return acquireFlock(filepath.Join(stateDir, "lock"), job, now)
}

// acquireFlock takes an exclusive, non-blocking flock on path and writes the
// holder into it, or fails with ErrLocked naming the holder.
func acquireFlock(path, job string, now time.Time) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			var h lockHolder
			b, _ := os.ReadFile(path)
			if json.Unmarshal(b, &h) == nil && h.PID != 0 {
				return nil, fmt.Errorf("%w: %s is held by PID %d (%s, started %s on %s)",
					ErrLocked, path, h.PID, h.Job, h.Started.Format(time.RFC3339), h.Host)
			}
			return nil, fmt.Errorf("%w: %s is held by another process", ErrLocked, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(lockHolder{PID: os.Getpid(), Job: job, Started: now.UTC(), Host: host})
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(b, '\n'), 0)
		f.Sync()
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
