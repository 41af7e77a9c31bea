// Package delivery mails the weekly workbooks: it renders one workbook per
// distinct recipient scope (plus the tenant-wide one), sends each recipient
// theirs as an attachment with a short summary of the headline figures, and
// records every send under {state_dir}/delivery so that a rerun of a week
// mails only those not yet served.
package delivery

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"callstats/config"
	"callstats/internal/icebergcat"
	"callstats/report"
)

// A Workbook is one rendered workbook of a week.
type Workbook struct {
	// Slug tells scoped workbooks apart ("sales"); "" is the tenant-wide one.
	Slug string
	// Name is the scope's name ("Sales"); "" for the tenant-wide one.
	Name    string
	Path    string
	Figures *report.Figures
	// Link is the web URL of the uploaded copy (delivery.upload), set by
	// Deliver; "" when not uploaded.
	Link string
}

// Scopes returns the distinct scopes of the recipients of d, in the order
// they first appear, keyed by slug; the whole tenant (an empty scope) is
// not among them.
func Scopes(d *config.Delivery) []config.Scope {
	var out []config.Scope
	seen := map[string]bool{}
	if d == nil {
		return nil
	}
	for _, r := range d.Recipients {
		if r.Scope.IsEveryone() {
			continue
		}
		slug := config.Slug(r.Scope.Name)
		if seen[slug] {
			continue
		}
		seen[slug] = true
		out = append(out, r.Scope)
	}
	return out
}

// ReportScope converts a configured scope to the report's.
func ReportScope(s config.Scope) *report.Scope {
	return &report.Scope{Name: s.Name, AdminUnits: s.AdminUnits, UPNDomains: s.UPNDomains,
		UPNPatterns: s.UPNPatterns, Users: s.Users, Extensions: s.Extensions}
}

// Render writes the workbooks of week w to cfg.Reports.Dir: the tenant-wide
// one when tenant is true, and one per distinct scope of cfg.Delivery
// (callstats-2026-W47-<slug>.xlsx). It returns them tenant-wide first.
func Render(ctx context.Context, cfg *config.Config, w report.Week, tenant bool) ([]Workbook, error) {
	loc, err := time.LoadLocation(cfg.Reports.Timezone)
	if err != nil {
		return nil, fmt.Errorf("reports.timezone: %w", err)
	}
	opts := report.Options{LakeDir: cfg.Output.Dir, Week: w, Location: loc}
	if cfg.Output.Format == config.FormatIceberg {
		// One view for every workbook: they all show the same batches.
		v, closeCatalog, err := icebergcat.OpenView(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("reading the iceberg lake: %w", err)
		}
		defer closeCatalog()
		opts.Iceberg = v
	}
	var out []Workbook
	if tenant {
		path := filepath.Join(cfg.Reports.Dir, report.FileName(w))
		figs, err := report.Generate(ctx, opts, path)
		if err != nil {
			return nil, err
		}
		out = append(out, Workbook{Path: path, Figures: figs})
	}
	for _, s := range Scopes(cfg.Delivery) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		slug := config.Slug(s.Name)
		o := opts
		o.Scope = ReportScope(s)
		path := filepath.Join(cfg.Reports.Dir, report.ScopedFileName(w, slug))
		figs, err := report.Generate(ctx, o, path)
		if err != nil {
			return nil, fmt.Errorf("scope %s: %w", s.Name, err)
		}
		out = append(out, Workbook{Slug: slug, Name: s.Name, Path: path, Figures: figs})
	}
	return out, nil
}
