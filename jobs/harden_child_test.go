//go:build unix

package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
	"callstats/extract/ringcentral/rctest"
	"callstats/internal/faultproxy"
	"callstats/internal/heavytest"
)

// The tests of this file run an ingest in a child process: this test binary
// again, started with hardenChild set to the kind of run. The child runs
// before any test (from init) and exits with the status the command line
// gives: 0, 1 for an error (printed to stderr), 3 for a run that needs
// attention.
const (
	hardenChild   = "CALLSTATS_HARDEN_CHILD"   // "teams" or "ringcentral-small-files"
	hardenDir     = "CALLSTATS_HARDEN_DIR"     // the directory of the queue, state and lake
	hardenURL     = "CALLSTATS_HARDEN_URL"     // Graph's URL, or RingCentral's server URL
	hardenMedia   = "CALLSTATS_HARDEN_MEDIA"   // RingCentral's media URL
	hardenTimeout = "CALLSTATS_HARDEN_TIMEOUT" // run_timeout
)

// rcNight is the job clock of the RingCentral runs of this file.
var rcNight = time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)

func init() {
	if kind := os.Getenv(hardenChild); kind != "" {
		os.Exit(runHardenChild(kind))
	}
}

func runHardenChild(kind string) int {
	dir, url := os.Getenv(hardenDir), os.Getenv(hardenURL)
	var cfg *config.Config
	env := Env{}
	switch kind {
	case "teams":
		cfg = testConfig(dir, url, night1)
		cfg.Output.BatchSize = 7
		// One $batch at a time: the records go in sorted order, so the
		// calls before the faulted ones are fetched and committed first.
		cfg.Teams.Concurrency = 1
	case "ringcentral-small-files":
		// Files may not grow past 1 MiB: a write beyond fails with EFBIG,
		// as on a full disk, instead of raising SIGXFSZ.
		signal.Ignore(syscall.SIGXFSZ)
		lim := syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			return 2
		}
		cfg = rcChildConfig(dir, url, os.Getenv(hardenMedia), rcNight)
		env.Wait = noWait
	default:
		fmt.Fprintln(os.Stderr, "unknown child", kind)
		return 2
	}
	if d, err := time.ParseDuration(os.Getenv(hardenTimeout)); err == nil {
		cfg.RunTimeout = d
	}
	sum, err := Ingest(context.Background(), cfg, env)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	case sum.Problem() != "":
		fmt.Fprintln(os.Stderr, sum.Problem())
		return 3
	}
	return 0
}

func rcChildConfig(dir, server, media string, now time.Time) *config.Config {
	cfg := config.Default()
	cfg.Queue.Path = filepath.Join(dir, "callids.jsonl")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Output.Dir = filepath.Join(dir, "lake")
	cfg.RingCentral = &config.RingCentral{ServerURL: server, MediaURL: media, ClientID: "rc-client-1",
		ClientSecret: config.NewSecret("rc-secret-1"), JWT: config.NewSecret("rc-jwt-1"), DownloadRecordings: true}
	cfg.ApplyDefaults()
	cfg.Now = func() time.Time { return now }
	return cfg
}

// startChild starts a child run of kind with the given environment.
func startChild(t *testing.T, kind string, vars ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), hardenChild+"="+kind), vars...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// TestRecordingWriteErrorStopsTheRun (issue 14, item 2): a recording that
// cannot be written (a file-size limit: the write fails as on a full disk)
// is an error of the run, exit status 1 naming the recording and the
// cause, never a debug line; nothing half-written is left, and a later run
// with room saves it.
func TestRecordingWriteErrorStopsTheRun(t *testing.T) {
	day1 := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	call := rctest.Call{ID: "c0", Start: day1.Add(9 * time.Hour), Duration: 3 * time.Minute, RecordingID: "4402"}
	srv, dir := rcSetup(t, call, call.Start.Add(4*time.Minute))
	audio := bytes.Repeat([]byte{'x'}, 3<<20)
	srv.SetRecording("4402", "audio/mpeg", audio)

	cmd, stderr := startChild(t, "ringcentral-small-files", hardenDir+"="+dir, hardenURL+"="+srv.URL, hardenMedia+"="+srv.MediaURL)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1\n%s", err, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, "recording 4402") || !strings.Contains(msg, "file too large") {
		t.Errorf("the error does not name the recording and the cause: %s", msg)
	}
	filepath.WalkDir(filepath.Join(dir, "lake", "recordings"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})

	sum, err := Ingest(context.Background(), rcChildConfig(dir, srv.URL, srv.MediaURL, rcNight), Env{Wait: noWait})
	if err != nil || sum.RecordingsSaved != 1 {
		t.Fatalf("run with room: %v, %d recordings saved", err, sum.RecordingsSaved)
	}
	got, err := os.ReadFile(filepath.Join(dir, "lake", "recordings", "date=2026-11-12", "4402.mp3"))
	if err != nil || !bytes.Equal(got, audio) {
		t.Fatalf("saved recording: %d bytes, %v", len(got), err)
	}
}

// TestKillAndRerunUnderFaults runs the kill-and-rerun test (TestKillAndRerun)
// with Graph behind a fault proxy that faults part of the calls, as Graph
// does in a $batch: one request of the batch answered 429 forever, 500 or
// with a body that does not decode, or the whole $batch trickling or 500.
// The faulted calls come late in the order a run fetches them (sorted, one
// $batch at a time), or are scattered among items, so that a run commits
// the calls before them: two children are killed (SIGKILL) after a commit,
// at a different offset each, and a third runs into the faults to its end
// (run_timeout, or its faulted calls deferred); once Graph is healthy, one
// run leaves the lake of a run never faulted.
func TestKillAndRerunUnderFaults(t *testing.T) {
	heavytest.Skip(t)
	for _, tc := range []struct {
		name string
		mode faultproxy.Mode
		// item: the faulted calls' requests inside a $batch are faulted,
		// not the whole $batch.
		item bool
		// faulted picks the faulted calls of the ids, in the order a run
		// fetches them.
		faulted func(ids []string) []string
	}{
		// A 429 pauses all of Graph's requests: the part of the run after
		// the first one waits for run_timeout. The first children commit
		// the calls before it; the third meets it early.
		{"item-429-forever", faultproxy.TooManyRequests, true, func(ids []string) []string { return ids[40:48] }},
		{"item-truncated", faultproxy.Truncated, true, func(ids []string) []string { return everyNth(ids, 5) }},
		{"batch-slow", faultproxy.Slow, false, func(ids []string) []string { return []string{ids[45], ids[50], ids[55]} }},
		{"batch-500-forever", faultproxy.ServerError, false, func(ids []string) []string { return ids[50:] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the children mostly wait: on faults, for run_timeout
			f := newFixtureOn(t, 60, graphtest.Options{Hook: func(*http.Request) { time.Sleep(2 * time.Millisecond) }})
			want, runTimeout := timedCleanLake(t, f)
			faulted := tc.faulted(sortedIDs(f.calls))
			proxy := faultproxy.New(t, f.srv.URL)
			if tc.item {
				proxy.SetItemMode(tc.mode, recordItems(faulted...))
			} else {
				proxy.SetMode(tc.mode, recordsOf(faulted...))
			}

			parquetFiles := func() int {
				n, _ := filepath.Glob(filepath.Join(f.dir, "lake", "*", "*", "*.parquet"))
				return len(n)
			}
			killed := 0
			for i := range 3 {
				before := parquetFiles()
				cmd, stderr := startChild(t, "teams", hardenDir+"="+f.dir, hardenURL+"="+proxy.URL, hardenTimeout+"="+runTimeout.String())
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				var err error
			wait:
				for {
					select {
					case err = <-exited:
						break wait
					case <-time.After(time.Millisecond):
						if i < 2 && parquetFiles() > before {
							time.Sleep(time.Duration(i*7) * time.Millisecond)
							cmd.Process.Signal(syscall.SIGKILL)
							err = <-exited
							break wait
						}
					}
				}
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					killed++
					continue
				}
				// Not killed: it ended on its own, at run_timeout or having
				// deferred the faulted calls, which never come.
				var exit *exec.ExitError
				switch {
				case errors.As(err, &exit) && exit.ExitCode() == 3:
				case errors.As(err, &exit) && exit.ExitCode() == 1 && strings.Contains(stderr.String(), "run_timeout"):
				default:
					t.Fatalf("child: %v\n%s", err, stderr.String())
				}
			}
			if killed == 0 || proxy.Faulted() == 0 {
				t.Fatalf("%d children killed mid-run, %d requests faulted; the test proves nothing", killed, proxy.Faulted())
			}

			proxy.SetMode(faultproxy.Pass, nil)
			sum, err := Ingest(context.Background(), testConfig(f.dir, proxy.URL, night1), Env{Wait: noWait})
			if err != nil || sum.Pending != 0 {
				t.Fatalf("recovery run: %v, %d pending", err, sum.Pending)
			}
			if err := sameLake(want, digest(t, filepath.Join(f.dir, "lake"))); err != nil {
				t.Fatalf("lake after kills under %v and a rerun differs from a clean run: %v", tc.mode, err)
			}
			filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
					t.Errorf("staging file left after rerun: %s", p)
				}
				return nil
			})
		})
	}
}

func everyNth(ids []string, n int) []string {
	var out []string
	for i := 0; i < len(ids); i += n {
		out = append(out, ids[i])
	}
	return out
}
