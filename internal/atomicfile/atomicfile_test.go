package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestWriteReplacesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "f.json")
	for _, want := range []string{"first", "second, longer"} {
		if err := WriteFile(path, []byte(want)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	assertOnly(t, filepath.Dir(path), "f.json")
}

func TestWriteFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	os.WriteFile(path, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("old file changed to %q", got)
	}
	assertOnly(t, dir, "f.json")
}

func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	if len(es) != 1 || es[0].Name() != name {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only %s", names, name)
	}
}

// TestWriteKeepsUmaskMode: a written file has the mode os.Create would give
// it (0666 less the umask), not a fixed one.
func TestWriteKeepsUmaskMode(t *testing.T) {
	for _, tc := range []struct {
		umask int
		want  os.FileMode
	}{
		{0o022, 0o644},
		{0o027, 0o640},
		{0o077, 0o600},
	} {
		old := syscall.Umask(tc.umask)
		path := filepath.Join(t.TempDir(), "f.xlsx")
		err := WriteFile(path, []byte("x"))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("umask %03o: mode %03o, want %03o", tc.umask, got, tc.want)
		}
	}
}

func TestSyncThenRenameLater(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "part.parquet")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("staged"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if !IsTemp(filepath.Base(f.TempPath())) || filepath.Dir(f.TempPath()) != dir {
		t.Fatalf("temp path %s is not a hidden temp name beside %s", f.TempPath(), final)
	}
	if _, err := os.Stat(final); !os.IsNotExist(err) {
		t.Fatalf("Sync put the file in place: %v", err)
	}
	if got, _ := os.ReadFile(f.TempPath()); string(got) != "staged" {
		t.Fatalf("staged content %q", got)
	}
	f.Abort()
	assertNone(t, dir)
}

func assertNone(t *testing.T, dir string) {
	t.Helper()
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Fatalf("directory holds %d files, want none", len(es))
	}
}

// TestWriteNew: of writers racing to create one file exactly one does; the
// others get fs.ErrExist and the file holds the winner's bytes whole.
func TestWriteNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.json")
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = WriteNew(path, []byte(strings.Repeat(strconv.Itoa(i), 4096))) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both created the file", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("writer %d: %v, want fs.ErrExist", i, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil || won < 0 || string(b) != strings.Repeat(strconv.Itoa(won), 4096) {
		t.Fatalf("the file holds %d bytes (err %v), want writer %d's 4096", len(b), err, won)
	}
	left, _ := os.ReadDir(filepath.Dir(path))
	if len(left) != 1 {
		t.Errorf("temp files left beside the file: %v", left)
	}
}
