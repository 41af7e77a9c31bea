package jobs

import "time"

// LogDuration is how callstats logs a duration: rounded to what a person
// reads ("3.99s", "3m42s", "120ms"), never raw nanoseconds.
func LogDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}
