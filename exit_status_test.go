package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"callstats/extract/graph/graphtest"
	"callstats/internal/faultproxy"
)

// TestSourceFailureExitStatus (issue 14, item 10): a Graph answering 500 to
// everything but the login makes ingest exit 3 with the reason on the last
// line of stderr and the summary on stdout, so that cron hears it; once Graph is
// healthy again, the run fetches the deferred call and exits 0, quiet.
func TestSourceFailureExitStatus(t *testing.T) {
	skipWaits(t)
	srv := graphtest.NewServer(graphtest.Options{})
	defer srv.Close()
	const id = "9e31c6d8-4a07-4b5f-a2e9-d80f13b7c465"
	rec := fmt.Sprintf(`{"id":%q,"version":1,"type":"peerToPeer","modalities":["audio"],"lastModifiedDateTime":"2026-11-12T08:40:00Z","startDateTime":"2026-11-12T08:30:00Z","endDateTime":"2026-11-12T08:35:00Z","sessions":[],"participants_v2":[]}`, id)
	if err := srv.Put([]byte(rec)); err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(t, srv.URL)
	proxy.SetMode(faultproxy.ServerError, faultproxy.Without("/oauth2/"))
	cfg := writeIngestConfig(t, proxy.URL, `{"PartitionKey":"2026111208","RowKey":"`+id+`-created","Timestamp":"2026-11-12T08:37:15.090Z","CallId":"`+id+`","ChangeType":"created","Source":"teams"}`, "  max_attempts: 1\n")
	t.Setenv("TEST_GRAPH_SECRET", "secret-1")
	t.Setenv("CALLSTATS_NOW", "2026-11-13T02:00:00Z")

	var out, errb bytes.Buffer
	if code := run([]string{"ingest", "--config", cfg}, &out, &errb); code != exitPartial {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitPartial, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n") // the warnings are logged before
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "callstats: ingest finished, but teams source failed") {
		t.Errorf("stderr ends %q: want a line naming the source failure", last)
	}
	if !strings.Contains(out.String(), "source failed") {
		t.Errorf("stdout lacks the summary:\n%s", out.String())
	}

	proxy.SetMode(faultproxy.Pass, nil)
	out.Reset()
	errb.Reset()
	if code := run([]string{"ingest", "--config", cfg}, &out, &errb); code != exitOK || out.Len() != 0 || errb.Len() != 0 {
		t.Fatalf("healthy rerun: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}
