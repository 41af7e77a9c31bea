package iceberg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"

	// The SQL catalog's SQLite driver: pure Go (no cgo), registered as "sqlite".
	_ "modernc.org/sqlite"
)

// CatalogKind names a catalog implementation.
type CatalogKind string

// The catalogs callstats can use.
const (
	// SQLCatalog keeps the catalog in a SQLite file (no server).
	SQLCatalog CatalogKind = "sql"
	// RESTCatalog talks to an Iceberg REST catalog (Polaris, Unity, Nessie,
	// Lakekeeper, Gravitino, ...).
	RESTCatalog CatalogKind = "rest"
)

// CatalogConfig says where the catalog and the warehouse are.
type CatalogConfig struct {
	Kind CatalogKind
	// URI is the SQLite file for SQLCatalog, the base URL for RESTCatalog.
	URI string
	// Warehouse is where table files go: a local directory (or file:// URL),
	// or an abfs:// / wasb:// URL for Azure. For RESTCatalog it is passed to
	// the server as the warehouse to use (a name or location; may be empty).
	Warehouse string
	// Namespace holds callstats' tables; default "callstats".
	Namespace string
	// ClientID and ClientSecret are OAuth2 client credentials for RESTCatalog
	// (exchanged at the server's token endpoint, or at TokenURL if set).
	ClientID, ClientSecret string
	TokenURL               string
	Scope                  string
	// IOProps are passed to the warehouse's file IO (for Azure: adls.* keys,
	// see AzureIOProps).
	IOProps map[string]string
}

// Catalog is an open catalog and the namespace callstats uses in it.
type Catalog struct {
	cat       catalog.Catalog
	namespace table.Identifier
	closeFn   func() error
	// props are the catalog's properties: the warehouse (SQL catalog) and
	// the file IO's settings.
	props iceberg.Properties
}

// OpenCatalog opens (and for SQLCatalog creates) the catalog and the namespace.
func OpenCatalog(ctx context.Context, cfg CatalogConfig) (*Catalog, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = "callstats"
	}
	props := iceberg.Properties{}
	for k, v := range cfg.IOProps {
		props[k] = v
	}
	c := &Catalog{namespace: table.Identifier{cfg.Namespace}, props: props}
	switch cfg.Kind {
	case SQLCatalog, "":
		if cfg.URI == "" {
			return nil, errors.New("opening SQL catalog: the SQLite file is not set")
		}
		wh, err := warehouseURL(cfg.Warehouse)
		if err != nil {
			return nil, err
		}
		props["warehouse"] = wh
		if err := os.MkdirAll(filepath.Dir(cfg.URI), 0o755); err != nil {
			return nil, fmt.Errorf("opening SQL catalog %s: %w", cfg.URI, err)
		}
		// WAL lets a reader (the report, a maintenance run) read while ingest commits.
		dsn := "file:" + cfg.URI + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening SQL catalog %s: %w", cfg.URI, err)
		}
		cat, err := sqlcat.NewCatalog("callstats", db, sqlcat.SQLite, props)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("opening SQL catalog %s: %w", cfg.URI, err)
		}
		c.cat, c.closeFn = cat, db.Close
	case RESTCatalog:
		rt := &refusalRecorder{next: http.DefaultTransport}
		opts := []rest.Option{rest.WithAdditionalProps(props), rest.WithCustomTransport(rt)}
		if cfg.Warehouse != "" {
			opts = append(opts, rest.WithWarehouseLocation(cfg.Warehouse))
		}
		if cfg.ClientID != "" {
			opts = append(opts, rest.WithCredential(cfg.ClientID+":"+cfg.ClientSecret))
		}
		if cfg.TokenURL != "" {
			u, err := url.Parse(cfg.TokenURL)
			if err != nil {
				return nil, fmt.Errorf("opening REST catalog: token URL: %w", err)
			}
			opts = append(opts, rest.WithAuthURI(u))
		}
		if cfg.Scope != "" {
			opts = append(opts, rest.WithScope(cfg.Scope))
		}
		cat, err := rest.NewCatalog(ctx, "callstats", cfg.URI, opts...)
		if err != nil {
			return nil, fmt.Errorf("opening REST catalog %s%s: %w", cfg.URI, rt.refusal(), err)
		}
		c.cat, c.closeFn = cat, cat.Close
	default:
		return nil, fmt.Errorf("opening catalog: unknown kind %q (sql or rest)", cfg.Kind)
	}
	ok, err := c.cat.CheckNamespaceExists(ctx, c.namespace)
	if err == nil && !ok {
		err = c.cat.CreateNamespace(ctx, c.namespace, nil)
		if errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			err = nil
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("opening catalog: namespace %s: %w", cfg.Namespace, err)
	}
	return c, nil
}

// warehouseURL turns a local directory into a file:// URL; URLs pass as they are.
func warehouseURL(w string) (string, error) {
	if w == "" {
		return "", errors.New("opening catalog: the warehouse is not set")
	}
	if strings.Contains(w, "://") {
		return strings.TrimSuffix(w, "/"), nil
	}
	abs, err := filepath.Abs(w)
	if err != nil {
		return "", fmt.Errorf("opening catalog: warehouse %s: %w", w, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("opening catalog: warehouse %s: %w", w, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Close releases the catalog's connections.
func (c *Catalog) Close() error { return c.closeFn() }

// ident names a table of the namespace.
func (c *Catalog) ident(name string) table.Identifier {
	return append(append(table.Identifier{}, c.namespace...), name)
}

// Load loads a table's current metadata; a table that does not exist is
// (nil, nil).
func (c *Catalog) Load(ctx context.Context, name string) (*table.Table, error) {
	t, err := c.cat.LoadTable(ctx, c.ident(name))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading table %s: %w", name, err)
	}
	return t, nil
}

// ensure loads a table, creating it if it does not exist.
func (c *Catalog) ensure(ctx context.Context, d tableDef) (*table.Table, error) {
	t, err := c.Load(ctx, d.name)
	if err != nil || t != nil {
		return t, err
	}
	return c.create(ctx, d, tableProperties)
}

// create creates a table with properties, or loads it if it exists.
func (c *Catalog) create(ctx context.Context, d tableDef, props iceberg.Properties) (*table.Table, error) {
	sc, spec, order, err := d.icebergLayout()
	if err != nil {
		return nil, err
	}
	t, err := c.cat.CreateTable(ctx, c.ident(d.name), sc,
		catalog.WithPartitionSpec(&spec), catalog.WithSortOrder(order), catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		return c.Load(ctx, d.name)
	}
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", d.name, err)
	}
	return t, nil
}
