package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Duration is an ISO 8601 duration ("PT0.016S", "PT1H2M", "P1DT2H") held as seconds.
type Duration float64

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return float64(d) }

// UnmarshalJSON reads an ISO 8601 duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("duration %s: not a string", truncate(b))
	}
	str := string(b[1 : len(b)-1])
	if bytes.IndexByte(b, '\\') >= 0 {
		// A string with escapes: let encoding/json unquote it.
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("duration %s: %w", truncate(b), err)
		}
	}
	s, err := ParseDuration(str)
	if err != nil {
		return err
	}
	*d = Duration(s)
	return nil
}

// MarshalJSON writes the duration back in ISO 8601 form ("PT0.016S", "-PT1S").
func (d Duration) MarshalJSON() ([]byte, error) {
	v := float64(d)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("duration %v: not finite", v)
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return []byte(`"` + sign + `PT` + strconv.FormatFloat(v, 'f', -1, 64) + `S"`), nil
}

var errDuration = errors.New("not an ISO 8601 duration")

// ParseDuration parses an ISO 8601 duration of weeks, days, hours, minutes and
// seconds into seconds (years and months have no fixed length and are refused).
func ParseDuration(s string) (float64, error) {
	in := s
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) < 2 || s[0] != 'P' {
		return 0, fmt.Errorf("duration %q: %w", in, errDuration)
	}
	s = s[1:]
	var total float64
	inTime, any, timeAny := false, false, false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("duration %q: %w", in, errDuration)
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("duration %q: %w", in, errDuration)
		}
		num := s[:i]
		v, err := parseDecimal(num)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", in, errDuration)
		}
		var unit float64
		switch c := s[i]; {
		case c == 'D' && !inTime:
			unit = 86400
		case c == 'W' && !inTime:
			unit = 7 * 86400
		case c == 'H' && inTime:
			unit = 3600
		case c == 'M' && inTime:
			unit = 60
		case c == 'S' && inTime:
			unit = 1
		default:
			return 0, fmt.Errorf("duration %q: unit %q: %w", in, c, errDuration)
		}
		total += v * unit
		any = true
		timeAny = timeAny || inTime
		s = s[i+1:]
	}
	if !any || inTime && !timeAny || math.IsInf(total, 0) || math.IsNaN(total) {
		return 0, fmt.Errorf("duration %q: %w", in, errDuration)
	}
	if neg {
		total = -total
	}
	return total, nil
}

// parseDecimal parses digits with an optional '.' or ',' fraction. It checks the
// syntax itself and leaves the conversion to strconv, which rounds correctly
// ("0.211" is 0.211, not 0.21100000000000002).
func parseDecimal(s string) (float64, error) {
	digits := 0
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case (c == '.' || c == ',') && !dot:
			dot = true
		default:
			return 0, errDuration
		}
	}
	if digits == 0 {
		return 0, errDuration
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errDuration
	}
	return v, nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func sortStrings(s []string) { sort.Strings(s) }
