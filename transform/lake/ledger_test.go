package lake

import (
	"strings"
	"testing"
)

// TestCompareKeys: compareKeys orders entries as their keys (source/id) do.
func TestCompareKeys(t *testing.T) {
	entries := []*Entry{
		{Source: "teams", ID: "a"}, {Source: "teams", ID: "b"}, {Source: "teams", ID: "a-1"},
		{Source: "teams", ID: ""}, {Source: "teams", ID: "a.b"}, {Source: "pstn", ID: "z"},
		{Source: "pstn_x", ID: "a"}, {Source: "pstn", ID: ".x"}, {Source: "ringcentral", ID: "0"},
	}
	sign := func(n int) int { return min(max(n, -1), 1) }
	for _, a := range entries {
		for _, b := range entries {
			if got, want := sign(compareKeys(a, b)), strings.Compare(a.key(), b.key()); got != want {
				t.Errorf("compareKeys(%s, %s) = %d, want %d", a.key(), b.key(), got, want)
			}
		}
	}
}
