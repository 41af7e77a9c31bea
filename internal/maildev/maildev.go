// Package maildev starts a MailDev server (an SMTP server from npm that
// keeps what it receives and lists it over a REST API) on 127.0.0.1 for
// tests, and reads the mail it received. scripts/test-deps installs it into
// <repo>/.cache/maildev (or $CALLSTATS_MAILDEV_DIR).
package maildev

import (
	"bytes"
	"callstats/internal/nodepeer"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireEnv names the environment variable that, set to "1", turns the
// skip in Start into a failure, so CI cannot silently skip the SMTP tests.
const RequireEnv = "CALLSTATS_REQUIRE_MAILDEV"

// DirEnv overrides the folder holding node_modules/.bin/maildev.
const DirEnv = "CALLSTATS_MAILDEV_DIR"

const hint = "run scripts/test-deps maildev"

// Server is a running MailDev.
type Server struct {
	SMTPPort int // where it accepts mail, on 127.0.0.1
	web      string
}

// Address is a recipient as MailDev lists it.
type Address struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// Attachment is an attachment as MailDev lists it.
type Attachment struct {
	FileName          string `json:"fileName"`
	GeneratedFileName string `json:"generatedFileName"`
	ContentType       string `json:"contentType"`
}

// Email is one received message as MailDev's GET /email lists it.
type Email struct {
	ID          string       `json:"id"`
	Subject     string       `json:"subject"`
	Text        string       `json:"text"`
	HTML        string       `json:"html"`
	To          []Address    `json:"to"`
	Envelope    envelope     `json:"envelope"`
	Attachments []Attachment `json:"attachments"`
}

type envelope struct {
	To []Address `json:"to"`
}

// Recipients are the envelope recipients (RCPT TO) of the message.
func (e Email) Recipients() []string {
	var out []string
	for _, a := range e.Envelope.To {
		out = append(out, a.Address)
	}
	return out
}

// Start starts MailDev on free ports of 127.0.0.1, waits until it answers,
// and stops it when the test ends. Without MailDev installed it skips the
// test with a message saying how to install it, or fails when RequireEnv
// is 1.
func Start(t testing.TB) *Server {
	t.Helper()
	node, script, err := nodepeer.Find("maildev", DirEnv, "node_modules/maildev/bin/maildev", hint)
	nodepeer.Require(t, "maildev", RequireEnv, err)
	ports, err := nodepeer.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	smtp, web := ports[0], ports[1]
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script, "--smtp", strconv.Itoa(smtp), "--web", strconv.Itoa(web), "--ip", "127.0.0.1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting maildev: %v", err)
	}
	exited, done := make(chan error, 1), make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	s := &Server{SMTPPort: smtp, web: fmt.Sprintf("http://127.0.0.1:%d", web)}
	// Both ports listen, and the REST API answers.
	for _, port := range []int{web, smtp} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := nodepeer.WaitListening(ctx, addr, exited, 20*time.Second); err != nil {
			t.Fatalf("maildev did not come up: %v\n%s", err, out.String())
		}
	}
	if _, err := s.Emails(ctx); err != nil {
		t.Fatalf("maildev did not come up: %v\n%s", err, out.String())
	}
	return s
}

// Emails lists the received messages, oldest first.
func (s *Server) Emails(ctx context.Context) ([]Email, error) {
	b, err := s.get(ctx, "/email")
	if err != nil {
		return nil, err
	}
	var out []Email
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("maildev: reading /email: %w", err)
	}
	return out, nil
}

// Attachment downloads an attachment of a received message.
func (s *Server) Attachment(ctx context.Context, id, name string) ([]byte, error) {
	return s.get(ctx, "/email/"+url.PathEscape(id)+"/attachment/"+url.PathEscape(name))
}

func (s *Server) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.web+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("maildev: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("maildev: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("maildev: GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}
