// Package aztable reads the ID queue straight from the Azure Table the
// notification receiver writes (DESIGN.md, "The ID queue"): one entity per
// notification, PartitionKey the hour it arrived (yyyyMMddHH, UTC), RowKey
// <callId>-<changeType>. It reads incrementally from a Cursor, streaming
// page by page, prunes entities whose calls are done, and upserts entities
// for a receiver that uses it as its sink.
//
// Entities become extract/queue's Entity and Call values, so a job treats
// this queue like the file queue. A malformed entity is reported as an
// *EntityError and skipped; it never stops a read and is never deleted.
//
// Against Azurite, use the path-style endpoint
// http://127.0.0.1:PORT/devstoreaccount1 (see docs/azurite.md).
package aztable

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// DefaultLookback is how long after an hour ends entities may still be
// written into its partition.
const DefaultLookback = 2 * time.Hour

// Credential is one way to authenticate to the table service: a connection
// string, an account name and key, or a SAS token. Exactly one is set.
type Credential struct {
	ConnectionString        string // names the endpoint itself; Config.Endpoint stays empty
	AccountName, AccountKey string
	SAS                     string // a service or account SAS query string, with or without the leading '?'
}

// Config says which table to use and how.
type Config struct {
	Endpoint   string // the table service URL, e.g. https://acct.table.core.windows.net
	Table      string
	Credential Credential
	// Lookback is how long after an hour ends late entities may still arrive
	// in its partition (DefaultLookback when 0).
	Lookback time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// PageSize is how many entities one query page asks for (1000, the
	// service's maximum, when 0).
	PageSize int32
	// Options are passed to the aztables client (retries, transport).
	Options *aztables.ClientOptions
}

// Table is the receiver's table.
type Table struct {
	client   *aztables.Client
	name     string
	lookback time.Duration
	now      func() time.Time
	pageSize int32
}

// New returns the table c names. It does no I/O.
func New(c Config) (*Table, error) {
	if c.Table == "" {
		return nil, errors.New("azure table: no table name")
	}
	svc, err := serviceClient(c)
	if err != nil {
		return nil, fmt.Errorf("azure table %s: %w", c.Table, err)
	}
	t := &Table{client: svc.NewClient(c.Table), name: c.Table, lookback: c.Lookback, now: c.Now, pageSize: c.PageSize}
	if t.lookback == 0 {
		t.lookback = DefaultLookback
	}
	if t.lookback < 0 {
		return nil, fmt.Errorf("azure table %s: negative lookback %s", c.Table, c.Lookback)
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.pageSize <= 0 || t.pageSize > 1000 {
		t.pageSize = 1000
	}
	return t, nil
}

func serviceClient(c Config) (*aztables.ServiceClient, error) {
	cr := c.Credential
	set := 0
	for _, b := range []bool{cr.ConnectionString != "", cr.AccountName != "" || cr.AccountKey != "", cr.SAS != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("set exactly one credential: a connection string, an account name and key, or a SAS")
	}
	if cr.ConnectionString != "" {
		if c.Endpoint != "" {
			return nil, errors.New("a connection string names the endpoint: leave the endpoint empty")
		}
		svc, err := aztables.NewServiceClientFromConnectionString(cr.ConnectionString, c.Options)
		if err != nil {
			// The SDK's message does not echo the string; keep it that way.
			return nil, fmt.Errorf("connection string: %w", err)
		}
		return svc, nil
	}
	if err := checkEndpoint(c.Endpoint); err != nil {
		return nil, err
	}
	if cr.SAS != "" {
		sas := strings.TrimPrefix(cr.SAS, "?")
		if _, err := url.ParseQuery(sas); err != nil || !strings.Contains(sas, "sig=") {
			return nil, errors.New("SAS: not a SAS token (a query string with sig=)")
		}
		return aztables.NewServiceClientWithNoCredential(strings.TrimSuffix(c.Endpoint, "/")+"/?"+sas, c.Options)
	}
	if cr.AccountName == "" || cr.AccountKey == "" {
		return nil, errors.New("shared key: both the account name and the account key are needed")
	}
	key, err := aztables.NewSharedKeyCredential(cr.AccountName, cr.AccountKey)
	if err != nil {
		return nil, errors.New("account key: not base64") // the SDK's error would not name the key, but be safe
	}
	return aztables.NewServiceClientWithSharedKey(c.Endpoint, key, c.Options)
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("endpoint: not an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.User != nil {
		return errors.New("endpoint: must not carry a query or credentials (set the SAS separately)")
	}
	return nil
}
