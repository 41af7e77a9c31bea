package main

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"callstats/transform/lake"
)

// tableScan calls fn with every record batch of a table of the demo's lake.
type tableScan func(ctx context.Context, table string, fn func(arrow.RecordBatch) error) error

// plainScan reads the plain lake in dir.
func plainScan(dir string) tableScan {
	return func(ctx context.Context, table string, fn func(arrow.RecordBatch) error) error {
		return lake.Scan(ctx, dir, table, nil, fn)
	}
}

// printHeadlines reads the lake back and prints a few figures.
func printHeadlines(ctx context.Context, w io.Writer, scan tableScan) error {
	calls := map[string]int{}
	n := 0
	err := scan(ctx, "calls", func(rec arrow.RecordBatch) error {
		types := column[*array.String](rec, "call_type")
		for i := range int(rec.NumRows()) {
			n++
			if types != nil && types.IsValid(i) {
				calls[types.Value(i)]++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	quality := map[string]map[string]int{}
	err = scan(ctx, "streams", func(rec arrow.RecordBatch) error {
		q := column[*array.String](rec, "quality")
		mt := column[*array.String](rec, "media_type")
		for i := range int(rec.NumRows()) {
			m := "all"
			if mt != nil && mt.IsValid(i) {
				m = mt.Value(i)
			}
			if quality[m] == nil {
				quality[m] = map[string]int{}
			}
			quality[m][q.Value(i)]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nIn the lake: %d calls (Teams: %d peer-to-peer, %d group calls; RingCentral: %d)\n",
		n, calls["peerToPeer"], calls["groupCall"], calls["Voice"]+calls["Fax"])
	for _, m := range []string{"audio", "video", "vbss"} {
		c := quality[m]
		if c == nil {
			continue
		}
		classified := c["good"] + c["poor"]
		rate := 0.0
		if classified > 0 {
			rate = 100 * float64(c["poor"]) / float64(classified)
		}
		fmt.Fprintf(w, "  %-5s streams: %5d classified, %4.1f%% poor, %d unclassified\n", m, classified, rate, c["unclassified"])
	}
	return nil
}

// column returns a record's column by name, or nil.
func column[T arrow.Array](rec arrow.RecordBatch, name string) T {
	var zero T
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return zero
	}
	c, _ := rec.Column(idx[0]).(T)
	return c
}
