package entra

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
)

// TestCertificateAssertion proves that the certificate kind signs in with a
// client assertion the fake token endpoint accepts after checking its
// signature against the registered certificate, and that the claims are
// what Entra ID requires.
func TestCertificateAssertion(t *testing.T) {
	s := graphtest.NewServer(graphtest.Options{})
	defer s.Close()
	tc, err := graphtest.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s.TrustCertificate(tc.Cert)
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, tc.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := FromTeams(&config.Teams{Auth: config.AuthCertificate, TenantID: "tenant-1", ClientID: "client-1",
		LoginURL: s.URL, CertificateFile: path}, nil, nil)
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
	as := s.Assertions()
	if len(as) != 1 {
		t.Fatalf("%d assertions accepted, want 1", len(as))
	}
	a := as[0]
	if a.Header["alg"] != "RS256" || a.Header["x5t#S256"] == nil || a.Header["x5t"] != nil {
		t.Errorf("header = %v", a.Header)
	}
	tokenURL := s.URL + "/tenant-1/oauth2/v2.0/token"
	if a.Claims["aud"] != tokenURL || a.Claims["iss"] != "client-1" || a.Claims["sub"] != "client-1" || a.Claims["jti"] == "" {
		t.Errorf("claims = %v", a.Claims)
	}
	nbf, exp := a.Claims["nbf"].(float64), a.Claims["exp"].(float64)
	if exp-nbf <= 0 || exp-nbf > 3600 {
		t.Errorf("nbf %v exp %v", nbf, exp)
	}

	// Another certificate's key is refused, naming the key to check.
	other, err := graphtest.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, other.PEM, 0o600)
	cred, err = FromTeams(&config.Teams{Auth: config.AuthCertificate, TenantID: "tenant-1", ClientID: "client-1",
		LoginURL: s.URL, CertificateFile: path}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.TokenSource(s.URL + "/.default").Token()
	var le *LoginError
	if !errors.As(err, &le) || le.Temporary() || !strings.Contains(err.Error(), "AADSTS700027") ||
		!strings.Contains(err.Error(), "teams.certificate_file") || !strings.Contains(err.Error(), tokenURL) {
		t.Errorf("error = %v", err)
	}
}

// TestLoadCertificatePFX proves that a password-protected PFX file loads
// (and that a wrong password is refused without echoing it).
func TestLoadCertificatePFX(t *testing.T) {
	c, err := LoadCertificate("testdata/app.pfx", "test-password")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Thumbprint()) != 64 {
		t.Errorf("thumbprint %q", c.Thumbprint())
	}
	_, err = LoadCertificate("testdata/app.pfx", "wrong-password")
	if err == nil || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error = %v", err)
	}
}

// TestSecretErrors proves that a refused secret fails with one line naming
// the login URL, Entra's code and the key to check, and is not temporary.
func TestSecretErrors(t *testing.T) {
	s := graphtest.NewServer(graphtest.Options{})
	defer s.Close()
	for _, tt := range []struct {
		name, tenant, client, secret, want string
	}{
		{"secret", "tenant-1", "client-1", "wrong", "invalid_client AADSTS7000215; check teams.client_secret_env"},
		{"client", "tenant-1", "client-2", "secret-1", "AADSTS700016; check teams.client_id"},
		{"tenant", "tenant-2", "client-1", "secret-1", "AADSTS90002; check teams.tenant_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := New(Config{TenantID: tt.tenant, ClientID: tt.client, ClientSecret: tt.secret, LoginURL: s.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cred.TokenSource(s.URL + "/.default").Token()
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") ||
				!strings.Contains(err.Error(), s.URL+"/"+tt.tenant+"/oauth2/v2.0/token") {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if le, ok := errors.AsType[*LoginError](err); !ok || le.Temporary() {
				t.Errorf("not a permanent LoginError: %#v", err)
			}
		})
	}
}

// TestShortLivedTokens proves that a token living 60 s is renewed at half
// its lifetime, not 2 minutes before expiry (which is before it was
// issued): 100 requests over 100 s take 4 tokens, not 100.
func TestShortLivedTokens(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := graphtest.NewServer(graphtest.Options{TokenLifetime: 60 * time.Second, Now: clock})
	defer s.Close()
	cred, err := New(Config{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1", LoginURL: s.URL, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	src := cred.TokenSource(s.URL + "/.default")
	for range 100 {
		tok, err := src.Token()
		if err != nil {
			t.Fatal(err)
		}
		if !s.ValidToken(tok.AccessToken, s.URL+"/.default") {
			t.Fatalf("at %s the token held has expired", clock())
		}
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
	}
	if got := s.Stats().Tokens; got != 4 {
		t.Errorf("%d token requests for 100 s of 60 s tokens, want 4 (one every 30 s)", got)
	}
}

// TestRenewal proves the renewal rule on its own: the earlier of 2 minutes
// and half the lifetime before expiry.
func TestRenewal(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ life, want time.Duration }{
		{time.Hour, time.Hour - 2*time.Minute},
		{4 * time.Minute, 2 * time.Minute},
		{60 * time.Second, 30 * time.Second},
		{time.Second, 500 * time.Millisecond},
	} {
		if got := renewal(start, start.Add(tt.life)).Sub(start); got != tt.want {
			t.Errorf("lifetime %s: renewed after %s, want %s", tt.life, got, tt.want)
		}
	}
}

// heldTransport answers every token request with tok-1 once release is
// closed, counting the requests.
type heldTransport struct {
	release  chan struct{}
	mu       sync.Mutex
	requests int
}

func (h *heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.requests++
	h.mu.Unlock()
	<-h.release
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"token_type":"Bearer","expires_in":3599,"access_token":"tok-1"}`))}, nil
}

// TestSharedFetch proves that concurrent callers share one token request:
// all 20 are waiting (synctest.Wait) before the one request is answered.
func TestSharedFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ht := &heldTransport{release: make(chan struct{})}
		cred, err := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", LoginURL: "https://login.example.test",
			HTTPClient: &http.Client{Transport: ht}})
		if err != nil {
			t.Fatal(err)
		}
		src := cred.TokenSource("https://graph.microsoft.com/.default")
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				tok, err := src.Token()
				if err != nil || tok.AccessToken != "tok-1" {
					t.Errorf("token %v, %v", tok, err)
				}
			})
		}
		synctest.Wait() // every caller is blocked: on the request or on the shared fetch
		close(ht.release)
		wg.Wait()
		if ht.requests != 1 {
			t.Errorf("%d token requests for 20 concurrent callers, want 1", ht.requests)
		}
	})
}

// hangingTransport accepts every request and never answers, like a login
// endpoint behind a dead proxy.
type hangingTransport struct{}

func (hangingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestHangingLogin proves that a login that never answers fails within the
// login timeout (30 s of the bubble's fake clock), once, with one line
// naming the login URL and the keys to check, and not as a temporary
// failure to retry.
func TestHangingLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred, err := New(Config{TenantID: "tenant-1", ClientID: "c", ClientSecret: "s",
			LoginURL: "https://login.example.test", HTTPClient: &http.Client{Transport: hangingTransport{}}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = cred.TokenSource("https://graph.microsoft.com/.default").Token()
		if took := time.Since(start); took != DefaultLoginTimeout {
			t.Errorf("failed after %s, want %s", took, DefaultLoginTimeout)
		}
		want := "login at https://login.example.test/tenant-1/oauth2/v2.0/token failed: login did not answer within 30s (teams.login_timeout); check teams.login_url and teams.login_timeout"
		if err == nil || err.Error() != want {
			t.Errorf("error = %v\nwant    %s", err, want)
		}
		if !errors.Is(err, ErrLoginTimeout) {
			t.Error("not ErrLoginTimeout")
		}
		if le, ok := errors.AsType[*LoginError](err); !ok || le.Temporary() {
			t.Error("a hanging login must not be retried")
		}
	})
}

// TestHangingLoginRealServer is the same against a server that accepts
// the connection and never answers, with a short timeout.
func TestHangingLoginRealServer(t *testing.T) {
	stop := make(chan struct{})
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer login.Close()
	defer close(stop)
	cred, err := FromTeams(&config.Teams{Auth: config.AuthSecret, TenantID: "tenant-1", ClientID: "c",
		ClientSecret: config.NewSecret("s"), LoginURL: login.URL, LoginTimeout: 50 * time.Millisecond}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.TokenSource("https://graph.microsoft.com/.default").TokenContext(t.Context())
	if !errors.Is(err, ErrLoginTimeout) || !strings.Contains(err.Error(), login.URL) {
		t.Errorf("error = %v", err)
	}
}

// TestManagedIdentity proves that the managed_identity kind gets its token
// through azidentity from the endpoint App Service announces in
// IDENTITY_ENDPOINT / IDENTITY_HEADER (a fake on loopback here), asking for
// the resource of the scope and the user-assigned identity's client id.
func TestManagedIdentity(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		if r.Header.Get("X-IDENTITY-HEADER") != "header-secret" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		exp := time.Now().Add(time.Hour).Unix()
		w.Write([]byte(`{"access_token":"mi-token-` + r.URL.Query().Get("client_id") + `","expires_on":"` +
			strconv.FormatInt(exp, 10) + `","resource":"` + r.URL.Query().Get("resource") + `","token_type":"Bearer"}`))
	}))
	defer imds.Close()
	t.Setenv("IDENTITY_ENDPOINT", imds.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "header-secret")
	cred, err := FromTeams(&config.Teams{Auth: config.AuthManagedIdentity, TenantID: "tenant-1", ClientID: "app",
		ManagedIdentityClientID: "mi-client-7", LoginTimeout: 10 * time.Second}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := cred.TokenSource("https://graph.example.test/.default")
	for range 3 {
		tok, err := src.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "mi-token-mi-client-7" || time.Until(tok.Expiry) < 50*time.Minute {
			t.Errorf("token = %+v", tok)
		}
	}
	mu.Lock()
	if len(got) != 1 {
		t.Fatalf("%d requests to the identity endpoint, want 1", len(got))
	}
	mu.Unlock()

	// The endpoint refuses: one line naming it and the key to check.
	t.Setenv("IDENTITY_HEADER", "stale")
	cred, err = FromTeams(&config.Teams{Auth: config.AuthManagedIdentity, TenantID: "tenant-1", ClientID: "app",
		ManagedIdentityClientID: "mi-client-8", LoginTimeout: 10 * time.Second}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.TokenSource("https://graph.example.test/.default").Token()
	if err == nil || !strings.Contains(err.Error(), imds.URL+"/msi/token") || !strings.Contains(err.Error(), "teams.managed_identity_client_id") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	q := got[0].URL.Query()
	if got[0].URL.Path != "/msi/token" || q.Get("resource") != "https://graph.example.test" || q.Get("client_id") != "mi-client-7" ||
		q.Get("api-version") != "2019-08-01" {
		t.Errorf("request = %s", got[0].URL)
	}
}

// TestContextCancel proves that a caller whose context ends stops waiting.
func TestContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred, _ := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", LoginURL: "https://login.example.test",
			HTTPClient: &http.Client{Transport: hangingTransport{}}})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := cred.TokenSource("x/.default").TokenContext(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v", err)
		}
		time.Sleep(DefaultLoginTimeout) // the shared fetch ends at the login timeout
		synctest.Wait()
	})
}
