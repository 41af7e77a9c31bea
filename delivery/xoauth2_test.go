package delivery

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
	"callstats/internal/entra"
)

// TestXOAUTH2 proves that delivery.auth xoauth2 signs in to the SMTP
// server with the XOAUTH2 mechanism as delivery.user, with a token the
// app got for https://outlook.office365.com/.default, and that the mails
// then go out; and that the server refusing the token is a permanent
// failure.
func TestXOAUTH2(t *testing.T) {
	g := graphtest.NewServer(graphtest.Options{})
	defer g.Close()
	cred, err := entra.New(entra.Config{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1", LoginURL: g.URL})
	if err != nil {
		t.Fatal(err)
	}
	srv := startFakeSMTP(t)
	var mu sync.Mutex
	var sasl []string
	srv.xoauth2 = func(b64 string) bool {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return false
		}
		mu.Lock()
		sasl = append(sasl, string(raw))
		mu.Unlock()
		tok, ok := strings.CutPrefix(string(raw), "user=stats@example.com\x01auth=Bearer ")
		if !ok {
			return false
		}
		tok, ok = strings.CutSuffix(tok, "\x01\x01")
		return ok && g.ValidToken(tok, entra.OutlookScope)
	}
	d := testDelivery(srv.port())
	d.Recipients = d.Recipients[:1]
	d.Auth, d.User = config.SMTPAuthXOAUTH2, "stats@example.com"
	res, err := Deliver(context.Background(), d, week, testBooks(t), Options{StateDir: t.TempDir(), Timeout: 5 * time.Second, Credential: cred})
	if err != nil {
		t.Fatalf("Deliver: %v (%+v)", err, res)
	}
	if n := len(srv.received()); n != 1 {
		t.Errorf("%d mails received, want 1", n)
	}
	mu.Lock()
	if len(sasl) != 1 || !strings.HasSuffix(sasl[0], "\x01\x01") {
		t.Errorf("SASL strings %q", sasl)
	}
	mu.Unlock()

	// A mailbox the app may not send as: the server refuses the token.
	d.User = "other@example.com"
	res, err = Deliver(context.Background(), d, week, testBooks(t), Options{StateDir: t.TempDir(), Timeout: 5 * time.Second, Credential: cred})
	if !errors.Is(err, ErrFailed) || len(res) != 1 || !res[0].Permanent {
		t.Errorf("err = %v, results %+v: want a permanent failure", err, res)
	}
}
