package config

import (
	"fmt"
	"log/slog"
)

// Secret holds a credential (a client secret, a JWT) read at Load time. Every
// way of printing, logging or marshalling it shows "[redacted]" (or "[empty]"
// when it holds nothing); only Reveal returns the value.
//
// The value sits behind an unexported pointer, not in a string field: fmt
// ignores String and Format while it reports a bad verb (fmt.Sprintf("%d",
// cfg) prints every field reflectively), and a string field would then be
// printed; a pointer prints as an address.
type Secret struct{ v *string }

// NewSecret wraps s, for configs built in code (the demo, tests).
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret itself ("" when not set). Call it only where
// the value is sent (a token request), never to log or print it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// String returns "[redacted]", or "[empty]" when the secret is not set.
func (s Secret) String() string {
	if s.v == nil {
		return "[empty]"
	}
	return "[redacted]"
}

// GoString returns the same as String, so %#v does not show the value.
func (s Secret) GoString() string { return s.String() }

// Format makes every fmt verb (%d and %x included, which would otherwise print
// the struct's field) print the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON encodes the redacted form as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText returns the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes log/slog record the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
