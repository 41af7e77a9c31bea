package jobs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/ringcentral/rctest"
)

func TestRecordingPathStaysInItsPartition(t *testing.T) {
	r := &runner{cfg: &config.Config{Output: config.Output{Dir: "/lake"}}}
	part := filepath.Join("/lake", "recordings", "date=2026-11-12")
	for _, tc := range []struct {
		id, date, ext string
		wantName      string // "" when the id is hashed
		wantErr       bool
	}{
		{id: "2931871004", date: "2026-11-12", ext: "mp3", wantName: "2931871004.mp3"},
		{id: "rec-5", date: "2026-11-12", ext: "wav", wantName: "rec-5.wav"},
		{id: "../../../../outside/x", date: "2026-11-12", ext: "mp3"},
		{id: "..", date: "2026-11-12", ext: "mp3"},
		{id: ".", date: "2026-11-12", ext: "mp3"},
		{id: "a/b", date: "2026-11-12", ext: "mp3"},
		{id: `a\b`, date: "2026-11-12", ext: "mp3"},
		{id: "", date: "2026-11-12", ext: "mp3"},
		{id: strings.Repeat("9", 200), date: "2026-11-12", ext: "mp3"},
		{id: "1", date: "../../x", ext: "mp3", wantErr: true},
		{id: "1", date: "2026-11-12", ext: "/../mp3", wantErr: true},
	} {
		p, err := r.recordingPath(tc.date, tc.id, tc.ext)
		if tc.wantErr {
			if err == nil {
				t.Errorf("id %q date %q ext %q: path %s, want an error", tc.id, tc.date, tc.ext, p)
			}
			continue
		}
		if err != nil {
			t.Errorf("id %q: %v", tc.id, err)
			continue
		}
		if filepath.Dir(p) != part {
			t.Errorf("id %q: %s is not in %s", tc.id, p, part)
		}
		name := filepath.Base(p)
		switch {
		case tc.wantName != "" && name != tc.wantName:
			t.Errorf("id %q: name %s, want %s", tc.id, name, tc.wantName)
		case tc.wantName == "" && (!strings.HasPrefix(name, "id-") || len(name) != len("id-")+64+len(".mp3")):
			t.Errorf("id %q: name %s, want its hash", tc.id, name)
		}
	}
}

// TestRecordingIDCannotEscapeTheLake: a recording id that names another
// directory is refused (ringcentral.CheckID) and reported; nothing is
// written for it, inside the lake or outside.
func TestRecordingIDCannotEscapeTheLake(t *testing.T) {
	srv := rctest.NewServer(rctest.Options{HeavyLimit: 1000})
	t.Cleanup(srv.Close)
	day1 := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	const hostile = "../../../../outside/x"
	c := rctest.Call{ID: "c0", Start: day1.Add(9 * time.Hour), Duration: 3 * time.Minute, RecordingID: hostile}
	if err := srv.Add(srv.Record(c)); err != nil {
		t.Fatal(err)
	}
	srv.SetRecording(hostile, "audio/mpeg", []byte("ID3 fake mp3"))
	base := t.TempDir()
	dir := filepath.Join(base, "deploy")
	os.MkdirAll(dir, 0o755)
	var q bytes.Buffer
	rcEntity(&q, "s-c0", c.Start.Add(4*time.Minute))
	os.WriteFile(filepath.Join(dir, "callids.jsonl"), q.Bytes(), 0o644)

	sum, err := Ingest(context.Background(), rcConfig(dir, srv, day1.Add(26*time.Hour)), Env{Wait: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordingsSaved != 0 || len(sum.RecordingsRefused) != 1 || sum.RecordingsRefused[0].ID != hostile {
		t.Fatalf("recordings saved %d, refused %+v; want the hostile id refused", sum.RecordingsSaved, sum.RecordingsRefused)
	}
	if p := sum.Problem(); !strings.Contains(p, "1 recordings refused") {
		t.Errorf("problem %q does not report the refused recording", p)
	}
	if es, _ := os.ReadDir(base); len(es) != 1 {
		t.Errorf("%s holds %d entries, want only deploy/", base, len(es))
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "lake", "recordings", "*", "*")); len(files) != 0 {
		t.Fatalf("recordings %v, want none", files)
	}
	var outside []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mp3") && !strings.HasPrefix(p, filepath.Join(dir, "lake", "recordings")+string(filepath.Separator)) {
			outside = append(outside, p)
		}
		return nil
	})
	if len(outside) > 0 {
		t.Errorf("recordings outside the recordings directory: %v", outside)
	}
}
