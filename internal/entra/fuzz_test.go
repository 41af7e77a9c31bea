package entra

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzParseCertificate proves that no certificate file makes the parser
// panic, and that what it accepts has an RSA key matching its certificate.
func FuzzParseCertificate(f *testing.F) {
	if b, err := os.ReadFile("testdata/app.pfx"); err == nil {
		f.Add(b, []byte("test-password"))
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		c, err := ParseCertificate(data, password)
		if err != nil {
			return
		}
		if !c.key.PublicKey.Equal(c.cert.PublicKey) {
			t.Error("accepted a certificate that does not match its key")
		}
	})
}

// FuzzExpiresIn proves that any expires_in is read without panicking and
// is positive when accepted.
func FuzzExpiresIn(f *testing.F) {
	for _, s := range []string{`3599`, `"3599"`, `-1`, `1e3`, `""`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := expiresIn(json.RawMessage(s))
		if err == nil && d <= 0 {
			t.Errorf("expires_in %q read as %s", s, d)
		}
	})
}
