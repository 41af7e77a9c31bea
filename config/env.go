package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// envPrefix starts every environment variable that overrides a key.
const envPrefix = "CALLSTATS_"

// parseEnviron turns KEY=VALUE entries into a map; the first entry of a
// name wins, as in os.Getenv.
func parseEnviron(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := env[k]; !dup {
			env[k] = v
		}
	}
	return env
}

// applyEnv sets every key whose CALLSTATS_ variable is in env and returns
// the errors and the names it used.
func applyEnv(c *Config, env map[string]string) (errs []error, used map[string]bool) {
	used = map[string]bool{}
	root := reflect.ValueOf(c).Elem()
	for _, s := range settings() {
		v, ok := env[s.env]
		if !ok {
			continue
		}
		used[s.env] = true
		if err := setFromString(field(root, s.index), v); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", s.env, s.path, err))
		}
	}
	return errs, used
}

// unknownEnv reports CALLSTATS_ variables that set no key, so that a typo
// does not silently leave a key at its default. CALLSTATS_NOW, the tooling
// variables and variables named by a *_env key (which hold secrets) are allowed.
func unknownEnv(c *Config, env map[string]string, used map[string]bool) []error {
	allowed := map[string]bool{envNow: true}
	for _, k := range toolingEnv {
		allowed[k] = true
	}
	for _, s := range secretRefs(c) {
		allowed[s.env] = true
	}
	var known []string
	for _, s := range settings() {
		known = append(known, s.env)
	}
	var names []string
	for k := range env {
		if strings.HasPrefix(k, envPrefix) && !used[k] && !allowed[k] && !strings.HasPrefix(k, toolingPrefix) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var errs []error
	for _, k := range names {
		msg := "unknown variable: it sets no config key"
		if slices.Contains(known, k+"_ENV") {
			msg = fmt.Sprintf("secrets are not set by CALLSTATS_ variables: put the secret in a variable of its own and name that variable in %s", k+"_ENV")
		} else if m := closest(k, known); m != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", m)
		}
		errs = append(errs, fmt.Errorf("%s: %s", k, msg))
	}
	return errs
}

// nameEnvSources rewrites each "<key>: <problem>" whose key was set by a
// CALLSTATS_ variable as "<VARIABLE> (<key>): <problem>", so the error
// points at where the value came from, as the variable's parse errors do.
func nameEnvSources(errs []error, used map[string]bool) []error {
	if len(used) == 0 {
		return errs
	}
	var from []setting
	for _, s := range settings() {
		if used[s.env] {
			from = append(from, s)
		}
	}
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = err
		for _, s := range from {
			if strings.HasPrefix(err.Error(), s.path+":") {
				out[i] = &envSourceError{env: s.env, key: s.path, err: err}
				break
			}
		}
	}
	return out
}

// envSourceError is a problem with a key whose value came from a variable.
type envSourceError struct {
	env, key string
	err      error // "<key>: <problem>"
}

func (e *envSourceError) Error() string {
	return e.env + " (" + e.key + ")" + strings.TrimPrefix(e.err.Error(), e.key)
}

func (e *envSourceError) Unwrap() error { return e.err }
