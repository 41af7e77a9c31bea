package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Week is an ISO 8601 week: weeks start on Monday, and week 1 of a year is the
// week holding that year's first Thursday (so 4 January is always in week 1).
// Some years have a week 53.
type Week struct{ Year, Week int }

// ParseWeek parses an ISO week written as "2026-W47" (the W may be lower
// case; the week number has two digits). It refuses weeks the year does not
// have, such as 2026-W53.
func ParseWeek(s string) (Week, error) {
	y, w, ok := strings.Cut(s, "-")
	if !ok || len(w) != 3 || (w[0] != 'W' && w[0] != 'w') || len(y) != 4 {
		return Week{}, fmt.Errorf("week %q: want the ISO form YYYY-Www, e.g. 2026-W47", s)
	}
	year, err := strconv.Atoi(y)
	if err != nil || year < 1 || strings.ContainsAny(y, "+-") {
		return Week{}, fmt.Errorf("week %q: year %q is not a number from 0001 to 9999", s, y)
	}
	num, err := strconv.Atoi(w[1:])
	if err != nil || strings.ContainsAny(w[1:], "+-") {
		return Week{}, fmt.Errorf("week %q: week %q is not a two-digit number", s, w[1:])
	}
	if n := weeksIn(year); num < 1 || num > n {
		return Week{}, fmt.Errorf("week %q: %d has weeks 01 to %02d", s, year, n)
	}
	return Week{Year: year, Week: num}, nil
}

// String formats the week as ParseWeek reads it: "2026-W47".
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Week) }

// Range returns the week's bounds in loc (UTC when nil): Monday 00:00, and the
// next Monday 00:00. Across a daylight-saving change the week is 167 or 169
// hours long.
func (w Week) Range(loc *time.Location) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := w.monday()
	return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+7, 0, 0, 0, 0, loc)
}

// monday is the calendar date of the week's Monday.
func (w Week) monday() (int, time.Month, int) {
	jan4 := time.Date(w.Year, time.January, 4, 0, 0, 0, 0, time.UTC)
	offset := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	mon := jan4.AddDate(0, 0, -offset+7*(w.Week-1))
	return mon.Date()
}

// prev is the week before w.
func (w Week) prev() Week {
	y, m, d := w.monday()
	year, week := time.Date(y, m, d-7, 12, 0, 0, 0, time.UTC).ISOWeek()
	return Week{Year: year, Week: week}
}

// weeksIn is the number of ISO weeks of a year: 53 when 28 December (always
// in the last week) is in week 53.
func weeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// LastCompleteWeek is the week before the one that holds now in loc (UTC when
// nil): the report's default, the latest week that has ended.
func LastCompleteWeek(now time.Time, loc *time.Location) Week {
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	// Noon avoids any question of which day a midnight in a DST gap is.
	cur := time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, time.UTC)
	year, week := cur.AddDate(0, 0, -7).ISOWeek()
	return Week{Year: year, Week: week}
}
