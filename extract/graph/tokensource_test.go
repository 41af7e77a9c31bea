package graph

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
	"callstats/internal/entra"
)

// TestCertificateTokenSourceEndToEnd proves that the client fetches with
// the tokens of an entra.Source signed in by certificate: the fake checks
// each assertion's signature, and 60 s tokens are fetched once per 30 s of
// requests, not once per request.
func TestCertificateTokenSourceEndToEnd(t *testing.T) {
	tc, err := graphtest.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, tc.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var e *env
	e = newEnv(t, graphtest.Options{TokenLifetime: 60 * time.Second}, func(cfg *ClientConfig) {
		clk := cfg.Now
		cred, err := entra.FromTeams(&config.Teams{Auth: config.AuthCertificate, TenantID: "tenant-1", ClientID: "client-1",
			LoginURL: cfg.LoginURL, CertificateFile: path}, nil, clk)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ClientSecret, cfg.TokenSource = "", cred.TokenSource(cfg.GraphURL+"/.default")
	})
	e.srv.TrustCertificate(tc.Cert)
	const n = 60
	for i := range n {
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		e.put(t, smallRecord(id))
		if _, err := e.c.Fetch(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(2 * time.Second)
	}
	st := e.srv.Stats()
	if st.Unauthorized != 0 {
		t.Errorf("%d requests refused for an expired token", st.Unauthorized)
	}
	// 120 s of requests, a new 60 s token every 30 s.
	if st.Tokens != 4 || len(e.srv.Assertions()) != 4 {
		t.Errorf("%d tokens (%d assertions) for %d fetches over %s, want 4", st.Tokens, len(e.srv.Assertions()), n, 2*n*time.Second)
	}
}

// TestTokenSourceRefusalIsAuth proves that a refused login from a token
// source fails the fetch at once as ErrAuth, with the source's one line.
func TestTokenSourceRefusalIsAuth(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, func(cfg *ClientConfig) {
		cred, err := entra.New(entra.Config{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "wrong", LoginURL: cfg.LoginURL})
		if err != nil {
			t.Fatal(err)
		}
		cfg.ClientSecret, cfg.TokenSource = "", cred.TokenSource(cfg.GraphURL+"/.default")
	})
	e.put(t, smallRecord("00000000-0000-0000-0000-000000000001"))
	_, err := e.c.Fetch(t.Context(), "00000000-0000-0000-0000-000000000001")
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "AADSTS7000215") || len(e.rec.Waits()) != 0 {
		t.Errorf("error = %v after %d waits", err, len(e.rec.Waits()))
	}
}
