package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// The lake's table formats (output.format).
const (
	// FormatPlain is the Hive-partitioned Parquet lake (the default).
	FormatPlain = "plain"
	// FormatIceberg keeps the lake as Apache Iceberg tables (output.iceberg).
	FormatIceberg = "iceberg"
)

// Iceberg configures the Iceberg lake (output.iceberg), used when
// output.format is iceberg.
type Iceberg struct {
	// Catalog is sql (a SQLite file, no server) or rest.
	Catalog string `yaml:"catalog"`
	// URI: for sql the SQLite file (default {state_dir}/iceberg/catalog.db),
	// for rest the catalog's base URL.
	URI string `yaml:"uri"`
	// Warehouse: a local directory (default output.dir), or an
	// abfs://container@account.dfs.core.windows.net/path or
	// wasb://container@account.blob.core.windows.net/path URL. For rest, the
	// warehouse the server should use (may be empty).
	Warehouse string `yaml:"warehouse"`
	// Namespace holds the tables (default callstats).
	Namespace string `yaml:"namespace"`
	// SnapshotRetention: `callstats maintain` expires snapshots older than
	// this (default 168h, 7 days).
	SnapshotRetention time.Duration `yaml:"snapshot_retention"`

	// OAuth2 client credentials for a rest catalog: the secret is needed
	// when client_id is set. TokenURL defaults to the catalog's own
	// endpoint; Scope to the catalog's default.
	ClientID         string `yaml:"client_id"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecret     Secret `yaml:"-"`
	TokenURL         string `yaml:"token_url"`
	Scope            string `yaml:"scope"`

	// Azure warehouse credentials: exactly one of a connection string, an
	// account key or a SAS token (the account comes from the URL).
	AzureConnectionStringEnv  string `yaml:"azure_connection_string_env"`
	AzureConnectionStringFile string `yaml:"azure_connection_string_file"`
	AzureConnectionString     Secret `yaml:"-"`
	AzureAccountKeyEnv        string `yaml:"azure_account_key_env"`
	AzureAccountKeyFile       string `yaml:"azure_account_key_file"`
	AzureAccountKey           Secret `yaml:"-"`
	AzureSASTokenEnv          string `yaml:"azure_sas_token_env"`
	AzureSASTokenFile         string `yaml:"azure_sas_token_file"`
	AzureSASToken             Secret `yaml:"-"`
}

// icebergDefaults are the output.iceberg defaults that do not depend on
// other keys (see CatalogURI and WarehouseDir for those that do).
func icebergDefaults() Iceberg {
	return Iceberg{Catalog: "sql", Namespace: "callstats", SnapshotRetention: 7 * 24 * time.Hour}
}

// IcebergCatalogURI is the catalog URI in effect: output.iceberg.uri, or
// for the sql catalog {state_dir}/iceberg/catalog.db.
func (c *Config) IcebergCatalogURI() string {
	if c.Output.Iceberg.URI != "" || c.Output.Iceberg.Catalog == "rest" {
		return c.Output.Iceberg.URI
	}
	return filepath.Join(c.StateDir, "iceberg", "catalog.db")
}

// IcebergWarehouse is the warehouse in effect: output.iceberg.warehouse,
// or output.dir for the sql catalog.
func (c *Config) IcebergWarehouse() string {
	if c.Output.Iceberg.Warehouse != "" || c.Output.Iceberg.Catalog == "rest" {
		return c.Output.Iceberg.Warehouse
	}
	return c.Output.Dir
}

// IcebergStateDir is where the Iceberg lake keeps its item index, state
// files and batch intent: apart from the plain lake's.
func (c *Config) IcebergStateDir() string { return filepath.Join(c.StateDir, "iceberg") }

// validateOutputFormat reports every problem with output.format and, when
// it is iceberg, with output.iceberg.
func (o *Output) validateOutputFormat(need secretNeed) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch o.Format {
	case "", FormatPlain:
		return nil
	case FormatIceberg:
	default:
		return []error{fmt.Errorf("output.format: must be plain or iceberg, got %q", o.Format)}
	}
	ice := &o.Iceberg
	switch ice.Catalog {
	case "sql":
	case "rest":
		add(required("output.iceberg.uri", ice.URI))
		if ice.URI != "" {
			add(checkURL("output.iceberg.uri", ice.URI))
		}
		if ice.TokenURL != "" {
			add(checkURL("output.iceberg.token_url", ice.TokenURL))
		}
	default:
		add(fmt.Errorf("output.iceberg.catalog: must be sql or rest, got %q", ice.Catalog))
	}
	if ice.Namespace == "" || strings.ContainsAny(ice.Namespace, "./ ") {
		add(fmt.Errorf("output.iceberg.namespace: must be a name without dots, slashes or spaces, got %q", ice.Namespace))
	}
	if ice.SnapshotRetention < time.Hour {
		add(fmt.Errorf("output.iceberg.snapshot_retention: must be at least 1h, got %s", ice.SnapshotRetention))
	}
	azure := false
	if w := ice.Warehouse; strings.Contains(w, "://") {
		u, err := url.Parse(w)
		switch {
		case err != nil:
			add(fmt.Errorf("output.iceberg.warehouse: not a URL: %q", w))
		case u.Scheme == "abfs" || u.Scheme == "abfss" || u.Scheme == "wasb" || u.Scheme == "wasbs":
			azure = true
			if u.User == nil || u.User.Username() == "" || u.Host == "" {
				add(fmt.Errorf("output.iceberg.warehouse: an Azure URL names container@account.host, got %q", w))
			}
		case u.Scheme == "file":
		default:
			if ice.Catalog != "rest" {
				add(fmt.Errorf("output.iceberg.warehouse: must be a directory or an abfs:// or wasb:// URL, got scheme %q", u.Scheme))
			}
		}
	}
	for _, s := range icebergSecrets(o) {
		add(s.check(need))
	}
	n := 0
	for _, s := range azureSecrets(ice) {
		if s.env != "" || s.file != "" || s.dst.v != nil {
			n++
		}
	}
	switch {
	case azure && n != 1:
		add(fmt.Errorf("output.iceberg.azure_connection_string_env: an Azure warehouse needs exactly one of a connection string, an account key or a SAS token (*_env or *_file), got %d", n))
	case !azure && n > 0:
		add(fmt.Errorf("output.iceberg.azure_connection_string_env: Azure credentials are set but the warehouse is not an abfs:// or wasb:// URL"))
	}
	return errs
}

// icebergSecrets are the Iceberg secrets that must be read: the REST
// client secret when a client id is set, and the Azure credential given.
func icebergSecrets(o *Output) []secretRef {
	if o.Format != FormatIceberg {
		return nil
	}
	ice := &o.Iceberg
	var refs []secretRef
	if ice.ClientID != "" {
		refs = append(refs, secretRef{"output.iceberg.client_secret", ice.ClientSecretEnv, ice.ClientSecretFile, &ice.ClientSecret})
	}
	for _, s := range azureSecrets(ice) {
		if s.env != "" || s.file != "" {
			refs = append(refs, s)
		}
	}
	return refs
}

func azureSecrets(ice *Iceberg) []secretRef {
	return []secretRef{
		{"output.iceberg.azure_connection_string", ice.AzureConnectionStringEnv, ice.AzureConnectionStringFile, &ice.AzureConnectionString},
		{"output.iceberg.azure_account_key", ice.AzureAccountKeyEnv, ice.AzureAccountKeyFile, &ice.AzureAccountKey},
		{"output.iceberg.azure_sas_token", ice.AzureSASTokenEnv, ice.AzureSASTokenFile, &ice.AzureSASToken},
	}
}
