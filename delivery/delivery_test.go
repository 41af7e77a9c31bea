package delivery

import (
	"context"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"callstats/config"
	"callstats/report"
)

var week = report.Week{Year: 2026, Week: 47}

// testBooks writes two small stand-in workbooks (tenant-wide and "sales")
// with known figures.
func testBooks(t *testing.T) []Workbook {
	dir := t.TempDir()
	var out []Workbook
	for _, b := range []struct {
		slug, name string
		calls      [2]int64
	}{{"", "", [2]int64{120, 100}}, {"sales", "Sales", [2]int64{30, 40}}} {
		path := filepath.Join(dir, report.FileName(week))
		if b.slug != "" {
			path = filepath.Join(dir, report.ScopedFileName(week, b.slug))
		}
		if err := os.WriteFile(path, []byte("workbook "+b.slug), 0o644); err != nil {
			t.Fatal(err)
		}
		figs := &report.Figures{Week: week, ThisWeek: report.Period{Calls: b.calls[0], ActiveUsers: 7},
			LastWeek: report.Period{Calls: b.calls[1], ActiveUsers: 7}, Headline: "Headline " + b.name + "."}
		out = append(out, Workbook{Slug: b.slug, Name: b.name, Path: path, Figures: figs})
	}
	return out
}

func testDelivery(port int) *config.Delivery {
	return &config.Delivery{Host: "127.0.0.1", Port: port, TLS: "none", From: "Call stats <stats@example.com>",
		Recipients: []config.Recipient{
			{Address: "boss@example.com", Name: "Boss"},
			{Address: "nobody@example.com"},
			{Address: "lead@example.com", Scope: config.Scope{Name: "Sales", AdminUnits: []string{"au-sales"}}},
		}}
}

// mailParts splits a received message into its text, HTML and attachments
// (file name -> content).
func mailParts(t *testing.T, r received) (text, html string, files map[string]string) {
	t.Helper()
	files = map[string]string{}
	var walk func(ct string, body io.Reader, enc string)
	walk = func(ct string, body io.Reader, enc string) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p, p.Header.Get("Content-Transfer-Encoding"))
			}
		}
		var rd io.Reader = body
		if strings.EqualFold(enc, "base64") {
			rd = base64.NewDecoder(base64.StdEncoding, body)
		} else if strings.EqualFold(enc, "quoted-printable") {
			rd = quotedPrintable(body)
		}
		b, err := io.ReadAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case params["name"] != "":
			files[params["name"]] = string(b)
		case mt == "text/plain":
			text = string(b)
		case mt == "text/html":
			html = string(b)
		}
	}
	walk(r.msg.Header.Get("Content-Type"), strings.NewReader(string(r.body)), r.msg.Header.Get("Content-Transfer-Encoding"))
	return text, html, files
}

// TestDeliver proves that each recipient gets one mail with their scope's
// workbook attached and the headline figures (this week, last week, change)
// in both bodies; that a refused recipient is reported by address as a
// permanent failure while the others are sent; that a rerun sends only the
// one that failed; and that Resend sends everything again.
func TestDeliver(t *testing.T) {
	srv := startFakeSMTP(t, "nobody@example.com")
	d := testDelivery(srv.port())
	books := testBooks(t)
	state := t.TempDir()
	clock := func() time.Time { return time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC) }
	opts := Options{StateDir: state, Now: clock, Timeout: 5 * time.Second}

	res, err := Deliver(context.Background(), d, week, books, opts)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "nobody@example.com") {
		t.Fatalf("err = %v, want ErrFailed naming nobody@example.com", err)
	}
	statuses := func(res []Result) []string {
		var out []string
		for _, r := range res {
			out = append(out, r.Address+" "+r.Status)
		}
		return out
	}
	if got, want := statuses(res), []string{"boss@example.com sent", "nobody@example.com failed", "lead@example.com sent"}; !slices.Equal(got, want) {
		t.Fatalf("results = %q, want %q", got, want)
	}
	if !res[1].Permanent {
		t.Errorf("refused recipient not reported as permanent: %+v", res[1])
	}

	msgs := srv.received()
	if len(msgs) != 2 {
		t.Fatalf("server received %d messages, want 2", len(msgs))
	}
	want := []struct {
		rcpt, file, content, subject string
		lines                        []string
	}{
		{"boss@example.com", "callstats-2026-W47.xlsx", "workbook ", "Call statistics, week 2026-W47",
			[]string{"Hello Boss", "whole organisation", "Calls", "120", "100", "+20%", "±0%", "Headline ."}},
		{"lead@example.com", "callstats-2026-W47-sales.xlsx", "workbook sales", "Call statistics, week 2026-W47: Sales",
			[]string{"for Sales", "30", "40", "-25%", "Headline Sales."}},
	}
	for i, w := range want {
		m := msgs[i]
		if !slices.Equal(m.rcpts, []string{w.rcpt}) {
			t.Errorf("message %d to %q, want %s", i, m.rcpts, w.rcpt)
		}
		if got, _ := new(mime.WordDecoder).DecodeHeader(m.msg.Header.Get("Subject")); got != w.subject {
			t.Errorf("message %d subject %q, want %q", i, got, w.subject)
		}
		text, htm, files := mailParts(t, m)
		htm = html.UnescapeString(htm)
		if len(files) != 1 || files[w.file] != w.content {
			t.Errorf("message %d attachments %q, want %s = %q", i, files, w.file, w.content)
		}
		for _, l := range w.lines {
			if !strings.Contains(text, l) || !strings.Contains(htm, l) {
				t.Errorf("message %d: %q missing from text or HTML body:\n%s\n%s", i, l, text, htm)
			}
		}
	}

	st, err := Failed(state)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || len(st[0].Sends) != 1 || st[0].Sends[0].Address != "nobody@example.com" || !st[0].Sends[0].Permanent {
		t.Errorf("Failed = %+v, want the refused recipient of 2026-W47", st)
	}

	// Rerun: nothing new is sent but the failed one is retried (and fails again).
	res, err = Deliver(context.Background(), d, week, books, opts)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("rerun err = %v", err)
	}
	if got, want := statuses(res), []string{"boss@example.com skipped", "nobody@example.com failed", "lead@example.com skipped"}; !slices.Equal(got, want) {
		t.Fatalf("rerun results = %q, want %q", got, want)
	}
	if n := len(srv.received()); n != 2 {
		t.Errorf("rerun sent %d more messages, want none", n-2)
	}
	s, _ := LoadState(state, week.String())
	if f := s.find("nobody@example.com|"); f == nil || f.Attempts != 2 {
		t.Errorf("failed send record = %+v, want 2 attempts", f)
	}

	// The address is fixed: the next run sends to it only.
	d.Recipients[1].Address = "fixed@example.com"
	if res, err = Deliver(context.Background(), d, week, books, opts); err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got[1] != "fixed@example.com sent" || len(srv.received()) != 3 {
		t.Errorf("after fix: %q, %d messages", got, len(srv.received()))
	}

	// Resend: everyone again.
	opts.Resend = true
	if _, err = Deliver(context.Background(), d, week, books, opts); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.received()); n != 6 {
		t.Errorf("resend: %d messages in all, want 6", n)
	}
}

// TestDeliverServerDown proves that an unreachable server is a temporary
// failure per recipient, recorded for the next run.
func TestDeliverServerDown(t *testing.T) {
	srv := startFakeSMTP(t)
	port := srv.port()
	srv.ln.Close()
	d := testDelivery(port)
	res, err := Deliver(context.Background(), d, week, testBooks(t), Options{StateDir: t.TempDir(), Timeout: time.Second})
	if !errors.Is(err, ErrFailed) || len(res) != 3 {
		t.Fatalf("err = %v, results %+v", err, res)
	}
	for _, r := range res {
		if r.Status != StatusFailed || r.Permanent {
			t.Errorf("%+v: want a temporary failure", r)
		}
	}
}

// TestScopes proves that recipients sharing a scope share a workbook and
// the whole tenant is not a scope.
func TestScopes(t *testing.T) {
	d := testDelivery(25)
	d.Recipients = append(d.Recipients, config.Recipient{Address: "x@example.com", Scope: d.Recipients[2].Scope},
		config.Recipient{Address: "y@example.com", Scope: config.Scope{Name: "Support", Users: []string{"u1"}}})
	var names []string
	for _, s := range Scopes(d) {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"Sales", "Support"}) {
		t.Errorf("Scopes = %q", names)
	}
}
