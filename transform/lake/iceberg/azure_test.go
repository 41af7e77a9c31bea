package iceberg

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"callstats/internal/azurite"
	"callstats/internal/heavytest"
	"callstats/internal/icebird"
	"callstats/transform"
)

// TestAzureWarehouse writes the tables to Azure Blob Storage (Azurite), with
// the SQL catalog on local disk: the rows equal the plain lake's, read back
// by iceberg-go and by icebird straight from Azurite's blob service.
func TestAzureWarehouse(t *testing.T) {
	heavytest.Skip(t)
	t.Parallel()
	az := azurite.Start(t)
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Public read access, so that icebird reads over plain HTTP.
	if _, err := client.CreateContainer(ctx, "lake", &azblob.CreateContainerOptions{Access: to.Ptr(container.PublicAccessTypeContainer)}); err != nil {
		t.Fatal(err)
	}
	warehouse := "abfs://lake@" + azurite.Account + ".dfs.core.windows.net/callstats"
	props, err := AzureIOProps(warehouse, AzureCredentials{ConnectionString: az.ConnectionString()})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.cfg = CatalogConfig{Kind: SQLCatalog, URI: filepath.Join(e.dir, "state", "catalog.db"), Warehouse: warehouse, IOProps: props}
	l := e.open(t)
	recs := week(t, 20)
	upd := newerVersions(t, recs)[:5]
	if _, err := putGraph(t, l, t0, recs...); err != nil {
		t.Fatal(err)
	}
	if _, err := putGraph(t, l, t0.Add(time.Hour), upd...); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Maintain(ctx, MaintainOptions{Retention: time.Nanosecond, OrphanAge: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, rows(t, l, e.mem), plainRows(t, e.mem, recs, upd))

	// The files are in the container.
	n := 0
	pager := client.NewListBlobsFlatPager("lake", &azblob.ListBlobsFlatOptions{Prefix: to.Ptr("callstats/callstats.db/calls/data/")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Segment.BlobItems)
	}
	if n == 0 {
		t.Fatal("no data file of calls in the container")
	}

	icebird.Require(t)
	want := plainIcebirdRows(t, e.mem, recs, upd)
	v, err := l.Catalog().View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rw := icebird.Rewrite{From: "abfs://lake@" + azurite.Account + ".dfs.core.windows.net/", To: az.BlobURL + "/lake/"}
	for _, tb := range []string{"calls", "streams"} {
		got, err := icebird.Read(ctx, v.MetadataLocation(tb), rw)
		if err != nil {
			t.Fatal(err)
		}
		if g := icebirdRows(t, transform.Table(tb), got); !slices.Equal(g, want[tb]) {
			t.Errorf("%s: icebird reads %d rows from Azurite, the plain lake holds %d", tb, len(g), len(want[tb]))
		}
	}
}
