package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateOutputFormat(t *testing.T) {
	ok := func() Output {
		return Output{Dir: "lake", BatchSize: 10, Format: FormatIceberg, Iceberg: icebergDefaults()}
	}
	tests := []struct {
		name string
		edit func(o *Output)
		want string // "" for valid
	}{
		{"plain needs no iceberg keys", func(o *Output) { o.Format, o.Iceberg = "", Iceberg{} }, ""},
		{"iceberg defaults", func(o *Output) {}, ""},
		{"unknown format", func(o *Output) { o.Format = "delta" }, `output.format: must be plain or iceberg, got "delta"`},
		{"unknown catalog", func(o *Output) { o.Iceberg.Catalog = "glue" }, `output.iceberg.catalog: must be sql or rest, got "glue"`},
		{"rest needs a uri", func(o *Output) { o.Iceberg.Catalog = "rest" }, "output.iceberg.uri: required"},
		{"rest with uri", func(o *Output) { o.Iceberg.Catalog, o.Iceberg.URI = "rest", "https://catalog.example/api" }, ""},
		{"rest client needs its secret", func(o *Output) {
			o.Iceberg.Catalog, o.Iceberg.URI, o.Iceberg.ClientID = "rest", "https://catalog.example", "callstats"
		}, "output.iceberg.client_secret_env: required"},
		{"namespace with a dot", func(o *Output) { o.Iceberg.Namespace = "a.b" }, "output.iceberg.namespace: must be a name"},
		{"retention too short", func(o *Output) { o.Iceberg.SnapshotRetention = time.Minute }, "output.iceberg.snapshot_retention: must be at least 1h, got 1m0s"},
		{"azure without credentials", func(o *Output) { o.Iceberg.Warehouse = "abfs://lake@acct.dfs.core.windows.net/callstats" },
			"an Azure warehouse needs exactly one"},
		{"azure with a key", func(o *Output) {
			o.Iceberg.Warehouse = "abfs://lake@acct.dfs.core.windows.net/callstats"
			o.Iceberg.AzureAccountKeyEnv = "AZ_KEY"
		}, ""},
		{"azure with two credentials", func(o *Output) {
			o.Iceberg.Warehouse = "wasb://lake@acct.blob.core.windows.net/callstats"
			o.Iceberg.AzureAccountKeyEnv, o.Iceberg.AzureSASTokenFile = "AZ_KEY", "/run/sas"
		}, "got 2"},
		{"azure URL without container", func(o *Output) {
			o.Iceberg.Warehouse = "abfs://acct.dfs.core.windows.net/callstats"
			o.Iceberg.AzureAccountKeyEnv = "AZ_KEY"
		}, "an Azure URL names container@account.host"},
		{"azure credentials for a local warehouse", func(o *Output) { o.Iceberg.AzureSASTokenEnv = "SAS" }, "the warehouse is not an abfs://"},
		{"s3 warehouse", func(o *Output) { o.Iceberg.Warehouse = "s3://bucket/lake" }, `got scheme "s3"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok()
			tc.edit(&o)
			err := errors.Join(o.validateOutputFormat(needSecrets)...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestIcebergPathsDefault(t *testing.T) {
	c := &Config{StateDir: "/var/callstats", Output: Output{Dir: "/lake", Format: FormatIceberg, Iceberg: icebergDefaults()}}
	if got := c.IcebergCatalogURI(); got != "/var/callstats/iceberg/catalog.db" {
		t.Errorf("catalog uri %q", got)
	}
	if got := c.IcebergWarehouse(); got != "/lake" {
		t.Errorf("warehouse %q", got)
	}
	c.Output.Iceberg.Catalog = "rest"
	if got := c.IcebergWarehouse(); got != "" {
		t.Errorf("rest warehouse %q, want empty (the server's default)", got)
	}
}
