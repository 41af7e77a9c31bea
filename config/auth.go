package config

import (
	"fmt"
	"time"
)

// How the app signs in to Entra ID (teams.auth).
const (
	// AuthSecret is the client-credentials grant with a client secret.
	AuthSecret = "secret"
	// AuthCertificate is the client-credentials grant with a client
	// assertion signed by the app's certificate (teams.certificate_file).
	AuthCertificate = "certificate"
	// AuthManagedIdentity is the Azure managed identity of the host, system
	// assigned or the user-assigned one teams.managed_identity_client_id names.
	AuthManagedIdentity = "managed_identity"
	// AuthWorkloadIdentity is a federated credential on Kubernetes (the
	// AZURE_FEDERATED_TOKEN_FILE projected by the workload identity webhook).
	AuthWorkloadIdentity = "workload_identity"
)

// defaultLoginTimeout bounds a login that does not answer.
const defaultLoginTimeout = 30 * time.Second

// validateAuth reports the problems with teams.auth and the keys it needs.
// The client secret is checked with the other secrets (authSecrets).
func (t *Teams) validateAuth() []error {
	var errs []error
	switch t.Auth {
	case AuthSecret, AuthManagedIdentity, AuthWorkloadIdentity:
		if t.CertificateFile != "" {
			errs = append(errs, fmt.Errorf("teams.certificate_file: set only with teams.auth: certificate (teams.auth is %s)", t.Auth))
		}
	case AuthCertificate:
		if t.CertificateFile == "" {
			errs = append(errs, fmt.Errorf("teams.certificate_file: required with teams.auth: certificate: a PEM file with the certificate and its private key, or a PFX file"))
		}
	default:
		errs = append(errs, fmt.Errorf("teams.auth: must be secret, certificate, managed_identity or workload_identity, got %q", t.Auth))
	}
	if t.Auth != AuthCertificate && (t.CertificatePasswordEnv != "" || t.CertificatePasswordFile != "") {
		errs = append(errs, fmt.Errorf("teams.certificate_password_env: set only with teams.auth: certificate"))
	}
	if t.Auth != AuthSecret && (t.ClientSecretEnv != "" || t.ClientSecretFile != "") {
		errs = append(errs, fmt.Errorf("teams.client_secret_env: set only with teams.auth: secret (teams.auth is %s)", t.Auth))
	}
	if t.ManagedIdentityClientID != "" && t.Auth != AuthManagedIdentity {
		errs = append(errs, fmt.Errorf("teams.managed_identity_client_id: set only with teams.auth: managed_identity"))
	}
	if err := checkLoginTimeout("teams.login_timeout", t.LoginTimeout); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// checkLoginTimeout accepts a timeout between 1 s and 10 min.
func checkLoginTimeout(key string, d time.Duration) error {
	if d < time.Second || d > 10*time.Minute {
		return fmt.Errorf("%s: must be between 1s and 10m, got %s", key, d)
	}
	return nil
}

// authSecrets are the secrets teams.auth needs: the client secret for
// secret; for certificate, the password of the certificate file when one
// of its keys names it (a PEM key without a password needs none).
func (t *Teams) authSecrets() []secretRef {
	switch t.Auth {
	case AuthSecret, "":
		return []secretRef{{"teams.client_secret", t.ClientSecretEnv, t.ClientSecretFile, &t.ClientSecret}}
	case AuthCertificate:
		if t.CertificatePasswordEnv != "" || t.CertificatePasswordFile != "" {
			return []secretRef{{"teams.certificate_password", t.CertificatePasswordEnv, t.CertificatePasswordFile, &t.CertificatePassword}}
		}
	}
	return nil
}
