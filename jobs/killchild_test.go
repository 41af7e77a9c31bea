package jobs

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// runChildKilled re-executes the test binary as a child running an ingest
// (env names what it runs against; TestMain runs it), waits until grew says
// the child has committed something new, waits delay more and kills it with
// SIGKILL. It reports whether the child was killed mid-run; a child that
// ended on its own must have succeeded.
func runChildKilled(t *testing.T, env []string, grew func() bool, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
wait:
	for {
		select {
		case err = <-exited:
			break wait
		case <-time.After(time.Millisecond):
			if grew() {
				time.Sleep(delay)
				cmd.Process.Signal(syscall.SIGKILL)
				err = <-exited
				break wait
			}
		}
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return true
	}
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, stderr.String())
	}
	return false
}
