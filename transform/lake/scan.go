package lake

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Files lists the Parquet files of a table in a lake, in partition order.
func Files(dir, table string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, table, "date=*", "*.parquet"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// Scan calls fn with every record batch of a table in a lake, holding the
// lake's read lock (see LockFile). The batch is released when fn returns;
// retain what you keep.
func Scan(ctx context.Context, dir, table string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	release, err := ReadLock(ctx, dir)
	if err != nil {
		return err
	}
	defer release()
	files, err := Files(dir, table)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := readParquet(ctx, f, mem, fn); err != nil {
			return err
		}
	}
	return nil
}

// ScanFile calls fn with every record batch of one named file of a table's
// partition (see Tx.PutFile); a missing file calls fn never and is no error.
func ScanFile(ctx context.Context, dir, table, date, name string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	path := filepath.Join(dir, table, "date="+date, name+".parquet")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return readParquet(ctx, path, mem, fn)
}

// ScanFile is the package's ScanFile on this lake, with its allocator.
func (l *Lake) ScanFile(ctx context.Context, table, date, name string, fn func(arrow.RecordBatch) error) error {
	return ScanFile(ctx, l.dir, table, date, name, l.mem, fn)
}
