package entra

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Certificate is the app's certificate with its RSA private key, which
// signs the client assertions.
type Certificate struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// maxCertificateFile bounds how much of a certificate file is read.
const maxCertificateFile = 1 << 20

// assertionLifetime is how long a client assertion is valid.
const assertionLifetime = 10 * time.Minute

// LoadCertificate reads a PEM file holding the certificate and its private
// key (PKCS#1 or PKCS#8, unencrypted), or a PFX (PKCS#12) file, encrypted
// with password or not. The key must be RSA: Entra ID takes RS256
// assertions. Errors name the file, never the password.
func LoadCertificate(path, password string) (*Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading certificate: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCertificateFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading certificate %s: %w", path, err)
	}
	if len(data) > maxCertificateFile {
		return nil, fmt.Errorf("certificate file %s is larger than %d bytes", path, maxCertificateFile)
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	c, err := ParseCertificate(data, pw)
	if err != nil {
		return nil, fmt.Errorf("certificate file %s: %w", path, err)
	}
	return c, nil
}

// ParseCertificate is LoadCertificate for the file's contents.
func ParseCertificate(data, password []byte) (*Certificate, error) {
	certs, key, err := azidentity.ParseCertificates(data, password)
	if err != nil {
		// azidentity's message may quote the input; only its kind is kept.
		return nil, errors.New("not a PEM file with a certificate and its unencrypted private key, nor a PFX file this password opens")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is %T, not RSA: Entra ID client assertions are RS256", key)
	}
	for _, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&rk.PublicKey) {
			return &Certificate{cert: c, key: rk}, nil
		}
	}
	return nil, errors.New("no certificate in the file matches its private key")
}

// Thumbprint is the SHA-256 thumbprint of the certificate, in hex, as the
// app registration's Certificates & secrets page shows it.
func (c *Certificate) Thumbprint() string {
	sum := sha256.Sum256(c.cert.Raw)
	return hex.EncodeToString(sum[:])
}

// assertion is the client assertion for clientID at the token endpoint
// aud: an RS256 JWT whose header carries the certificate's SHA-256
// thumbprint (x5t#S256), with iss = sub = clientID, a unique jti, and nbf,
// iat and exp.
func (c *Certificate) assertion(clientID, aud string, now time.Time) (string, error) {
	sum := sha256.Sum256(c.cert.Raw)
	header := map[string]string{
		"alg":      "RS256",
		"typ":      "JWT",
		"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:]),
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	jti[6] = jti[6]&0x0f | 0x40 // a version 4 UUID
	jti[8] = jti[8]&0x3f | 0x80
	id := hex.EncodeToString(jti[:])
	claims := map[string]any{
		"aud": aud,
		"iss": clientID,
		"sub": clientID,
		"jti": id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:],
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cl, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(cl)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
