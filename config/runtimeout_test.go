package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRunTimeout proves that run_timeout defaults to 4h, is read from the
// file and the environment, and is refused outside 1m..168h naming the key.
func TestRunTimeout(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want time.Duration
		err  string // how the only problem ends, "" for none
	}{
		{"default", teamsOK, nil, 4 * time.Hour, ""},
		{"file", teamsOK + "run_timeout: 30m\n", nil, 30 * time.Minute, ""},
		{"environment", teamsOK, []string{"CALLSTATS_RUN_TIMEOUT=2h"}, 2 * time.Hour, ""},
		{"zero", teamsOK + "run_timeout: 0s\n", nil, 0, "run_timeout: must be between 1m and 168h, got 0s"},
		{"too short", teamsOK + "run_timeout: 30s\n", nil, 0, "run_timeout: must be between 1m and 168h, got 30s"},
		{"too long", teamsOK, []string{"CALLSTATS_RUN_TIMEOUT=200h"}, 0, "CALLSTATS_RUN_TIMEOUT (run_timeout): must be between 1m and 168h, got 200h0m0s"},
		{"not a duration", teamsOK + "run_timeout: 4\n", nil, 0, `/config.yaml:5: run_timeout: must be a duration like 24h or 90m, got "4"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeConfig(t, tt.yaml), append(slices.Clone(secretEnv), tt.env...))
			if tt.err != "" {
				if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasSuffix(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RunTimeout != tt.want {
				t.Errorf("run_timeout = %s, want %s", c.RunTimeout, tt.want)
			}
		})
	}
}
