package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"callstats/config"
	"callstats/internal/entra"
	"callstats/internal/httpretry"
	"callstats/report"
)

// xlsxType is the attachment's content type.
const xlsxType mail.ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Options say how Deliver runs.
type Options struct {
	// StateDir is state_dir: sends are recorded in {StateDir}/delivery/<week>.json.
	StateDir string
	// Resend mails recipients already served this week again.
	Resend bool
	// Now is the clock the records are stamped with (time.Now when nil).
	Now func() time.Time
	// Logger receives a line per recipient; nil discards.
	Logger *slog.Logger
	// Timeout bounds each SMTP conversation (30s when zero).
	Timeout time.Duration

	// Credential is the teams app's sign-in (entra.FromTeams), needed by
	// delivery.via graph, delivery.auth xoauth2 and delivery.upload.
	Credential *entra.Credential
	// GraphURL is teams.graph_url (https://graph.microsoft.com when "").
	GraphURL string
	// HTTPClient sends the Graph requests (nil: one with timeouts).
	HTTPClient *http.Client
	// Wait waits out Retry-After and backoff between Graph attempts (nil: a
	// timer that honours ctx); tests make it return at once.
	Wait func(ctx context.Context, d time.Duration) error
}

// Outcomes of one recipient's mail.
const (
	StatusSent    = "sent"
	StatusSkipped = "skipped" // already sent this week, and not Resend
	StatusFailed  = "failed"
)

// Result is what happened to one recipient.
type Result struct {
	Address  string
	Scope    string // the scope's slug; "" tenant-wide
	Workbook string // file name of the attachment
	Status   string
	// Err is why a failed send failed; Permanent says the server refused
	// the address or the message (a 5xx reply) rather than a passing fault.
	Err       error
	Permanent bool
	Link      string // web URL of the uploaded workbook, when delivery.upload is set
}

// ErrFailed is wrapped by Deliver's error when some recipients could not be
// served.
var ErrFailed = errors.New("some recipients were not sent their workbook")

// Deliver mails every recipient of d their workbook of week w, taken from
// books (as Render returns them: the tenant-wide one has Slug ""). A
// recipient already recorded as sent this week is skipped unless
// opts.Resend. A failure for one recipient (a refused address, a server
// fault) is recorded and reported in their Result, and the others are
// still sent; the error then wraps ErrFailed and lists them. Each send is
// recorded as soon as it is known.
func Deliver(ctx context.Context, d *config.Delivery, w report.Week, books []Workbook, opts Options) ([]Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	bySlug := map[string]Workbook{}
	for _, b := range books {
		bySlug[b.Slug] = b
	}
	st, err := LoadState(opts.StateDir, w.String())
	if err != nil {
		return nil, err
	}
	api, err := newGraphAPI(d, opts)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	m, err := newMailer(d, opts, api)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	links := map[string]string{} // workbook path -> web URL, once uploaded
	var results []Result
	var failed []error
	for _, r := range d.Recipients {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		slug := ""
		if !r.Scope.IsEveryone() {
			slug = config.Slug(r.Scope.Name)
		}
		wb, ok := bySlug[slug]
		if !ok {
			return results, fmt.Errorf("delivery: no workbook rendered for scope %q of %s", slug, r.Address)
		}
		res := Result{Address: r.Address, Scope: slug, Workbook: filepath.Base(wb.Path)}
		rec := Send{Address: r.Address, Scope: slug, Workbook: res.Workbook}
		if prev := st.find(rec.key()); prev != nil {
			if prev.Sent && !opts.Resend {
				res.Status = StatusSkipped
				results = append(results, res)
				log.Info("already sent", "week", w.String(), "to", r.Address, "scope", slug)
				continue
			}
			rec.Attempts = prev.Attempts
		}
		var err error
		if d.Upload != nil {
			if wb.Link = links[wb.Path]; wb.Link == "" {
				wb.Link, err = api.uploadWorkbook(ctx, d.Upload, wb.Path)
				links[wb.Path] = wb.Link
			}
			res.Link, rec.Link = wb.Link, wb.Link
		}
		if err == nil {
			err = m.send(ctx, r, wb)
		}
		rec.Attempts++
		rec.At = now().UTC()
		if err != nil {
			res.Permanent = permanent(err)
			res.Status, res.Err = StatusFailed, err
			rec.Error, rec.Permanent = err.Error(), res.Permanent
			failed = append(failed, fmt.Errorf("sending week %s to %s: %w", w, r.Address, err))
			log.Warn("send failed", "week", w.String(), "to", r.Address, "scope", slug, "permanent", res.Permanent, "error", err.Error())
		} else {
			res.Status, rec.Sent = StatusSent, true
			log.Info("sent", "week", w.String(), "to", r.Address, "scope", slug, "workbook", res.Workbook)
		}
		st.put(rec)
		if err := saveState(opts.StateDir, st); err != nil {
			return append(results, res), fmt.Errorf("delivery: recording the send to %s: %w", r.Address, err)
		}
		results = append(results, res)
	}
	if len(failed) > 0 {
		return results, fmt.Errorf("%w: %w", ErrFailed, errors.Join(failed...))
	}
	return results, nil
}

// A mailer sends one recipient's mail: over SMTP or through Graph.
type mailer interface {
	send(ctx context.Context, r config.Recipient, wb Workbook) error
}

// newMailer makes the mailer of d.via.
func newMailer(d *config.Delivery, opts Options, api *graphAPI) (mailer, error) {
	attach := d.Attach || d.Upload == nil
	if d.Via == config.ViaGraph {
		sender := d.SenderMailbox()
		if sender == "" {
			return nil, errors.New("delivery.sender: no mailbox to send as")
		}
		return &graphMailer{api: api, sender: sender, attach: attach}, nil
	}
	c, err := newClient(d, opts.Timeout)
	if err != nil {
		return nil, err
	}
	sm := &smtpMailer{client: c, d: d, attach: attach}
	if d.Auth == config.SMTPAuthXOAUTH2 {
		if opts.Credential == nil {
			return nil, errors.New("delivery.auth xoauth2: no app credential (the teams section) to get a token with")
		}
		sm.tokens = opts.Credential.TokenSource(entra.OutlookScope)
	}
	return sm, nil
}

// newGraphAPI makes the Graph client of mail through Graph and the upload;
// nil when d uses neither.
func newGraphAPI(d *config.Delivery, opts Options) (*graphAPI, error) {
	if d.Via != config.ViaGraph && d.Upload == nil {
		return nil, nil
	}
	if opts.Credential == nil {
		return nil, errors.New("delivery.via graph and delivery.upload sign in as the teams app: no app credential given")
	}
	base := strings.TrimRight(opts.GraphURL, "/")
	if base == "" {
		base = "https://graph.microsoft.com"
	}
	g := &graphAPI{base: base + "/v1.0", tokens: opts.Credential.TokenSource(base + "/.default"),
		httpc: opts.HTTPClient, wait: opts.Wait}
	if g.httpc == nil {
		g.httpc = &http.Client{Timeout: 5 * time.Minute}
	}
	if g.wait == nil {
		g.wait = httpretry.Sleep
	}
	return g, nil
}

// permanent reports a failure that another attempt as it is cannot mend:
// the SMTP server refused the address, the message or the sign-in (5xx), or Graph
// answered a 4xx other than 408 and 429, or the app could not sign in.
func permanent(err error) bool {
	if se, ok := errors.AsType[*mail.SendError](err); ok {
		return !se.IsTemp()
	}
	if ge, ok := errors.AsType[*GraphError](err); ok {
		return ge.Permanent()
	}
	if te, ok := errors.AsType[*textproto.Error](err); ok { // a refused sign-in: 535
		return te.Code >= 500
	}
	return isLoginError(err)
}

// smtpMailer sends over SMTP; with XOAUTH2 it signs in with a fresh token
// of the app for each conversation.
type smtpMailer struct {
	client *mail.Client
	d      *config.Delivery
	attach bool
	tokens *entra.Source // XOAUTH2; nil for a password or none
}

func (m *smtpMailer) send(ctx context.Context, r config.Recipient, wb Workbook) error {
	if m.tokens != nil {
		tok, err := m.tokens.TokenContext(ctx)
		if err != nil {
			return err
		}
		m.client.SetPassword(tok.AccessToken)
	}
	msg, err := buildMessage(m.d, r, wb, m.attach)
	if err != nil {
		return err
	}
	return m.client.DialAndSendWithContext(ctx, msg)
}

// newClient makes the SMTP client of d.
func newClient(d *config.Delivery, timeout time.Duration) (*mail.Client, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(d.Port), mail.WithTimeout(timeout)}
	switch d.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL(), mail.WithTLSPolicy(mail.NoTLS))
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	switch {
	case d.Auth == config.SMTPAuthXOAUTH2:
		// The password is the app's token, set before each send.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthXOAUTH2), mail.WithUsername(d.User))
	case d.User != "":
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(d.User), mail.WithPassword(d.Password.Reveal()))
	}
	return mail.NewClient(d.Host, opts...)
}

// buildMessage makes the mail: plain text with an HTML alternative, and
// the workbook attached when attach (else the bodies carry wb.Link).
func buildMessage(d *config.Delivery, r config.Recipient, wb Workbook, attach bool) (*mail.Msg, error) {
	m := mail.NewMsg()
	err := m.From(d.From)
	if err != nil {
		return nil, fmt.Errorf("delivery.from: %w", err)
	}
	if r.Name != "" {
		err = m.AddToFormat(r.Name, r.Address)
	} else {
		err = m.To(r.Address)
	}
	if err != nil {
		return nil, fmt.Errorf("address %s: %w", r.Address, err)
	}
	m.Subject(subject(wb))
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(mail.TypeTextPlain, textBody(r.Name, wb, attach))
	h, err := htmlBody(r.Name, wb, attach)
	if err != nil {
		return nil, err
	}
	m.AddAlternativeString(mail.TypeTextHTML, h)
	if attach {
		m.AttachFile(wb.Path, mail.WithFileName(filepath.Base(wb.Path)), mail.WithFileContentType(xlsxType))
	}
	return m, nil
}
