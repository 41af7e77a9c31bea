// Package heavytest marks tests that run whole jobs end to end many times
// over (kill-and-rerun children, runs until run_timeout, demos, external
// readers over Azurite): under the race detector each takes minutes, and what
// they check (the files a killed process leaves, the rows a peer reads back)
// needs no race detector. scripts/test runs them without -race, beside the
// race run; the race run covers every other test and the in-process code
// these exercise. scripts/test finds them by their first statement: a heavy
// test begins
//
//	func TestX(t *testing.T) {
//		heavytest.Skip(t)
package heavytest

import "testing"

// Skip skips t in a -race build, naming where it runs instead.
func Skip(t testing.TB) {
	t.Helper()
	if Race {
		t.Skip("heavy end-to-end test: scripts/test runs it in its pass without -race")
	}
}
