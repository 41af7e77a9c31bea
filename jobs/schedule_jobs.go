//go:build unix

package jobs

import (
	"context"
	"fmt"
	"time"

	"callstats/config"
	"callstats/report"
)

// ScheduleSpecs are the jobs' cron specs from the config's schedule
// section; an empty one leaves its job out.
func ScheduleSpecs(cfg *config.Config) map[string]string {
	return map[string]string{"ingest": cfg.Schedule.Ingest, "report": cfg.Schedule.Report, "reconcile": cfg.Schedule.Reconcile}
}

// ScheduledJobs are the jobs `callstats schedule` runs, by name:
//   - ingest: Ingest, recorded;
//   - report: the last complete week's workbooks, rendered once, then mailed
//     to the delivery recipients when there is a delivery section
//     (ReportAndDeliver);
//   - reconcile (with a teams section): Reconcile over the last
//     reconcile.window_days days, widened back to the last completed run
//     after a gap (ReconcileFrom), recorded.
func ScheduledJobs(cfg *config.Config, env Env) map[string]JobFunc {
	fns := map[string]JobFunc{
		"ingest": func(ctx context.Context) error {
			_, err := Recorded(cfg, env, "ingest", func() (*Summary, error) { return Ingest(ctx, cfg, env) })
			return err
		},
		"report": func(ctx context.Context) error {
			_, err := ReportAndDeliver(ctx, cfg, env, report.Week{})
			return err
		},
	}
	if cfg.Teams != nil {
		fns["reconcile"] = func(ctx context.Context) error {
			now := cfg.Now()
			from, widened, err := ReconcileFrom(cfg.StateDir, "reconcile", now, cfg.Reconcile.WindowDays, cfg.Teams.RetentionDays)
			if err != nil {
				return err
			}
			if widened {
				env.logger().Info("reconcile window widened to cover the gap since the last successful run", "job", "reconcile", "from", from.Format(time.DateOnly))
			}
			w := Window{From: from, To: now.UTC().Truncate(utcDay)}
			_, err = Recorded(cfg, env, "reconcile", func() (*Summary, error) { return Reconcile(ctx, cfg, env, w) })
			return err
		}
	}
	return fns
}

// Schedule runs the scheduled jobs on their cron specs (schedule.*, in
// schedule.timezone) until ctx is done; see Scheduler.Run.
func Schedule(ctx context.Context, cfg *config.Config, env Env) error {
	loc, err := time.LoadLocation(cfg.Schedule.Timezone) // validated by config.Load
	if err != nil {
		return cannot(fmt.Errorf("schedule.timezone: %w", err))
	}
	s, err := NewScheduler(ScheduleSpecs(cfg), loc, ScheduledJobs(cfg, env), cfg.StateDir, env.logger(), SystemClock{})
	if err != nil {
		return cannot(err)
	}
	return s.Run(ctx)
}

// NextRuns returns when each scheduled job runs next under `callstats
// schedule`, in schedule.timezone.
func NextRuns(cfg *config.Config) (map[string]time.Time, error) {
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		return nil, fmt.Errorf("schedule.timezone: %w", err)
	}
	s, err := NewScheduler(ScheduleSpecs(cfg), loc, nil, cfg.StateDir, nil, SystemClock{})
	if err != nil {
		return nil, err
	}
	return s.Next(), nil
}
