package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAzureTableLoad proves that each credential form is read into its
// secret, that lookback defaults to 2h and that delete_after takes days.
func TestAzureTableLoad(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("a2V5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		section string
		env     []string
		check   func(*AzureTable) bool
	}{
		{"connection string", "    table: calls\n    connection_string_env: AZ_CONN\n", []string{"AZ_CONN=DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net"},
			func(a *AzureTable) bool {
				return strings.HasPrefix(a.ConnectionString.Reveal(), "DefaultEndpointsProtocol=")
			}},
		{"account key file", "    endpoint: http://127.0.0.1:10002/devstoreaccount1\n    table: calls\n    account_name: devstoreaccount1\n    account_key_file: " + keyFile + "\n", nil,
			func(a *AzureTable) bool {
				return a.AccountName == "devstoreaccount1" && a.AccountKey.Reveal() == "a2V5"
			}},
		{"sas", "    endpoint: https://acct.table.core.windows.net/\n    table: calls\n    sas_env: AZ_SAS\n    delete_after: 14d\n    lookback: 3h\n", []string{"AZ_SAS=?sv=2019-02-02&sig=x"},
			func(a *AzureTable) bool {
				d, err := a.DeleteAfterDuration()
				return a.SAS.Reveal() == "?sv=2019-02-02&sig=x" && d == 14*24*time.Hour && err == nil && a.Lookback == 3*time.Hour
			}},
		{"from the environment alone", "", []string{"CALLSTATS_QUEUE_AZURE_TABLE_TABLE=calls", "CALLSTATS_QUEUE_AZURE_TABLE_SAS_ENV=AZ_SAS",
			"CALLSTATS_QUEUE_AZURE_TABLE_ENDPOINT=https://acct.table.core.windows.net", "AZ_SAS=sig=x"},
			func(a *AzureTable) bool { return a.Table == "calls" && a.SAS.Reveal() == "sig=x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := teamsYAML
			if tt.section != "" {
				yml += "queue:\n  azure_table:\n" + tt.section
			}
			c, err := load("q.yaml", []byte(yml), append([]string{"GRAPH_CLIENT_SECRET=s"}, tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			a := c.Queue.AzureTable
			if a == nil {
				t.Fatal("queue.azure_table not enabled")
			}
			if !tt.check(a) {
				t.Errorf("section = %+v", *a)
			}
			if tt.name != "sas" && a.Lookback != DefaultAzureTableLookback {
				t.Errorf("lookback %s, want the default %s", a.Lookback, DefaultAzureTableLookback)
			}
		})
	}

	c, err := load("q.yaml", []byte(teamsYAML), []string{"GRAPH_CLIENT_SECRET=s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue.AzureTable != nil {
		t.Error("queue.azure_table enabled without the section")
	}
}

// TestAzureTableInvalid proves each problem is reported alone, naming its key.
func TestAzureTableInvalid(t *testing.T) {
	const ok = "    endpoint: https://acct.table.core.windows.net\n    table: calls\n"
	tests := []struct {
		name, section, want string
	}{
		{"no credential", ok, "queue.azure_table: no credential"},
		{"two credentials", ok + "    sas_env: AZ_SAS\n    account_name: a\n    account_key_env: AZ_KEY\n", "queue.azure_table: set only one credential"},
		{"key without name", ok + "    account_key_env: AZ_KEY\n", "queue.azure_table.account_name: required with account_key_env or account_key_file"},
		{"name without key", ok + "    account_name: a\n", "queue.azure_table.account_key_env: required"},
		{"sas env and file", ok + "    sas_env: AZ_SAS\n    sas_file: /run/sas\n", "queue.azure_table.sas_env: set only one of sas_env and sas_file"},
		{"endpoint with connection string", ok + "    connection_string_env: AZ_CONN\n", "queue.azure_table.endpoint: leave empty with a connection string"},
		{"endpoint missing", "    table: calls\n    sas_env: AZ_SAS\n", "queue.azure_table.endpoint: required"},
		{"endpoint with query", "    endpoint: https://acct.table.core.windows.net?sig=x\n    table: calls\n    sas_env: AZ_SAS\n", "queue.azure_table.endpoint: must not have a query"},
		{"table missing", "    endpoint: https://acct.table.core.windows.net\n    sas_env: AZ_SAS\n", "queue.azure_table.table: required"},
		{"table name", "    endpoint: https://acct.table.core.windows.net\n    table: call-ids\n    sas_env: AZ_SAS\n", `queue.azure_table.table: must be 3 to 63 letters and digits starting with a letter, got "call-ids"`},
		{"lookback zero", ok + "    sas_env: AZ_SAS\n    lookback: 0s\n", "queue.azure_table.lookback: must be greater than 0, got 0s"},
		{"delete_after days", ok + "    sas_env: AZ_SAS\n    delete_after: 2w\n", `queue.azure_table.delete_after: must be a whole number of days like 14d, or a duration like 336h, got "2w"`},
		{"delete_after short", ok + "    sas_env: AZ_SAS\n    delete_after: 2h\n", "queue.azure_table.delete_after: must be longer than lookback plus an hour (3h0m0s), got 2h"},
	}
	env := []string{"GRAPH_CLIENT_SECRET=s", "AZ_SAS=sig=x", "AZ_KEY=a2V5", "AZ_CONN=AccountName=a"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load("q.yaml", []byte(teamsYAML+"queue:\n  azure_table:\n"+tt.section), env)
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.want) {
				t.Fatalf("error:\n%v\nwant one line starting %q", err, tt.want)
			}
		})
	}
}
