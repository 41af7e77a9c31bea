package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Secret values used by the tests; no error or rendering may contain them.
const (
	graphSecret = "graph-secret-Zq81"
	rcSecret    = "rc-secret-Zq82"
	rcJWT       = "rc-jwt-Zq83"
)

var secretEnv = []string{
	"GRAPH_CLIENT_SECRET=" + graphSecret,
	"RC_CLIENT_SECRET=" + rcSecret,
	"RC_JWT=" + rcJWT,
}

const teamsOK = `teams:
  tenant_id: contoso.onmicrosoft.com
  client_id: app-client-id
  client_secret_env: GRAPH_CLIENT_SECRET
`

const rcOK = `ringcentral:
  client_id: rc-client-id
  client_secret_env: RC_CLIENT_SECRET
  jwt_env: RC_JWT
`

// writeConfig writes text to config.yaml in a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// problems splits a joined error into its messages, with the directory of
// path (if any) removed so that messages start with "config.yaml:".
func problems(err error, path string) []string {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []string
	for _, e := range errs {
		msg := e.Error()
		if path != "" {
			msg = strings.ReplaceAll(msg, filepath.Dir(path)+string(filepath.Separator), "")
		}
		out = append(out, msg)
	}
	return out
}

// assertNoSecrets fails if s contains any of the test secrets.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{graphSecret, rcSecret, rcJWT} {
		if strings.Contains(s, v) {
			t.Errorf("%s leaks secret %q:\n%s", what, v, s)
		}
	}
}

// withoutClock returns c with Now cleared, so that configs compare with
// reflect.DeepEqual (funcs never compare equal).
func withoutClock(c *Config) *Config {
	d := *c
	d.Now = nil
	return &d
}

func wantDefaults() *Config {
	return &Config{
		StateDir:   "data/state",
		RunTimeout: 4 * time.Hour,
		Output:     Output{Dir: "data/lake", BatchSize: 5000, Format: FormatPlain, Iceberg: icebergDefaults()},
		Reports:    Reports{Dir: "data/reports", Timezone: "UTC"},
		Schedule:   Schedule{Ingest: "0 2 * * *", Report: "0 6 * * MON", Timezone: "UTC"},
		Reconcile: Reconcile{
			WindowDays: 3, InitialDays: 7,
		},
	}
}

func wantMinimalTeams() *Teams {
	return &Teams{
		TenantID:        "contoso.onmicrosoft.com",
		ClientID:        "app-client-id",
		ClientSecretEnv: "GRAPH_CLIENT_SECRET",
		ClientSecret:    NewSecret(graphSecret),
		GraphURL:        "https://graph.microsoft.com",
		LoginURL:        "https://login.microsoftonline.com",
		Concurrency:     8,
		MaxAttempts:     6,
		RetentionDays:   30,
		Auth:            AuthSecret,
		LoginTimeout:    30 * time.Second,
	}
}

// TestLoadDefaults proves that keys absent from the file and the
// environment get their documented defaults, whether the Teams section comes
// from a file or from CALLSTATS_ variables alone (path "").
func TestLoadDefaults(t *testing.T) {
	want := wantDefaults()
	want.Teams = wantMinimalTeams()
	tests := []struct {
		name    string
		path    string
		environ []string
	}{
		{"file", "testdata/minimal.yaml", secretEnv},
		{"environment only", "", append([]string{
			"CALLSTATS_TEAMS_TENANT_ID=contoso.onmicrosoft.com",
			"CALLSTATS_TEAMS_CLIENT_ID=app-client-id",
			"CALLSTATS_TEAMS_CLIENT_SECRET_ENV=GRAPH_CLIENT_SECRET",
		}, secretEnv...)},
		{"empty file", writeConfig(t, "# nothing yet\n"), append([]string{
			"CALLSTATS_TEAMS_TENANT_ID=contoso.onmicrosoft.com",
			"CALLSTATS_TEAMS_CLIENT_ID=app-client-id",
			"CALLSTATS_TEAMS_CLIENT_SECRET_ENV=GRAPH_CLIENT_SECRET",
		}, secretEnv...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.path, tt.environ)
			if err != nil {
				t.Fatal(err)
			}
			if got := withoutClock(c); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\n%+v\nwant %+v\n%+v", got, got.Teams, want, want.Teams)
			}
			if c.Now == nil || c.Now().Location() != time.UTC {
				t.Errorf("Now must be the UTC system clock")
			}
		})
	}
}

// TestLoadFull proves that every key of a complete file lands in its field
// (yaml tags), that service URLs lose their trailing slash and that secrets
// are read from the environment and from a file.
func TestLoadFull(t *testing.T) {
	c, err := Load("testdata/full.yaml", secretEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Queue:      Queue{Path: "/var/lib/callstats/callids.csv"},
		StateDir:   "/var/lib/callstats/state",
		RunTimeout: 90 * time.Minute,
		Output:     Output{Dir: "/lake/callstats", BatchSize: 250, Format: FormatPlain, Iceberg: icebergDefaults()},
		Reports:    Reports{Dir: "/srv/reports", Timezone: "Europe/Berlin"},
		Teams: &Teams{
			TenantID:        "00000000-1111-2222-3333-444444444444",
			ClientID:        "app-client-id",
			ClientSecretEnv: "GRAPH_CLIENT_SECRET",
			ClientSecret:    NewSecret(graphSecret),
			GraphURL:        "https://graph.microsoft.us",
			LoginURL:        "https://login.microsoftonline.us",
			Concurrency:     4,
			MaxAttempts:     3,
			RetentionDays:   20,
			Auth:            AuthSecret,
			LoginTimeout:    30 * time.Second,
		},
		RingCentral: &RingCentral{
			ServerURL:          "https://platform.devtest.ringcentral.com",
			ClientID:           "rc-client-id",
			ClientSecretFile:   "testdata/rc_secret.txt",
			ClientSecret:       NewSecret("rc-secret-from-file"),
			JWTEnv:             "RC_JWT",
			JWT:                NewSecret(rcJWT),
			Lookback:           36 * time.Hour,
			DownloadRecordings: true, MaxRecordingBytes: 2 << 30,
			LoginTimeout: 30 * time.Second,
		},
		Schedule:  Schedule{Ingest: "30 1 * * *", Report: "@weekly", Reconcile: "0 4 * * *", Timezone: "America/New_York"},
		Reconcile: Reconcile{WindowDays: 7, Disabled: true, InitialDays: 14},
	}
	if got := withoutClock(c); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\n%+v\n%+v\nwant %+v\n%+v\n%+v", got, got.Teams, got.RingCentral, want, want.Teams, want.RingCentral)
	}
}

// TestLoadAnchors proves that YAML aliases and merge keys are accepted.
func TestLoadAnchors(t *testing.T) {
	c, err := Load("testdata/anchors.yaml", secretEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedule.Timezone != "Europe/Berlin" || c.Teams.TenantID != "contoso.onmicrosoft.com" || c.Teams.ClientID != "app-client-id" {
		t.Errorf("aliases/merge not applied: %+v %+v", c.Schedule, c.Teams)
	}
}

// TestLoadGolden proves, for fixtures with many problems, that Load reports
// all of them at once, each naming its key (and file line), with no secret.
func TestLoadGolden(t *testing.T) {
	for _, name := range []string{"invalid", "unknown_key", "literal_secret", "wrong_types"} {
		t.Run(name, func(t *testing.T) {
			_, err := Load("testdata/"+name+".yaml", secretEnv)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			got := err.Error() + "\n"
			assertNoSecrets(t, "error", got)
			for _, lit := range []string{"literal-teams-secret-value", "literal-jwt-value", "literal-password-value"} {
				if strings.Contains(got, lit) {
					t.Errorf("error echoes the literal secret %q", lit)
				}
			}
			golden := "testdata/" + name + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("error differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestLoadInvalid proves that each bad value is reported alone (no follow-on
// noise), as "<key>: <problem>" or "<file>:<line>: <key>: <problem>".
func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want string // prefix of the only problem
	}{
		{"batch size zero", teamsOK + "output:\n  batch_size: 0\n", nil, "output.batch_size: must be greater than 0, got 0"},
		{"batch size negative", teamsOK + "output:\n  batch_size: -5\n", nil, "output.batch_size: must be greater than 0, got -5"},
		{"queue path and table", teamsOK + "queue:\n  path: q.jsonl\n  azure_table:\n    endpoint: https://a.table.core.windows.net\n    table: calls\n    sas_env: SAS\n", []string{"SAS=sv=x"}, "queue.path, queue.azure_table: set only one"},
		{"no queue, no reconcile", teamsOK + "reconcile:\n  disabled: true\n", nil, "reconcile.disabled: with no queue section"},
		{"initial days", teamsOK + "reconcile:\n  initial_days: 31\n", nil, "reconcile.initial_days: must be between 1 and 30, got 31"},
		{"state dir empty", teamsOK + "state_dir: \"\"\n", nil, "state_dir: required"},
		{"output dir empty", teamsOK + "output:\n  dir: \"\"\n", nil, "output.dir: required"},
		{"reports dir empty", teamsOK + "reports:\n  dir: \"\"\n", nil, "reports.dir: required"},
		{"reports timezone", teamsOK + "reports:\n  timezone: Mars/Base\n", nil, `reports.timezone: unknown time zone "Mars/Base"`},
		{"no source", "state_dir: x\n", nil, "no source configured: add a teams or ringcentral section"},
		{"tenant missing", "teams:\n  client_id: a\n  client_secret_env: GRAPH_CLIENT_SECRET\n", nil, "teams.tenant_id: required"},
		{"tenant with slash", "teams:\n  tenant_id: a/b\n  client_id: a\n  client_secret_env: GRAPH_CLIENT_SECRET\n", nil, `teams.tenant_id: must be a tenant GUID or domain, got "a/b"`},
		{"client id missing", "teams:\n  tenant_id: t\n  client_secret_env: GRAPH_CLIENT_SECRET\n", nil, "teams.client_id: required"},
		{"secret env and file", teamsOK + "  client_secret_file: /run/secrets/graph\n", nil, "teams.client_secret_env: set only one of client_secret_env and client_secret_file"},
		{"secret neither", "teams:\n  tenant_id: t\n  client_id: a\n", nil, "teams.client_secret_env: required: name the environment variable holding the secret (or set client_secret_file)"},
		{"secret env not a name", "teams:\n  tenant_id: t\n  client_id: a\n  client_secret_env: " + graphSecret + "+/x=\n", nil, "teams.client_secret_env: not an environment variable name"},
		{"graph url scheme", teamsOK + "  graph_url: ftp://graph.example.com\n", nil, `teams.graph_url: must be an absolute http or https URL, got "ftp://graph.example.com"`},
		{"login url relative", teamsOK + "  login_url: login.microsoftonline.com\n", nil, `teams.login_url: must be an absolute http or https URL, got "login.microsoftonline.com"`},
		{"graph url credentials", teamsOK + "  graph_url: https://me:" + graphSecret + "@graph.example.com\n", nil, "teams.graph_url: must not contain credentials"},
		{"graph url query", teamsOK + "  graph_url: https://graph.example.com/?a=1\n", nil, `teams.graph_url: must not have a query or fragment, got "https://graph.example.com/?a=1"`},
		{"graph url empty", teamsOK + "  graph_url: \"\"\n", nil, "teams.graph_url: required"},
		{"concurrency high", teamsOK + "  concurrency: 65\n", nil, "teams.concurrency: must be between 1 and 64, got 65"},
		{"concurrency zero", teamsOK + "  concurrency: 0\n", nil, "teams.concurrency: must be between 1 and 64, got 0"},
		{"max attempts", teamsOK + "  max_attempts: 21\n", nil, "teams.max_attempts: must be between 1 and 20, got 21"},
		{"retention", teamsOK + "  retention_days: 0\n", nil, "teams.retention_days: must be at least 1, got 0"},
		{"rc server url", rcOK + "  server_url: platform.ringcentral.com\n", nil, `ringcentral.server_url: must be an absolute http or https URL, got "platform.ringcentral.com"`},
		{"rc client id", "ringcentral:\n  client_secret_env: RC_CLIENT_SECRET\n  jwt_env: RC_JWT\n", nil, "ringcentral.client_id: required"},
		{"rc jwt neither", "ringcentral:\n  client_id: rc\n  client_secret_env: RC_CLIENT_SECRET\n", nil, "ringcentral.jwt_env: required: name the environment variable holding the secret (or set jwt_file)"},
		{"rc lookback zero", rcOK + "  lookback: 0s\n", nil, "ringcentral.lookback: must be greater than 0, got 0s"},
		{"rc recording cap too small", rcOK + "  max_recording_bytes: 1000\n", nil, "ringcentral.max_recording_bytes: must be between 1048576 and 1099511627776, got 1000"},
		{"ingest cron", teamsOK + "schedule:\n  ingest: \"61 * * * *\"\n", nil, `schedule.ingest: bad cron spec "61 * * * *": `},
		{"report cron empty", teamsOK + "schedule:\n  report: \"\"\n", nil, "schedule.report: required"},
		{"reconcile cron tz", teamsOK + "schedule:\n  reconcile: \"TZ=UTC 0 3 * * *\"\n", nil, `schedule.reconcile: bad cron spec "TZ=UTC 0 3 * * *": set the zone in schedule.timezone`},
		{"schedule timezone", teamsOK + "schedule:\n  timezone: Nowhere/City\n", nil, `schedule.timezone: unknown time zone "Nowhere/City"`},
		{"window low", teamsOK + "reconcile:\n  window_days: 0\n", nil, "reconcile.window_days: must be between 1 and 30, got 0"},
		{"window high", teamsOK + "reconcile:\n  window_days: 31\n", nil, "reconcile.window_days: must be between 1 and 30, got 31"},
		{"section not a mapping", "teams: [a, b]\n", nil, "config.yaml:1: teams: must be a mapping of keys to values"},
		{"top level not a mapping", "- a\n- b\n", nil, "config.yaml:1: (top level): must be a mapping of keys to values"},
		{"unknown key", teamsOK + "  tennant_id: x\n", nil, "config.yaml:5: teams.tennant_id: unknown key (did you mean tenant_id?)"},
		{"unknown section", teamsOK + "ouptut:\n  dir: x\n", nil, "config.yaml:5: ouptut: unknown key (did you mean output?)"},
		{"unknown key no suggestion", teamsOK + "reconcile:\n  colour: blue\n", nil, "config.yaml:6: reconcile.colour: unknown key (known here: window_days, disabled, initial_days)"},
		{"duplicate key", teamsOK + "  client_id: again\n", nil, "config.yaml:5: teams.client_id: set twice (first on line 3)"},
		{"int type", teamsOK + "output:\n  batch_size: lots\n", nil, `config.yaml:6: output.batch_size: must be an integer, got "lots"`},
		{"float for int", teamsOK + "  concurrency: 2.5\n", nil, `config.yaml:5: teams.concurrency: must be an integer, got "2.5"`},
		{"bool type", teamsOK + "reconcile:\n  disabled: yes\n", nil, `config.yaml:6: reconcile.disabled: must be true or false, got "yes"`},
		{"duration type", rcOK + "  lookback: 1d\n", nil, `config.yaml:5: ringcentral.lookback: must be a duration like 24h or 90m, got "1d"`},
		{"duration number", rcOK + "  lookback: 3600\n", nil, `config.yaml:5: ringcentral.lookback: must be a duration like 24h or 90m, got "3600"`},
		{"list for string", teamsOK + "state_dir: [a]\n", nil, "config.yaml:5: state_dir: must be a single value, not a list or mapping"},
		{"two documents", teamsOK + "---\n" + teamsOK, nil, "config.yaml:5: a config file holds one YAML document, found another"},
		{"bad yaml", "teams: {tenant_id: [\n", nil, "config.yaml:1: yaml: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			_, err := Load(path, append(slices.Clone(secretEnv), tt.env...))
			got := problems(err, path)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Fatalf("problems = %q\nwant one starting %q", got, tt.want)
			}
			assertNoSecrets(t, "error", err.Error())
		})
	}
}

// TestYAMLErrorLines proves that YAML errors name the line the problem is
// on: yaml.v3 names the line where the enclosing construct starts, and a
// problem with an alias's value is where the alias is used, not the anchor.
func TestYAMLErrorLines(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"tab in a mapping", teamsOK + "\n  \tconcurrency: 1\n", "config.yaml:6: yaml: found a tab character that violates indentation"},
		{"bad indentation", teamsOK + "  concurrency: 2\n concurrency: 3\n", "config.yaml:6: yaml: did not find expected key"},
		{"unclosed flow list", teamsOK + "  graph_url: [http://x\n", "config.yaml:5: yaml: did not find expected ',' or ']'"},
		{"missing colon", teamsOK + "\n\n  bad line here\n", "config.yaml:7: yaml: could not find expected ':'"},
		{"alias of a scalar as a section", "x: &a 5\n" + teamsOK + "reconcile: *a\n", "config.yaml:6: reconcile: must be a mapping of keys to values"},
		{"alias of a list as a value", "x: &l [a]\n" + teamsOK + "state_dir: *l\n", "config.yaml:6: state_dir: must be a single value, not a list or mapping"},
		{"merge of a scalar", "x: &a 5\n" + teamsOK + "reconcile:\n  <<: *a\n", "config.yaml:7: reconcile: must be a mapping of keys to values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			_, err := Load(path, secretEnv)
			got := problems(err, path)
			if len(got) == 0 || got[len(got)-1] != tt.want {
				t.Errorf("problems = %q\nwant the last %q", got, tt.want)
			}
		})
	}
}

// TestAliasBomb proves that nested merges of aliases, which would take
// exponential time to walk, are cut off with an error.
func TestAliasBomb(t *testing.T) {
	path := writeConfig(t, `a: &a {state_dir: x}
b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}
c: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}
d: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}
e: &e {<<: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}
<<: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
`)
	_, err := Load(path, secretEnv)
	got := problems(err, path)
	if len(got) == 0 || !strings.HasSuffix(got[len(got)-1], "(top level): too many aliases and merge keys") {
		t.Errorf("problems = %q", got)
	}
}

// TestLoadMissingFile proves that an unreadable config file is an error
// naming the file.
func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path, secretEnv)
	if err == nil || err.Error() != "reading config: open "+path+": no such file or directory" {
		t.Errorf("err = %v", err)
	}
}

// TestEmptySectionEnablesSource proves that a section written with no keys
// ("teams:" alone) enables its source, so its missing keys are reported
// instead of the source being silently off.
func TestEmptySectionEnablesSource(t *testing.T) {
	path := writeConfig(t, "teams:\n"+rcOK)
	_, err := Load(path, secretEnv)
	want := []string{
		"teams.tenant_id: required",
		"teams.client_id: required",
		"teams.client_secret_env: required: name the environment variable holding the secret (or set client_secret_file)",
	}
	if got := problems(err, path); !slices.Equal(got, want) {
		t.Errorf("problems = %q\nwant %q", got, want)
	}
}

// TestLiteralSecret proves that a secret written in the file is refused with
// a message pointing at *_env / *_file, and that the value is not echoed.
func TestLiteralSecret(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{teamsOK + "  client_secret: " + graphSecret + "\n",
			"config.yaml:5: teams.client_secret: secrets must not be written in the config file; say where the secret is with client_secret_env (the name of an environment variable) or client_secret_file (a file path)"},
		{rcOK + "  jwt: " + rcJWT + "\n",
			"config.yaml:5: ringcentral.jwt: secrets must not be written in the config file; say where the secret is with jwt_env (the name of an environment variable) or jwt_file (a file path)"},
		{teamsOK + "  password: " + graphSecret + "\n",
			"config.yaml:5: teams.password: secrets must not be written in the config file; say where the secret is with the matching *_env or *_file key"},
	}
	for _, tt := range tests {
		path := writeConfig(t, tt.yaml)
		_, err := Load(path, secretEnv)
		if got := problems(err, path); len(got) != 1 || got[0] != tt.want {
			t.Errorf("problems = %q\nwant %q", got, tt.want)
		}
		if err != nil {
			assertNoSecrets(t, "error", err.Error())
		}
	}
}

// TestEnvOverrides proves that CALLSTATS_ variables set keys (over the file),
// enable a section the file lacks, and that other CALLSTATS_ variables
// referenced as secret holders are allowed.
func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		got  func(*Config) any
		want any
	}{
		{"top-level string", "testdata/minimal.yaml", []string{"CALLSTATS_STATE_DIR=/srv/state"},
			func(c *Config) any { return c.StateDir }, "/srv/state"},
		{"nested int", "testdata/minimal.yaml", []string{"CALLSTATS_OUTPUT_BATCH_SIZE=10"},
			func(c *Config) any { return c.Output.BatchSize }, 10},
		{"beats the file", "testdata/full.yaml", []string{"CALLSTATS_TEAMS_CONCURRENCY=2"},
			func(c *Config) any { return c.Teams.Concurrency }, 2},
		{"url slash trimmed", "testdata/minimal.yaml", []string{"CALLSTATS_TEAMS_GRAPH_URL=http://127.0.0.1:8080/"},
			func(c *Config) any { return c.Teams.GraphURL }, "http://127.0.0.1:8080"},
		{"bool", "testdata/minimal.yaml", []string{"CALLSTATS_RECONCILE_DISABLED=true", "CALLSTATS_QUEUE_PATH=q.jsonl"},
			func(c *Config) any { return c.Reconcile.Disabled }, true},
		{"duration", "testdata/full.yaml", []string{"CALLSTATS_RINGCENTRAL_LOOKBACK=90m"},
			func(c *Config) any { return c.RingCentral.Lookback }, 90 * time.Minute},
		{"enables ringcentral with defaults", "testdata/minimal.yaml", []string{
			"CALLSTATS_RINGCENTRAL_CLIENT_ID=rc", "CALLSTATS_RINGCENTRAL_CLIENT_SECRET_ENV=RC_CLIENT_SECRET", "CALLSTATS_RINGCENTRAL_JWT_ENV=RC_JWT"},
			func(c *Config) any {
				r := *c.RingCentral
				return fmt.Sprint(r.ServerURL, " ", r.Lookback, " ", r.ClientSecret.Reveal(), " ", r.JWT.Reveal())
			}, "https://platform.ringcentral.com 24h0m0s " + rcSecret + " " + rcJWT},
		{"secret holder may be a CALLSTATS_ variable", "testdata/minimal.yaml", []string{
			"CALLSTATS_TEAMS_CLIENT_SECRET_ENV=CALLSTATS_GRAPH_SECRET", "CALLSTATS_GRAPH_SECRET=from-callstats-var"},
			func(c *Config) any { return c.Teams.ClientSecret.Reveal() }, "from-callstats-var"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.file, append(slices.Clone(secretEnv), tt.env...))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEnvErrors proves that bad values and unknown CALLSTATS_ variables are
// errors naming the variable, and that a variable's value is not echoed
// when it looks like a secret.
func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"bad int", []string{"CALLSTATS_OUTPUT_BATCH_SIZE=abc"},
			[]string{`CALLSTATS_OUTPUT_BATCH_SIZE (output.batch_size): must be an integer, got "abc"`}},
		{"bad bool", []string{"CALLSTATS_RECONCILE_DISABLED=maybe"},
			[]string{`CALLSTATS_RECONCILE_DISABLED (reconcile.disabled): must be true or false, got "maybe"`}},
		{"bad duration", []string{"CALLSTATS_RINGCENTRAL_LOOKBACK=1d"},
			[]string{`CALLSTATS_RINGCENTRAL_LOOKBACK (ringcentral.lookback): must be a duration like 24h or 90m, got "1d"`,
				"ringcentral.client_id: required",
				"ringcentral.client_secret_env: required: name the environment variable holding the secret (or set client_secret_file)",
				"ringcentral.jwt_env: required: name the environment variable holding the secret (or set jwt_file)"}},
		{"valid value, invalid key", []string{"CALLSTATS_TEAMS_CONCURRENCY=0"},
			[]string{"CALLSTATS_TEAMS_CONCURRENCY (teams.concurrency): must be between 1 and 64, got 0"}},
		{"empty value is a value", []string{"CALLSTATS_REPORTS_TIMEZONE="},
			[]string{"CALLSTATS_REPORTS_TIMEZONE (reports.timezone): required"}},
		{"invalid url", []string{"CALLSTATS_TEAMS_GRAPH_URL=graph.example.com"},
			[]string{`CALLSTATS_TEAMS_GRAPH_URL (teams.graph_url): must be an absolute http or https URL, got "graph.example.com"`}},
		{"key named like another's prefix", []string{"CALLSTATS_TEAMS_CLIENT_SECRET_ENV=", "CALLSTATS_TEAMS_CLIENT_ID="},
			[]string{"CALLSTATS_TEAMS_CLIENT_ID (teams.client_id): required",
				"CALLSTATS_TEAMS_CLIENT_SECRET_ENV (teams.client_secret_env): required: name the environment variable holding the secret (or set client_secret_file)"}},
		{"file value, env elsewhere", []string{"CALLSTATS_TEAMS_CONCURRENCY=2", "CALLSTATS_RECONCILE_WINDOW_DAYS=0"},
			[]string{"CALLSTATS_RECONCILE_WINDOW_DAYS (reconcile.window_days): must be between 1 and 30, got 0"}},
		{"typo", []string{"CALLSTATS_TEAMS_TENANTID=x"},
			[]string{"CALLSTATS_TEAMS_TENANTID: unknown variable: it sets no config key (did you mean CALLSTATS_TEAMS_TENANT_ID?)"}},
		{"unknown", []string{"CALLSTATS_COLOUR=blue", "CALLSTATS_A=1"},
			[]string{"CALLSTATS_A: unknown variable: it sets no config key", "CALLSTATS_COLOUR: unknown variable: it sets no config key"}},
		{"secret as variable", []string{"CALLSTATS_TEAMS_CLIENT_SECRET=" + graphSecret},
			[]string{"CALLSTATS_TEAMS_CLIENT_SECRET: secrets are not set by CALLSTATS_ variables: put the secret in a variable of its own and name that variable in CALLSTATS_TEAMS_CLIENT_SECRET_ENV"}},
		{"bad now", []string{"CALLSTATS_NOW=2026-11-16"},
			[]string{`CALLSTATS_NOW: not an RFC 3339 time like 2026-11-16T06:00:00Z: "2026-11-16"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("testdata/minimal.yaml", append(slices.Clone(secretEnv), tt.env...))
			if got := problems(err, ""); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err != nil {
				assertNoSecrets(t, "error", err.Error())
			}
		})
	}
}

// TestSecrets proves that secrets are read from a variable or a file (one
// trailing newline trimmed), and that a missing or empty one is an error
// naming the key and the variable or file, never a value.
func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lf := write("lf", graphSecret+"\n")
	crlf := write("crlf", graphSecret+"\r\n")
	bare := write("bare", graphSecret)
	empty := write("empty", "\n")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name   string
		env    []string
		want   string // the secret, when Load succeeds
		errors []string
	}{
		{"from env", append(slices.Clone(secretEnv), "CALLSTATS_TEAMS_CLIENT_SECRET_ENV=GRAPH_CLIENT_SECRET"), graphSecret, nil},
		{"file with newline", []string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE=" + lf}, graphSecret, nil},
		{"file with crlf", []string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE=" + crlf}, graphSecret, nil},
		{"file without newline", []string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE=" + bare}, graphSecret, nil},
		{"variable not set", append(slices.Clone(secretEnv[1:]), "CALLSTATS_TEAMS_CLIENT_SECRET_ENV=GRAPH_CLIENT_SECRET"), "",
			[]string{"CALLSTATS_TEAMS_CLIENT_SECRET_ENV (teams.client_secret_env): environment variable GRAPH_CLIENT_SECRET is not set"}},
		{"variable empty", append(slices.Clone(secretEnv[1:]), "CALLSTATS_TEAMS_CLIENT_SECRET_ENV=GRAPH_CLIENT_SECRET", "GRAPH_CLIENT_SECRET="), "",
			[]string{"CALLSTATS_TEAMS_CLIENT_SECRET_ENV (teams.client_secret_env): environment variable GRAPH_CLIENT_SECRET is empty"}},
		{"file empty", []string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE=" + empty}, "",
			[]string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE (teams.client_secret_file): secret file " + empty + " is empty"}},
		{"file missing", []string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE=" + missing}, "",
			[]string{"CALLSTATS_TEAMS_CLIENT_SECRET_FILE (teams.client_secret_file): reading secret: open " + missing + ": no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"CALLSTATS_TEAMS_TENANT_ID=t", "CALLSTATS_TEAMS_CLIENT_ID=c"}, tt.env...)
			c, err := Load("", env)
			if got := problems(err, ""); !slices.Equal(got, tt.errors) {
				t.Fatalf("problems = %q, want %q", got, tt.errors)
			}
			if err != nil {
				assertNoSecrets(t, "error", err.Error())
				return
			}
			if got := c.Teams.ClientSecret.Reveal(); got != tt.want {
				t.Errorf("secret = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNow proves that CALLSTATS_NOW fixes the one clock (in UTC) and that
// without it the clock is the system's, in UTC.
func TestNow(t *testing.T) {
	c, err := Load("testdata/minimal.yaml", append(slices.Clone(secretEnv), "CALLSTATS_NOW=2026-11-16T07:30:00.5+01:00"))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 16, 6, 30, 0, 5e8, time.UTC)
	for range 2 {
		if got := c.Now(); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Now() = %v, want %v", got, want)
		}
	}

	before := time.Now()
	c, err = Load("testdata/minimal.yaml", secretEnv)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Now()
	if got.Before(before) || got.After(time.Now()) || got.Location() != time.UTC {
		t.Errorf("Now() = %v, want the system clock in UTC", got)
	}
}

// validConfig is a config built in code, the way the demo builds one.
func validConfig() *Config {
	c := Default()
	c.Teams = &Teams{TenantID: "t", ClientID: "c", ClientSecret: NewSecret(graphSecret)}
	c.ApplyDefaults()
	return c
}

// TestDefaultAndApplyDefaults proves that Default enables no source, that
// ApplyDefaults fills a section added in code without overwriting what is
// set, and that such a config validates.
func TestDefaultAndApplyDefaults(t *testing.T) {
	d := Default()
	if got := withoutClock(d); !reflect.DeepEqual(got, wantDefaults()) {
		t.Errorf("Default() = %+v, want %+v", got, wantDefaults())
	}
	if got := problems(d.Validate(), ""); !slices.Equal(got, []string{"no source configured: add a teams or ringcentral section"}) {
		t.Errorf("Default().Validate() = %q", got)
	}

	c := Default()
	c.Teams = &Teams{TenantID: "t", ClientID: "c", ClientSecret: NewSecret(graphSecret), GraphURL: "http://127.0.0.1:1234/", Concurrency: 2}
	c.RingCentral = &RingCentral{ClientID: "rc", ClientSecret: NewSecret(rcSecret), JWT: NewSecret(rcJWT)}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tm, rc := c.Teams, c.RingCentral
	if tm.GraphURL != "http://127.0.0.1:1234" || tm.Concurrency != 2 || tm.LoginURL != "https://login.microsoftonline.com" ||
		tm.MaxAttempts != 6 || rc.ServerURL != "https://platform.ringcentral.com" || rc.Lookback != 24*time.Hour {
		t.Errorf("ApplyDefaults gave %+v %+v", tm, rc)
	}

	c.Now = nil
	if got := problems(c.Validate(), ""); len(got) != 1 || !strings.HasPrefix(got[0], "now: no clock set") {
		t.Errorf("nil Now: problems = %q", got)
	}
}

// TestCron proves which schedule specs are accepted: five fields and
// descriptors, but not six fields or a TZ= prefix.
func TestCron(t *testing.T) {
	tests := []struct {
		spec string
		ok   bool
	}{
		{"0 2 * * *", true},
		{"0 6 * * MON", true},
		{"*/15 8-18 * * MON-FRI", true},
		{"@daily", true},
		{"@weekly", true},
		{"@midnight", true},
		{"@every 1h30m", true},
		{"61 * * * *", false},
		{"0 6 * *", false},
		{"0 0 6 * * *", false},
		{"@fortnightly", false},
		{"TZ=Europe/Berlin 0 2 * * *", false},
		{"CRON_TZ=UTC 0 2 * * *", false},
		{"", false},
	}
	for _, tt := range tests {
		c := validConfig()
		c.Schedule.Ingest = tt.spec
		err := c.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("ingest %q: err = %v, want ok=%v", tt.spec, err, tt.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "schedule.ingest: ") {
			t.Errorf("ingest %q: error %q does not name the key", tt.spec, err)
		}
	}
	c := validConfig()
	c.Schedule.Reconcile = ""
	if err := c.Validate(); err != nil {
		t.Errorf("empty schedule.reconcile (part of ingest) refused: %v", err)
	}
}

// TestSecretRedaction proves that no way of printing, marshalling or logging
// a Secret or a Config shows a secret's value.
func TestSecretRedaction(t *testing.T) {
	c := validConfig()
	c.RingCentral = &RingCentral{ClientID: "rc", ClientSecret: NewSecret(rcSecret), JWT: NewSecret(rcJWT)}
	c.ApplyDefaults()
	s := NewSecret(graphSecret)
	if s.Reveal() != graphSecret {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
	if got := fmt.Sprint(Secret{}); got != "[empty]" {
		t.Errorf("empty secret prints %q", got)
	}

	var out []string
	for _, v := range []any{s, &s, *c, c, c.Teams, c.RingCentral, *c.RingCentral} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		out = append(out, string(b))
		b, err = yaml.Marshal(v)
		if err != nil {
			t.Fatalf("yaml.Marshal(%T): %v", v, err)
		}
		out = append(out, string(b))
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("config", "value", v)
			out = append(out, buf.String())
		}
	}
	text, _ := s.MarshalText()
	out = append(out, string(text), s.LogValue().String(), s.GoString(), s.String())
	all := strings.Join(out, "\n")
	assertNoSecrets(t, "rendering", all)
	// The secrets are shown, redacted: the test would pass vacuously if
	// the fields were simply missing from the output.
	for _, want := range []string{"ClientSecret:[redacted]", `"ClientSecret":"[redacted]"`, "JWT:[redacted]", `value="{`} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestSettings proves that the reflective walk finds every leaf key, each
// with a distinct CALLSTATS_ variable that sets it and enables its section,
// and that docs/config.md documents every key and variable.
func TestSettings(t *testing.T) {
	all := settings()
	var paths []string
	seen := map[string]bool{}
	for _, s := range all {
		paths = append(paths, s.path)
		if seen[s.env] {
			t.Errorf("two keys share %s", s.env)
		}
		seen[s.env] = true
	}
	wantPaths := []string{
		"queue.path",
		"queue.azure_table.endpoint", "queue.azure_table.table", "queue.azure_table.connection_string_env", "queue.azure_table.connection_string_file",
		"queue.azure_table.account_name", "queue.azure_table.account_key_env", "queue.azure_table.account_key_file",
		"queue.azure_table.sas_env", "queue.azure_table.sas_file", "queue.azure_table.lookback", "queue.azure_table.delete_after",
		"state_dir", "run_timeout", "output.dir", "output.batch_size",
		"output.format", "output.iceberg.catalog", "output.iceberg.uri", "output.iceberg.warehouse",
		"output.iceberg.namespace", "output.iceberg.snapshot_retention", "output.iceberg.client_id",
		"output.iceberg.client_secret_env", "output.iceberg.client_secret_file", "output.iceberg.token_url",
		"output.iceberg.scope", "output.iceberg.azure_connection_string_env", "output.iceberg.azure_connection_string_file",
		"output.iceberg.azure_account_key_env", "output.iceberg.azure_account_key_file",
		"output.iceberg.azure_sas_token_env", "output.iceberg.azure_sas_token_file",
		"reports.dir", "reports.timezone",
		"teams.tenant_id", "teams.client_id", "teams.client_secret_env", "teams.client_secret_file",
		"teams.graph_url", "teams.login_url", "teams.concurrency", "teams.max_attempts", "teams.retention_days",
		"teams.auth", "teams.certificate_file", "teams.certificate_password_env", "teams.certificate_password_file",
		"teams.managed_identity_client_id", "teams.login_timeout",
		"ringcentral.server_url", "ringcentral.media_url", "ringcentral.client_id", "ringcentral.client_secret_env", "ringcentral.client_secret_file",
		"ringcentral.jwt_env", "ringcentral.jwt_file", "ringcentral.lookback", "ringcentral.download_recordings", "ringcentral.max_recording_bytes",
		"ringcentral.login_timeout",
		"schedule.ingest", "schedule.report", "schedule.reconcile", "schedule.timezone",
		"reconcile.window_days", "reconcile.disabled", "reconcile.initial_days",
		"delivery.host", "delivery.port", "delivery.tls", "delivery.user", "delivery.password_env", "delivery.password_file",
		"delivery.from", "delivery.via", "delivery.auth", "delivery.sender", "delivery.attach",
		"delivery.upload.drive_id", "delivery.upload.folder",
		"serve.listen", "serve.public_url", "serve.path_graph", "serve.path_graph_lifecycle", "serve.path_ringcentral",
		"serve.tls_cert_file", "serve.tls_key_file", "serve.client_state_env", "serve.client_state_file",
		"serve.verification_token_env", "serve.verification_token_file", "serve.renew_before",
		"serve.max_body_bytes", "serve.per_ip_concurrency", "serve.real_ip_header",
	}
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("settings:\n%q\nwant\n%q", paths, wantPaths)
	}

	// Per kind of key: a value to set and how it reads back.
	samples := map[reflect.Kind]struct{ set, want string }{
		reflect.String: {"sample", "sample"},
		reflect.Int:    {"7", "7"},
		reflect.Bool:   {"true", "true"},
		reflect.Int64:  {"90m", "1h30m0s"}, // time.Duration
	}
	for _, s := range all {
		c := Default()
		v, _ := lookup(reflect.ValueOf(template()).Elem(), s.index)
		sample := samples[v.Kind()]
		errs, used := applyEnv(c, map[string]string{s.env: sample.set})
		if len(errs) > 0 || !used[s.env] {
			t.Errorf("%s: %v", s.env, errs)
			continue
		}
		got, ok := lookup(reflect.ValueOf(c).Elem(), s.index)
		if !ok {
			t.Errorf("%s did not enable its section", s.env)
			continue
		}
		if fmt.Sprint(got.Interface()) != sample.want {
			t.Errorf("%s set %v", s.env, got.Interface())
		}
	}

	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		for _, name := range []string{s.path, s.env} {
			if !bytes.Contains(doc, []byte("`"+name+"`")) {
				t.Errorf("docs/config.md does not mention `%s`", name)
			}
		}
	}
}

// FuzzLoad proves that no file and environment make Load panic, that what
// it accepts validates and has a source, and that errors never contain a
// secret read from the environment.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
		f.Add(data, "CALLSTATS_TEAMS_CONCURRENCY=3\nCALLSTATS_NOW=2026-11-16T00:00:00Z")
	}
	f.Add([]byte(teamsOK), "CALLSTATS_TEAMS_CLIENT_SECRET_FILE=/nonexistent\nCALLSTATS_X=1")
	const canary = "canary-secret-7Hq"
	f.Fuzz(func(t *testing.T, data []byte, envText string) {
		environ := append(strings.Split(envText, "\n"), "GRAPH_CLIENT_SECRET="+canary, "RC_JWT="+canary, "RC_CLIENT_SECRET="+canary)
		c, err := load("fuzz.yaml", data, environ)
		if err != nil {
			if !bytes.Contains(data, []byte(canary[:6])) && !strings.Contains(envText, canary[:6]) && strings.Contains(err.Error(), canary) {
				t.Errorf("error leaks the secret: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Load accepted a config that does not validate: %v", err)
		}
		if c.Teams == nil && c.RingCentral == nil {
			t.Errorf("Load accepted a config without a source")
		}
	})
}

// The test tooling's own variables must not make a run fail: scripts/test
// exports them into the environment every test (and a developer's shell) has.
func TestToolingVariablesAreNotConfig(t *testing.T) {
	env := []string{
		"CALLSTATS_TEAMS_TENANT_ID=t", "CALLSTATS_TEAMS_CLIENT_ID=c", "CALLSTATS_TEAMS_CLIENT_SECRET_ENV=S", "S=x",
		"CALLSTATS_REQUIRE_DUCKDB=1", "CALLSTATS_REQUIRE_MAILDEV=1", "CALLSTATS_DUCKDB_DIR=/d", "CALLSTATS_MAILDEV_DIR=/m",
		"CALLSTATS_REQUIRE_AZURITE=1", "CALLSTATS_AZURITE_DIR=/a",
		"CALLSTATS_BENCH_RECORDS=5", "CALLSTATS_BENCH_CALLS=5", "CALLSTATS_TEST_CHILD_DIR=/x",
	}
	if _, err := Load("", env); err != nil {
		t.Fatalf("tooling variables refused: %v", err)
	}
	if _, err := Load("", append(env, "CALLSTATS_TEAMS_TENANTID=t")); err == nil {
		t.Fatal("a misspelt key variable was accepted")
	}
}

// TestLoadWithoutSecrets proves that WithoutSecrets neither reads nor
// requires a secret, while every other key is validated as without it.
func TestLoadWithoutSecrets(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	delivery := "delivery:\n  host: smtp.example.com\n  user: stats\n  password_env: SMTP_PASSWORD\n  from: stats@example.com\n  recipients:\n    - address: boss@example.com\n"
	tests := []struct {
		name string
		yaml string
		want []string // problems with WithoutSecrets
		full []string // problems without it
	}{
		{"variable not set", teamsOK, nil,
			[]string{"teams.client_secret_env: environment variable GRAPH_CLIENT_SECRET is not set"}},
		{"file missing", "teams:\n  tenant_id: t\n  client_id: c\n  client_secret_file: " + missing + "\n", nil,
			[]string{"teams.client_secret_file: reading secret: open " + missing + ": no such file or directory"}},
		{"secret not named", "teams:\n  tenant_id: t\n  client_id: c\n" + rcOK + delivery, nil,
			[]string{"teams.client_secret_env: required: name the environment variable holding the secret (or set client_secret_file)",
				"ringcentral.client_secret_env: environment variable RC_CLIENT_SECRET is not set",
				"ringcentral.jwt_env: environment variable RC_JWT is not set",
				"delivery.password_env: environment variable SMTP_PASSWORD is not set"}},
		{"both places still refused", teamsOK + "  client_secret_file: /run/secrets/graph\n",
			[]string{"teams.client_secret_env: set only one of client_secret_env and client_secret_file"},
			[]string{"teams.client_secret_env: set only one of client_secret_env and client_secret_file"}},
		{"other keys still validated", teamsOK + "  concurrency: 0\n",
			[]string{"teams.concurrency: must be between 1 and 64, got 0"},
			[]string{"teams.concurrency: must be between 1 and 64, got 0",
				"teams.client_secret_env: environment variable GRAPH_CLIENT_SECRET is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			c, err := Load(path, nil, WithoutSecrets())
			if got := problems(err, path); !slices.Equal(got, tt.want) {
				t.Errorf("WithoutSecrets: problems = %q\nwant %q", got, tt.want)
			}
			if err == nil {
				for _, s := range secretRefs(c) {
					if s.dst.Reveal() != "" {
						t.Errorf("%s was read", s.key)
					}
				}
			}
			_, err = Load(path, nil)
			if got := problems(err, path); !slices.Equal(got, tt.full) {
				t.Errorf("without the option: problems = %q\nwant %q", got, tt.full)
			}
		})
	}
	t.Run("the lake's own credentials are read", func(t *testing.T) {
		// report reads an Iceberg lake in Azure: it needs the warehouse's SAS.
		yaml := "output:\n  format: iceberg\n  iceberg:\n    warehouse: abfs://lake@acct.dfs.core.windows.net/callstats\n    azure_sas_token_env: LAKE_SAS\n" + teamsOK
		c, err := Load(writeConfig(t, yaml), []string{"LAKE_SAS=sv=2026&sig=x"}, WithoutSecrets())
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Output.Iceberg.AzureSASToken.Reveal(); got != "sv=2026&sig=x" {
			t.Errorf("warehouse SAS = %q, want it read", got)
		}
		if c.Teams.ClientSecret.Reveal() != "" {
			t.Error("the Graph secret was read")
		}
	})
	t.Run("set but not read", func(t *testing.T) {
		c, err := Load(writeConfig(t, teamsOK+rcOK), secretEnv, WithoutSecrets())
		if err != nil {
			t.Fatal(err)
		}
		if c.Teams.ClientSecret.Reveal() != "" || c.RingCentral.ClientSecret.Reveal() != "" || c.RingCentral.JWT.Reveal() != "" {
			t.Error("a secret was read")
		}
	})
}
