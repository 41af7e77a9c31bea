package entra

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
)

// TestWorkloadIdentity proves that the workload_identity kind signs in
// through azidentity with the Kubernetes service account token of
// AZURE_FEDERATED_TOKEN_FILE as a federated client assertion, at
// teams.login_url, and that a token for a subject the app does not trust
// is refused naming the keys to check. MSAL takes only https authorities:
// the fake is reached through a TLS proxy.
func TestWorkloadIdentity(t *testing.T) {
	s := graphtest.NewServer(graphtest.Options{})
	defer s.Close()
	target, _ := url.Parse(s.URL)
	proxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	defer proxy.Close()

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://oidc.prod-aks.azure.com/cluster-1/"
	s.TrustFederated(issuer, "system:serviceaccount:callstats:callstats", &key.PublicKey)
	saToken := func(sub string) string {
		h, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"})
		c, _ := json.Marshal(map[string]any{"iss": issuer, "sub": sub, "aud": []string{"api://AzureADTokenExchange"},
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "jti": "sa-1"})
		in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
		d := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	teams := &config.Teams{Auth: config.AuthWorkloadIdentity, TenantID: "tenant-1", ClientID: "client-1",
		LoginURL: proxy.URL, LoginTimeout: 10 * time.Second}

	os.WriteFile(file, []byte(saToken("system:serviceaccount:callstats:callstats")), 0o600)
	cred, err := FromTeams(teams, proxy.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.TokenSource(s.URL + "/.default").Token()
	if err != nil {
		t.Fatal(err)
	}
	if !s.ValidToken(tok.AccessToken, s.URL+"/.default") {
		t.Errorf("token %q not issued by the fake", tok.AccessToken)
	}
	if as := s.Assertions(); len(as) != 1 || as[0].Claims["iss"] != issuer {
		t.Errorf("assertions %+v", as)
	}

	os.WriteFile(file, []byte(saToken("system:serviceaccount:other:other")), 0o600)
	cred, err = FromTeams(teams, proxy.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.TokenSource(s.URL + "/.default").Token()
	if err == nil || !strings.Contains(err.Error(), "AADSTS700213") || !strings.Contains(err.Error(), "AZURE_FEDERATED_TOKEN_FILE") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %v", err)
	}
}
