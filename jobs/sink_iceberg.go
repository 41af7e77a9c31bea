package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/config"
	"callstats/internal/icebergcat"
	"callstats/transform/lake/iceberg"
)

// icebergSink is the lake as Iceberg tables (output.format iceberg) as a
// Sink.
type icebergSink struct{ *iceberg.Lake }

func (s icebergSink) Begin(now time.Time) SinkTx { return s.Lake.Begin(now) }

// ScanFile reads a file of PutFile from the tables as the last commit left
// them.
func (s icebergSink) ScanFile(ctx context.Context, table, date, name string, fn func(arrow.RecordBatch) error) error {
	v, err := s.Catalog().View(ctx)
	if err != nil {
		return err
	}
	return v.ScanFile(ctx, table, date, name, memory.DefaultAllocator, fn)
}

// openIceberg opens the Iceberg lake of the config, finishing or undoing a
// batch a crashed run left.
func openIceberg(ctx context.Context, cfg *config.Config, log *slog.Logger) (*iceberg.Lake, error) {
	cc, err := icebergcat.Config(cfg)
	if err != nil {
		return nil, err
	}
	return iceberg.Open(ctx, cc, cfg.IcebergStateDir(), iceberg.Options{Logger: log})
}
