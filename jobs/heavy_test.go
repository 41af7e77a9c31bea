package jobs

import "testing"

// heavyTest marks a test that runs whole jobs end to end many times over: the
// kill-and-rerun tests (a re-executed test binary killed at commit points,
// then rerun) and runs against a hostile source until run_timeout. Under the
// race detector each takes 20 to 70 s, and its children are race-instrumented
// for nothing: crash safety is about the files a killed process leaves, not
// about data races. scripts/test runs this package a second time without
// -race, beside the race run, and these tests run there; the race run covers
// every other test, and the in-process code these exercise.
func heavyTest(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("heavy end-to-end test: scripts/test runs it in its pass without -race (go test ./jobs)")
	}
}
