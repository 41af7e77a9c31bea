package lake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"callstats/internal/atomicfile"
)

// ErrOtherOwner is returned by Open for a lake another state directory owns.
var ErrOtherOwner = errors.New("the lake belongs to another state directory")

// ownerName is the file at the top of the lake that names the state
// directory owning it: the ledger there is the lake's only index, so a
// second state directory writing the lake would duplicate its rows.
const ownerName = ".callstats-owner.json"

type owner struct {
	StateDir string `json:"state_dir"`
	Host     string `json:"host,omitempty"`
}

// claim makes the lake's state directory its owner if it has none, and fails
// with ErrOtherOwner, naming the owner, if another state directory owns it.
func (l *Lake) claim() error {
	me, err := canonical(l.stateDir)
	if err != nil {
		return err
	}
	path := filepath.Join(l.dir, ownerName)
	for range 3 {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			var o owner
			if err := json.Unmarshal(b, &o); err != nil || o.StateDir == "" {
				return fmt.Errorf("%s is damaged (it names the state directory that owns the lake): %v", path, err)
			}
			if o.StateDir == me {
				return nil
			}
			host := ""
			if o.Host != "" {
				host = " on " + o.Host
			}
			return fmt.Errorf("%w: %s belongs to the state directory %s%s, not %s; run with that state_dir, or remove %s if that one moved",
				ErrOtherOwner, l.dir, o.StateDir, host, me, path)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("reading the lake's owner: %w", err)
		}
		if err := l.writeOwner(path, me); !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Another process claimed it first: read whose it is.
	}
	return fmt.Errorf("claiming the lake %s: its owner file keeps changing", l.dir)
}

// writeOwner creates the owner file unless one exists (fs.ErrExist).
func (l *Lake) writeOwner(path, stateDir string) error {
	host, _ := os.Hostname()
	b, err := json.Marshal(owner{StateDir: stateDir, Host: host})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteNew(path, append(b, '\n')); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return fmt.Errorf("claiming the lake: %w", err)
	}
	return nil
}

// canonical is a directory's absolute path with symbolic links resolved, so
// that two spellings of one state directory are one owner.
func canonical(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}
