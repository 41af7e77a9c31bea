package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callstats/internal/azurite"
	"callstats/internal/heavytest"
)

// TestDemoAzureTable runs `callstats demo --queue azure-table`: the
// notifications go into a table on Azurite and ingest reads them from it.
func TestDemoAzureTable(t *testing.T) {
	heavytest.Skip(t)
	skipWaits(t)
	if testing.Short() {
		t.Skip("the demo takes a while")
	}
	if err := azurite.Installed(); err != nil {
		if os.Getenv(azurite.RequireEnv) == "1" {
			t.Fatalf("%s=1 but %v", azurite.RequireEnv, err)
		}
		// Without Azurite the demo says what to install.
		var out, errb bytes.Buffer
		if code := run([]string{"demo", "--queue", "azure-table", "--dir", filepath.Join(t.TempDir(), "demo")}, &out, &errb); code != exitCannot ||
			!strings.Contains(errb.String(), "scripts/test-deps azurite") {
			t.Fatalf("without Azurite: exit %d, %q", code, errb.String())
		}
		t.Skipf("Azurite is not installed (%v): run scripts/test-deps azurite", err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--queue", "azure-table", "--dir", dir}, &out, &errb); code != exitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"Azure table callids on Azurite", "Night 2", "In the lake: 400 calls", "Weekly workbook"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	var bad bytes.Buffer
	if code := run([]string{"demo", "--queue", "sqs", "--dir", dir}, &out, &bad); code != exitUsage {
		t.Errorf("--queue sqs: exit %d", code)
	}
}
