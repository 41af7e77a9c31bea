// Command fetch measures how close the Graph client comes to Graph's
// app-wide budget (1,500 requests per 20 s) when every request takes a given
// latency: it serves generated records from graphtest with that latency,
// fetches them all with Client.FetchAll at the documented limits, and prints
// one line per latency.
//
//	go run ./bench/fetch                       # 3,000 records at 0, 150 and 400 ms
//	go run ./bench/fetch -records 500 -latency 400ms
//
// Columns: the latency of one request; records fetched; Graph requests (the
// items of a $batch each count, as Graph counts them); requests per record;
// $batch POSTs; 429 answers; seconds; requests per second and that as a
// share of 75/s (the budget); and the most requests the server saw in any
// sliding 20 s window (at most 1,500 means none over the limit). graphtest
// answers 429 to a request over 1,500 in 20 s, as Graph would.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"callstats/extract/graph"
	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
)

const (
	limitPer20s = 1500
	window      = 20 * time.Second
)

func main() {
	records := flag.Int("records", 3000, "generated call records to fetch")
	latencies := flag.String("latency", "0,150ms,400ms", "comma-separated latencies of one Graph request")
	concurrency := flag.Int("concurrency", 0, "ClientConfig.Concurrency (0: the client's default)")
	flag.Parse()
	calls := graphgen.Week(graphgen.Options{Seed: 1, Calls: *records, Users: 400})
	fmt.Printf("%-8s %7s %8s %7s %7s %5s %7s %7s %7s %10s\n",
		"latency", "records", "requests", "req/rec", "batches", "429s", "seconds", "req/s", "budget", "max/20s")
	for _, s := range strings.Split(*latencies, ",") {
		lat, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fetch: -latency:", err)
			os.Exit(2)
		}
		if err := run(calls, lat, *concurrency); err != nil {
			fmt.Fprintln(os.Stderr, "fetch:", err)
			os.Exit(1)
		}
	}
}

func run(calls []graphgen.Call, lat time.Duration, concurrency int) error {
	srv := graphtest.NewServer(graphtest.Options{
		Latency:           func(*http.Request) time.Duration { return lat },
		Window:            window,
		RequestsPerWindow: limitPer20s,
	})
	defer srv.Close()
	ids := make([]string, len(calls))
	for i, c := range calls {
		if err := srv.Put(c.Raw); err != nil {
			return err
		}
		ids[i] = c.ID
	}
	c, err := graph.NewClient(graph.ClientConfig{
		TenantID: "tenant-1", ClientID: "client-1", ClientSecret: "secret-1",
		GraphURL: srv.URL, LoginURL: srv.URL, Concurrency: concurrency,
	})
	if err != nil {
		return err
	}
	start := time.Now()
	fetched := 0
	err = c.FetchAll(context.Background(), ids, func(id string, _ *graph.CallRecord, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		fetched++
		return nil
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	st := srv.Stats()
	rate := float64(st.Requests) / secs
	fmt.Printf("%-8s %7d %8d %7.2f %7d %5d %7.1f %7.1f %6.1f%% %10d\n",
		lat, fetched, st.Requests, float64(st.Requests)/float64(fetched), st.Batches, st.Throttled,
		secs, rate, 100*rate/(limitPer20s/window.Seconds()), st.MaxInWindow)
	return nil
}
