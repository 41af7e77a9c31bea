package delivery

import (
	"testing"
)

// FuzzNextOffset proves that no upload session answer makes nextOffset
// panic or go negative.
func FuzzNextOffset(f *testing.F) {
	for _, s := range []string{`{"nextExpectedRanges":["327680-"]}`, `{"nextExpectedRanges":["12"]}`,
		`{"nextExpectedRanges":["0-10","20-"]}`, `{"nextExpectedRanges":[]}`, `{}`, `x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := nextOffset([]byte(s), 7); n < 0 {
			t.Errorf("offset %d from %q", n, s)
		}
	})
}
