package pipeline

import (
	"os"
	"runtime/pprof"
)

// CPUProfile starts writing a CPU profile to path; stop ends it and closes
// the file. An empty path profiles nothing (stop does nothing).
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
