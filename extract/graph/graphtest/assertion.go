package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// clientAssertionType is the only client_assertion_type Entra ID takes.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// OutlookScope is the scope of a token for SMTP with XOAUTH2; the token
// endpoint issues tokens for it as well as for {URL}/.default.
const OutlookScope = "https://outlook.office365.com/.default"

// Assertion is a client assertion the token endpoint accepted, decoded.
type Assertion struct {
	Header map[string]any
	Claims map[string]any
}

// TestCertificate is a self-signed certificate with its RSA key, made for
// a test: PEM holds both, as a certificate_file would.
type TestCertificate struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	PEM  []byte
}

// NewCertificate makes a self-signed certificate for the app, valid for a
// day, with a 2048-bit RSA key.
func NewCertificate() (*TestCertificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "callstats test app"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	p = append(p, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	return &TestCertificate{Cert: cert, Key: key, PEM: p}, nil
}

// TrustCertificate registers cert with the app, as uploading it to the app
// registration does: client assertions signed with its key are accepted.
func (s *Server) TrustCertificate(cert *x509.Certificate) {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	s.m365.certs = append(s.m365.certs, cert)
}

// Assertions returns the client assertions accepted so far, oldest first.
func (s *Server) Assertions() []Assertion {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	return append([]Assertion(nil), s.m365.assertions...)
}

// ValidToken reports whether tok is a token the server issued for scope
// that has not expired: a test SMTP server checks XOAUTH2 with it.
func (s *Server) ValidToken(tok, scope string) bool {
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	valid := ok && s.opts.Now().Before(exp)
	s.mu.Unlock()
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	return valid && s.m365.tokenScopes[tok] == scope
}

// knownScope reports a scope the token endpoint issues tokens for: one
// resource's /.default, with the OpenID scopes MSAL adds or not.
func (s *Server) knownScope(scope string) bool {
	return resourceScope(scope) == s.URL+"/.default" || resourceScope(scope) == OutlookScope
}

// resourceScope is the scope without the OpenID scopes (openid, profile,
// offline_access) that MSAL adds to every request.
func resourceScope(scope string) string {
	var rest []string
	for _, f := range strings.Fields(scope) {
		if f != "openid" && f != "profile" && f != "offline_access" {
			rest = append(rest, f)
		}
	}
	return strings.Join(rest, " ")
}

// issued records the scope of a token the endpoint issued.
func (s *Server) issued(tok, scope string) {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	if s.m365.tokenScopes == nil {
		s.m365.tokenScopes = map[string]string{}
	}
	s.m365.tokenScopes[tok] = resourceScope(scope)
}

// clientAuth is a refusal of the client's credentials, as Entra ID words it.
type clientAuth struct {
	status int
	code   string
	aadsts int
	desc   string
}

// checkClient checks the client's secret or assertion; nil when accepted.
// tenant is the tenant of the token URL.
func (s *Server) checkClient(r *http.Request, tenant, secret string) *clientAuth {
	typ, jwt := r.PostForm.Get("client_assertion_type"), r.PostForm.Get("client_assertion")
	if typ == "" && jwt == "" {
		if secret != s.opts.ClientSecret {
			return &clientAuth{http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", s.opts.ClientID)}
		}
		return nil
	}
	if secret != "" {
		return &clientAuth{http.StatusBadRequest, "invalid_request", 50027, "Only one client credential may be presented: a secret or an assertion."}
	}
	if typ != clientAssertionType {
		return &clientAuth{http.StatusBadRequest, "invalid_request", 50027, "client_assertion_type must be " + clientAssertionType + "."}
	}
	federated := !hasThumbprint(jwt)
	var a Assertion
	var why *clientAuth
	if federated {
		a, why = s.verifyFederated(jwt)
	} else {
		a, why = s.verifyAssertion(jwt, s.URL+"/"+tenant+"/oauth2/v2.0/token")
	}
	if why != nil {
		return why
	}
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	if !federated { // a federated token is presented again until it expires
		jti, _ := a.Claims["jti"].(string)
		if s.m365.jtis == nil {
			s.m365.jtis = map[string]bool{}
		}
		if s.m365.jtis[jti] {
			return &clientAuth{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation. [Reason - The jti was used before.]"}
		}
		s.m365.jtis[jti] = true
	}
	s.m365.assertions = append(s.m365.assertions, a)
	return nil
}

// verifyAssertion checks a client assertion as Entra ID does: RS256, its
// x5t#S256 header naming a trusted certificate, the signature by that
// certificate's key, aud the token URL, iss and sub the client id, a jti,
// and nbf <= now < exp (with 5 minutes of skew).
func (s *Server) verifyAssertion(jwt, aud string) (Assertion, *clientAuth) {
	bad := func(aadsts int, reason string) (Assertion, *clientAuth) {
		return Assertion{}, &clientAuth{http.StatusUnauthorized, "invalid_client", aadsts,
			"Client assertion failed signature validation. [Reason - " + reason + "]"}
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return bad(50027, "The JWT is malformed.")
	}
	var a Assertion
	for i, dst := range []*map[string]any{&a.Header, &a.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return bad(50027, "The JWT is malformed.")
		}
	}
	if a.Header["alg"] != "RS256" {
		return bad(700027, "The algorithm is not RS256.")
	}
	thumb, _ := a.Header["x5t#S256"].(string)
	s.m365.mu.Lock()
	var cert *x509.Certificate
	for _, c := range s.m365.certs {
		sum := sha256.Sum256(c.Raw)
		if base64.RawURLEncoding.EncodeToString(sum[:]) == thumb {
			cert = c
		}
	}
	s.m365.mu.Unlock()
	if cert == nil {
		return bad(700027, "The key was not found.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || !ok || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return bad(700027, "The provided signature value did not match the expected signature value.")
	}
	if a.Claims["aud"] != aud {
		return bad(700027, fmt.Sprintf("The audience claim must be %s.", aud))
	}
	if a.Claims["iss"] != s.opts.ClientID || a.Claims["sub"] != s.opts.ClientID {
		return bad(700027, "The iss and sub claims must be the client id.")
	}
	if jti, _ := a.Claims["jti"].(string); jti == "" {
		return bad(700027, "The jti claim is missing.")
	}
	nbf, nok := a.Claims["nbf"].(float64)
	exp, eok := a.Claims["exp"].(float64)
	now := float64(s.opts.Now().Unix())
	const skew = 300
	if !nok || !eok || nbf > now+skew || exp <= now-skew || exp-nbf > 24*3600 {
		return Assertion{}, &clientAuth{http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range."}
	}
	return a, nil
}

// hasThumbprint reports whether a JWT's header names a certificate
// (x5t#S256 or x5t): a certificate assertion rather than a federated token.
func hasThumbprint(jwt string) bool {
	head, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return true // verifyAssertion reports it malformed
	}
	var h map[string]any
	if json.Unmarshal(b, &h) != nil {
		return true
	}
	return h["x5t#S256"] != nil || h["x5t"] != nil
}
