package iceberg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/io/gocloud/blobfs"
	"github.com/apache/iceberg-go/table"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"callstats/internal/atomicfile"
	"callstats/transform/lake"
)

// One writer. The item index, the state files and the batch intent live in
// the state directory, so a second state directory writing the same tables
// would start with an empty index and add every call's rows again. Open
// therefore claims the lake for its state directory, and refuses one that
// another state directory owns (wrapping lake.ErrOtherOwner):
//
//   - every table carries the owner in its properties, set when Open creates
//     it (the catalog creates a table once, so of two first opens one wins)
//     or, for a table created without them, by a commit of its own that the
//     SQL catalog makes only while the property is still unset;
//   - with the SQL catalog, a catalog of this state directory's own, the
//     namespace's directory in the warehouse holds a file naming the owner,
//     created only if absent, so that two catalogs never put their tables at
//     one location; and before claiming it, a table this catalog lacks must
//     have no Iceberg metadata at its location yet.
//
// The owner is an id kept in the state directory (file owner-id), so that the
// state directory stays the owner under another path, a symbolic link, or
// another host name (a container's); its path and host are recorded beside
// it for the error message. Readers (View) claim nothing.

// The table properties naming the lake's owner.
const (
	// OwnerProperty is the owner's id: the property compared.
	OwnerProperty = "callstats.owner"
	// OwnerStateDirProperty and OwnerHostProperty say which state directory
	// on which host claimed the table.
	OwnerStateDirProperty = "callstats.owner-state-dir"
	OwnerHostProperty     = "callstats.owner-host"
)

const (
	// ownerIDName is the file in the state directory holding its owner id.
	ownerIDName = "owner-id"
	// markerName is the owner file in the namespace's warehouse directory
	// (SQL catalog): outside every table's location, so that deleting a
	// table's orphan files never deletes it.
	markerName = ".callstats-owner.json"
)

// errClaimed fails a claim commit when the table got an owner meanwhile.
var errClaimed = errors.New("the table has an owner")

// owner is a state directory writing the lake.
type owner struct {
	ID       string `json:"id"`
	StateDir string `json:"state_dir"`
	Host     string `json:"host,omitempty"`
}

func (o owner) String() string {
	s := "the state directory " + o.StateDir
	if o.Host != "" {
		s += " on " + o.Host
	}
	return s + " (owner id " + o.ID + ")"
}

func (o owner) properties() iceberg.Properties {
	return iceberg.Properties{OwnerProperty: o.ID, OwnerStateDirProperty: o.StateDir, OwnerHostProperty: o.Host}
}

// tableOwner reads a table's owner; ok is false if it has none.
func tableOwner(t *table.Table) (o owner, ok bool) {
	p := t.Properties()
	o = owner{ID: p[OwnerProperty], StateDir: p[OwnerStateDirProperty], Host: p[OwnerHostProperty]}
	return o, o.ID != ""
}

// claim makes this state directory the owner of the lake's tables (creating
// missing ones), or fails with lake.ErrOtherOwner naming the owner.
func (l *Lake) claim(ctx context.Context) error {
	me, err := l.self()
	if err != nil {
		return err
	}
	tables := make([]*table.Table, len(tableDefs))
	var missing []string
	for i, d := range tableDefs {
		if tables[i], err = l.cat.Load(ctx, d.name); err != nil {
			return err
		}
		if tables[i] == nil {
			missing = append(missing, d.name)
		}
	}
	if l.cat.cat.CatalogType() == catalog.SQL {
		if err := l.cat.claimWarehouse(ctx, me, l.ownerIDPath(), missing); err != nil {
			return err
		}
	}
	for i, d := range tableDefs {
		if err := l.claimTable(ctx, d, tables[i], me); err != nil {
			return err
		}
	}
	return nil
}

// claimTable creates a table owned by me, or checks the owner of an
// existing one, claiming it if it has none.
func (l *Lake) claimTable(ctx context.Context, d tableDef, t *table.Table, me owner) error {
	for range 3 {
		var err error
		if t == nil {
			props := maps.Clone(tableProperties)
			maps.Copy(props, me.properties())
			if t, err = l.cat.create(ctx, d, props); err != nil {
				return err
			}
		}
		if o, ok := tableOwner(t); ok {
			if o.ID == me.ID {
				return nil
			}
			return l.otherOwner(t, o, me)
		}
		reqs := []table.Requirement{table.AssertTableUUID(t.Metadata().TableUUID())}
		if l.cat.cat.CatalogType() == catalog.SQL {
			// The SQL catalog checks requirements against the metadata it
			// replaces (compare-and-swap): the claim fails if the table
			// got an owner meanwhile. A REST catalog takes only the
			// spec's requirements, none of which names a property.
			reqs = append(reqs, ownerUnset{})
		}
		_, _, err = l.cat.cat.CommitTable(ctx, t.Identifier(), reqs,
			[]table.Update{table.NewSetPropertiesUpdate(me.properties())})
		if err == nil {
			return nil
		}
		if !errors.Is(err, errClaimed) && !errors.Is(err, table.ErrCommitFailed) {
			return fmt.Errorf("claiming table %s for %s: %w", d.name, me.StateDir, err)
		}
		// Someone else committed first: read whose it is now.
		if t, err = l.cat.Load(ctx, d.name); err != nil {
			return err
		}
	}
	return fmt.Errorf("claiming table %s: its owner keeps changing", d.name)
}

func (l *Lake) otherOwner(t *table.Table, o, me owner) error {
	hint := ""
	if o.StateDir == me.StateDir {
		hint = fmt.Sprintf(" (if this is that state directory, restored without its owner file, write %s into %s)", o.ID, l.ownerIDPath())
	}
	return fmt.Errorf("%w: table %s belongs to %s, not to %s%s; run with that state_dir, or, if it is gone for good "+
		"and this one holds the lake's index, remove the table property %s from the lake's tables (see docs/lake.md, One writer)",
		lake.ErrOtherOwner, strings.Join(t.Identifier(), "."), o, me, hint, OwnerProperty)
}

// ownerUnset is a requirement the SQL catalog checks against the table's
// current metadata in the commit itself: no owner yet.
type ownerUnset struct{}

func (ownerUnset) GetType() string { return "callstats-assert-owner-unset" }

func (ownerUnset) Validate(m table.Metadata) error {
	if m == nil {
		return errors.New("requirement failed: the table does not exist")
	}
	if id := m.Properties()[OwnerProperty]; id != "" {
		return fmt.Errorf("%w: %s", errClaimed, id)
	}
	return nil
}

// claimWarehouse makes me the owner of the namespace's directory in the
// warehouse (SQL catalog), unless another state directory owns it or a table
// this catalog lacks (missing) already has metadata there.
func (c *Catalog) claimWarehouse(ctx context.Context, me owner, idPath string, missing []string) error {
	loc, err := c.namespaceLocation(ctx)
	if err != nil {
		return err
	}
	fsys, err := icebergio.LoadFS(ctx, c.props, loc)
	if err != nil {
		return fmt.Errorf("opening the warehouse %s: %w", loc, err)
	}
	path := loc + "/" + markerName
	for range 3 {
		b, err := readFile(fsys, path)
		switch {
		case err == nil:
			var o owner
			if err := json.Unmarshal(b, &o); err != nil || o.ID == "" {
				return fmt.Errorf("%s is damaged (it names the state directory that owns the tables under it): %v", path, err)
			}
			if o.ID == me.ID {
				return nil
			}
			hint := ""
			if o.StateDir == me.StateDir {
				hint = fmt.Sprintf(" (if this is that state directory, restored without its owner file, write %s into %s)", o.ID, idPath)
			}
			return fmt.Errorf("%w: the warehouse directory %s belongs to %s, not to %s%s; run with that state_dir, "+
				"or, if it is gone for good, delete %s (its tables and owner file %s) to start the lake anew there, "+
				"or use another warehouse or namespace (see docs/lake.md, One writer)",
				lake.ErrOtherOwner, loc, o, me, hint, loc, markerName)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("reading the warehouse's owner %s: %w", path, err)
		}
		for _, name := range missing {
			found, err := metadataFile(fsys, loc+"/"+name+"/metadata")
			if err != nil {
				return fmt.Errorf("checking the warehouse for table %s: %w", name, err)
			}
			if found != "" {
				return fmt.Errorf("%w: the warehouse already holds table %s (%s), which the catalog of %s "+
					"does not know: another catalog, or a callstats before owner checks, wrote it, and its files are not "+
					"this state directory's to index or maintain; run with the state_dir that wrote it, use another "+
					"warehouse or namespace, or delete %s to start the lake anew there (see docs/lake.md, One writer)",
					lake.ErrOtherOwner, name, found, me, loc)
			}
		}
		b, err = json.Marshal(me)
		if err != nil {
			return err
		}
		if err := createExclusive(ctx, fsys, path, append(b, '\n')); !errors.Is(err, fs.ErrExist) {
			if err != nil {
				return fmt.Errorf("claiming the warehouse directory %s: %w", loc, err)
			}
			return nil
		}
		// Another state directory claimed it first: read whose it is.
	}
	return fmt.Errorf("claiming the warehouse directory %s: its owner file keeps changing", loc)
}

// namespaceLocation is where the SQL catalog puts the namespace's tables
// (each in a directory named after it): the namespace's location property,
// or {warehouse}/{namespace}.db, as iceberg-go's catalogs place them.
func (c *Catalog) namespaceLocation(ctx context.Context) (string, error) {
	props, err := c.cat.LoadNamespaceProperties(ctx, c.namespace)
	if err != nil {
		return "", fmt.Errorf("reading namespace %s: %w", strings.Join(c.namespace, "."), err)
	}
	if loc := props["location"]; loc != "" {
		return strings.TrimSuffix(loc, "/"), nil
	}
	wh := c.props["warehouse"]
	if wh == "" {
		return "", errors.New("the SQL catalog has no warehouse")
	}
	return url.JoinPath(wh, strings.Join(c.namespace, ".")+".db")
}

// metadataFile returns the first Iceberg metadata file under dir, or "" if
// there is none (or no dir).
func metadataFile(fsys icebergio.IO, dir string) (string, error) {
	lister, ok := fsys.(icebergio.ListableIO)
	if !ok {
		return "", fmt.Errorf("the warehouse's file IO (%T) cannot list %s", fsys, dir)
	}
	found := ""
	err := lister.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.Contains(d.Name(), ".metadata.json") {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	return found, err
}

// readFile reads a whole file of the warehouse.
func readFile(fsys icebergio.IO, path string) ([]byte, error) {
	if r, ok := fsys.(icebergio.ReadFileIO); ok {
		return r.ReadFile(path)
	}
	return nil, fmt.Errorf("the warehouse's file IO (%T) cannot read files", fsys)
}

// createExclusive creates a file of the warehouse with data unless it
// exists (fs.ErrExist): on local disk staged whole and linked into place, in
// Azure Blob Storage written only if no blob has the name (If-None-Match: *).
func createExclusive(ctx context.Context, fsys icebergio.IO, path string, data []byte) error {
	switch f := fsys.(type) {
	case icebergio.LocalFS:
		u, err := url.Parse(path)
		if err != nil {
			return err
		}
		local := path
		if u.Scheme == "file" {
			local = filepath.FromSlash(u.Path)
		}
		return createLocal(local, data)
	case *blobfs.FileIO:
		w, err := f.NewWriter(ctx, path, true, &blob.WriterOptions{IfNotExist: true})
		if err != nil {
			return err
		}
		_, werr := w.Write(data)
		if err := errors.Join(werr, w.Close()); err != nil {
			if gcerrors.Code(err) == gcerrors.FailedPrecondition {
				return fs.ErrExist
			}
			return err
		}
		return nil
	default:
		return fmt.Errorf("the warehouse's file IO (%T) cannot create a file only if it is absent", fsys)
	}
}

// createLocal creates a local file with data unless it exists (fs.ErrExist).
func createLocal(path string, data []byte) error {
	err := atomicfile.WriteNew(path, data)
	if errors.Is(err, fs.ErrExist) {
		return fs.ErrExist
	}
	return err
}

// self is this state directory as an owner, its id created on first use.
func (l *Lake) self() (owner, error) {
	dir, err := canonical(l.stateDir)
	if err != nil {
		return owner{}, err
	}
	host, _ := os.Hostname()
	path := l.ownerIDPath()
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			id := strings.TrimSpace(string(b))
			if id == "" {
				return owner{}, fmt.Errorf("%s is empty (it holds the id by which this state directory owns the lake)", path)
			}
			return owner{ID: id, StateDir: dir, Host: host}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return owner{}, fmt.Errorf("reading the state directory's owner id: %w", err)
		}
		var r [16]byte
		rand.Read(r[:])
		if err := createLocal(path, []byte(hex.EncodeToString(r[:])+"\n")); err != nil && !errors.Is(err, fs.ErrExist) {
			return owner{}, fmt.Errorf("creating the state directory's owner id: %w", err)
		}
	}
	return owner{}, fmt.Errorf("reading the state directory's owner id %s: it keeps changing", path)
}

func (l *Lake) ownerIDPath() string { return filepath.Join(l.stateDir, ownerIDName) }

// canonical is a directory's absolute path with symbolic links resolved, so
// that two spellings of one state directory read alike in messages.
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
