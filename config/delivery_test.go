package config

import (
	"reflect"
	"slices"
	"testing"
)

const teamsYAML = `teams:
  tenant_id: contoso.onmicrosoft.com
  client_id: app-client-id
  client_secret_env: GRAPH_CLIENT_SECRET
`

// TestDeliveryLoad proves that the delivery section, its recipient list and
// their scopes are read from the file, with defaults for port and tls, the
// password read from its variable, and that CALLSTATS_ variables override
// its single values.
func TestDeliveryLoad(t *testing.T) {
	yml := teamsYAML + `delivery:
  host: smtp.example.com
  user: stats
  password_env: SMTP_PASSWORD
  from: Call stats <stats@example.com>
  recipients:
    - address: boss@example.com
    - address: sales-lead@example.com
      name: Sales lead
      scope:
        name: Sales
        admin_units: [au-sales]
        upn_patterns: ["*@sales.example.com"]
    - address: rc@example.com
      scope: {name: Phones, extensions: ["101", "102"]}
`
	c, err := load("delivery.yaml", []byte(yml), []string{"GRAPH_CLIENT_SECRET=s", "SMTP_PASSWORD=pw",
		"CALLSTATS_DELIVERY_PORT=2525"})
	if err != nil {
		t.Fatal(err)
	}
	d := c.Delivery
	if d == nil {
		t.Fatal("delivery not enabled")
	}
	if d.Host != "smtp.example.com" || d.Port != 2525 || d.TLS != "starttls" || d.Password.Reveal() != "pw" {
		t.Errorf("delivery = %+v", d)
	}
	want := []Recipient{
		{Address: "boss@example.com"},
		{Address: "sales-lead@example.com", Name: "Sales lead", Scope: Scope{Name: "Sales",
			AdminUnits: []string{"au-sales"}, UPNPatterns: []string{"*@sales.example.com"}}},
		{Address: "rc@example.com", Scope: Scope{Name: "Phones", Extensions: []string{"101", "102"}}},
	}
	if !reflect.DeepEqual(d.Recipients, want) {
		t.Errorf("recipients = %+v\nwant %+v", d.Recipients, want)
	}
	if !d.Recipients[0].Scope.IsEveryone() || d.Recipients[1].Scope.IsEveryone() {
		t.Error("IsEveryone wrong")
	}
}

// TestDeliveryErrors proves that each problem of the delivery section is
// reported naming its key, list index included.
func TestDeliveryErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad address and tls", `delivery:
  host: smtp.example.com
  tls: ssl
  from: stats@example.com
  recipients:
    - address: a@example.com
    - address: a@example.com
    - address: not-an-address
`, []string{`delivery.tls: must be starttls, tls or none, got "ssl"`,
			`delivery.recipients[2].address: not an email address: "not-an-address"`}},
		{"scope without name, bad glob, clash", `delivery:
  host: smtp.example.com
  from: stats@example.com
  recipients:
    - address: a@example.com
      scope: {upn_domains: [example.com]}
    - address: b@example.com
      scope: {name: S, upn_patterns: ["[x"]}
    - address: c@example.com
      scope: {name: T, users: [u1]}
    - address: d@example.com
      scope: {name: T, users: [u2]}
`, []string{"delivery.recipients[0].scope.name: required: it titles the scope's workbook",
			`delivery.recipients[1].scope.upn_patterns[0]: bad pattern "[x": syntax error in pattern`,
			`delivery.recipients[3].scope.name: "T" names a different scope in delivery.recipients[2]`}},
		{"no recipients, user without password", `delivery:
  host: smtp.example.com
  user: stats
  from: stats@example.com
`, []string{"delivery.password_env: required: name the environment variable holding the secret (or set password_file)",
			"delivery.recipients: required: list at least one recipient"}},
		{"unknown key in a list item", `delivery:
  host: smtp.example.com
  from: stats@example.com
  recipients:
    - adress: a@example.com
`, []string{"delivery.yaml:9: delivery.recipients[0].adress: unknown key (did you mean address?)"}},
		{"list where a value goes", `delivery:
  host: smtp.example.com
  from: stats@example.com
  recipients: a@example.com
`, []string{"delivery.yaml:8: delivery.recipients: must be a list"}},
		{"literal password", `delivery:
  password: hunter2
`, []string{"delivery.yaml:6: delivery.password: secrets must not be written in the config file; say where the secret is with password_env (the name of an environment variable) or password_file (a file path)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load("delivery.yaml", []byte(teamsYAML+tt.yaml), []string{"GRAPH_CLIENT_SECRET=s"})
			got := problems(err, "")
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

// TestSlug proves scope names become file-name parts.
func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Sales EMEA": "sales-emea", " Support/2nd line ": "support-2nd-line", "--": "", "Ünïcode": "n-code"} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
