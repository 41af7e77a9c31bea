package config

import (
	"strings"
	"testing"
	"time"
)

// TestServeLoad proves that the serve section takes its defaults, reads
// the clientState from its variable and is overridden by CALLSTATS_
// variables.
func TestServeLoad(t *testing.T) {
	yml := teamsYAML + `serve:
  public_url: https://callstats.example.com
  client_state_env: CLIENT_STATE
`
	c, err := load("serve.yaml", []byte(yml), []string{"GRAPH_CLIENT_SECRET=s", "CLIENT_STATE=cs",
		"CALLSTATS_SERVE_RENEW_BEFORE=6h"})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Serve
	if s == nil {
		t.Fatal("serve not enabled")
	}
	if s.Listen != "127.0.0.1:8443" || s.PathGraph != "/graph/callrecords" || s.PathGraphLifecycle != "/graph/lifecycle" ||
		s.PathRingCentral != "/ringcentral/telephony" || s.MaxBodyBytes != 1<<20 || s.PerIPConcurrency != 64 {
		t.Errorf("defaults not applied: %+v", s)
	}
	if s.RenewBefore != 6*time.Hour || s.ClientState.Reveal() != "cs" {
		t.Errorf("renew_before %s, client state %q", s.RenewBefore, s.ClientState.Reveal())
	}
	if got := s.URL(s.PathGraph); got != "https://callstats.example.com/graph/callrecords" {
		t.Errorf("URL = %q", got)
	}
	if Default().Serve != nil {
		t.Error("Default enables serve")
	}
}

// TestServeInvalid proves that each bad serve key is reported by name.
func TestServeInvalid(t *testing.T) {
	for _, tt := range []struct{ name, yml, want string }{
		{"no client state with teams", "serve: {}\n", "serve.client_state_env: required"},
		{"bad listen", "serve: {listen: nowhere, client_state_env: CS}\n", "serve.listen: must be host:port"},
		{"http public url", "serve: {public_url: 'http://example.com', client_state_env: CS}\n", "serve.public_url: Graph and RingCentral deliver only to https"},
		{"trailing slash", "serve: {public_url: 'https://example.com/', client_state_env: CS}\n", "serve.public_url: must not end with a slash"},
		{"same paths", "serve: {path_graph: /x, path_graph_lifecycle: /x, client_state_env: CS}\n", `serve.path_graph_lifecycle: "/x" is also serve.path_graph`},
		{"bad path", "serve: {path_ringcentral: '/a/../b', client_state_env: CS}\n", "serve.path_ringcentral: must be a URL path"},
		{"tls half", "serve: {tls_cert_file: c.pem, client_state_env: CS}\n", "serve.tls_cert_file: set both"},
		{"renew too long", "serve: {renew_before: 72h, client_state_env: CS}\n", "serve.renew_before: must be greater than 0 and less than"},
		{"body too small", "serve: {max_body_bytes: 10, client_state_env: CS}\n", "serve.max_body_bytes: must be between"},
		{"bad header", "serve: {real_ip_header: 'X Real', client_state_env: CS}\n", "serve.real_ip_header: not a header name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load("serve.yaml", []byte(teamsYAML+tt.yml), []string{"GRAPH_CLIENT_SECRET=s", "CS=x"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
