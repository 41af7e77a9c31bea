package jobs

import (
	"context"
	"fmt"
	"time"

	"callstats/config"
	"callstats/delivery"
	"callstats/report"
)

// ReportWeek resolves the week a report or a delivery is for: w itself, or,
// when w is the zero Week, the last complete week in reports.timezone on
// the job clock.
func ReportWeek(cfg *config.Config, w report.Week) (report.Week, error) {
	if w != (report.Week{}) {
		return w, nil
	}
	loc, err := time.LoadLocation(cfg.Reports.Timezone) // validated by config.Load
	if err != nil {
		return report.Week{}, cannot(fmt.Errorf("reports.timezone: %w", err))
	}
	return report.LastCompleteWeek(cfg.Now(), loc), nil
}

// Report writes the workbooks of an ISO week (the zero Week means the last
// complete week) from the lake: the tenant-wide one
// ({reports.dir}/callstats-2026-W47.xlsx) and, with a delivery section, one
// per recipient scope. It holds the state directory's lock while it runs,
// and leaves a run record. It returns the workbooks, tenant-wide first.
func Report(ctx context.Context, cfg *config.Config, env Env, w report.Week) ([]delivery.Workbook, error) {
	books, _, err := reportRun(ctx, cfg, env, w, false)
	return books, err
}

// ReportAndDeliver is the scheduled report: it renders the week's workbooks
// once, then, with a delivery section, mails each recipient theirs (those
// already sent that week are skipped), all under one hold of the state
// directory's lock. It leaves the report's run record.
func ReportAndDeliver(ctx context.Context, cfg *config.Config, env Env, w report.Week) ([]delivery.Result, error) {
	_, res, err := reportRun(ctx, cfg, env, w, cfg.Delivery != nil)
	return res, err
}

// reportRun takes the lock, renders the week's workbooks, mails them when
// deliver is set, and records the run as "report".
func reportRun(ctx context.Context, cfg *config.Config, env Env, w report.Week, deliver bool) ([]delivery.Workbook, []delivery.Result, error) {
	started := cfg.Now()
	wall := time.Now()
	books, res, err := func() ([]delivery.Workbook, []delivery.Result, error) {
		lock, err := AcquireLock(cfg.StateDir, "report", started)
		if err != nil {
			return nil, nil, cannot(err)
		}
		defer lock.Release()
		books, err := render(ctx, cfg, env, w)
		if err != nil || !deliver {
			return books, nil, err
		}
		res, err := send(ctx, cfg, env, books, false)
		return books, res, err
	}()
	rec := RunRecord{Job: "report", Started: started, Finished: cfg.Now(), Elapsed: time.Since(wall), OK: err == nil}
	if err != nil {
		rec.Error = err.Error()
	}
	if len(books) > 0 {
		fig := books[0].Figures
		rec.Counts = map[string]int64{"calls": fig.ThisWeek.Calls, "meetings": fig.ThisWeek.Meetings}
	}
	if rerr := SaveRunRecord(cfg.StateDir, rec); rerr != nil {
		env.logger().Warn("could not save the run record", "job", "report", "error", rerr.Error())
	}
	return books, res, err
}

// render writes the week's workbooks; the caller holds the lock.
func render(ctx context.Context, cfg *config.Config, env Env, w report.Week) ([]delivery.Workbook, error) {
	w, err := ReportWeek(cfg, w)
	if err != nil {
		return nil, err
	}
	books, err := delivery.Render(ctx, cfg, w, true)
	if err != nil {
		return nil, cannot(err)
	}
	fig := books[0].Figures
	env.logger().Info("report written", "week", fig.Week.String(), "path", books[0].Path, "calls", fig.ThisWeek.Calls)
	for _, b := range books[1:] {
		env.logger().Info("scoped report written", "week", fig.Week.String(), "scope", b.Name, "path", b.Path, "calls", b.Figures.ThisWeek.Calls)
	}
	return books, nil
}
