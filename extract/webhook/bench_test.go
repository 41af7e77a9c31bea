package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callstats/extract/queue"
	"callstats/extract/queue/aztable"
	"callstats/internal/azurite"
)

// BenchmarkGraphToJSONL measures the receiver end to end over loopback
// HTTP: senders concurrent clients post Graph notifications of items items
// each to the Graph endpoint writing to the JSON Lines queue (group
// commit, fsync). It reports notifications/s and the p50/p99 response
// times, and checks that every notification answered is in the queue.
//
//	go test ./extract/webhook -run '^$' -bench GraphToJSONL -benchtime 2000x
func BenchmarkGraphToJSONL(b *testing.B) {
	benchSenders(b, func(b *testing.B) (Sink, func() int) {
		path := filepath.Join(b.TempDir(), "callids.jsonl")
		sink, err := queue.OpenAppender(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sink.Close() })
		return sink, func() int {
			res, err := queue.Read(context.Background(), path, queue.Cursor{})
			if err != nil || res.Skipped != 0 {
				b.Fatalf("reading the queue back: %v (%d skipped)", err, res.Skipped)
			}
			return res.Entities
		}
	})
}

// BenchmarkGraphToAzureTable is BenchmarkGraphToJSONL writing to an Azure
// table on Azurite (aztable's Upsert: entity group transactions per
// partition), as serve does when queue.azure_table is set.
//
//	go test ./extract/webhook -run '^$' -bench GraphToAzureTable -benchtime 300x
func BenchmarkGraphToAzureTable(b *testing.B) {
	srv := azurite.Start(b)
	n := 0
	benchSenders(b, func(b *testing.B) (Sink, func() int) {
		n++
		tbl, err := aztable.New(aztable.Config{Endpoint: srv.TableURL, Table: fmt.Sprintf("bench%d", n),
			Credential: aztable.Credential{AccountName: azurite.Account, AccountKey: azurite.Key}})
		if err != nil {
			b.Fatal(err)
		}
		if err := tbl.Create(context.Background()); err != nil {
			b.Fatal(err)
		}
		return SinkFunc(tbl.Upsert), func() int {
			res, err := tbl.Read(context.Background(), aztable.Cursor{}, func(queue.Entity) error { return nil })
			if err != nil || res.Skipped != 0 {
				b.Fatalf("reading the table back: %v", err)
			}
			return res.Entities
		}
	})
}

// benchSenders runs benchGraph for 1, 10 and 100 senders of 1 and 100
// items, each on a sink of its own; durable counts what the sink holds.
func benchSenders(b *testing.B, open func(b *testing.B) (sink Sink, durable func() int)) {
	for _, senders := range []int{1, 10, 100} {
		for _, items := range []int{1, 100} {
			b.Run(fmt.Sprintf("senders=%d/items=%d", senders, items), func(b *testing.B) {
				sink, durable := open(b)
				benchGraph(b, sink, durable, senders, items)
			})
		}
	}
}

func benchGraph(b *testing.B, sink Sink, durable func() int, senders, items int) {
	stats := &Stats{}
	g, err := NewGraph(GraphConfig{ClientState: testClientState, TenantID: testTenant, Sink: sink,
		Guard: NewGuard(DefaultMaxBody, 1000, "", stats)})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(g.Notifications())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}

	bodies := make([]string, b.N)
	for i := range bodies {
		parts := make([]string, items)
		for j := range parts {
			id := fmt.Sprintf("%08d-%04d-4d19-9e06-a1c7d2b84f5e", i, j)
			parts[j] = `{"subscriptionId":"a94c3e27-0b6f-4d12-8e5a-f3172bd960c8","subscriptionExpirationDateTime":"2026-11-14T21:40:00+00:00","changeType":"created","resource":"communications/callRecords/` +
				id + `","resourceData":{"@odata.type":"#Microsoft.Graph.callRecord","@odata.id":"communications/callRecords/` + id +
				`","id":"` + id + `"},"clientState":"` + testClientState + `","tenantId":"` + testTenant + `"}`
		}
		bodies[i] = `{"value":[` + strings.Join(parts, ",") + `]}`
	}
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(srv.URL, "application/json", strings.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(t0)
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("answered %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	if n := durable(); n != b.N*items {
		b.Fatalf("%d entities durable, want %d", n, b.N*items)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N*items)/elapsed.Seconds(), "notifications/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "requests/s")
	b.ReportMetric(float64(latencies[b.N/2])/1e6, "p50_ms")
	b.ReportMetric(float64(latencies[min(b.N-1, b.N*99/100)])/1e6, "p99_ms")
	b.ReportMetric(0, "ns/op")
}
