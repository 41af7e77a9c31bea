// Package config is callstats' typed configuration: a YAML file, overridden key
// by key by CALLSTATS_<SECTION>_<KEY> environment variables, with defaults,
// secrets read from the environment or from files, and validation that names
// every bad key. docs/config.md lists every key.
package config

import "time"

// Config is the whole configuration of a callstats run.
type Config struct {
	Queue    Queue  `yaml:"queue"`
	StateDir string `yaml:"state_dir"` // where run state (fetch bookkeeping) lives
	// RunTimeout bounds the fetching of one ingest or reconcile run: when it
	// passes, the run commits what it has, keeps the rest pending and fails.
	RunTimeout time.Duration `yaml:"run_timeout"`
	Output     Output        `yaml:"output"`
	Reports    Reports       `yaml:"reports"`

	// Teams and RingCentral are nil when their section is absent: the source
	// is then disabled. At least one of them is set in a valid Config.
	Teams       *Teams       `yaml:"teams"`
	RingCentral *RingCentral `yaml:"ringcentral"`

	Schedule  Schedule  `yaml:"schedule"`
	Reconcile Reconcile `yaml:"reconcile"`

	// Delivery is nil when the section is absent: workbooks are then not
	// mailed and no scoped workbooks are written.
	Delivery *Delivery `yaml:"delivery"`

	// Serve is nil when the section is absent (callstats serve refuses to run).
	Serve *Serve `yaml:"serve"`

	// Now is the one clock every time decision uses: time.Now().UTC(), or the
	// fixed instant given by CALLSTATS_NOW.
	Now func() time.Time `yaml:"-" json:"-"`
}

// Queue says where the IDs delivered by the webhook receiver are read from:
// a file (Path) or the Azure table (AzureTable), at most one of them. With
// neither, there is no queue: ingest discovers calls by listing each day
// (see queue.go).
type Queue struct {
	Path       string      `yaml:"path"`        // a JSON Lines file or a CSV export of the table
	AzureTable *AzureTable `yaml:"azure_table"` // nil when absent; see aztable.go
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

	// How the app signs in to Entra ID (config/auth.go).
	Auth                    string        `yaml:"auth"` // secret, certificate, managed_identity, workload_identity
	CertificateFile         string        `yaml:"certificate_file"`
	CertificatePasswordEnv  string        `yaml:"certificate_password_env"`
	CertificatePasswordFile string        `yaml:"certificate_password_file"`
	CertificatePassword     Secret        `yaml:"-"`
	ManagedIdentityClientID string        `yaml:"managed_identity_client_id"`
	LoginTimeout            time.Duration `yaml:"login_timeout"`
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
	MaxRecordingBytes  int           `yaml:"max_recording_bytes"` // a longer recording is refused and reported
	LoginTimeout       time.Duration `yaml:"login_timeout"`       // a login that does not answer fails within it
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
	// InitialDays is how many days a first run lists when there is no
	// queue to say how far back to go (see queue.go).
	InitialDays int `yaml:"initial_days"`
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

	// Mail through Graph, SMTP with OAuth and the upload of the workbooks
	// (config/delivery_graph.go).
	Via    string          `yaml:"via"`  // smtp or graph
	Auth   string          `yaml:"auth"` // password or xoauth2 (smtp)
	Sender string          `yaml:"sender"`
	Attach bool            `yaml:"attach"`
	Upload *DeliveryUpload `yaml:"upload"`
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
