package graphtest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// federatedAudience is the audience Entra ID requires of a federated token.
const federatedAudience = "api://AzureADTokenExchange"

// federatedCredential is a federated identity credential on the app: tokens
// of issuer for subject, signed by key (the issuer's published key).
type federatedCredential struct {
	issuer, subject string
	key             *rsa.PublicKey
}

// TrustFederated adds a federated identity credential to the app, as
// Kubernetes workload identity sets one up: a client assertion that is a
// token of issuer for subject, with audience api://AzureADTokenExchange and
// signed by key, is accepted in place of a secret.
func (s *Server) TrustFederated(issuer, subject string, key *rsa.PublicKey) {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	s.m365.federated = append(s.m365.federated, federatedCredential{issuer, subject, key})
}

// verifyFederated checks a client assertion against the federated
// credentials: the signature by the issuer's key, sub, aud and exp.
func (s *Server) verifyFederated(jwt string) (Assertion, *clientAuth) {
	bad := func(aadsts int, msg string) (Assertion, *clientAuth) {
		return Assertion{}, &clientAuth{http.StatusUnauthorized, "invalid_client", aadsts, msg}
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
	iss, _ := a.Claims["iss"].(string)
	sub, _ := a.Claims["sub"].(string)
	s.m365.mu.Lock()
	var fc *federatedCredential
	issuerKnown := false
	for i, f := range s.m365.federated {
		if f.issuer == iss {
			issuerKnown = true
			if f.subject == sub {
				fc = &s.m365.federated[i]
			}
		}
	}
	s.m365.mu.Unlock()
	switch {
	case !issuerKnown:
		return bad(700211, "No matching federated identity record found for presented assertion issuer '"+iss+"'.")
	case fc == nil:
		return bad(700213, "No matching federated identity record found for presented assertion subject '"+sub+"'.")
	case !hasAudience(a.Claims["aud"], federatedAudience):
		return bad(700212, "No matching federated identity record found for presented assertion audience.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || a.Header["alg"] != "RS256" || rsa.VerifyPKCS1v15(fc.key, crypto.SHA256, digest[:], sig) != nil {
		return bad(700027, "Client assertion failed signature validation.")
	}
	exp, ok := a.Claims["exp"].(float64)
	if !ok || exp <= float64(s.opts.Now().Unix()) {
		return bad(700024, "Client assertion is not within its valid time range.")
	}
	return a, nil
}

// serveOpenIDConfiguration is GET /{tenant}/v2.0/.well-known/openid-configuration,
// which MSAL (azidentity's workload identity) reads before its first token.
func (s *Server) serveOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if tenant != s.opts.TenantID {
		s.aadError(w, http.StatusBadRequest, "invalid_tenant", 90002, "Tenant '"+tenant+"' not found.")
		return
	}
	base := s.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                "https://login.microsoftonline.com/" + tenant + "/v2.0",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
	})
}

// hasAudience reports whether a JWT's aud, a string or a list of them,
// holds want.
func hasAudience(aud any, want string) bool {
	switch v := aud.(type) {
	case string:
		return v == want
	case []any:
		for _, a := range v {
			if a == want {
				return true
			}
		}
	}
	return false
}
