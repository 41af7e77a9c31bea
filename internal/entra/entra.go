// Package entra signs the app in to Entra ID (Azure AD) and hands out its
// access tokens as oauth2.TokenSources: to the Graph client, to mail
// through Graph and to SMTP with XOAUTH2. The kinds of sign-in are a client
// secret, a client assertion signed with the app's certificate, an Azure
// managed identity and a Kubernetes workload identity (the last two through
// azidentity).
//
// Every source renews its token at the earlier of 2 minutes and half its
// lifetime before expiry, lets concurrent callers share one fetch, and
// fails a login that does not answer within the login timeout with a
// LoginError, one line naming the login URL and the config key to check.
package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"callstats/config"
)

// OutlookScope is the scope of a token for SMTP (and IMAP) with XOAUTH2 on
// Exchange Online.
const OutlookScope = "https://outlook.office365.com/.default"

// DefaultLoginTimeout bounds a login when Config.LoginTimeout is zero.
const DefaultLoginTimeout = 30 * time.Second

// Config says how to sign in. Kind is one of config.AuthSecret,
// config.AuthCertificate, config.AuthManagedIdentity and
// config.AuthWorkloadIdentity ("" is secret).
type Config struct {
	Kind               string
	TenantID, ClientID string
	// LoginURL is the Entra ID host, https://login.microsoftonline.com (or a
	// national cloud's, or a fake's); a trailing slash is dropped.
	LoginURL string

	ClientSecret string       // for secret: the caller passes secret.Reveal()
	Certificate  *Certificate // for certificate (LoadCertificate)
	// ManagedIdentityClientID picks a user-assigned managed identity; ""
	// is the system-assigned one.
	ManagedIdentityClientID string

	LoginTimeout time.Duration    // 30s when zero
	HTTPClient   *http.Client     // nil: http.DefaultClient (the login timeout bounds each login)
	Now          func() time.Time // nil: time.Now; decides when a token is renewed
}

// Credential is the app's sign-in. It is safe for concurrent use; its token
// sources share nothing but the sign-in itself.
type Credential struct {
	cfg     Config
	fetcher fetcher
	url     string // the login URL named in errors

	mu      sync.Mutex
	sources map[string]*Source // by scope
}

// A fetcher gets a new token for a scope.
type fetcher interface {
	fetch(ctx context.Context, scope string) (*oauth2.Token, error)
}

// New checks cfg and returns its Credential. It does no I/O (but the Azure
// kinds read their environment, as azidentity does).
func New(cfg Config) (*Credential, error) {
	if cfg.Kind == "" {
		cfg.Kind = config.AuthSecret
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = DefaultLoginTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.LoginURL = strings.TrimRight(cfg.LoginURL, "/")
	if cfg.LoginURL == "" {
		cfg.LoginURL = "https://login.microsoftonline.com"
	}
	if u, err := url.Parse(cfg.LoginURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("entra: login URL %q is not an http(s) URL", cfg.LoginURL)
	}
	if cfg.TenantID == "" || strings.ContainsAny(cfg.TenantID, "/?#") {
		return nil, fmt.Errorf("entra: tenant id %q is not a tenant id or domain", cfg.TenantID)
	}
	c := &Credential{cfg: cfg, sources: map[string]*Source{}}
	var err error
	switch cfg.Kind {
	case config.AuthSecret:
		if cfg.ClientID == "" || cfg.ClientSecret == "" {
			return nil, errors.New("entra: a client id and a client secret are needed for secret")
		}
		c.fetcher = newClientCredentials(cfg, url.Values{"client_secret": {cfg.ClientSecret}})
	case config.AuthCertificate:
		if cfg.ClientID == "" || cfg.Certificate == nil {
			return nil, errors.New("entra: a client id and a certificate are needed for certificate")
		}
		c.fetcher = newClientCredentials(cfg, nil)
	case config.AuthManagedIdentity:
		c.fetcher, err = newManagedIdentity(cfg)
	case config.AuthWorkloadIdentity:
		c.fetcher, err = newWorkloadIdentity(cfg)
	default:
		return nil, fmt.Errorf("entra: unknown kind of sign-in %q", cfg.Kind)
	}
	if err != nil {
		return nil, err
	}
	c.url = loginURL(c.fetcher)
	return c, nil
}

// FromTeams builds the Credential of the teams section: it reads the
// certificate file when teams.auth is certificate. httpc and now may be nil.
func FromTeams(t *config.Teams, httpc *http.Client, now func() time.Time) (*Credential, error) {
	cfg := Config{
		Kind: t.Auth, TenantID: t.TenantID, ClientID: t.ClientID, LoginURL: t.LoginURL,
		ClientSecret: t.ClientSecret.Reveal(), ManagedIdentityClientID: t.ManagedIdentityClientID,
		LoginTimeout: t.LoginTimeout, HTTPClient: httpc, Now: now,
	}
	if t.Auth == config.AuthCertificate {
		cert, err := LoadCertificate(t.CertificateFile, t.CertificatePassword.Reveal())
		if err != nil {
			return nil, fmt.Errorf("teams.certificate_file: %w", err)
		}
		cfg.Certificate = cert
	}
	return New(cfg)
}

// TokenSource returns the source of tokens for scope, such as
// "https://graph.microsoft.com/.default" or OutlookScope. Every call with
// the same scope returns the same Source, so its callers share its token.
func (c *Credential) TokenSource(scope string) *Source {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sources[scope]
	if !ok {
		s = &Source{cred: c, scope: scope}
		c.sources[scope] = s
	}
	return s
}

// loginURL is the URL a fetcher signs in at, for errors.
func loginURL(f fetcher) string {
	switch f := f.(type) {
	case *clientCredentials:
		return f.tokenURL
	case *azureCredential:
		return f.url
	}
	return ""
}
