//go:build unix

package queue

import (
	"os"
	"syscall"
)

// fileInode returns fi's inode number.
func fileInode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
