package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AzureTable is the queue.azure_table section: the receiver's Azure Table,
// read directly (extract/queue/aztable). Exactly one credential is named:
// a connection string, an account name with its key, or a SAS token, each
// secret by exactly one of its *_env and *_file keys.
type AzureTable struct {
	// Endpoint is the table service URL (https://<account>.table.core.windows.net,
	// or http://127.0.0.1:10002/devstoreaccount1 for Azurite). Left empty
	// with a connection string, which names it.
	Endpoint string `yaml:"endpoint"`
	Table    string `yaml:"table"`

	ConnectionStringEnv  string `yaml:"connection_string_env"`
	ConnectionStringFile string `yaml:"connection_string_file"`
	ConnectionString     Secret `yaml:"-"`

	AccountName    string `yaml:"account_name"`
	AccountKeyEnv  string `yaml:"account_key_env"`
	AccountKeyFile string `yaml:"account_key_file"`
	AccountKey     Secret `yaml:"-"`

	SASEnv  string `yaml:"sas_env"`
	SASFile string `yaml:"sas_file"`
	SAS     Secret `yaml:"-"`

	// Lookback is how long after an hour ends entities may still be written
	// into its partition: each read re-reads that much before its cursor,
	// and the cursor passes an hour only that long after it ended.
	Lookback time.Duration `yaml:"lookback"`
	// DeleteAfter is how old ("14d", "336h") an entity's partition must be
	// before pruning deletes it, and only when its call is in the lake or
	// given up. "" (the default) never deletes.
	DeleteAfter string `yaml:"delete_after"`
}

// DefaultAzureTableLookback is queue.azure_table.lookback's default.
const DefaultAzureTableLookback = 2 * time.Hour

// DeleteAfterDuration returns delete_after as a duration, 0 when pruning is
// off.
func (a *AzureTable) DeleteAfterDuration() (time.Duration, error) {
	s := strings.TrimSpace(a.DeleteAfter)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("must be a whole number of days like 14d, or a duration like 336h, got %q", a.DeleteAfter)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("must be a whole number of days like 14d, or a duration like 336h, got %q", a.DeleteAfter)
	}
	return d, nil
}

// validate reports every problem with the queue.azure_table section.
func (a *AzureTable) validate(need secretNeed) []error {
	const key = "queue.azure_table"
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	connString := a.ConnectionStringEnv != "" || a.ConnectionStringFile != "" || a.ConnectionString.v != nil
	sharedKey := a.AccountName != "" || a.AccountKeyEnv != "" || a.AccountKeyFile != "" || a.AccountKey.v != nil
	sas := a.SASEnv != "" || a.SASFile != "" || a.SAS.v != nil
	switch n := count(connString, sharedKey, sas); {
	case n == 0:
		add(fmt.Errorf("%s: no credential: set connection_string_env (or _file), account_name with account_key_env (or _file), or sas_env (or _file)", key))
	case n > 1:
		add(fmt.Errorf("%s: set only one credential: a connection string, an account name and key, or a SAS", key))
	default:
		for _, s := range azureTableSecrets(a) {
			add(s.check(need))
		}
		if sharedKey && a.AccountName == "" {
			add(fmt.Errorf("%s.account_name: required with account_key_env or account_key_file", key))
		}
	}
	switch {
	case connString && a.Endpoint != "":
		add(fmt.Errorf("%s.endpoint: leave empty with a connection string, which names the endpoint", key))
	case !connString:
		add(checkTableEndpoint(key+".endpoint", a.Endpoint))
	}
	add(checkTableName(key+".table", a.Table))
	if a.Lookback <= 0 {
		add(fmt.Errorf("%s.lookback: must be greater than 0, got %s", key, a.Lookback))
	}
	if d, err := a.DeleteAfterDuration(); err != nil {
		add(fmt.Errorf("%s.delete_after: %w", key, err))
	} else if d != 0 && d <= a.Lookback+time.Hour {
		add(fmt.Errorf("%s.delete_after: must be longer than lookback plus an hour (%s), got %s", key, a.Lookback+time.Hour, a.DeleteAfter))
	}
	return errs
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// checkTableEndpoint is checkURL, but allows a path (Azurite's
// /devstoreaccount1) and a trailing slash.
func checkTableEndpoint(key, s string) error {
	return checkURL(key, strings.TrimRight(s, "/"))
}

// checkTableName applies Azure's rule: 3 to 63 letters and digits, starting
// with a letter.
func checkTableName(key, s string) error {
	if s == "" {
		return fmt.Errorf("%s: required", key)
	}
	ok := len(s) >= 3 && len(s) <= 63 && (s[0] >= 'A' && s[0] <= 'Z' || s[0] >= 'a' && s[0] <= 'z')
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%s: must be 3 to 63 letters and digits starting with a letter, got %q", key, s)
	}
	return nil
}

// azureTableSecrets are the secrets of the credential the section names:
// the account key is needed once an account name is set.
func azureTableSecrets(a *AzureTable) []secretRef {
	if a == nil {
		return nil
	}
	const key = "queue.azure_table."
	var refs []secretRef
	if a.ConnectionStringEnv != "" || a.ConnectionStringFile != "" {
		refs = append(refs, secretRef{key + "connection_string", a.ConnectionStringEnv, a.ConnectionStringFile, &a.ConnectionString})
	}
	if a.AccountName != "" || a.AccountKeyEnv != "" || a.AccountKeyFile != "" {
		refs = append(refs, secretRef{key + "account_key", a.AccountKeyEnv, a.AccountKeyFile, &a.AccountKey})
	}
	if a.SASEnv != "" || a.SASFile != "" {
		refs = append(refs, secretRef{key + "sas", a.SASEnv, a.SASFile, &a.SAS})
	}
	return refs
}
