//go:build race

package jobs

// raceDetector is true in a -race build (see heavyTest).
const raceDetector = true
