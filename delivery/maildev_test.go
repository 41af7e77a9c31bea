package delivery

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"callstats/internal/maildev"
)

// TestDeliverMaildev proves, against a real SMTP server (MailDev), that
// every recipient receives one message with their scope's workbook
// attached, byte for byte, and the headline figures in the body; and that
// a rerun of the week sends nothing.
func TestDeliverMaildev(t *testing.T) {
	srv := maildev.Start(t)
	ctx := context.Background()
	d := testDelivery(srv.SMTPPort)
	d.Recipients[1].Address = "second@example.com"
	books := testBooks(t)
	opts := Options{StateDir: t.TempDir(), Timeout: 10 * time.Second}
	if _, err := Deliver(ctx, d, week, books, opts); err != nil {
		t.Fatal(err)
	}
	emails, err := srv.Emails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ file, content, figure string }{
		"boss@example.com":   {"callstats-2026-W47.xlsx", "workbook ", "+20%"},
		"second@example.com": {"callstats-2026-W47.xlsx", "workbook ", "+20%"},
		"lead@example.com":   {"callstats-2026-W47-sales.xlsx", "workbook sales", "-25%"},
	}
	if len(emails) != len(want) {
		t.Fatalf("maildev received %d messages, want %d", len(emails), len(want))
	}
	for _, e := range emails {
		rc := e.Recipients()
		if len(rc) != 1 {
			t.Errorf("message %s to %q, want one recipient", e.ID, rc)
			continue
		}
		w, ok := want[rc[0]]
		if !ok {
			t.Errorf("unexpected recipient %s", rc[0])
			continue
		}
		delete(want, rc[0])
		var names []string
		for _, a := range e.Attachments {
			names = append(names, a.FileName)
		}
		if !slices.Equal(names, []string{w.file}) {
			t.Errorf("%s: attachments %q, want %s", rc[0], names, w.file)
			continue
		}
		b, err := srv.Attachment(ctx, e.ID, e.Attachments[0].GeneratedFileName)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != w.content {
			t.Errorf("%s: attachment holds %q, want %q", rc[0], b, w.content)
		}
		if !strings.Contains(e.Text, w.figure) || !strings.Contains(e.HTML, "Calls") {
			t.Errorf("%s: body lacks the figures:\n%s", rc[0], e.Text)
		}
	}

	res, err := Deliver(ctx, d, week, books, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != StatusSkipped {
			t.Errorf("rerun: %s %s, want skipped", r.Address, r.Status)
		}
	}
	if emails, _ = srv.Emails(ctx); len(emails) != 3 {
		t.Errorf("rerun: maildev has %d messages, want still 3", len(emails))
	}
}
