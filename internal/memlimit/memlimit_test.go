package memlimit

import "testing"

func TestForFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   int64
	}{
		{"", Default},
		{"plain", Default},
		{"iceberg", Iceberg},
	} {
		if got := ForFormat(tc.format); got != tc.want {
			t.Errorf("ForFormat(%q) = %d, want %d", tc.format, got, tc.want)
		}
	}
	if Iceberg >= Default || Iceberg <= 0 {
		t.Errorf("Iceberg = %d: it leaves the SQLite catalog room below Default (%d)", Iceberg, Default)
	}
}
