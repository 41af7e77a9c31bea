package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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
