package main

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"callstats/transform/lake"
)

// printHeadlines reads the lake back and prints a few figures.
func printHeadlines(ctx context.Context, w io.Writer, dir string) error {
	calls := map[string]int{}
	n := 0
	err := lake.Scan(ctx, dir, "calls", nil, func(rec arrow.RecordBatch) error {
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
	err = lake.Scan(ctx, dir, "streams", nil, func(rec arrow.RecordBatch) error {
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
