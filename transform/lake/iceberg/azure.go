package iceberg

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	icebergio "github.com/apache/iceberg-go/io"

	// The Azure Blob / ADLS Gen2 file IO (abfs, abfss, wasb, wasbs), and no
	// other cloud's SDK.
	_ "github.com/apache/iceberg-go/io/gocloud/azure"
)

// AzureCredentials authenticate to an Azure warehouse: exactly one is set.
type AzureCredentials struct {
	ConnectionString string
	AccountKey       string
	SASToken         string
}

// AzureIOProps returns the file IO properties for an Azure warehouse
// (abfs://container@account.dfs.core.windows.net/path or
// wasb://container@account.blob.core.windows.net/path): the keys iceberg-go's
// Azure IO reads, for CatalogConfig.IOProps. A connection string may name
// its own BlobEndpoint (Azurite, sovereign clouds).
func AzureIOProps(warehouse string, cred AzureCredentials) (map[string]string, error) {
	u, err := url.Parse(warehouse)
	if err != nil {
		return nil, fmt.Errorf("azure warehouse %q: %w", warehouse, err)
	}
	switch u.Scheme {
	case "abfs", "abfss", "wasb", "wasbs":
	default:
		return nil, fmt.Errorf("azure warehouse %q: scheme must be abfs, abfss, wasb or wasbs", warehouse)
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("azure warehouse %q: no container (container@account.host)", warehouse)
	}
	host := u.Hostname()
	account, _, _ := strings.Cut(host, ".")
	if account == "" {
		return nil, fmt.Errorf("azure warehouse %q: no account", warehouse)
	}
	n := 0
	for _, s := range []string{cred.ConnectionString, cred.AccountKey, cred.SASToken} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("azure warehouse: exactly one of a connection string, an account key or a SAS token is needed")
	}
	props := map[string]string{}
	switch {
	case cred.ConnectionString != "":
		props[icebergio.ADLSConnectionStringPrefix+account] = cred.ConnectionString
	case cred.AccountKey != "":
		props[icebergio.ADLSSharedKeyAccountName] = account
		props[icebergio.ADLSSharedKeyAccountKey] = cred.AccountKey
	default:
		props[icebergio.ADLSSasTokenPrefix+host] = strings.TrimPrefix(cred.SASToken, "?")
	}
	return props, nil
}
