package main

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/config"
	"callstats/transform/lake/iceberg"
)

// icebergScan reads the tables of a view of the Iceberg lake.
func icebergScan(v *iceberg.View) tableScan {
	return func(ctx context.Context, table string, fn func(arrow.RecordBatch) error) error {
		return v.Scan(ctx, table, iceberg.Query{}, fn)
	}
}

// printIcebergHowTo prints where the demo's Iceberg tables are and how to
// read them with PyIceberg and DuckDB (docs/lake.md), with the real paths.
func printIcebergHowTo(w io.Writer, cfg *config.Config, v *iceberg.View) {
	ns := cfg.Output.Iceberg.Namespace
	fmt.Fprintf(w, "\nIceberg tables (namespace %s): warehouse %s, SQLite catalog %s\n", ns, cfg.IcebergWarehouse(), cfg.IcebergCatalogURI())
	fmt.Fprintf(w, `Read them with PyIceberg:
  from pyiceberg.catalog import load_catalog
  cat = load_catalog("callstats", type="sql", uri="sqlite:///%s", warehouse="file://%s")
  print(cat.load_table("%s.streams").scan(selected_fields=("quality",)).to_arrow().group_by("quality").aggregate([("quality", "count")]))
`, cfg.IcebergCatalogURI(), cfg.IcebergWarehouse(), ns)
	fmt.Fprintf(w, `or with DuckDB (iceberg extension), from the table's current metadata file:
  INSTALL iceberg; LOAD iceberg;
  SELECT quality, count(*) FROM iceberg_scan('%s') GROUP BY 1;
`, v.MetadataLocation("streams"))
}
