package lake

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tmpName is the staging name of a file: hidden and ending in .tmp, so that
// readers globbing *.parquet (DuckDB, Spark, Trino) never see it.
func tmpName(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".tmp")
}

// isTmp reports whether a file name is a staging name.
func isTmp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}

// WriteFileAtomic writes data to path so that a reader or a crash sees either the
// old content or the new, never a mix: temp file, fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := tmpName(path)
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeSynced writes data to path and fsyncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory so that renames and removals in it are durable.
func syncDir(dir string) error {
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
