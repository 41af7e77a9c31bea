package queue

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// compressedExts are the endings of rotated files that were compressed: they
// cannot be read on, and are not looked at.
var compressedExts = []string{".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4"}

// finishRotated is called when from does not fit the file at path (of info
// cur). It looks beside path for the file from was in (see findRotated) and
// reads its rest from from on; when there is none, it records the loss in
// c.res.Lost and marks the read Restarted.
func (c *collector) finishRotated(ctx context.Context, path string, cur os.FileInfo, from Cursor) error {
	old, err := findRotated(path, cur, from)
	if err != nil {
		return err
	}
	if old == nil {
		c.res.Restarted = true
		if from.Offset > 0 {
			c.res.Lost = &LostError{File: path, Line: from.Line}
		}
		return nil
	}
	defer old.Close()
	c.file = old.Name()
	_, _, err = c.readLines(ctx, old, from, true)
	c.file = path
	if err != nil {
		return err
	}
	c.res.Rotated = old.Name()
	return nil
}

// readRotatedOnly reads on in the rotated file when path itself is missing:
// the queue was rotated by renaming and the receiver has not started the new
// file yet (missing is the error opening path). The rotated file is read like
// the queue (a last line without '\n' is left pending, for the receiver may
// still be writing to it) and the next read starts in it again: it is then
// finished before the new file is read. Without a rotated file, missing is
// the error.
func readRotatedOnly(ctx context.Context, path string, from Cursor, missing error) (*Result, error) {
	old, err := findRotated(path, nil, from)
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, missing
	}
	defer old.Close()
	st, err := old.Stat()
	if err != nil {
		return nil, err
	}
	c := newCollector(old.Name())
	next, pending, err := c.readLines(ctx, old, from, false)
	if err != nil {
		return nil, err
	}
	res := c.result()
	res.Next, res.Pending, res.Rotated = next, pending, old.Name()
	res.Next.Inode = fileInode(st)
	return res, nil
}

// findRotated returns, open, the file beside path that the cursor from was
// in, or nil when there is none. A rotation renames the queue file (to
// path.1, path-20261204, ...: a name that starts with path's and goes on with
// '.' or '-') and the receiver starts a new one; the old file is the sibling
// with from's inode. A rotation that copies the file and truncates it in
// place keeps the inode, so a sibling whose start matches from.Head is taken
// too. Either way the file must still fit from (see resumable).
func findRotated(path string, cur os.FileInfo, from Cursor) (*os.File, error) {
	if from.Offset <= 0 || from.Head == "" {
		return nil, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var curInode uint64
	if cur != nil {
		curInode = fileInode(cur)
	}
	type candidate struct {
		path string
		size int64
	}
	var byInode, byHead []candidate
	for _, e := range entries {
		name := e.Name()
		if name == base || !(strings.HasPrefix(name, base+".") || strings.HasPrefix(name, base+"-")) ||
			slices.Contains(compressedExts, strings.ToLower(filepath.Ext(name))) {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() < from.Offset {
			continue
		}
		switch ino := fileInode(fi); {
		case ino != 0 && ino == curInode: // a link to the current file
		case ino != 0 && ino == from.Inode:
			byInode = append(byInode, candidate{p, fi.Size()})
		default:
			byHead = append(byHead, candidate{p, fi.Size()})
		}
	}
	for _, cand := range slices.Concat(byInode, byHead) {
		f, err := os.Open(cand.path)
		if err != nil {
			continue // gone or unreadable: not the one
		}
		ok, err := resumable(f, cand.size, from)
		if err == nil && ok {
			return f, nil
		}
		f.Close()
	}
	return nil, nil
}
