package config

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// envNow is the variable that fixes the clock to an RFC 3339 instant.
const envNow = "CALLSTATS_NOW"

// Load reads the YAML file at path ("" means no file), applies the
// CALLSTATS_* overrides found in environ (os.Environ() in production), fills
// in defaults, reads the secrets (from environ or from files; relative file
// paths are relative to the working directory) and validates the result. The
// error lists every problem found, one per line, each naming its key (and
// its file line or environment variable).
func Load(path string, environ []string, opts ...LoadOption) (*Config, error) {
	var data []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		data = b
	}
	return load(path, data, environ, opts...)
}

// A LoadOption changes what Load reads and requires.
type LoadOption func(*loadOptions)

type loadOptions struct {
	secrets secretNeed
}

// WithoutSecrets makes Load neither read nor require the secrets (client
// secrets, the JWT, the SMTP password), for verbs that only read the lake
// and the state: a variable or file a *_env / *_file key names may be
// missing. The Secret fields stay empty. Everything else, the form of the
// *_env / *_file keys included, is validated as before.
func WithoutSecrets() LoadOption {
	return func(o *loadOptions) { o.secrets = skipSecrets }
}

func load(name string, data []byte, environ []string, opts ...LoadOption) (*Config, error) {
	o := loadOptions{secrets: needSecrets}
	for _, opt := range opts {
		opt(&o)
	}
	c := Default()
	c.Now = nil
	if err := decodeFile(c, name, data); err != nil {
		return nil, err
	}
	env := parseEnviron(environ)
	errs, used := applyEnv(c, env)
	var now func() time.Time
	if v, ok := env[envNow]; ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not an RFC 3339 time like 2026-11-16T06:00:00Z: %q", envNow, v))
		} else {
			t = t.UTC()
			now = func() time.Time { return t }
		}
	}
	c.Now = now
	if c.Now == nil {
		c.Now = systemClock
	}
	trimURLs(c)
	problems := c.validate(o.secrets)
	if o.secrets == needSecrets {
		problems = append(problems, resolveSecrets(secretRefs(c), env)...)
	} else {
		// The lake's own credentials (an Iceberg catalog or an Azure
		// warehouse) are read even so: reading the lake needs them.
		problems = append(problems, resolveSecrets(icebergSecrets(&c.Output), env)...)
	}
	errs = append(errs, nameEnvSources(problems, used)...)
	errs = append(errs, unknownEnv(c, env, used)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}
