// Package maildev starts a MailDev server (an SMTP server from npm that
// keeps what it receives and lists it over a REST API) on 127.0.0.1 for
// tests, and reads the mail it received. scripts/test-deps installs it into
// <repo>/.cache/maildev (or $CALLSTATS_MAILDEV_DIR).
package maildev

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

// binary finds the installed maildev and node.
func binary() (node, script string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node not found on PATH; %s", hint)
	}
	dir := os.Getenv(DirEnv)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		root, err := findRoot(wd)
		if err != nil {
			return "", "", fmt.Errorf("%w; %s", err, hint)
		}
		dir = filepath.Join(root, ".cache", "maildev")
	}
	script = filepath.Join(dir, "node_modules", "maildev", "bin", "maildev")
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("maildev not installed in %s; %s", dir, hint)
	}
	return node, script, nil
}

func findRoot(dir string) (string, error) {
	for d := filepath.Clean(dir); ; {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module callstats")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod of module callstats in %s or above", dir)
		}
		d = parent
	}
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts MailDev on free ports of 127.0.0.1, waits until it answers,
// and stops it when the test ends. Without MailDev installed it skips the
// test with a message saying how to install it, or fails when RequireEnv
// is 1.
func Start(t testing.TB) *Server {
	t.Helper()
	node, script, err := binary()
	if err != nil {
		msg := "maildev not available: " + err.Error()
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg + " (" + RequireEnv + "=1)")
		}
		t.Skip(msg)
	}
	smtp, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	web, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script, "--smtp", fmt.Sprint(smtp), "--web", fmt.Sprint(web), "--ip", "127.0.0.1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting maildev: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	s := &Server{SMTPPort: smtp, web: fmt.Sprintf("http://127.0.0.1:%d", web)}
	// Poll until both the REST API and the SMTP port answer.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.Emails(context.Background())
		if err == nil {
			if c, derr := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", smtp)); derr == nil {
				c.Close()
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("maildev did not come up: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
