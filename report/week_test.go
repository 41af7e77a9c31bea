package report

import (
	"strings"
	"testing"
	"time"
)

func TestParseWeek(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Week
		err  string // part of the error; "" for none
	}{
		{"2026-W47", Week{2026, 47}, ""},
		{"2026-w01", Week{2026, 1}, ""},
		{"2020-W53", Week{2020, 53}, ""}, // 2020 has 53 weeks
		{"2026-W53", Week{2026, 53}, ""}, // so has 2026
		{"2021-W53", Week{}, "2021 has weeks 01 to 52"},
		{"2026-W00", Week{}, "2026 has weeks 01 to 53"},
		{"2026-W54", Week{}, "has weeks 01 to 53"},
		{"2026-47", Week{}, "ISO form YYYY-Www"},
		{"2026W47", Week{}, "ISO form"},
		{"26-W47", Week{}, "ISO form"},
		{"2026-W7", Week{}, "ISO form"},
		{"2026-X47", Week{}, "ISO form"},
		{"", Week{}, "ISO form"},
		{"abcd-W47", Week{}, `year "abcd"`},
		{"0000-W01", Week{}, `year "0000"`},
		{"+202-W01", Week{}, `year "+202"`},
		{"2026-W+1", Week{}, `week "+1"`},
		{"2026-Wxx", Week{}, `week "xx"`},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseWeek(c.in)
			if c.err == "" {
				if err != nil || got != c.want {
					t.Fatalf("ParseWeek(%q) = %v, %v; want %v", c.in, got, err, c.want)
				}
				if s := got.String(); !strings.EqualFold(s, c.in) {
					t.Errorf("String() = %q, want %q", s, c.in)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.in) {
				t.Fatalf("ParseWeek(%q) error %v; want one naming the input and saying %q", c.in, err, c.err)
			}
		})
	}
}

func TestWeekRange(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	kiri, _ := time.LoadLocation("Pacific/Kiritimati") // UTC+14
	for _, c := range []struct {
		w          Week
		loc        *time.Location
		start, end time.Time
	}{
		{Week{2026, 47}, berlin, time.Date(2026, 11, 16, 0, 0, 0, 0, berlin), time.Date(2026, 11, 23, 0, 0, 0, 0, berlin)},
		{Week{2026, 1}, time.UTC, time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)},
		{Week{2026, 53}, berlin, time.Date(2026, 12, 28, 0, 0, 0, 0, berlin), time.Date(2027, 1, 4, 0, 0, 0, 0, berlin)},
		{Week{2020, 53}, nil, time.Date(2020, 12, 28, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC)},
		{Week{2021, 1}, time.UTC, time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 11, 0, 0, 0, 0, time.UTC)},
		{Week{2015, 53}, time.UTC, time.Date(2015, 12, 28, 0, 0, 0, 0, time.UTC), time.Date(2016, 1, 4, 0, 0, 0, 0, time.UTC)},
		{Week{2026, 13}, kiri, time.Date(2026, 3, 23, 0, 0, 0, 0, kiri), time.Date(2026, 3, 30, 0, 0, 0, 0, kiri)},
	} {
		s, e := c.w.Range(c.loc)
		if !s.Equal(c.start) || !e.Equal(c.end) {
			t.Errorf("%s in %v: %s – %s, want %s – %s", c.w, c.loc, s, e, c.start, c.end)
		}
	}
	// A week with a daylight-saving change is an hour short or long.
	for _, c := range []struct {
		w    Week
		loc  *time.Location
		want time.Duration
	}{
		{Week{2026, 13}, berlin, 167 * time.Hour}, // clocks go forward on 29 March
		{Week{2026, 43}, berlin, 169 * time.Hour}, // and back on 25 October
		{Week{2026, 10}, ny, 167 * time.Hour},     // 8 March in New York
		{Week{2026, 47}, berlin, 168 * time.Hour},
	} {
		s, e := c.w.Range(c.loc)
		if e.Sub(s) != c.want {
			t.Errorf("%s in %v lasts %s, want %s", c.w, c.loc, e.Sub(s), c.want)
		}
	}
}

func TestLastCompleteWeek(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		now  time.Time
		loc  *time.Location
		want Week
	}{
		// Monday 00:30 in Berlin is still Sunday in UTC.
		{time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), berlin, Week{2026, 47}},
		{time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), time.UTC, Week{2026, 46}},
		// Sunday evening in New York is Monday in UTC.
		{time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), ny, Week{2026, 46}},
		{time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), nil, Week{2026, 47}},
		// Across years, into a year with 53 weeks.
		{time.Date(2027, 1, 4, 6, 0, 0, 0, berlin), berlin, Week{2026, 53}},
		{time.Date(2027, 1, 3, 23, 0, 0, 0, berlin), berlin, Week{2026, 52}},
		{time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC), time.UTC, Week{2026, 1}},
		{time.Date(2026, 1, 4, 6, 0, 0, 0, time.UTC), time.UTC, Week{2025, 52}},
	} {
		if got := LastCompleteWeek(c.now, c.loc); got != c.want {
			t.Errorf("LastCompleteWeek(%s, %v) = %s, want %s", c.now, c.loc, got, c.want)
		}
	}
}

func TestPrevWeek(t *testing.T) {
	t.Parallel()
	for in, want := range map[Week]Week{
		{2026, 47}: {2026, 46}, {2026, 1}: {2025, 52}, {2021, 1}: {2020, 53}, {2027, 1}: {2026, 53},
	} {
		if got := in.prev(); got != want {
			t.Errorf("%s.prev() = %s, want %s", in, got, want)
		}
	}
}

// FuzzParseWeek: whatever parses names a real week that starts on a Monday,
// lasts a week, and prints back as it was written.
func FuzzParseWeek(f *testing.F) {
	for _, s := range []string{"2026-W47", "2020-W53", "2021-W53", "2026-w01", "0001-W01", "9999-W52", "2026-W00", "x", "2026-W4\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeek(s)
		if err != nil {
			if !strings.Contains(err.Error(), "week") {
				t.Fatalf("error %q does not say what it is about", err)
			}
			return
		}
		if !strings.EqualFold(w.String(), s) {
			t.Fatalf("%q parsed as %s", s, w)
		}
		start, end := w.Range(berlin)
		if start.Weekday() != time.Monday || start.Hour() != 0 || end.Sub(start) < 167*time.Hour || end.Sub(start) > 169*time.Hour {
			t.Fatalf("%s: %s – %s", w, start, end)
		}
		if y, n := start.ISOWeek(); y != w.Year || n != w.Week {
			t.Fatalf("%s starts on %s, in week %d-W%02d", w, start, y, n)
		}
		if LastCompleteWeek(end.Add(time.Hour), berlin) != w {
			t.Fatalf("the week after %s does not report it as the last complete one", w)
		}
	})
}
