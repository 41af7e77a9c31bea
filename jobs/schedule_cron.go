//go:build unix

package jobs

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// The cron maths: when a job's spec fires, on the wall clock of a zone.

// entry is one scheduled job.
type entry struct {
	name  string
	fn    JobFunc
	loc   *time.Location
	spec  *cron.SpecSchedule          // 5-field specs and @daily-like descriptors
	every *cron.ConstantDelaySchedule // @every <duration>
}

func newEntry(name, spec string, loc *time.Location) (*entry, error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("bad cron spec %q: set the zone in schedule.timezone, not with a TZ= prefix", spec)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("bad cron spec %q: %w", spec, err)
	}
	e := &entry{name: name, loc: loc}
	switch c := sched.(type) {
	case *cron.SpecSchedule:
		e.spec = c
	case cron.ConstantDelaySchedule:
		e.every = &c
	default:
		return nil, fmt.Errorf("bad cron spec %q: unsupported schedule %T", spec, sched)
	}
	return e, nil
}

// nextAfter returns the job's first time strictly after t, in the
// scheduler's zone, or the zero time if there is none within five years.
//
// Specs are read on the local wall clock, so that each local time fires
// once: a time inside the hour skipped when clocks go forward fires at the
// moment of the change, and a time inside the hour repeated when clocks go
// back fires once, the first time it comes. (cron.Cron itself skips the
// former and runs the latter twice.) @every counts real time.
func (e *entry) nextAfter(t time.Time) time.Time {
	if e.every != nil {
		return e.every.Next(t).In(e.loc)
	}
	t = t.In(e.loc)
	w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	for range 1000 {
		w = e.spec.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		for _, at := range wallInstants(w, e.loc) {
			if at.After(t) {
				return at
			}
		}
	}
	return time.Time{}
}

// wallInstants returns the instants at which the clocks in loc read the wall
// time w (given with its fields in UTC), earliest first: one, two in the
// hour repeated when clocks go back, or, when the clocks skip it, the
// instant they jump.
func wallInstants(w time.Time, loc *time.Location) []time.Time {
	// The zone offsets a day before and after bracket any change near w.
	_, before := w.Add(-26 * time.Hour).In(loc).Zone()
	_, after := w.Add(26 * time.Hour).In(loc).Zone()
	var out []time.Time
	for i, off := range []int{before, after} {
		if i == 1 && off == before {
			break
		}
		at := w.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWall(at, w) {
			out = append(out, at)
		}
	}
	if len(out) == 0 {
		// Skipped: read with the old offset, w lies after the jump; the zone
		// in effect there starts at the jump.
		at := w.Add(-time.Duration(before) * time.Second).In(loc)
		if start, _ := at.ZoneBounds(); !start.IsZero() {
			at = start.In(loc)
		}
		out = append(out, at)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func sameWall(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay() && a.Hour() == b.Hour() &&
		a.Minute() == b.Minute() && a.Second() == b.Second()
}

// prevAtOrBefore returns the job's latest time at or before t; ok is false
// for @every jobs (they have no fixed times) and when there is none within
// five years.
func (e *entry) prevAtOrBefore(t time.Time) (time.Time, bool) {
	if e.every != nil {
		return time.Time{}, false
	}
	for step := time.Minute; step <= 5*366*24*time.Hour; step *= 2 {
		at := e.nextAfter(t.Add(-step))
		if at.IsZero() || at.After(t) {
			continue
		}
		for {
			n := e.nextAfter(at)
			if n.IsZero() || n.After(t) {
				return at, true
			}
			at = n
		}
	}
	return time.Time{}, false
}
