package config

import (
	"reflect"
	"strings"
	"time"
)

// template returns every default, with both sources enabled.
func template() *Config {
	return &Config{
		Queue:      Queue{AzureTable: &AzureTable{Lookback: DefaultAzureTableLookback}},
		StateDir:   "data/state",
		RunTimeout: 4 * time.Hour,
		Output:     Output{Dir: "data/lake", BatchSize: 5000, Format: FormatPlain, Iceberg: icebergDefaults()},
		Reports:    Reports{Dir: "data/reports", Timezone: "UTC"},
		Teams: &Teams{
			GraphURL:      "https://graph.microsoft.com",
			LoginURL:      "https://login.microsoftonline.com",
			Concurrency:   8,
			MaxAttempts:   6,
			RetentionDays: 30,
			Auth:          AuthSecret,
			LoginTimeout:  defaultLoginTimeout,
		},
		RingCentral: &RingCentral{
			ServerURL: "https://platform.ringcentral.com",
			Lookback:  24 * time.Hour, MaxRecordingBytes: 2 << 30, LoginTimeout: defaultLoginTimeout,
		},
		Schedule:  Schedule{Ingest: "0 2 * * *", Report: "0 6 * * MON", Timezone: "UTC"},
		Reconcile: Reconcile{WindowDays: 3, InitialDays: DefaultInitialDays},
		Delivery:  &Delivery{Port: 587, TLS: "starttls", Via: ViaSMTP, Auth: SMTPAuthPassword, Attach: true},
		Serve:     defaultServe(),
	}
}

func systemClock() time.Time { return time.Now().UTC() }

// Default returns the defaults with no source enabled and Now set to the
// system clock. A caller building a config in code sets Teams or
// RingCentral, calls ApplyDefaults to fill in the section's defaults, then
// Validate.
func Default() *Config {
	c := template()
	c.Teams, c.RingCentral, c.Delivery, c.Serve = nil, nil, nil, nil
	c.Queue.AzureTable = nil
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
