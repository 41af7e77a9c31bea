package graphtest

import "testing"

// FuzzParseContentRange proves that no Content-Range makes the parser
// panic and that what it accepts is a range inside the total.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-327679/1048576", "bytes 5-4/10", "bytes 0-9/10", "bytes */10", "bytes -1-3/4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, total, ok := parseContentRange(s)
		if ok && (first < 0 || last < first || last >= total) {
			t.Errorf("%q read as %d-%d/%d", s, first, last, total)
		}
	})
}
