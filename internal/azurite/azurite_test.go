package azurite_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"callstats/internal/azurite"
)

// TestCredentials checks each way callstats authenticates to a table against
// Azurite: the combinations docs/azurite.md names as working, and the SDK's
// default account SAS, which Azurite over http refuses.
func TestCredentials(t *testing.T) {
	s := azurite.Start(t)
	ctx := context.Background()
	key, err := aztables.NewSharedKeyCredential(azurite.Account, azurite.Key)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := aztables.NewServiceClientWithSharedKey(s.TableURL, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	sas := func(t *testing.T, protocol aztables.SASProtocol) string {
		v := aztables.AccountSASSignatureValues{
			Protocol:      protocol,
			Services:      "t",
			StartTime:     time.Now().Add(-time.Hour).UTC(),
			ExpiryTime:    time.Now().Add(time.Hour).UTC(),
			Permissions:   (&aztables.AccountSASPermissions{Read: true, List: true, Add: true, Update: true, Delete: true, Write: true}).String(),
			ResourceTypes: (&aztables.AccountSASResourceTypes{Service: true, Container: true, Object: true}).String(),
		}
		q, err := v.Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		return q.Encode()
	}
	tests := []struct {
		name   string
		client func(t *testing.T) (*aztables.ServiceClient, error)
		status int // 0: works
	}{
		{"shared key", func(t *testing.T) (*aztables.ServiceClient, error) {
			return aztables.NewServiceClientWithSharedKey(s.TableURL, key, nil)
		}, 0},
		{"shared key, endpoint with slash", func(t *testing.T) (*aztables.ServiceClient, error) {
			return aztables.NewServiceClientWithSharedKey(s.TableURL+"/", key, nil)
		}, 0},
		{"connection string", func(t *testing.T) (*aztables.ServiceClient, error) {
			return aztables.NewServiceClientFromConnectionString(s.ConnectionString(), nil)
		}, 0},
		{"account SAS allowing http", func(t *testing.T) (*aztables.ServiceClient, error) {
			return aztables.NewServiceClientWithNoCredential(s.TableURL+"/?"+sas(t, aztables.SASProtocolHTTPSandHTTP), nil)
		}, 0},
		{"account SAS https only (the SDK's GetAccountSASURL)", func(t *testing.T) (*aztables.ServiceClient, error) {
			return aztables.NewServiceClientWithNoCredential(s.TableURL+"/?"+sas(t, aztables.SASProtocolHTTPS), nil)
		}, http.StatusForbidden},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := fmt.Sprintf("creds%d", i)
			if _, err := admin.CreateTable(ctx, table, nil); err != nil {
				t.Fatal(err)
			}
			svc, err := tt.client(t)
			if err != nil {
				t.Fatal(err)
			}
			c := svc.NewClient(table)
			_, err = c.UpsertEntity(ctx, []byte(`{"PartitionKey":"2026120410","RowKey":"id-created"}`), nil)
			if tt.status != 0 {
				var re *azcore.ResponseError
				if !errors.As(err, &re) || re.StatusCode != tt.status {
					t.Fatalf("UpsertEntity: got %v, want HTTP %d", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("UpsertEntity: %v", err)
			}
			got, err := c.GetEntity(ctx, "2026120410", "id-created", nil)
			if err != nil {
				t.Fatalf("GetEntity: %v", err)
			}
			if len(got.Value) == 0 {
				t.Fatal("GetEntity: empty entity")
			}
		})
	}
}

// TestBlobService checks that the blob service answers as Azurite does: an
// unsigned request is refused with Azure's XML error, not a connection error.
func TestBlobService(t *testing.T) {
	s := azurite.Start(t)
	resp, err := http.Get(s.BlobURL + "?comp=list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-ms-request-id") == "" {
		t.Fatalf("GET %s?comp=list: %s, x-ms-request-id %q; want 403 from Azurite", s.BlobURL, resp.Status, resp.Header.Get("x-ms-request-id"))
	}
}
