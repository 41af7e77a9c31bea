package iceberg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/internal/azurite"
	"callstats/transform/lake"
)

// ownerSide is one state directory of the owner tests: its catalog and its
// state directory.
type ownerSide struct {
	cfg      CatalogConfig
	stateDir string
}

// sqlSide is a state directory with its own SQL catalog, writing warehouse.
func sqlSide(dir, name, warehouse string) ownerSide {
	return ownerSide{
		cfg:      CatalogConfig{Kind: SQLCatalog, URI: filepath.Join(dir, name, "catalog.db"), Warehouse: warehouse},
		stateDir: filepath.Join(dir, name, "iceberg"),
	}
}

func (s ownerSide) open(ctx context.Context) (*Lake, error) {
	return Open(ctx, s.cfg, s.stateDir, Options{Allocator: memory.DefaultAllocator})
}

// mustOpen opens a side that must own the lake; the lake closes with the test.
func (s ownerSide) mustOpen(t *testing.T) *Lake {
	t.Helper()
	l, err := s.open(context.Background())
	if err != nil {
		t.Fatalf("open %s: %v", s.stateDir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// catalogTables lists the tables a side's catalog holds.
func (s ownerSide) catalogTables(t *testing.T) []string {
	t.Helper()
	c, err := OpenCatalog(context.Background(), s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var names []string
	for _, d := range tableDefs {
		tb, err := c.Load(context.Background(), d.name)
		if err != nil {
			t.Fatal(err)
		}
		if tb != nil {
			names = append(names, d.name)
		}
	}
	return names
}

// wantOtherOwner checks a refusal: lake.ErrOtherOwner, naming each of names.
func wantOtherOwner(t *testing.T, err error, names ...string) {
	t.Helper()
	if !errors.Is(err, lake.ErrOtherOwner) {
		t.Fatalf("open: %v, want lake.ErrOtherOwner", err)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("the refusal does not name %q: %v", n, err)
		}
	}
}

// TestSecondStateDirectoryIsRefused: once a state directory has written
// the lake, another one is refused, whether it brings its own SQL catalog
// over the same warehouse, shares the catalog, or finds tables a catalog
// before owner checks left in the warehouse; and the refused one creates
// no table.
func TestSecondStateDirectoryIsRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// second is the second state directory, given the first.
		second func(dir string, first ownerSide) ownerSide
		// prepare runs between the first's writes and the second's open.
		prepare func(t *testing.T, first ownerSide)
		// mention is what the refusal names besides both state directories.
		mention string
	}{
		{
			name:    "own catalog, same warehouse",
			second:  func(dir string, first ownerSide) ownerSide { return sqlSide(dir, "second", first.cfg.Warehouse) },
			mention: markerName,
		},
		{
			name: "shared catalog, other warehouse",
			second: func(dir string, first ownerSide) ownerSide {
				s := sqlSide(dir, "second", filepath.Join(dir, "warehouse2"))
				s.cfg.URI = first.cfg.URI
				return s
			},
			mention: OwnerProperty,
		},
		{
			name:   "tables from before owner checks",
			second: func(dir string, first ownerSide) ownerSide { return sqlSide(dir, "second", first.cfg.Warehouse) },
			prepare: func(t *testing.T, first ownerSide) {
				if err := os.Remove(filepath.Join(first.cfg.Warehouse, "callstats.db", markerName)); err != nil {
					t.Fatal(err)
				}
			},
			mention: "does not know",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			first := sqlSide(dir, "first", filepath.Join(dir, "warehouse"))
			l := first.mustOpen(t)
			if _, err := putGraph(t, l, t0, week(t, 3)...); err != nil {
				t.Fatal(err)
			}
			l.Close()
			if tc.prepare != nil {
				tc.prepare(t, first)
			}
			second := tc.second(dir, first)
			_, err := second.open(context.Background())
			switch tc.name {
			case "tables from before owner checks":
				// The warehouse names no owner: the tables' files do.
				wantOtherOwner(t, err, tc.mention)
			default:
				wantOtherOwner(t, err, first.stateDir, second.stateDir, tc.mention)
			}
			if second.cfg.URI != first.cfg.URI {
				if got := second.catalogTables(t); len(got) != 0 {
					t.Errorf("the refused state directory's catalog got tables %v", got)
				}
			}
			// The owner still writes.
			l = first.mustOpen(t)
			if l.Len() != 3 {
				t.Errorf("the owner reopens with %d items, want 3", l.Len())
			}
		})
	}
}

// TestSameStateDirectoryByAnotherPathIsTheOwner: the owner is the state
// directory, whatever path names it (a symbolic link, a relative path).
func TestSameStateDirectoryByAnotherPathIsTheOwner(t *testing.T) { // not parallel: it changes directory
	dir := t.TempDir()
	first := sqlSide(dir, "state", filepath.Join(dir, "warehouse"))
	l := first.mustOpen(t)
	if _, err := putGraph(t, l, t0, week(t, 2)...); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := os.Symlink(filepath.Join(dir, "state"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, sd := range []string{filepath.Join(dir, "link", "iceberg"), "state/iceberg", "./link/iceberg/"} {
		s := first
		s.stateDir = sd
		l, err := s.open(context.Background())
		if err != nil {
			t.Errorf("the owner by %q: %v", sd, err)
			continue
		}
		if l.Len() != 2 {
			t.Errorf("the owner by %q sees %d items, want 2", sd, l.Len())
		}
		l.Close()
	}
}

// TestRaceOfFirstOpensHasOneOwner: state directories opening a new lake at
// once end with exactly one owner, the others refused: over one warehouse
// with a catalog each (the warehouse's owner file decides), over one catalog
// (creating the tables decides), and over one catalog whose tables were
// created before owner checks (the claim commit decides).
func TestRaceOfFirstOpensHasOneOwner(t *testing.T) {
	t.Parallel()
	const contenders = 4
	cases := []struct {
		name string
		side func(dir string, i int) ownerSide
		// before runs before the race.
		before func(t *testing.T, dir string)
	}{
		{
			name: "catalog each, one warehouse",
			side: func(dir string, i int) ownerSide {
				return sqlSide(dir, "state"+string(rune('a'+i)), filepath.Join(dir, "warehouse"))
			},
		},
		{
			name: "one catalog, warehouse each",
			side: func(dir string, i int) ownerSide {
				s := sqlSide(dir, "state"+string(rune('a'+i)), filepath.Join(dir, "warehouse"+string(rune('a'+i))))
				s.cfg.URI = filepath.Join(dir, "catalog.db")
				return s
			},
		},
		{
			name: "one catalog, tables without owner",
			side: func(dir string, i int) ownerSide {
				s := sqlSide(dir, "state"+string(rune('a'+i)), filepath.Join(dir, "warehouse"+string(rune('a'+i))))
				s.cfg.URI = filepath.Join(dir, "catalog.db")
				return s
			},
			before: func(t *testing.T, dir string) {
				c, err := OpenCatalog(context.Background(), CatalogConfig{Kind: SQLCatalog, URI: filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "old")})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for _, d := range tableDefs {
					if _, err := c.ensure(context.Background(), d); err != nil {
						t.Fatal(err)
					}
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tc.before != nil {
				tc.before(t, dir)
			}
			sides := make([]ownerSide, contenders)
			for i := range sides {
				sides[i] = tc.side(dir, i)
			}
			winner := oneOwner(t, sides)
			// Whoever lost stays refused; the winner still owns every table.
			for i, s := range sides {
				l, err := s.open(context.Background())
				if i == winner {
					if err != nil {
						t.Fatalf("the owner reopening: %v", err)
					}
					l.Close()
				} else {
					wantOtherOwner(t, err, sides[winner].stateDir)
				}
			}
		})
	}
}

// oneOwner opens the sides at once and checks that exactly one owns the
// lake and the others are refused; it returns the owner's index.
func oneOwner(t *testing.T, sides []ownerSide) int {
	t.Helper()
	errs := make([]error, len(sides))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range sides {
		wg.Go(func() {
			<-start
			l, err := s.open(context.Background())
			if err == nil {
				l.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("state directories %d and %d both own the lake", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lake.ErrOtherOwner):
			t.Errorf("contender %d: %v, want lake.ErrOtherOwner", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no state directory owns the lake")
	}
	return winner
}

// TestReadingAnotherOwnersLakeClaimsNothing: a reader (the report, status)
// opens the catalog and a View of a lake another state directory owns, reads
// it, and changes no table.
func TestReadingAnotherOwnersLakeClaimsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.open(t)
	recs := week(t, 4)
	if _, err := putGraph(t, l, t0, recs...); err != nil {
		t.Fatal(err)
	}
	before := metadataLocations(t, e.cfg)
	l.Close()

	reader, err := OpenCatalog(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	v, err := reader.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files, err := v.DataFiles(context.Background(), "calls")
	if err != nil || len(files) == 0 {
		t.Fatalf("reading the calls table: %d files, %v", len(files), err)
	}
	after := metadataLocations(t, e.cfg)
	for name, loc := range before {
		if after[name] != loc {
			t.Errorf("reading moved table %s from %s to %s", name, loc, after[name])
		}
	}
	// The owner writes on after the read.
	l = e.open(t)
	if l.Len() != len(recs) {
		t.Errorf("the owner reopens with %d items, want %d", l.Len(), len(recs))
	}
}

func metadataLocations(t *testing.T, cfg CatalogConfig) map[string]string {
	t.Helper()
	c, err := OpenCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := map[string]string{}
	for _, d := range tableDefs {
		tb, err := c.Load(context.Background(), d.name)
		if err != nil || tb == nil {
			t.Fatalf("table %s: %v", d.name, err)
		}
		out[d.name] = tb.MetadataLocation()
	}
	return out
}

// TestTablesCarryTheOwner: every table names its owner in its properties,
// set at creation, and a table created without them (by a callstats before
// owner checks) is claimed at Open.
func TestTablesCarryTheOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := sqlSide(dir, "state", filepath.Join(dir, "warehouse"))
	c, err := OpenCatalog(context.Background(), s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Two tables exist without an owner; the others are created by Open.
	for _, d := range tableDefs[:2] {
		if _, err := c.ensure(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	l := s.mustOpen(t)
	id, err := os.ReadFile(filepath.Join(s.stateDir, ownerIDName))
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := filepath.EvalSymlinks(s.stateDir)
	for _, d := range tableDefs {
		tb, err := l.Catalog().Load(context.Background(), d.name)
		if err != nil {
			t.Fatal(err)
		}
		o, ok := tableOwner(tb)
		if !ok || o.ID != strings.TrimSpace(string(id)) || o.StateDir != canon {
			t.Errorf("table %s: owner %+v, want id %s in %s", d.name, o, id, canon)
		}
		if !strings.HasPrefix(tb.Location(), "file://"+filepath.ToSlash(filepath.Join(dir, "warehouse", "callstats.db"))+"/") {
			t.Errorf("table %s is at %s, outside the namespace directory the owner file guards", d.name, tb.Location())
		}
	}
}

// TestAzureWarehouseSecondStateDirectoryIsRefused: over an Azure warehouse
// (Azurite) too, of state directories with a SQL catalog each opening a new
// lake at once exactly one owns it; a later one is refused, by the
// warehouse's owner file or, without it, by the tables' metadata there.
func TestAzureWarehouseSecondStateDirectoryIsRefused(t *testing.T) {
	t.Parallel()
	az := azurite.Start(t)
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(ctx, "lake", nil); err != nil {
		t.Fatal(err)
	}
	warehouse := "abfs://lake@" + azurite.Account + ".dfs.core.windows.net/callstats"
	props, err := AzureIOProps(warehouse, AzureCredentials{ConnectionString: az.ConnectionString()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	side := func(name string) ownerSide {
		s := sqlSide(dir, name, warehouse)
		s.cfg.IOProps = props
		return s
	}
	sides := []ownerSide{side("a"), side("b"), side("c")}
	winner := sides[oneOwner(t, sides)]

	late := side("late")
	_, err = late.open(ctx)
	wantOtherOwner(t, err, winner.stateDir, late.stateDir, markerName)

	// Without the owner file (as a callstats before owner checks left the
	// warehouse), the tables' metadata refuses the late one.
	if _, err := client.DeleteBlob(ctx, "lake", "callstats/callstats.db/"+markerName, nil); err != nil {
		t.Fatal(err)
	}
	_, err = late.open(ctx)
	wantOtherOwner(t, err, "does not know")
	if got := late.catalogTables(t); len(got) != 0 {
		t.Errorf("the refused state directory's catalog got tables %v", got)
	}
	winner.mustOpen(t)
}
