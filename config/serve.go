package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Serve configures `callstats serve`, the webhook receiver that appends
// Graph and RingCentral notifications to the queue and keeps their
// subscriptions alive.
type Serve struct {
	// Listen is the address the server listens on, "127.0.0.1:8443" by
	// default (behind a reverse proxy) or ":443" with TLS.
	Listen string `yaml:"listen"`
	// PublicURL is the base URL Graph and RingCentral reach the server at
	// (https://callstats.example.com, no trailing slash); the paths below are
	// appended to it. "" means serve only receives: no subscription is
	// created or renewed (callstats subscribe then refuses to run).
	PublicURL string `yaml:"public_url"`

	// The paths of the three endpoints; each starts with "/" and they differ.
	PathGraph          string `yaml:"path_graph"`           // default /graph/callrecords
	PathGraphLifecycle string `yaml:"path_graph_lifecycle"` // default /graph/lifecycle
	PathRingCentral    string `yaml:"path_ringcentral"`     // default /ringcentral/telephony

	// TLSCertFile and TLSKeyFile (PEM) make the server speak HTTPS itself;
	// both or neither are set. Neither: plain HTTP behind a reverse proxy
	// that terminates TLS.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	// The Graph subscription's clientState (at most 255 characters),
	// required when the teams section is set; named by exactly one of
	// *_env and *_file.
	ClientStateEnv  string `yaml:"client_state_env"`
	ClientStateFile string `yaml:"client_state_file"`
	ClientState     Secret `yaml:"-"`

	// The RingCentral subscription's verification token, which RingCentral
	// sends back in the Verification-Token header of every webhook; required
	// when the ringcentral section is set.
	VerificationTokenEnv  string `yaml:"verification_token_env"`
	VerificationTokenFile string `yaml:"verification_token_file"`
	VerificationToken     Secret `yaml:"-"`

	// RenewBefore renews a subscription once less than this is left of it
	// (default 12h; less than Graph's 4,230-minute maximum).
	RenewBefore time.Duration `yaml:"renew_before"`
	// MaxBodyBytes caps a request body (default 1 MiB); larger is 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// PerIPConcurrency bounds the requests of one client address in flight
	// at once (default 64); more are answered 429.
	PerIPConcurrency int `yaml:"per_ip_concurrency"`
	// RealIPHeader names the header a reverse proxy on loopback puts the
	// client's address in (X-Forwarded-For, X-Real-IP), for the per-IP
	// bound; "" uses the connection's address. It is believed only for
	// connections from a loopback address.
	RealIPHeader string `yaml:"real_ip_header"`
}

// GraphMaxSubscription is the longest a Graph callRecords subscription may
// live (4,230 minutes).
const GraphMaxSubscription = 4230 * time.Minute

func defaultServe() *Serve {
	return &Serve{
		Listen:             "127.0.0.1:8443",
		PathGraph:          "/graph/callrecords",
		PathGraphLifecycle: "/graph/lifecycle",
		PathRingCentral:    "/ringcentral/telephony",
		RenewBefore:        12 * time.Hour,
		MaxBodyBytes:       1 << 20,
		PerIPConcurrency:   64,
	}
}

// URL returns the public URL of the endpoint at path, "" when no public
// URL is set.
func (s *Serve) URL(path string) string {
	if s.PublicURL == "" {
		return ""
	}
	return s.PublicURL + path
}

// validate reports every problem with the serve section.
func (s *Serve) validate(c *Config, need secretNeed) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if s.Listen == "" {
		add(required("serve.listen", s.Listen))
	} else if _, port, err := net.SplitHostPort(s.Listen); err != nil || port == "" {
		add(fmt.Errorf("serve.listen: must be host:port like 127.0.0.1:8443 or :443, got %q", s.Listen))
	}
	if s.PublicURL != "" {
		add(checkURL("serve.public_url", s.PublicURL))
		if u, err := url.Parse(s.PublicURL); err == nil && u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
			add(fmt.Errorf("serve.public_url: Graph and RingCentral deliver only to https URLs, got %q", s.PublicURL))
		}
	}
	paths := map[string]string{}
	for _, p := range []struct{ key, v string }{
		{"serve.path_graph", s.PathGraph},
		{"serve.path_graph_lifecycle", s.PathGraphLifecycle},
		{"serve.path_ringcentral", s.PathRingCentral},
	} {
		switch {
		case p.v == "":
			add(required(p.key, p.v))
			continue
		case !validPath(p.v):
			add(fmt.Errorf("%s: must be a URL path like /graph/callrecords (letters, digits, - _ . /), got %q", p.key, p.v))
			continue
		}
		if other, dup := paths[p.v]; dup {
			add(fmt.Errorf("%s: %q is also %s", p.key, p.v, other))
		}
		paths[p.v] = p.key
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		add(fmt.Errorf("serve.tls_cert_file: set both tls_cert_file and tls_key_file, or neither"))
	}
	for _, r := range serveSecrets(c) {
		add(r.check(need))
	}
	if s.RenewBefore <= 0 || s.RenewBefore >= GraphMaxSubscription {
		add(fmt.Errorf("serve.renew_before: must be greater than 0 and less than %s, got %s", GraphMaxSubscription, s.RenewBefore))
	}
	add(inRange("serve.max_body_bytes", s.MaxBodyBytes, 1024, 64<<20))
	add(inRange("serve.per_ip_concurrency", s.PerIPConcurrency, 1, 100000))
	if s.RealIPHeader != "" && !headerNameRE.MatchString(s.RealIPHeader) {
		add(fmt.Errorf("serve.real_ip_header: not a header name: %q", s.RealIPHeader))
	}
	return errs
}

// serveSecrets are the clientState (with Teams) and the RingCentral
// verification token (with RingCentral).
func serveSecrets(c *Config) []secretRef {
	s := c.Serve
	if s == nil {
		return nil
	}
	var refs []secretRef
	if c.Teams != nil {
		refs = append(refs, secretRef{"serve.client_state", s.ClientStateEnv, s.ClientStateFile, &s.ClientState})
	}
	if c.RingCentral != nil {
		refs = append(refs, secretRef{"serve.verification_token", s.VerificationTokenEnv, s.VerificationTokenFile, &s.VerificationToken})
	}
	return refs
}

// validPath accepts an absolute URL path of safe characters, without "//",
// "." or ".." segments and without a trailing slash.
func validPath(p string) bool {
	if len(p) < 2 || p[0] != '/' || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			return false
		}
	}
	return true
}

var headerNameRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
