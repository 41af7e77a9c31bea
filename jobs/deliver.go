package jobs

import (
	"context"
	"errors"

	"callstats/config"
	"callstats/delivery"
	"callstats/report"
)

// ErrNoDelivery is returned by Deliver when the config has no delivery section.
var ErrNoDelivery = errors.New("the config has no delivery section")

// Deliver renders the workbooks of an ISO week (the zero Week means the last
// complete week) and mails each delivery recipient theirs; recipients
// already sent that week are skipped unless resend. It holds the state
// directory's lock while it runs, so that it never runs beside another job,
// and fails at once (ErrLocked) when another one holds it. Its error wraps
// delivery.ErrFailed when only some recipients failed. It returns the week
// it resolved.
func Deliver(ctx context.Context, cfg *config.Config, env Env, w report.Week, resend bool) (report.Week, []delivery.Result, error) {
	if cfg.Delivery == nil {
		return w, nil, cannot(ErrNoDelivery)
	}
	lock, err := AcquireLock(cfg.StateDir, "deliver", cfg.Now())
	if err != nil {
		return w, nil, cannot(err)
	}
	defer lock.Release()
	books, err := render(ctx, cfg, env, w)
	if err != nil {
		return w, nil, err
	}
	res, err := send(ctx, cfg, env, books, resend)
	return books[0].Figures.Week, res, err
}

// send mails the rendered workbooks of a week; the caller holds the lock.
func send(ctx context.Context, cfg *config.Config, env Env, books []delivery.Workbook, resend bool) ([]delivery.Result, error) {
	w := books[0].Figures.Week
	opts := delivery.Options{StateDir: cfg.StateDir, Resend: resend, Now: cfg.Now, Logger: env.logger()}
	if t := cfg.Teams; t != nil {
		// Graph mail, SMTP with XOAUTH2 and the upload sign in as the Teams app.
		cred, err := teamsCredential(t, env)
		if err != nil {
			return nil, cannot(err)
		}
		opts.Credential, opts.GraphURL, opts.HTTPClient = cred, t.GraphURL, env.HTTPClient
	}
	return delivery.Deliver(ctx, cfg.Delivery, w, books, opts)
}
