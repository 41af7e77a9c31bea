// Package icebergcat opens the Iceberg lake's catalog as the config
// (output.iceberg) describes it, for the verbs that write it (jobs) and
// those that only read it (the report).
package icebergcat

import (
	"context"
	"fmt"
	"strings"

	"callstats/config"
	"callstats/transform/lake/iceberg"
)

// Config is output.iceberg as the iceberg package takes it. Secrets a
// config loaded without them leaves empty (a report on a local warehouse
// needs none).
func Config(cfg *config.Config) (iceberg.CatalogConfig, error) {
	ice := &cfg.Output.Iceberg
	cc := iceberg.CatalogConfig{
		Kind: iceberg.CatalogKind(ice.Catalog), URI: cfg.IcebergCatalogURI(), Warehouse: cfg.IcebergWarehouse(),
		Namespace: ice.Namespace, ClientID: ice.ClientID, ClientSecret: ice.ClientSecret.Reveal(),
		TokenURL: ice.TokenURL, Scope: ice.Scope,
	}
	if isAzure(cc.Warehouse) {
		var err error
		cc.IOProps, err = iceberg.AzureIOProps(cc.Warehouse, iceberg.AzureCredentials{
			ConnectionString: ice.AzureConnectionString.Reveal(),
			AccountKey:       ice.AzureAccountKey.Reveal(),
			SASToken:         ice.AzureSASToken.Reveal(),
		})
		if err != nil {
			return cc, fmt.Errorf("output.iceberg.warehouse: %w", err)
		}
	}
	return cc, nil
}

// isAzure reports whether a warehouse is an Azure Blob / ADLS URL.
func isAzure(warehouse string) bool {
	scheme, _, ok := strings.Cut(warehouse, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "abfs", "abfss", "wasb", "wasbs":
		return true
	}
	return false
}

// OpenView opens the catalog and takes a consistent view of the tables (as
// of the last sealed batch); close closes the catalog once the view's reads
// are done.
func OpenView(ctx context.Context, cfg *config.Config) (v *iceberg.View, close func() error, err error) {
	cc, err := Config(cfg)
	if err != nil {
		return nil, nil, err
	}
	cat, err := iceberg.OpenCatalog(ctx, cc)
	if err != nil {
		return nil, nil, err
	}
	if v, err = cat.View(ctx); err != nil {
		cat.Close()
		return nil, nil, err
	}
	return v, cat.Close, nil
}
