package delivery

import (
	"bufio"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
)

// fakeSMTP is a minimal SMTP server on 127.0.0.1 that keeps every message
// it accepts and refuses RCPT TO for the addresses in refuse with 550.
type fakeSMTP struct {
	ln     net.Listener
	refuse map[string]bool
	// xoauth2, when set, makes the server offer AUTH XOAUTH2 only and
	// accept the SASL string it returns true for (xoauth2_test.go).
	xoauth2 func(sasl string) bool

	mu   sync.Mutex
	msgs []received
}

type received struct {
	rcpts []string
	msg   *mail.Message
	body  []byte
}

func startFakeSMTP(t *testing.T, refuse ...string) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSMTP{ln: ln, refuse: map[string]bool{}}
	for _, a := range refuse {
		s.refuse[strings.ToLower(a)] = true
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *fakeSMTP) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *fakeSMTP) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := func(line string) { io.WriteString(c, line+"\r\n") }
	w("220 fake ESMTP")
	var rcpts []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			w("250-fake")
			if s.xoauth2 != nil {
				w("250-AUTH XOAUTH2")
			}
			w("250 8BITMIME")
		case strings.HasPrefix(cmd, "AUTH XOAUTH2 ") && s.xoauth2 != nil:
			if s.xoauth2(strings.TrimSpace(line)[len("AUTH XOAUTH2 "):]) {
				w("235 2.7.0 Authentication successful")
			} else {
				w("535 5.7.3 Authentication unsuccessful")
			}
		case strings.HasPrefix(cmd, "MAIL FROM"):
			rcpts = nil
			w("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			addr := strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<> ")
			if i := strings.IndexByte(addr, '>'); i >= 0 {
				addr = addr[:i]
			}
			if s.refuse[strings.ToLower(addr)] {
				w("550 5.1.1 no such user")
				continue
			}
			rcpts = append(rcpts, addr)
			w("250 ok")
		case cmd == "DATA":
			w("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m, err := mail.ReadMessage(strings.NewReader(data.String()))
			if err != nil {
				w("554 bad message")
				continue
			}
			body, _ := io.ReadAll(m.Body)
			s.mu.Lock()
			s.msgs = append(s.msgs, received{rcpts: rcpts, msg: m, body: body})
			s.mu.Unlock()
			w("250 queued")
		case cmd == "QUIT":
			w("221 bye")
			return
		default: // RSET, NOOP
			w("250 ok")
		}
	}
}
