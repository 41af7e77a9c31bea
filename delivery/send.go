package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/wneessen/go-mail"

	"callstats/config"
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
	client, err := newClient(d, opts.Timeout)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
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
		err := sendOne(ctx, client, d, r, wb)
		rec.Attempts++
		rec.At = now().UTC()
		if err != nil {
			var se *mail.SendError
			res.Permanent = errors.As(err, &se) && !se.IsTemp()
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
	if d.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(d.User), mail.WithPassword(d.Password.Reveal()))
	}
	return mail.NewClient(d.Host, opts...)
}

// sendOne builds and sends one recipient's message.
func sendOne(ctx context.Context, c *mail.Client, d *config.Delivery, r config.Recipient, wb Workbook) error {
	m, err := buildMessage(d, r, wb)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, m)
}

// buildMessage makes the mail: plain text with an HTML alternative, and
// the workbook attached.
func buildMessage(d *config.Delivery, r config.Recipient, wb Workbook) (*mail.Msg, error) {
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
	m.SetBodyString(mail.TypeTextPlain, textBody(r.Name, wb))
	h, err := htmlBody(r.Name, wb)
	if err != nil {
		return nil, err
	}
	m.AddAlternativeString(mail.TypeTextHTML, h)
	m.AttachFile(wb.Path, mail.WithFileName(filepath.Base(wb.Path)), mail.WithFileContentType(xlsxType))
	return m, nil
}
