package icebergcat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callstats/config"
	"callstats/transform/lake/iceberg"
	"callstats/transform/lake/iceberg/restcatalogtest"
)

// TestRESTCatalogFromConfig: output.iceberg for a rest catalog, with the
// client secret in a file, opens the lake on a REST catalog (the fake) and
// a view of it; a config without secrets (as the report loads it) still
// reads the lake's own credentials.
func TestRESTCatalogFromConfig(t *testing.T) {
	dir := t.TempDir()
	srv, err := restcatalogtest.New(restcatalogtest.Options{Dir: filepath.Join(dir, "rest"), Warehouse: "analytics", ClientID: "callstats", ClientSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := "teams:\n  tenant_id: t\n  client_id: app\n  client_secret_env: GRAPH_SECRET\nstate_dir: " + filepath.Join(dir, "state") + "\noutput:\n  format: iceberg\n  iceberg:\n    catalog: rest\n    uri: " + srv.URL +
		"\n    warehouse: analytics\n    client_id: callstats\n    client_secret_file: " + secret + "\n"
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]config.LoadOption{nil, {config.WithoutSecrets()}} {
		cfg, err := config.Load(path, []string{"GRAPH_SECRET=x"}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		cc, err := Config(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l, err := iceberg.Open(context.Background(), cc, cfg.IcebergStateDir(), iceberg.Options{})
		if err != nil {
			t.Fatalf("opening the lake on the REST catalog: %v", err)
		}
		l.Close()
		v, closeView, err := OpenView(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if loc := v.MetadataLocation("calls"); !strings.HasPrefix(loc, "file://"+filepath.ToSlash(filepath.Join(srv.WarehouseDir, "callstats.db", "calls", "metadata"))+"/") {
			t.Errorf("calls metadata at %s, not in the server's warehouse", loc)
		}
		closeView()
	}
	if st := srv.Stats(); st.TokensIssued < 4 || st.Unauthorized != 0 {
		t.Errorf("server stats %+v: want every open authenticated with the client credentials", st)
	}
}
