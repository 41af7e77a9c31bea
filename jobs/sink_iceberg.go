package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/config"
	"callstats/transform/lake/iceberg"
)

// icebergSink is the lake as Iceberg tables (output.format iceberg) as a
// Sink.
type icebergSink struct{ *iceberg.Lake }

func (s icebergSink) Begin(now time.Time) SinkTx { return s.Lake.Begin(now) }

// ScanFile reads a file of PutFile from the tables as the last commit left
// them.
func (s icebergSink) ScanFile(ctx context.Context, table, date, name string, fn func(arrow.RecordBatch) error) error {
	v, err := s.Catalog().View(ctx)
	if err != nil {
		return err
	}
	return v.ScanFile(ctx, table, date, name, memory.DefaultAllocator, fn)
}

// icebergCatalogConfig is output.iceberg as the iceberg package takes it.
func icebergCatalogConfig(cfg *config.Config) (iceberg.CatalogConfig, error) {
	ice := &cfg.Output.Iceberg
	cc := iceberg.CatalogConfig{
		Kind: iceberg.CatalogKind(ice.Catalog), URI: cfg.IcebergCatalogURI(), Warehouse: cfg.IcebergWarehouse(),
		Namespace: ice.Namespace, ClientID: ice.ClientID, ClientSecret: ice.ClientSecret.Reveal(),
		TokenURL: ice.TokenURL, Scope: ice.Scope,
	}
	if isAzureWarehouse(cc.Warehouse) {
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

// isAzureWarehouse reports whether a warehouse is an Azure Blob / ADLS URL.
func isAzureWarehouse(w string) bool {
	scheme, _, ok := strings.Cut(w, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "abfs", "abfss", "wasb", "wasbs":
		return true
	}
	return false
}

// openIceberg opens the Iceberg lake of the config, finishing or undoing a
// batch a crashed run left.
func openIceberg(ctx context.Context, cfg *config.Config, log *slog.Logger) (*iceberg.Lake, error) {
	cc, err := icebergCatalogConfig(cfg)
	if err != nil {
		return nil, err
	}
	return iceberg.Open(ctx, cc, cfg.IcebergStateDir(), iceberg.Options{Logger: log})
}
