//go:build race

package heavytest

// Race is true in a -race build.
const Race = true
