package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Validate reports every problem with c, each as "<key>: <what is wrong>",
// joined with errors.Join; nil when c is usable. It does not read secrets:
// a source's secret must either be set directly or be named by exactly one
// of its *_env / *_file keys.
func (c *Config) Validate() error { return errors.Join(c.validate(needSecrets)...) }

// secretNeed says whether validation requires each secret to be named.
type secretNeed bool

const (
	needSecrets secretNeed = true
	skipSecrets secretNeed = false
)

func (c *Config) validate(need secretNeed) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(c.validateQueue())
	add(required("state_dir", c.StateDir))
	if c.RunTimeout < time.Minute || c.RunTimeout > 7*24*time.Hour {
		add(fmt.Errorf("run_timeout: must be between 1m and 168h, got %s", c.RunTimeout))
	}
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
			add(s.check(need))
		}
		add(checkURL("teams.graph_url", t.GraphURL))
		add(checkURL("teams.login_url", t.LoginURL))
		add(inRange("teams.concurrency", t.Concurrency, 1, 64))
		add(inRange("teams.max_attempts", t.MaxAttempts, 1, 20))
		if t.RetentionDays < 1 {
			add(fmt.Errorf("teams.retention_days: must be at least 1, got %d", t.RetentionDays))
		}
		errs = append(errs, t.validateAuth()...)
	}
	if r := c.RingCentral; r != nil {
		add(checkURL("ringcentral.server_url", r.ServerURL))
		if r.MediaURL != "" {
			add(checkURL("ringcentral.media_url", r.MediaURL))
		}
		add(required("ringcentral.client_id", r.ClientID))
		for _, s := range ringCentralSecrets(r) {
			add(s.check(need))
		}
		if r.Lookback <= 0 {
			add(fmt.Errorf("ringcentral.lookback: must be greater than 0, got %s", r.Lookback))
		}
		add(inRange("ringcentral.max_recording_bytes", r.MaxRecordingBytes, 1<<20, 1<<40))
		add(checkLoginTimeout("ringcentral.login_timeout", r.LoginTimeout))
	}

	add(checkCron("schedule.ingest", c.Schedule.Ingest, false))
	add(checkCron("schedule.report", c.Schedule.Report, false))
	add(checkCron("schedule.reconcile", c.Schedule.Reconcile, true))
	add(checkZone("schedule.timezone", c.Schedule.Timezone))
	add(inRange("reconcile.window_days", c.Reconcile.WindowDays, 1, 30))
	add(inRange("reconcile.initial_days", c.Reconcile.InitialDays, 1, MaxInitialDays))
	if d := c.Delivery; d != nil {
		errs = append(errs, d.validate(need)...)
		errs = append(errs, d.validateMicrosoft(c.Teams)...)
	}
	errs = append(errs, c.Output.validateOutputFormat(need)...)
	if a := c.Queue.AzureTable; a != nil {
		errs = append(errs, a.validate(need)...)
	}
	if s := c.Serve; s != nil {
		errs = append(errs, s.validate(c, need)...)
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
