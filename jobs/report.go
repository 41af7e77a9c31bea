package jobs

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"callstats/config"
	"callstats/report"
)

// Report writes the weekly workbook for an ISO week ("2026-W47"; "" means the
// last complete week in reports.timezone) from the lake, and leaves a run
// record. It returns the workbook's path and its headline figures.
func Report(ctx context.Context, cfg *config.Config, env Env, week string) (string, *report.Figures, error) {
	started := cfg.Now()
	wall := time.Now()
	path, fig, err := writeReport(ctx, cfg, week)
	rec := RunRecord{Job: "report", Started: started, Finished: cfg.Now(), Elapsed: time.Since(wall), OK: err == nil}
	if err != nil {
		rec.Error = err.Error()
	} else {
		rec.Counts = map[string]int64{"calls": fig.ThisWeek.Calls, "meetings": fig.ThisWeek.Meetings}
		env.logger().Info("report written", "week", fig.Week.String(), "path", path, "calls", fig.ThisWeek.Calls)
	}
	if rerr := SaveRunRecord(cfg.StateDir, rec); rerr != nil {
		env.logger().Warn("could not save the run record", "job", "report", "error", rerr.Error())
	}
	return path, fig, err
}

func writeReport(ctx context.Context, cfg *config.Config, week string) (string, *report.Figures, error) {
	loc, err := time.LoadLocation(cfg.Reports.Timezone) // validated by config.Load
	if err != nil {
		return "", nil, cannot(fmt.Errorf("reports.timezone: %w", err))
	}
	w := report.LastCompleteWeek(cfg.Now(), loc)
	if week != "" {
		if w, err = report.ParseWeek(week); err != nil {
			return "", nil, fmt.Errorf("--week: %w", err)
		}
	}
	path := filepath.Join(cfg.Reports.Dir, report.FileName(w))
	fig, err := report.Generate(ctx, report.Options{LakeDir: cfg.Output.Dir, Week: w, Location: loc}, path)
	if err != nil {
		return "", nil, cannot(err)
	}
	return path, fig, nil
}
