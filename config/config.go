// Package config is callstats' typed configuration: a YAML file, overridden key
// by key by CALLSTATS_<SECTION>_<KEY> environment variables, with defaults,
// secrets read from the environment or from files, and validation that names
// every bad key. docs/config.md lists every key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of a callstats run.
type Config struct {
	Queue    Queue   `yaml:"queue"`
	StateDir string  `yaml:"state_dir"` // where run state (fetch bookkeeping) lives
	Output   Output  `yaml:"output"`
	Reports  Reports `yaml:"reports"`

	// Teams and RingCentral are nil when their section is absent: the source
	// is then disabled. At least one of them is set in a valid Config.
	Teams       *Teams       `yaml:"teams"`
	RingCentral *RingCentral `yaml:"ringcentral"`

	Schedule  Schedule  `yaml:"schedule"`
	Reconcile Reconcile `yaml:"reconcile"`

	// Delivery is nil when the section is absent: workbooks are then not
	// mailed and no scoped workbooks are written.
	Delivery *Delivery `yaml:"delivery"`

	// Now is the one clock every time decision uses: time.Now().UTC(), or the
	// fixed instant given by CALLSTATS_NOW.
	Now func() time.Time `yaml:"-" json:"-"`
}

// Queue says where the IDs delivered by the webhook receiver are read from.
type Queue struct {
	Path string `yaml:"path"` // a JSON Lines file or a CSV export of the table
}

// Output is the Parquet data lake.
type Output struct {
	Dir       string  `yaml:"dir"`
	BatchSize int     `yaml:"batch_size"` // records per lake commit
	Format    string  `yaml:"format"`     // plain (default) or iceberg; see iceberg.go
	Iceberg   Iceberg `yaml:"iceberg"`    // used when Format is iceberg
}

// Reports is where the weekly workbooks go.
type Reports struct {
	Dir      string `yaml:"dir"`
	Timezone string `yaml:"timezone"` // IANA zone the report's weeks and hours are in
}

// Teams configures the Microsoft Graph call-records source.
type Teams struct {
	TenantID string `yaml:"tenant_id"`
	ClientID string `yaml:"client_id"`

	// ClientSecretEnv names the environment variable, ClientSecretFile the
	// file, holding the client secret; exactly one is set. Load reads the
	// secret into ClientSecret.
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecret     Secret `yaml:"-"`

	GraphURL      string `yaml:"graph_url"` // no trailing slash
	LoginURL      string `yaml:"login_url"` // no trailing slash
	Concurrency   int    `yaml:"concurrency"`
	MaxAttempts   int    `yaml:"max_attempts"`
	RetentionDays int    `yaml:"retention_days"` // a record not found after this many days is given up
}

// RingCentral configures the RingCentral call-log source.
type RingCentral struct {
	ServerURL string `yaml:"server_url"` // no trailing slash
	// MediaURL is the host serving recording audio; "" derives it from
	// ServerURL (platform.* -> media.*). Recordings on other hosts are refused.
	MediaURL string `yaml:"media_url"`
	ClientID string `yaml:"client_id"`

	// The client secret and the JWT credential are each named by exactly one
	// of *_env and *_file; Load reads them into ClientSecret and JWT.
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecret     Secret `yaml:"-"`
	JWTEnv           string `yaml:"jwt_env"`
	JWTFile          string `yaml:"jwt_file"`
	JWT              Secret `yaml:"-"`

	// Lookback is how far back every run re-reads the call log, to pick up
	// records that changed after the call.
	Lookback           time.Duration `yaml:"lookback"`
	DownloadRecordings bool          `yaml:"download_recordings"`
}

// Schedule holds the cron specs `callstats schedule` runs the jobs on.
type Schedule struct {
	Ingest    string `yaml:"ingest"`
	Report    string `yaml:"report"`
	Reconcile string `yaml:"reconcile"` // "" means reconcile runs as part of ingest
	Timezone  string `yaml:"timezone"`  // zone the specs are read in
}

// Reconcile configures the sweep for calls whose notification never arrived.
type Reconcile struct {
	WindowDays int  `yaml:"window_days"` // days back from today that are listed
	Disabled   bool `yaml:"disabled"`
}

// Delivery configures mailing the weekly workbooks (callstats deliver).
type Delivery struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// TLS is "starttls" (upgrade a plain connection, required), "tls"
	// (implicit TLS, usually port 465) or "none" (plain; test servers only).
	TLS  string `yaml:"tls"`
	User string `yaml:"user"` // "" means no authentication

	// The password is named by exactly one of PasswordEnv and PasswordFile
	// when User is set; Load reads it into Password.
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	Password     Secret `yaml:"-"`

	From string `yaml:"from"` // sender address, optionally with a name: "Call stats <stats@example.com>"

	// Recipients can only be set in the file (lists have no CALLSTATS_
	// variable).
	Recipients []Recipient `yaml:"recipients"`
}

// Recipient is one address that gets a workbook every week.
type Recipient struct {
	Address string `yaml:"address"`
	Name    string `yaml:"name"`
	// Scope chooses whose calls the recipient's workbook covers; an empty
	// scope is the whole tenant.
	Scope Scope `yaml:"scope"`
}

// Scope selects people: a user is in it when any list matches them.
type Scope struct {
	// Name titles the scope's workbook and names its file; required when
	// any list is set. Recipients with the same name share one workbook
	// and must have the same lists.
	Name        string   `yaml:"name"`
	AdminUnits  []string `yaml:"admin_units"`  // Entra administrative unit ids
	UPNDomains  []string `yaml:"upn_domains"`  // "sales.example.com"
	UPNPatterns []string `yaml:"upn_patterns"` // path.Match globs: "*.sales@example.com"
	Users       []string `yaml:"users"`        // user ids or user principal names
	Extensions  []string `yaml:"extensions"`   // RingCentral extension numbers
}

// IsEveryone reports whether the scope selects nobody in particular, that
// is the whole tenant.
func (s Scope) IsEveryone() bool {
	return len(s.AdminUnits)+len(s.UPNDomains)+len(s.UPNPatterns)+len(s.Users)+len(s.Extensions) == 0
}

// envPrefix starts every environment variable that overrides a key.
const envPrefix = "CALLSTATS_"

// envNow is the variable that fixes the clock to an RFC 3339 instant.
const envNow = "CALLSTATS_NOW"

// template returns every default, with both sources enabled.
func template() *Config {
	return &Config{
		Queue:    Queue{Path: "data/callids.jsonl"},
		StateDir: "data/state",
		Output:   Output{Dir: "data/lake", BatchSize: 5000},
		Reports:  Reports{Dir: "data/reports", Timezone: "UTC"},
		Teams: &Teams{
			GraphURL:      "https://graph.microsoft.com",
			LoginURL:      "https://login.microsoftonline.com",
			Concurrency:   8,
			MaxAttempts:   6,
			RetentionDays: 30,
		},
		RingCentral: &RingCentral{
			ServerURL: "https://platform.ringcentral.com",
			Lookback:  24 * time.Hour,
		},
		Schedule:  Schedule{Ingest: "0 2 * * *", Report: "0 6 * * MON", Timezone: "UTC"},
		Reconcile: Reconcile{WindowDays: 3},
		Delivery:  &Delivery{Port: 587, TLS: "starttls"},
	}
}

func systemClock() time.Time { return time.Now().UTC() }

// Default returns the defaults with no source enabled and Now set to the
// system clock. A caller building a config in code sets Teams or
// RingCentral, calls ApplyDefaults to fill in the section's defaults, then
// Validate.
func Default() *Config {
	c := template()
	c.Teams, c.RingCentral, c.Delivery = nil, nil, nil
	c.Now = systemClock
	return c
}

// ApplyDefaults sets every key left at its zero value to its default (in
// the enabled sections too), trims trailing slashes from the service URLs
// and sets Now to the system clock if it is nil. Load does not need it:
// there a key that is set, even to zero, keeps its value.
func (c *Config) ApplyDefaults() {
	root, def := reflect.ValueOf(c).Elem(), reflect.ValueOf(template()).Elem()
	for _, s := range settings() {
		v, ok := lookup(root, s.index)
		if ok && v.IsZero() {
			d, _ := lookup(def, s.index)
			v.Set(d)
		}
	}
	trimURLs(c)
	if c.Now == nil {
		c.Now = systemClock
	}
}

// trimURLs removes trailing slashes from the service URLs, so that callers
// can append paths.
func trimURLs(c *Config) {
	if t := c.Teams; t != nil {
		t.GraphURL = strings.TrimRight(t.GraphURL, "/")
		t.LoginURL = strings.TrimRight(t.LoginURL, "/")
	}
	if r := c.RingCentral; r != nil {
		r.ServerURL = strings.TrimRight(r.ServerURL, "/")
		r.MediaURL = strings.TrimRight(r.MediaURL, "/")
	}
}

// Load reads the YAML file at path ("" means no file), applies the
// CALLSTATS_* overrides found in environ (os.Environ() in production), fills
// in defaults, reads the secrets (from environ or from files; relative file
// paths are relative to the working directory) and validates the result. The
// error lists every problem found, one per line, each naming its key (and
// its file line or environment variable).
func Load(path string, environ []string) (*Config, error) {
	var data []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		data = b
	}
	return load(path, data, environ)
}

func load(name string, data []byte, environ []string) (*Config, error) {
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
	errs = append(errs, c.validate()...)
	errs = append(errs, resolveSecrets(c, env)...)
	errs = append(errs, unknownEnv(c, env, used)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Validate reports every problem with c, each as "<key>: <what is wrong>",
// joined with errors.Join; nil when c is usable. It does not read secrets:
// a source's secret must either be set directly or be named by exactly one
// of its *_env / *_file keys.
func (c *Config) Validate() error { return errors.Join(c.validate()...) }

func (c *Config) validate() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(required("queue.path", c.Queue.Path))
	add(required("state_dir", c.StateDir))
	add(required("output.dir", c.Output.Dir))
	if c.Output.BatchSize <= 0 {
		add(fmt.Errorf("output.batch_size: must be greater than 0, got %d", c.Output.BatchSize))
	}
	add(required("reports.dir", c.Reports.Dir))
	add(checkZone("reports.timezone", c.Reports.Timezone))

	if c.Teams == nil && c.RingCentral == nil {
		add(errors.New("no source configured: add a teams or ringcentral section"))
	}
	if t := c.Teams; t != nil {
		add(required("teams.tenant_id", t.TenantID))
		if t.TenantID != "" && url.PathEscape(t.TenantID) != t.TenantID {
			add(fmt.Errorf("teams.tenant_id: must be a tenant GUID or domain, got %q", t.TenantID))
		}
		add(required("teams.client_id", t.ClientID))
		for _, s := range teamsSecrets(t) {
			add(s.check())
		}
		add(checkURL("teams.graph_url", t.GraphURL))
		add(checkURL("teams.login_url", t.LoginURL))
		add(inRange("teams.concurrency", t.Concurrency, 1, 64))
		add(inRange("teams.max_attempts", t.MaxAttempts, 1, 20))
		if t.RetentionDays < 1 {
			add(fmt.Errorf("teams.retention_days: must be at least 1, got %d", t.RetentionDays))
		}
	}
	if r := c.RingCentral; r != nil {
		add(checkURL("ringcentral.server_url", r.ServerURL))
		if r.MediaURL != "" {
			add(checkURL("ringcentral.media_url", r.MediaURL))
		}
		add(required("ringcentral.client_id", r.ClientID))
		for _, s := range ringCentralSecrets(r) {
			add(s.check())
		}
		if r.Lookback <= 0 {
			add(fmt.Errorf("ringcentral.lookback: must be greater than 0, got %s", r.Lookback))
		}
	}

	add(checkCron("schedule.ingest", c.Schedule.Ingest, false))
	add(checkCron("schedule.report", c.Schedule.Report, false))
	add(checkCron("schedule.reconcile", c.Schedule.Reconcile, true))
	add(checkZone("schedule.timezone", c.Schedule.Timezone))
	add(inRange("reconcile.window_days", c.Reconcile.WindowDays, 1, 30))
	if d := c.Delivery; d != nil {
		errs = append(errs, d.validate()...)
	}
	if c.Now == nil {
		add(errors.New("now: no clock set (build the config with Default or call ApplyDefaults)"))
	}
	return errs
}

func required(key, v string) error {
	if v == "" {
		return fmt.Errorf("%s: required", key)
	}
	return nil
}

func inRange(key string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s: must be between %d and %d, got %d", key, lo, hi, v)
	}
	return nil
}

func checkZone(key, tz string) error {
	if tz == "" {
		return fmt.Errorf("%s: required", key)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("%s: unknown time zone %q", key, tz)
	}
	return nil
}

// checkURL accepts an absolute http(s) URL without credentials, query,
// fragment or trailing slash.
func checkURL(key, s string) error {
	if s == "" {
		return fmt.Errorf("%s: required", key)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: not a URL: %w", key, err)
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("%s: must not contain credentials", key) // the URL is not echoed
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%s: must be an absolute http or https URL, got %q", key, s)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return fmt.Errorf("%s: must not have a query or fragment, got %q", key, s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("%s: must not end with a slash, got %q", key, s)
	}
	return nil
}

// checkCron accepts a standard 5-field cron spec or a descriptor (@daily,
// @every 1h, ...). A TZ= prefix is refused: schedule.timezone says the zone.
func checkCron(key, spec string, optional bool) error {
	if spec == "" {
		if optional {
			return nil
		}
		return fmt.Errorf("%s: required", key)
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return fmt.Errorf("%s: bad cron spec %q: set the zone in schedule.timezone, not with a TZ= prefix", key, spec)
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("%s: bad cron spec %q: %w", key, spec, err)
	}
	return nil
}

// A secretRef ties one secret to the two keys that may say where it is.
type secretRef struct {
	key       string // "teams.client_secret"
	env, file string // the values of its *_env and *_file keys
	dst       *Secret
}

func secretRefs(c *Config) []secretRef {
	refs := append(teamsSecrets(c.Teams), ringCentralSecrets(c.RingCentral)...)
	return append(refs, deliverySecrets(c.Delivery)...)
}

// deliverySecrets is the SMTP password, needed only when a user is set.
func deliverySecrets(d *Delivery) []secretRef {
	if d == nil || d.User == "" {
		return nil
	}
	return []secretRef{{"delivery.password", d.PasswordEnv, d.PasswordFile, &d.Password}}
}

func teamsSecrets(t *Teams) []secretRef {
	if t == nil {
		return nil
	}
	return []secretRef{{"teams.client_secret", t.ClientSecretEnv, t.ClientSecretFile, &t.ClientSecret}}
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

// check reports a secret that is named in both or neither of its places.
func (s secretRef) check() error {
	switch {
	case s.env != "" && s.file != "":
		return fmt.Errorf("%s_env: set only one of %s_env and %s_file", s.key, s.leaf(), s.leaf())
	case s.env == "" && s.file == "" && s.dst.v == nil:
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
func resolveSecrets(c *Config, env map[string]string) []error {
	var errs []error
	for _, s := range secretRefs(c) {
		if s.check() != nil || (s.env == "" && s.file == "") {
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

// A setting is one leaf key of Config: a string, int, bool or duration.
type setting struct {
	path  string // dotted YAML path, "teams.tenant_id"
	env   string // "CALLSTATS_TEAMS_TENANT_ID"
	index []int  // field indexes from Config down to the leaf
}

// settings lists every leaf key of Config, found by walking its yaml tags, in
// field order.
func settings() []setting { return walkSettings(reflect.TypeFor[Config](), nil, "") }

func walkSettings(t reflect.Type, index []int, prefix string) []setting {
	var out []setting
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		idx := append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Slice {
			continue // lists are set in the file only
		}
		if st, ok := sectionType(f.Type); ok {
			out = append(out, walkSettings(st, idx, path)...)
			continue
		}
		out = append(out, setting{path: path, env: envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_")), index: idx})
	}
	return out
}

// yamlName is the key a field has in the file, "" when it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name) // as yaml.v3 does
	}
	return name
}

// sectionType reports whether t is a section (a struct or a pointer to one)
// and returns the struct type.
func sectionType(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, t.Kind() == reflect.Struct
}

// field returns the value at index under root, allocating nil sections
// with their defaults on the way (and at the end, when index names a
// section): setting a key enables its section.
func field(root reflect.Value, index []int) reflect.Value {
	v, def := root, reflect.ValueOf(template()).Elem()
	for _, i := range index {
		v, def = enable(v, def)
		v, def = v.Field(i), def.Field(i)
	}
	enable(v, def)
	return v
}

// enable allocates v, when it is a nil section, as a copy of its default
// def, and returns both dereferenced.
func enable(v, def reflect.Value) (reflect.Value, reflect.Value) {
	if v.Kind() != reflect.Pointer {
		return v, def
	}
	if v.IsNil() {
		v.Set(reflect.New(v.Type().Elem()))
		if !def.IsNil() {
			v.Elem().Set(def.Elem())
		}
	}
	if def.IsNil() {
		return v.Elem(), reflect.New(v.Type().Elem()).Elem()
	}
	return v.Elem(), def.Elem()
}

// lookup returns the leaf at index under root, and false when a section on
// the way is nil.
func lookup(root reflect.Value, index []int) (reflect.Value, bool) {
	v := root
	for _, i := range index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

var durationType = reflect.TypeFor[time.Duration]()

// setFromString parses s into the leaf v.
func setFromString(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("must be a duration like 24h or 90m, got %q", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return fmt.Errorf("must be an integer, got %q", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", s)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("keys of type %s cannot be set from the environment", v.Type())
	}
	return nil
}

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

// toolingEnv are CALLSTATS_ variables of the project's test and benchmark
// tooling (scripts/test, internal/duckdb, internal/maildev, benchmarks): they
// set no key, but a shell that exports them must still run callstats.
var toolingEnv = []string{
	"CALLSTATS_REQUIRE_DUCKDB", "CALLSTATS_DUCKDB_DIR", "CALLSTATS_REQUIRE_MAILDEV", "CALLSTATS_MAILDEV_DIR",
	"CALLSTATS_BENCH_RECORDS", "CALLSTATS_BENCH_CALLS",
}

// toolingPrefix starts the variables the tests use among themselves.
const toolingPrefix = "CALLSTATS_TEST_"

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

// literalSecretKeys are keys that would put a secret in the file.
var literalSecretKeys = []string{"client_secret", "jwt", "password", "secret", "token"}

// decodeFile decodes data over c, which holds the defaults. Before the strict yaml.v3 decode (which
// refuses unknown keys), the document is walked against Config's yaml tags
// so that every unknown key, literal secret and mistyped value is reported
// at once as "<file>:<line>: <key>: <problem>".
func decodeFile(c *Config, name string, data []byte) error {
	if name == "" {
		name = "config"
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults and environment only
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: a config file holds one YAML document, found another (or bad YAML after the first): %v", name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root.ShortTag() == "!!null" {
		return nil
	}
	ck := &fileChecker{name: name}
	ck.mapping(root, reflect.TypeFor[Config](), nil, "")
	if len(ck.errs) > 0 {
		return errors.Join(ck.errs...)
	}
	// Sections present in the file are enabled with their defaults before
	// the file's keys are decoded over them; again after, because yaml.v3
	// sets a section written as null ("teams:" alone) to nil, and such a
	// section must be enabled so its missing keys are reported rather than
	// the source silently disabled.
	rv := reflect.ValueOf(c).Elem()
	for _, idx := range ck.present {
		field(rv, idx)
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, idx := range ck.present {
		field(rv, idx)
	}
	return nil
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

type fileChecker struct {
	name    string
	errs    []error
	present [][]int // field indexes of sections present in the file
	visits  int     // mappings walked, bounded against alias bombs
}

// maxVisits bounds the mappings walked: nested merges of aliases can
// otherwise make a small file take exponential time.
const maxVisits = 10000

func (ck *fileChecker) errorf(n *yaml.Node, key, format string, args ...any) {
	ck.errs = append(ck.errs, fmt.Errorf("%s:%d: %s: %s", ck.name, n.Line, key, fmt.Sprintf(format, args...)))
}

// mapping checks the mapping node n that decodes into struct type t.
func (ck *fileChecker) mapping(n *yaml.Node, t reflect.Type, index []int, prefix string) {
	if ck.visits++; ck.visits > maxVisits {
		if ck.visits == maxVisits+1 {
			ck.errorf(n, "(top level)", "too many aliases and merge keys")
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		key := prefix
		if key == "" {
			key = "(top level)"
		}
		ck.errorf(n, key, "must be a mapping of keys to values")
		return
	}
	fields := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.ShortTag() == "!!merge" {
			ck.merge(v, t, index, prefix)
			continue
		}
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		if line, dup := seen[k.Value]; dup {
			ck.errorf(k, path, "set twice (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		j := slices.IndexFunc(fields, func(f yamlField) bool { return f.name == k.Value })
		if j < 0 {
			ck.unknown(k, path, fields)
			continue
		}
		f := t.Field(fields[j].index)
		idx := append(slices.Clone(index), fields[j].index)
		if st, ok := sectionType(f.Type); ok {
			if f.Type.Kind() == reflect.Pointer {
				ck.present = append(ck.present, idx)
			}
			if v.ShortTag() != "!!null" {
				ck.mapping(v, st, idx, path)
			}
			continue
		}
		if f.Type.Kind() == reflect.Slice {
			ck.list(k, v, f.Type, idx, path)
			continue
		}
		ck.leaf(k, v, f.Type, path)
	}
}

// list checks a list value: of sections (each checked as a mapping, named
// key[i]) or of single values.
func (ck *fileChecker) list(k, v *yaml.Node, t reflect.Type, index []int, path string) {
	if v.ShortTag() == "!!null" {
		return
	}
	if v.Kind != yaml.SequenceNode {
		ck.errorf(k, path, "must be a list")
		return
	}
	for i, e := range v.Content {
		e = deref(e)
		p := fmt.Sprintf("%s[%d]", path, i)
		if st, ok := sectionType(t.Elem()); ok {
			ck.mapping(e, st, nil, p)
			continue
		}
		ck.leaf(e, e, t.Elem(), p)
	}
}

// merge checks the value of a "<<" merge key: a mapping or a list of them.
func (ck *fileChecker) merge(v *yaml.Node, t reflect.Type, index []int, prefix string) {
	if v.Kind == yaml.SequenceNode {
		for _, m := range v.Content {
			ck.mapping(deref(m), t, index, prefix)
		}
		return
	}
	ck.mapping(v, t, index, prefix)
}

// A yamlField is a field of a section struct that has a key in the file.
type yamlField struct {
	name  string
	index int
}

func yamlFields(t reflect.Type) []yamlField {
	var fields []yamlField
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields = append(fields, yamlField{name, i})
		}
	}
	return fields
}

// unknown reports a key the section does not have, with a helpful hint.
func (ck *fileChecker) unknown(k *yaml.Node, path string, fields []yamlField) {
	if slices.Contains(literalSecretKeys, k.Value) {
		hint := "the matching *_env or *_file key"
		for _, f := range fields {
			if f.name == k.Value+"_env" {
				hint = fmt.Sprintf("%s_env (the name of an environment variable) or %s_file (a file path)", k.Value, k.Value)
			}
		}
		ck.errorf(k, path, "secrets must not be written in the config file; say where the secret is with %s", hint)
		return
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	msg := "unknown key"
	if m := closest(k.Value, names); m != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", m)
	} else {
		msg += fmt.Sprintf(" (known here: %s)", strings.Join(names, ", "))
	}
	ck.errorf(k, path, "%s", msg)
}

// leaf checks that the value v fits the key's type, as yaml.v3 would decode it.
func (ck *fileChecker) leaf(k, v *yaml.Node, t reflect.Type, path string) {
	if v.ShortTag() == "!!null" {
		return // leaves the zero value: the default applies
	}
	if v.Kind != yaml.ScalarNode {
		ck.errorf(k, path, "must be a single value, not a list or mapping")
		return
	}
	switch {
	case t == durationType:
		if _, err := time.ParseDuration(v.Value); err != nil || v.ShortTag() != "!!str" {
			ck.errorf(k, path, "must be a duration like 24h or 90m, got %q", v.Value)
		}
	case t.Kind() == reflect.String:
	case t.Kind() == reflect.Int:
		if v.ShortTag() != "!!int" {
			ck.errorf(k, path, "must be an integer, got %q", v.Value)
		}
	case t.Kind() == reflect.Bool:
		if v.ShortTag() != "!!bool" {
			ck.errorf(k, path, "must be true or false, got %q", v.Value)
		}
	default:
		ck.errorf(k, path, "keys of type %s are not supported", t)
	}
}

// closest returns the candidate nearest to s by edit distance when it is
// near enough to be a likely typo, or the one candidate s is a prefix of
// ("window" for "window_days"); else "".
func closest(s string, candidates []string) string {
	var prefixed []string
	for _, c := range candidates {
		if len(s) >= 4 && strings.HasPrefix(strings.ToLower(c), strings.ToLower(s)) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestD := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > 3 || bestD*3 > len(s) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
