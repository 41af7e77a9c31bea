package iceberg

import (
	"maps"
	"testing"
)

func TestAzureIOProps(t *testing.T) {
	const wh = "abfs://lake@acct.dfs.core.windows.net/callstats"
	tests := []struct {
		name, warehouse string
		cred            AzureCredentials
		want            map[string]string // nil: an error
	}{
		{"connection string", wh, AzureCredentials{ConnectionString: "cs"}, map[string]string{"adls.connection-string.acct": "cs"}},
		{"account key", wh, AzureCredentials{AccountKey: "k"},
			map[string]string{"adls.auth.shared-key.account.name": "acct", "adls.auth.shared-key.account.key": "k"}},
		{"sas on wasb", "wasb://lake@acct.blob.core.windows.net/x", AzureCredentials{SASToken: "?sv=1&sig=2"},
			map[string]string{"adls.sas-token.acct.blob.core.windows.net": "sv=1&sig=2"}},
		{"two credentials", wh, AzureCredentials{AccountKey: "k", SASToken: "s"}, nil},
		{"none", wh, AzureCredentials{}, nil},
		{"no container", "abfs://acct.dfs.core.windows.net/x", AzureCredentials{AccountKey: "k"}, nil},
		{"not azure", "s3://bucket/x", AzureCredentials{AccountKey: "k"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AzureIOProps(tc.warehouse, tc.cred)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("props %v, want an error", got)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("props %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
