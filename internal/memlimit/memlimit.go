// Package memlimit holds callstats' soft memory limit, so that the binary
// and the benchmarks that stand for it (bench/lakebench, bench/icebergbench)
// run under the same one.
package memlimit

import (
	"os"
	"runtime/debug"
)

// Default is the soft memory limit when GOMEMLIMIT is unset: the GC then
// keeps the heap near it instead of letting it double between collections.
// Peak RSS runs about 20 MiB above it: with 220 MiB, ingest (bench/lakebench)
// peaks at 240 MiB at 25,000 and at 100,000 records, for about 7 % more CPU
// than at 250 MiB (which peaked at 270 MiB).
const Default = 220 << 20

// Iceberg is the soft memory limit of a run whose lake is Iceberg tables.
// The limit bounds the Go runtime's memory only; such a run also holds
// memory the runtime does not count: the SQL catalog's SQLite (modernc's
// allocator maps its own) and the larger code of iceberg-go. 16 MiB less
// for the Go heap keeps the process at the plain lake's peak RSS: in
// bench/icebergbench at 25,000 records, 245 against the plain lake's 252
// MiB (at Default: 258-261 MiB), for 5 % more time.
const Iceberg = Default - 16<<20

// ForFormat is the soft memory limit for a lake of a format ("iceberg", or
// the plain lake's "" or "plain").
func ForFormat(format string) int64 {
	if format == "iceberg" {
		return Iceberg
	}
	return Default
}

// Apply sets limit bytes as the soft memory limit unless GOMEMLIMIT is set
// (which the runtime has applied already) or limit is 0 (none).
func Apply(limit int64) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}
