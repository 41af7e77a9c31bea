package jobs

import (
	"context"
	"fmt"

	"callstats/config"
	"callstats/transform/lake/iceberg"
)

// MaintainStats count what maintenance did to the Iceberg tables.
type MaintainStats = iceberg.MaintainStats

// Maintain compacts the Iceberg lake's small files, expires snapshots older
// than output.iceberg.snapshot_retention and deletes orphan files, under the
// state directory's lock (so never during an ingest). The plain lake has
// nothing to maintain: it returns nil stats.
func Maintain(ctx context.Context, cfg *config.Config, env Env) (*MaintainStats, error) {
	if cfg.Output.Format != config.FormatIceberg {
		return nil, nil
	}
	lock, err := AcquireLock(cfg.StateDir, "maintain", cfg.Now())
	if err != nil {
		return nil, cannot(err)
	}
	defer lock.Release()
	lk, err := openIceberg(ctx, cfg, env.logger())
	if err != nil {
		return nil, cannot(err)
	}
	defer lk.Close()
	st, err := maintainIceberg(ctx, cfg, lk)
	return &st, err
}

// maintainIceberg runs one maintenance of an open Iceberg lake.
func maintainIceberg(ctx context.Context, cfg *config.Config, lk *iceberg.Lake) (MaintainStats, error) {
	st, err := lk.Maintain(ctx, iceberg.MaintainOptions{Retention: cfg.Output.Iceberg.SnapshotRetention})
	if err != nil {
		return st, fmt.Errorf("maintaining the iceberg tables: %w", err)
	}
	return st, nil
}

// maintainAfterIngest maintains an Iceberg sink at the end of a successful
// ingest, still under the run's lock. A failure is logged, not the run's:
// the ingest's rows are committed, and the next run maintains again.
func (r *runner) maintainAfterIngest(ctx context.Context) {
	s, ok := r.sink.(icebergSink)
	if !ok || r.sum.TimedOut {
		return
	}
	st, err := maintainIceberg(ctx, r.cfg, s.Lake)
	if err != nil {
		r.log.Error("maintenance after ingest failed; the next run or `callstats maintain` retries", "err", err)
		return
	}
	r.log.Debug("iceberg maintenance", "partitions_compacted", st.PartitionsCompacted, "files_compacted", st.FilesCompacted,
		"snapshots_expired", st.SnapshotsExpired, "orphans_deleted", st.OrphansDeleted)
}
