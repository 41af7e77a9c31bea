//go:build !unix

package queue

import "os"

// fileInode returns 0: the system has no inode numbers, and a rotated file
// is found by its start alone.
func fileInode(os.FileInfo) uint64 { return 0 }
