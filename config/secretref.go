package config

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// A secretRef ties one secret to the two keys that may say where it is.
type secretRef struct {
	key       string // "teams.client_secret"
	env, file string // the values of its *_env and *_file keys
	dst       *Secret
}

func secretRefs(c *Config) []secretRef {
	refs := append(teamsSecrets(c.Teams), ringCentralSecrets(c.RingCentral)...)
	refs = append(refs, serveSecrets(c)...)
	refs = append(refs, icebergSecrets(&c.Output)...)
	refs = append(refs, azureTableSecrets(c.Queue.AzureTable)...)
	return append(refs, deliverySecrets(c.Delivery)...)
}

// deliverySecrets is the SMTP password, needed only when a user is set.
func deliverySecrets(d *Delivery) []secretRef {
	if d == nil || d.User == "" || d.Auth == SMTPAuthXOAUTH2 || d.Via == ViaGraph {
		return nil
	}
	return []secretRef{{"delivery.password", d.PasswordEnv, d.PasswordFile, &d.Password}}
}

func teamsSecrets(t *Teams) []secretRef {
	if t == nil {
		return nil
	}
	return t.authSecrets()
}

func ringCentralSecrets(r *RingCentral) []secretRef {
	if r == nil {
		return nil
	}
	return []secretRef{
		{"ringcentral.client_secret", r.ClientSecretEnv, r.ClientSecretFile, &r.ClientSecret},
		{"ringcentral.jwt", r.JWTEnv, r.JWTFile, &r.JWT},
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// check reports a secret that is named in both of its places, or (when
// secrets are needed) in neither.
func (s secretRef) check(need secretNeed) error {
	switch {
	case s.env != "" && s.file != "":
		return fmt.Errorf("%s_env: set only one of %s_env and %s_file", s.key, s.leaf(), s.leaf())
	case s.env == "" && s.file == "" && s.dst.v == nil && need == needSecrets:
		return fmt.Errorf("%s_env: required: name the environment variable holding the secret (or set %s_file)", s.key, s.leaf())
	case s.env != "" && !envNameRE.MatchString(s.env):
		// Not echoed: it may be the secret itself, pasted in the wrong place.
		return fmt.Errorf("%s_env: not an environment variable name; it names the variable holding the secret, not the secret itself", s.key)
	}
	return nil
}

func (s secretRef) leaf() string { return s.key[strings.LastIndexByte(s.key, '.')+1:] }

// maxSecretFile bounds how much of a secret file is read.
const maxSecretFile = 1 << 20

// resolveSecrets reads each secret named by exactly one well-formed place.
// Errors name the key and the variable or file, never the value.
func resolveSecrets(refs []secretRef, env map[string]string) []error {
	var errs []error
	for _, s := range refs {
		if s.check(needSecrets) != nil || (s.env == "" && s.file == "") {
			continue // reported by validate, or set directly
		}
		if s.env != "" {
			v, ok := env[s.env]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s_env: environment variable %s is not set", s.key, s.env))
			case v == "":
				errs = append(errs, fmt.Errorf("%s_env: environment variable %s is empty", s.key, s.env))
			default:
				*s.dst = NewSecret(v)
			}
			continue
		}
		v, err := readSecretFile(s.file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_file: %w", s.key, err))
			continue
		}
		*s.dst = NewSecret(v)
	}
	return errs
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading secret: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("reading secret file %s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFile)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return v, nil
}
