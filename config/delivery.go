package config

import (
	"fmt"
	"net/mail"
	"path"
	"reflect"
	"strings"
)

// validate reports every problem with the delivery section.
func (d *Delivery) validate(need secretNeed) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if d.Via != ViaGraph { // the SMTP server; Graph needs none of it
		add(required("delivery.host", d.Host))
		add(inRange("delivery.port", d.Port, 1, 65535))
		switch d.TLS {
		case "starttls", "tls", "none":
		default:
			add(fmt.Errorf("delivery.tls: must be starttls, tls or none, got %q", d.TLS))
		}
		if d.User == "" && (d.PasswordEnv != "" || d.PasswordFile != "") {
			add(fmt.Errorf("delivery.user: required when a password is configured"))
		}
	}
	for _, s := range deliverySecrets(d) {
		add(s.check(need))
	}
	if d.From == "" {
		add(required("delivery.from", d.From))
	} else if _, err := mail.ParseAddress(d.From); err != nil {
		add(fmt.Errorf("delivery.from: not an email address: %q", d.From))
	}
	if len(d.Recipients) == 0 {
		add(fmt.Errorf("delivery.recipients: required: list at least one recipient"))
	}
	scopes := map[string]int{} // scope name -> first recipient with it
	for i, r := range d.Recipients {
		key := fmt.Sprintf("delivery.recipients[%d]", i)
		if r.Address == "" {
			add(fmt.Errorf("%s.address: required", key))
		} else if a, err := mail.ParseAddress(r.Address); err != nil || a.Address != r.Address {
			add(fmt.Errorf("%s.address: not an email address: %q", key, r.Address))
		}
		add(r.Scope.check(key + ".scope"))
		if r.Scope.IsEveryone() {
			continue
		}
		if j, ok := scopes[r.Scope.Name]; ok {
			if !reflect.DeepEqual(d.Recipients[j].Scope, r.Scope) {
				add(fmt.Errorf("%s.scope.name: %q names a different scope in delivery.recipients[%d]", key, r.Scope.Name, j))
			}
		} else {
			scopes[r.Scope.Name] = i
		}
	}
	return errs
}

// check reports a scope without a name and bad UPN patterns.
func (s Scope) check(key string) error {
	if s.IsEveryone() {
		if s.Name != "" {
			return fmt.Errorf("%s: names %q but selects nobody: set admin_units, upn_domains, upn_patterns, users or extensions, or drop the name for the whole tenant", key, s.Name)
		}
		return nil
	}
	if s.Name == "" {
		return fmt.Errorf("%s.name: required: it titles the scope's workbook", key)
	}
	if Slug(s.Name) == "" {
		return fmt.Errorf("%s.name: must contain a letter or digit, got %q", key, s.Name)
	}
	for i, p := range s.UPNPatterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%s.upn_patterns[%d]: bad pattern %q: %w", key, i, p, err)
		}
	}
	return nil
}

// Slug turns a scope name into the part of a file name that tells its
// workbook apart: lower-case letters and digits joined by dashes ("Sales
// EMEA" -> "sales-emea").
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
