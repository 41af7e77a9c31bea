package jobs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/config"
	"callstats/extract/ringcentral/rctest"
	"callstats/transform/lake"
)

func rcEntity(b *bytes.Buffer, session string, at time.Time) {
	entityOf(b, session, "Disconnected", "ringcentral", at)
}

func rcConfig(dir string, srv *rctest.Server, now time.Time) *config.Config {
	cfg := config.Default()
	cfg.Queue.Path = filepath.Join(dir, "callids.jsonl")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Output.Dir = filepath.Join(dir, "lake")
	cfg.RingCentral = &config.RingCentral{ServerURL: srv.URL, MediaURL: srv.MediaURL, ClientID: "rc-client-1",
		ClientSecret: config.NewSecret("rc-secret-1"), JWT: config.NewSecret("rc-jwt-1"), DownloadRecordings: true}
	cfg.ApplyDefaults()
	cfg.Now = func() time.Time { return now }
	return cfg
}

func TestRingCentralIngest(t *testing.T) {
	t.Parallel()
	srv := rctest.NewServer(rctest.Options{HeavyLimit: 1000})
	t.Cleanup(srv.Close)
	day1 := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	var q bytes.Buffer
	// Six calls on the 12th; the queue heard of four. Call c3 is still in
	// progress on the first night; c5 has a recording not ready at first.
	for i, id := range []string{"c0", "c1", "c2", "c3", "c4", "c5"} {
		c := rctest.Call{ID: id, Start: day1.Add(time.Duration(9+i) * time.Hour), Duration: 3 * time.Minute}
		if id == "c3" {
			c.Result, c.Duration = "In Progress", 0
		}
		if id == "c5" {
			c.RecordingID = "rec-5"
		}
		if err := srv.Add(srv.Record(c)); err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			rcEntity(&q, "s-"+id, c.Start.Add(4*time.Minute))
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "callids.jsonl"), q.Bytes(), 0o644)
	night := day1.Add(26 * time.Hour)

	sum, err := Ingest(context.Background(), rcConfig(dir, srv, night), Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RingCentralRecords != 6 || sum.Lake.Added != 6 || sum.Pending != 0 || sum.RecordingsPending != 1 {
		t.Fatalf("first night %+v", sum)
	}
	var row *struct{ listed, notified, missed int64 }
	for _, r := range sum.Reconciled {
		if r.Source == "ringcentral" && r.Day.Equal(day1) {
			row = &struct{ listed, notified, missed int64 }{r.Listed, r.Notified, r.Missed}
			if !r.Complete {
				t.Error("day not complete")
			}
		}
	}
	if row == nil || row.listed != 6 || row.notified != 4 || row.missed != 2 {
		t.Fatalf("reconcile row %+v in %+v", row, sum.Reconciled)
	}

	// The next night: c3 is final, the recording is ready.
	final := srv.Record(rctest.Call{ID: "c3", Start: day1.Add(12 * time.Hour), Duration: 7 * time.Minute,
		LastModified: day1.Add(20 * time.Hour)})
	if err := srv.Update(final); err != nil {
		t.Fatal(err)
	}
	srv.SetRecording("rec-5", "audio/mpeg", []byte("ID3 fake mp3"))
	var q2 bytes.Buffer
	rcEntity(&q2, "s-c3", day1.Add(19*time.Hour))
	f, _ := os.OpenFile(filepath.Join(dir, "callids.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(q2.Bytes())
	f.Close()
	sum, err = Ingest(context.Background(), rcConfig(dir, srv, night.Add(time.Hour)), Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lake.Replaced != 1 || sum.RecordingsSaved != 1 || sum.RecordingsPending != 0 {
		t.Fatalf("second night %+v", sum)
	}
	b, err := os.ReadFile(filepath.Join(dir, "lake", "recordings", "date=2026-11-12", "rec-5.mp3"))
	if err != nil || string(b) != "ID3 fake mp3" {
		t.Fatalf("recording: %q %v", b, err)
	}
	results := map[string][]string{}
	lake.Scan(context.Background(), filepath.Join(dir, "lake"), "calls", nil, func(rec arrow.RecordBatch) error {
		ids := rec.Column(rec.Schema().FieldIndices("call_id")[0])
		res := rec.Column(rec.Schema().FieldIndices("result")[0])
		for i := range int(rec.NumRows()) {
			results[ids.ValueStr(i)] = append(results[ids.ValueStr(i)], res.ValueStr(i))
		}
		return nil
	})
	if len(results) != 6 || len(results["c3"]) != 1 || results["c3"][0] == "In Progress" {
		t.Fatalf("calls in the lake: %v", results)
	}
}
