package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
	"callstats/internal/entra"
	"callstats/report"
)

// graphEnv is a fake Graph, the app's credential for it, and delivery
// options whose waits are recorded instead of slept.
type graphEnv struct {
	srv   *graphtest.Server
	opts  Options
	mu    sync.Mutex
	waits []time.Duration
}

func newGraphEnv(t *testing.T) *graphEnv {
	t.Helper()
	s := graphtest.NewServer(graphtest.Options{})
	t.Cleanup(s.Close)
	cred, err := entra.New(entra.Config{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1", LoginURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := &graphEnv{srv: s}
	e.opts = Options{StateDir: t.TempDir(), Credential: cred, GraphURL: s.URL,
		Wait: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.waits = append(e.waits, d)
			return ctx.Err()
		}}
	return e
}

func (e *graphEnv) recordedWaits() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.waits)
}

func graphDelivery() *config.Delivery {
	d := testDelivery(25)
	d.Host, d.Via, d.Sender, d.Attach = "", config.ViaGraph, "stats@example.com", true
	return d
}

// largeBook writes a random workbook of n bytes in place of books[i].
func largeBook(t *testing.T, books []Workbook, i, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	if err := os.WriteFile(books[i].Path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGraphSendMail proves that delivery.via graph sends each recipient's
// mail with sendMail as delivery.sender, the small workbook inline and
// the figures in the HTML body; that a 429 is waited out for its
// Retry-After; that a rerun sends nothing more (the sends are recorded as
// for SMTP); and that a refused recipient is a permanent failure.
func TestGraphSendMail(t *testing.T) {
	e := newGraphEnv(t)
	d := graphDelivery()
	books := testBooks(t)
	e.srv.Throttle(1, 7*time.Second)
	res, err := Deliver(context.Background(), d, week, books, e.opts)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("results %+v", res)
	}
	mails := e.srv.Mails()
	if len(mails) != 3 {
		t.Fatalf("%d mails sent, want 3", len(mails))
	}
	want := []struct{ to, file, content, line string }{
		{"boss@example.com", "callstats-2026-W47.xlsx", "workbook ", "Hello Boss"},
		{"nobody@example.com", "callstats-2026-W47.xlsx", "workbook ", "whole organisation"},
		{"lead@example.com", "callstats-2026-W47-sales.xlsx", "workbook sales", "Headline Sales."},
	}
	for i, w := range want {
		m := mails[i]
		if m.Sender != "stats@example.com" || !slices.Equal(m.To, []string{w.to}) || m.ViaDraft {
			t.Errorf("mail %d: sender %s to %q draft %v", i, m.Sender, m.To, m.ViaDraft)
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Name != w.file || string(m.Attachments[0].Content) != w.content ||
			m.Attachments[0].Chunks != 0 || m.Attachments[0].ContentType != string(xlsxType) {
			t.Errorf("mail %d attachments %+v", i, m.Attachments)
		}
		if !strings.Contains(string(m.Message), w.line) || !strings.Contains(string(m.Message), "are attached") {
			t.Errorf("mail %d body lacks %q: %s", i, w.line, m.Message)
		}
	}
	if got := e.recordedWaits(); !slices.Contains(got, 7*time.Second) {
		t.Errorf("waits %v: the Retry-After of 7s was not honoured", got)
	}

	res, err = Deliver(context.Background(), d, week, books, e.opts)
	if err != nil || res[0].Status != StatusSkipped || len(e.srv.Mails()) != 3 {
		t.Errorf("rerun: %v %+v, %d mails", err, res, len(e.srv.Mails()))
	}

	d.Recipients = append(d.Recipients, config.Recipient{Address: "not-an-address"})
	res, err = Deliver(context.Background(), d, week, books, e.opts)
	if !errors.Is(err, ErrFailed) || res[3].Status != StatusFailed || !res[3].Permanent {
		t.Errorf("refused recipient: %v %+v", err, res)
	}
	failed, _ := Failed(e.opts.StateDir)
	if len(failed) != 1 || failed[0].Sends[0].Address != "not-an-address" || !failed[0].Sends[0].Permanent {
		t.Errorf("Failed = %+v", failed)
	}
}

// TestGraphSendMailLarge proves that a workbook over 3 MB goes through a
// draft, an attachment upload session in chunks (one of which is throttled
// and resent after its Retry-After) and send, and arrives byte-identical.
func TestGraphSendMailLarge(t *testing.T) {
	e := newGraphEnv(t)
	d := graphDelivery()
	d.Recipients = d.Recipients[:1]
	books := testBooks(t)
	data := largeBook(t, books, 0, 7<<20+12345)
	e.srv.ThrottleUploadAfter(1, 3*time.Second)
	if _, err := Deliver(context.Background(), d, week, books, e.opts); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	mails := e.srv.Mails()
	if len(mails) != 1 || !mails[0].ViaDraft || len(mails[0].Attachments) != 1 {
		t.Fatalf("mails %+v", mails)
	}
	a := mails[0].Attachments[0]
	if !bytes.Equal(a.Content, data) || a.Name != "callstats-2026-W47.xlsx" {
		t.Errorf("attachment %s of %d bytes differs from the workbook of %d", a.Name, len(a.Content), len(data))
	}
	if a.Chunks != 3 {
		t.Errorf("uploaded in %d chunks, want 3 of at most %d bytes", a.Chunks, uploadChunk)
	}
	if got := e.recordedWaits(); !slices.Equal(got, []time.Duration{3 * time.Second}) {
		t.Errorf("waits %v, want the 3s Retry-After", got)
	}
}

// TestUploadAndLink proves that with delivery.upload each workbook is
// uploaded once to the folder through a drive upload session, chunked in
// multiples of 320 KiB and reassembled byte-identical, resuming where the
// session says after a 429 mid-upload; and that with attach false the
// mail carries the link instead of the attachment.
func TestUploadAndLink(t *testing.T) {
	e := newGraphEnv(t)
	d := graphDelivery()
	d.Attach = false
	d.Upload = &config.DeliveryUpload{DriveID: "b!drive-1", Folder: "Reports/Call stats"}
	books := testBooks(t)
	data := largeBook(t, books, 0, 9<<20+7)
	e.srv.ThrottleUploadAfter(1, 2*time.Second)
	res, err := Deliver(context.Background(), d, week, books, e.opts)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got, ok := e.srv.File("b!drive-1", "Reports/Call stats/"+report.FileName(week))
	if !ok || !bytes.Equal(got, data) {
		t.Fatalf("uploaded file: %v, %d bytes, want %d identical", ok, len(got), len(data))
	}
	if n := e.srv.Chunks("b!drive-1", "Reports/Call stats/"+report.FileName(week)); n != 3 {
		t.Errorf("%d chunks, want 3", n)
	}
	if got, _ := e.srv.File("b!drive-1", "Reports/Call stats/"+report.ScopedFileName(week, "sales")); string(got) != "workbook sales" {
		t.Errorf("sales workbook uploaded as %q", got)
	}
	if st := e.srv.Stats(); st.Throttled != 1 || st.PerPath["/v1.0/drives/b%21drive-1/items/root:/Reports/Call%20stats/callstats-2026-W47.xlsx:/createUploadSession"] != 1 {
		t.Errorf("stats %+v: want one 429 and one upload session per workbook", st)
	}
	if !slices.Contains(e.recordedWaits(), 2*time.Second) {
		t.Errorf("waits %v: the 2s Retry-After was not honoured", e.recordedWaits())
	}
	mails := e.srv.Mails()
	if len(mails) != 3 {
		t.Fatalf("%d mails", len(mails))
	}
	for i, m := range mails {
		if len(m.Attachments) != 0 || m.ViaDraft {
			t.Errorf("mail %d has attachments %d (draft %v), want the link only", i, len(m.Attachments), m.ViaDraft)
		}
		if res[i].Link == "" || !strings.Contains(string(m.Message), res[i].Link) || !strings.Contains(string(m.Message), "are at") {
			t.Errorf("mail %d does not carry its link %q: %s", i, res[i].Link, m.Message)
		}
	}
	st, _ := LoadState(e.opts.StateDir, week.String())
	if s := st.find("boss@example.com|"); s == nil || s.Link != res[0].Link {
		t.Errorf("recorded send %+v lacks the link", s)
	}
}
