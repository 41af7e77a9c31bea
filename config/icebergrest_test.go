package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIcebergRESTCatalogSecrets loads output.iceberg for a rest catalog:
// the OAuth2 client secret comes from client_secret_env or _file (a file's
// trailing newline dropped), never from the config file, and the URLs are
// checked.
func TestIcebergRESTCatalogSecrets(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "rest_secret")
	if err := os.WriteFile(secretFile, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const rest = "output:\n  format: iceberg\n  iceberg:\n    catalog: rest\n    uri: https://polaris.example/api/catalog\n    warehouse: analytics\n"
	tests := []struct {
		name       string
		yml        string
		env        []string
		wantSecret string
		wantErr    string
	}{
		{name: "secret from a file", yml: rest + "    client_id: callstats\n    client_secret_file: " + secretFile + "\n", wantSecret: "file-secret"},
		{name: "secret from the environment", yml: rest + "    client_id: callstats\n    client_secret_env: ICEBERG_SECRET\n",
			env: []string{"ICEBERG_SECRET=env-secret"}, wantSecret: "env-secret"},
		{name: "no client: no secret needed", yml: rest},
		{name: "secret variable unset", yml: rest + "    client_id: callstats\n    client_secret_env: ICEBERG_SECRET\n",
			wantErr: "output.iceberg.client_secret"},
		{name: "secret file missing", yml: rest + "    client_id: callstats\n    client_secret_file: " + secretFile + ".absent\n",
			wantErr: "output.iceberg.client_secret"},
		{name: "secret in both places", yml: rest + "    client_id: callstats\n    client_secret_env: ICEBERG_SECRET\n    client_secret_file: " + secretFile + "\n",
			env: []string{"ICEBERG_SECRET=env-secret"}, wantErr: "output.iceberg.client_secret_env: set only one of client_secret_env and client_secret_file"},
		{name: "secret written in the config", yml: rest + "    client_id: callstats\n    client_secret: hunter2\n",
			wantErr: "output.iceberg.client_secret: secrets must not be written in the config file"},
		{name: "token url not a URL", yml: rest + "    token_url: idp.example/token\n", wantErr: "output.iceberg.token_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, string(mustRead(t, "testdata/minimal.yaml"))+tc.yml)
			c, err := Load(path, append(slices.Clone(secretEnv), tc.env...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "env-secret") || strings.Contains(err.Error(), "file-secret") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ice := c.Output.Iceberg
			if got := ice.ClientSecret.Reveal(); got != tc.wantSecret {
				t.Errorf("client secret %q, want %q", got, tc.wantSecret)
			}
			if c.IcebergCatalogURI() != "https://polaris.example/api/catalog" || c.IcebergWarehouse() != "analytics" {
				t.Errorf("catalog %q, warehouse %q", c.IcebergCatalogURI(), c.IcebergWarehouse())
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
