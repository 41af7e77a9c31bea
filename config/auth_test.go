package config

import (
	"strings"
	"testing"
	"time"
)

// TestAuthAndDeliveryGraph proves that the sign-in kinds and the Microsoft
// 365 delivery keys load with their defaults and that each bad combination
// is reported naming its key.
func TestAuthAndDeliveryGraph(t *testing.T) {
	const recipients = "  from: Call stats <stats@example.com>\n  recipients: [{address: boss@example.com}]\n"
	tests := []struct {
		name, yml string
		environ   []string
		wantErr   string // "" means it loads
		check     func(t *testing.T, c *Config)
	}{
		{name: "defaults", yml: teamsYAML, environ: []string{"GRAPH_CLIENT_SECRET=s"},
			check: func(t *testing.T, c *Config) {
				if c.Teams.Auth != AuthSecret || c.Teams.LoginTimeout != 30*time.Second {
					t.Errorf("teams = %+v", c.Teams)
				}
			}},
		{name: "certificate with password", yml: "teams:\n  tenant_id: t\n  client_id: c\n  auth: certificate\n  certificate_file: app.pfx\n  certificate_password_env: PFX_PW\n  login_timeout: 5s\n",
			environ: []string{"PFX_PW=pw"},
			check: func(t *testing.T, c *Config) {
				if c.Teams.CertificatePassword.Reveal() != "pw" || c.Teams.LoginTimeout != 5*time.Second {
					t.Errorf("teams = %+v", c.Teams)
				}
			}},
		{name: "certificate without file", yml: "teams:\n  tenant_id: t\n  client_id: c\n  auth: certificate\n",
			wantErr: "teams.certificate_file: required"},
		{name: "managed identity needs no secret", yml: "teams:\n  tenant_id: t\n  client_id: c\n  auth: managed_identity\n  managed_identity_client_id: mi-1\n",
			check: func(t *testing.T, c *Config) {
				if c.Teams.ManagedIdentityClientID != "mi-1" {
					t.Errorf("teams = %+v", c.Teams)
				}
			}},
		{name: "secret with managed identity", yml: teamsYAML + "  auth: managed_identity\n", environ: []string{"GRAPH_CLIENT_SECRET=s"},
			wantErr: "teams.client_secret_env: set only with teams.auth: secret"},
		{name: "unknown kind", yml: teamsYAML + "  auth: password\n", environ: []string{"GRAPH_CLIENT_SECRET=s"},
			wantErr: "teams.auth: must be secret, certificate, managed_identity or workload_identity"},
		{name: "login timeout too short", yml: teamsYAML + "  login_timeout: 10ms\n", environ: []string{"GRAPH_CLIENT_SECRET=s"},
			wantErr: "teams.login_timeout: must be between 1s and 10m"},
		{name: "ringcentral login timeout", yml: "ringcentral:\n  client_id: c\n  client_secret_env: RS\n  jwt_env: RJ\n  login_timeout: 0s\n",
			environ: []string{"RS=a", "RJ=b"}, wantErr: "ringcentral.login_timeout: must be between 1s and 10m"},
		{name: "graph needs no host", yml: teamsYAML + "delivery:\n  via: graph\n  sender: stats@example.com\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"},
			check: func(t *testing.T, c *Config) {
				d := c.Delivery
				if d.Via != ViaGraph || !d.Attach || d.SenderMailbox() != "stats@example.com" || d.Upload != nil {
					t.Errorf("delivery = %+v", d)
				}
			}},
		{name: "sender defaults to from", yml: teamsYAML + "delivery:\n  via: graph\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"},
			check: func(t *testing.T, c *Config) {
				if got := c.Delivery.SenderMailbox(); got != "stats@example.com" {
					t.Errorf("sender = %q", got)
				}
			}},
		{name: "graph without teams", yml: "ringcentral:\n  client_id: c\n  client_secret_env: RS\n  jwt_env: RJ\ndelivery:\n  via: graph\n" + recipients,
			environ: []string{"RS=a", "RJ=b"}, wantErr: "teams: required with delivery.via: graph"},
		{name: "xoauth2 needs user, not password", yml: teamsYAML + "delivery:\n  host: smtp.office365.com\n  auth: xoauth2\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"}, wantErr: "delivery.user: required with delivery.auth: xoauth2"},
		{name: "xoauth2", yml: teamsYAML + "delivery:\n  host: smtp.office365.com\n  auth: xoauth2\n  user: stats@example.com\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"},
			check: func(t *testing.T, c *Config) {
				if c.Delivery.Auth != SMTPAuthXOAUTH2 {
					t.Errorf("delivery = %+v", c.Delivery)
				}
			}},
		{name: "upload and link", yml: teamsYAML + "delivery:\n  via: graph\n  attach: false\n  upload: {drive_id: b!abc, folder: Reports/Calls}\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"},
			check: func(t *testing.T, c *Config) {
				if u := c.Delivery.Upload; u == nil || u.DriveID != "b!abc" || u.Folder != "Reports/Calls" || c.Delivery.Attach {
					t.Errorf("delivery = %+v upload %+v", c.Delivery, u)
				}
			}},
		{name: "link without upload", yml: teamsYAML + "delivery:\n  via: graph\n  attach: false\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"}, wantErr: "delivery.attach: false needs delivery.upload"},
		{name: "bad folder", yml: teamsYAML + "delivery:\n  via: graph\n  upload: {drive_id: d, folder: /Reports/}\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"}, wantErr: "delivery.upload.folder: must be a path"},
		{name: "upload from the environment", yml: teamsYAML + "delivery:\n  via: graph\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s", "CALLSTATS_DELIVERY_UPLOAD_DRIVE_ID=d1"},
			check: func(t *testing.T, c *Config) {
				if u := c.Delivery.Upload; u == nil || u.DriveID != "d1" {
					t.Errorf("upload = %+v", u)
				}
			}},
		{name: "unknown via", yml: teamsYAML + "delivery:\n  via: ews\n  host: h\n" + recipients,
			environ: []string{"GRAPH_CLIENT_SECRET=s"}, wantErr: "delivery.via: must be smtp or graph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load("t.yaml", []byte(tt.yml), tt.environ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
