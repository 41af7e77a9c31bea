package main

// TEMPORARY, for the lead to remove on merging the config branch: it stands
// in for config.WithoutSecrets(), which that branch adds. On merge, delete
// this file and make loadConfigReadOnly (logger.go) read
//
//	return config.Load(c.config, os.Environ(), config.WithoutSecrets())
//
// Until then it loads the config with a placeholder for each secret named
// by a *_env key whose variable is unset (secrets named by *_file keys are
// still read).

import (
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"callstats/config"
)

func loadWithoutSecrets(path string, environ []string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return config.Load(path, environ)
	}
	var doc map[string]any
	if yaml.Unmarshal(data, &doc) != nil {
		return config.Load(path, environ)
	}
	set := map[string]bool{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			set[k] = true
		}
	}
	env := append([]string(nil), environ...)
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case map[string]any:
				walk(v)
			case string:
				if strings.HasSuffix(k, "_env") && v != "" && !set[v] {
					env = append(env, v+"=unused-by-a-read-only-verb")
				}
			}
		}
	}
	walk(doc)
	return config.Load(path, env)
}
