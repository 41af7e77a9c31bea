// Package atomicfile writes files so that a reader or a crash sees the old
// content or the whole new content, never a mix.
//
// A file is written under a hidden temp name beside its final path
// (".name.<random>.tmp", never matched by *.parquet or *.xlsx globs) and
// fsynced; Commit renames it over the final path and fsyncs the directory.
// Callers that rename later themselves (the lake, which renames every file of
// a transaction from its journal) stop at Sync. New files get the mode 0666
// less the process umask, like os.Create's.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is a file being written under its temp name.
type File struct {
	final, tmp string
	f          *os.File
	bw         *bufio.Writer
	synced     bool
}

// Create starts writing a file that is to replace path, creating path's
// directory if need be.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	for range 100 {
		var r [6]byte
		rand.Read(r[:])
		tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+hex.EncodeToString(r[:])+".tmp")
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		return &File{final: path, tmp: tmp, f: f, bw: bufio.NewWriterSize(f, 1<<20)}, nil
	}
	return nil, fmt.Errorf("writing %s: no free temp name", path)
}

// IsTemp reports whether a file name is a temp name of this package.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}

// Path is the final path; TempPath the name the content is written under.
func (f *File) Path() string     { return f.final }
func (f *File) TempPath() string { return f.tmp }

// Write writes to the temp file (buffered).
func (f *File) Write(p []byte) (int, error) { return f.bw.Write(p) }

// Sync makes the temp file durable and closes it. On error the temp file is
// removed.
func (f *File) Sync() error {
	err := f.bw.Flush()
	if err == nil {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.tmp)
		return fmt.Errorf("writing %s: %w", f.final, err)
	}
	f.synced = true
	return nil
}

// Commit syncs the temp file, renames it over the final path and syncs the
// directory. On error the temp file is removed and the final path untouched.
func (f *File) Commit() error {
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Rename(f.tmp, f.final); err != nil {
		os.Remove(f.tmp)
		return fmt.Errorf("writing %s: %w", f.final, err)
	}
	return SyncDir(filepath.Dir(f.final))
}

// Abort removes the temp file.
func (f *File) Abort() {
	if !f.synced {
		f.f.Close()
	}
	os.Remove(f.tmp)
}

// Write creates or replaces path with what fill writes. On any error the
// temp file is removed and path is untouched.
func Write(path string, fill func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// WriteFile is Write for data held in memory.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteNew creates path with data unless it exists, in which case it
// returns an error wrapping fs.ErrExist and leaves the file as it is: data
// is staged whole, then linked into place, which fails if the name is taken,
// so of two writers at once exactly one creates it.
func WriteNew(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(f.tmp)
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Link(f.tmp, path); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory, so that renames and removals in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
