package iceberg

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"callstats/transform"
)

// CallStartColumn is the column the Iceberg tables of a call's child rows
// (participants, sessions, streams, legs) add: the call's start_time, which
// the plain lake encodes in its date=YYYY-MM-DD directory. Those tables are
// partitioned by its day, so every row of a call is in the partition of the
// call's start, as in the plain lake.
const CallStartColumn = "call_start_time"

// tableDef says how one lake table is laid out as an Iceberg table.
type tableDef struct {
	name string
	// arrow is the schema of the rows callstats writes (the plain lake's
	// columns, plus CallStartColumn for child tables).
	arrow *arrow.Schema
	// partCol is the column whose day partitions the table (hidden
	// partitioning); identity is true for a date column partitioned as is.
	partCol  string
	identity bool
	// key is the column holding a row's item id (call_id, or id for the
	// call-log tables); the table is sorted by it within a file.
	key string
	// childOfCall marks tables that carry CallStartColumn.
	childOfCall bool
}

// tableDefs lists the tables in commit order: the tables of a call's child
// rows first, calls last, so that a reader who sees a call in calls finds its
// sessions and streams committed (see docs/lake.md).
var tableDefs = buildTableDefs()

func buildTableDefs() []tableDef {
	var defs []tableDef
	child := func(t transform.Table) tableDef {
		s := transform.Schema(t)
		fields := append(s.Fields(), arrow.Field{Name: CallStartColumn, Type: tsType, Nullable: false})
		return tableDef{name: string(t), arrow: arrow.NewSchema(fields, nil), partCol: CallStartColumn, key: "call_id", childOfCall: true}
	}
	defs = append(defs,
		child(transform.Participants), child(transform.Sessions), child(transform.Streams), child(transform.Legs),
		tableDef{name: string(transform.PstnCalls), arrow: transform.Schema(transform.PstnCalls), partCol: "start_time", key: "id"},
		tableDef{name: string(transform.DirectRoutingCalls), arrow: transform.Schema(transform.DirectRoutingCalls), partCol: "start_time", key: "id"},
		tableDef{name: string(transform.Reconcile), arrow: transform.ReconcileSchema(), partCol: "day", identity: true, key: "source"},
		tableDef{name: string(transform.Calls), arrow: transform.Schema(transform.Calls), partCol: "start_time", key: "call_id"},
	)
	return defs
}

var tsType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// defOf returns the definition of a table.
func defOf(name string) (tableDef, bool) {
	for _, d := range tableDefs {
		if d.name == name {
			return d, true
		}
	}
	return tableDef{}, false
}

// icebergLayout returns the table's Iceberg schema (fresh field ids), its
// partition spec and its sort order.
func (d tableDef) icebergLayout() (*iceberg.Schema, iceberg.PartitionSpec, table.SortOrder, error) {
	sc, err := table.ArrowSchemaToIcebergWithFreshIDs(d.arrow, false)
	if err != nil {
		return nil, iceberg.PartitionSpec{}, table.SortOrder{}, fmt.Errorf("table %s: %w", d.name, err)
	}
	part, ok := sc.FindFieldByName(d.partCol)
	if !ok {
		return nil, iceberg.PartitionSpec{}, table.SortOrder{}, fmt.Errorf("table %s: no partition column %s", d.name, d.partCol)
	}
	key, ok := sc.FindFieldByName(d.key)
	if !ok {
		return nil, iceberg.PartitionSpec{}, table.SortOrder{}, fmt.Errorf("table %s: no key column %s", d.name, d.key)
	}
	pf := iceberg.PartitionField{SourceIDs: []int{part.ID}, FieldID: 1000, Name: d.partCol + "_day", Transform: iceberg.DayTransform{}}
	if d.identity {
		pf.Transform, pf.Name = iceberg.IdentityTransform{}, d.partCol
	}
	spec := iceberg.NewPartitionSpec(pf)
	order, err := table.NewSortOrder(1, []table.SortField{
		{SourceIDs: []int{key.ID}, Transform: iceberg.IdentityTransform{}, Direction: table.SortASC, NullOrder: table.NullsFirst},
	})
	if err != nil {
		return nil, iceberg.PartitionSpec{}, table.SortOrder{}, fmt.Errorf("table %s: %w", d.name, err)
	}
	return sc, spec, order, nil
}

// tableProperties are set on every table callstats creates.
//
// zstd at level 1, as the plain lake writes (transform/lake/parquet.go):
// iceberg's write time went from 1.19-1.23x the plain lake's to 1.12-1.15x
// in bench/icebergbench at 25,000 records.
//
// The row-group limit bounds a write's memory: iceberg-go's writer keeps a
// row group's encoded pages, every column's at once, until the row group is
// done (the plain lake writes a column at a time). At the default (one row
// group per file, up to 1M rows) writing a batch's streams peaked at about
// as much memory as their Arrow rows; at writeBatchRows rows the peak RSS of
// bench/icebergbench fell to the plain lake's, for files about 8% larger.
var tableProperties = iceberg.Properties{
	table.PropertyFormatVersion:                  "2",
	table.ParquetCompressionKey:                  "zstd",
	table.ParquetCompressionLevelKey:             "1",
	table.ParquetRowGroupLimitKey:                strconv.Itoa(writeBatchRows),
	table.WriteDeleteModeKey:                     table.WriteModeCopyOnWrite,
	"write.update.mode":                          table.WriteModeCopyOnWrite,
	"write.merge.mode":                           table.WriteModeCopyOnWrite,
	"write.metadata.delete-after-commit.enabled": "true",
	"write.metadata.previous-versions-max":       "20",
}
