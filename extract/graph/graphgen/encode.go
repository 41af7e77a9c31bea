package graphgen

import (
	"math"
	"time"
	"unicode/utf8"
)

// appendStr appends s as a JSON string. Non-ASCII UTF-8 is written as is,
// like Graph does; quotes, backslashes and control characters are escaped.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				if r == utf8.RuneError {
					b = append(b, `\ufffd`...)
				} else {
					b = append(b, `\u202`...)
					b = append(b, hexDigits[r&0xf])
				}
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendStrOrNull writes "" as null.
func appendStrOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendStr(b, s)
}

// appendInt appends a non-negative or negative integer.
func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		return appendUint(b, uint64(-v))
	}
	return appendUint(b, uint64(v))
}

func appendUint(b []byte, v uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// appendPadded appends v with at least width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[i:]...)
}

var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// appendFixed appends v rounded to dec decimals, without trailing zeros but
// with at least one decimal ("0.0", "0.0008", "12.37"), as Graph writes
// doubles. NaN is null.
func appendFixed(b []byte, v float64, dec int) []byte {
	if math.IsNaN(v) {
		return append(b, "null"...)
	}
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	scaled := uint64(math.Round(v * pow10[dec]))
	p := uint64(pow10[dec])
	b = appendUint(b, scaled/p)
	b = append(b, '.')
	frac := scaled % p
	if frac == 0 {
		return append(b, '0')
	}
	for frac%10 == 0 {
		frac /= 10
		dec--
	}
	return appendPadded(b, frac, dec)
}

// appendIntOrNull writes NaN as null and other values rounded to an integer.
func appendIntOrNull(b []byte, v float64) []byte {
	if math.IsNaN(v) {
		return append(b, "null"...)
	}
	return appendInt(b, int64(math.Round(v)))
}

// appendDur appends milliseconds as an ISO 8601 duration ("PT0.016S",
// "PT1.742S", "PT0.12S"). NaN is null.
func appendDur(b []byte, ms float64) []byte {
	if math.IsNaN(ms) {
		return append(b, "null"...)
	}
	m := uint64(math.Round(ms))
	b = append(b, `"PT`...)
	b = appendUint(b, m/1000)
	if f := m % 1000; f != 0 {
		dec := 3
		for f%10 == 0 {
			f /= 10
			dec--
		}
		b = append(b, '.')
		b = appendPadded(b, f, dec)
	}
	return append(b, `S"`...)
}

// appendTime appends t in UTC with seven fractional digits and a Z, quoted.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, '"')
	b = appendPadded(b, uint64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, uint64(mo), 2)
	b = append(b, '-')
	b = appendPadded(b, uint64(d), 2)
	b = append(b, 'T')
	b = appendPadded(b, uint64(h), 2)
	b = append(b, ':')
	b = appendPadded(b, uint64(mi), 2)
	b = append(b, ':')
	b = appendPadded(b, uint64(s), 2)
	b = append(b, '.')
	b = appendPadded(b, uint64(t.Nanosecond()/100), 7)
	return append(b, 'Z', '"')
}

// appendTri writes 0 as null, 1 as false and 2 as true.
func appendTri(b []byte, v int8) []byte {
	switch v {
	case 1:
		return append(b, "false"...)
	case 2:
		return append(b, "true"...)
	}
	return append(b, "null"...)
}
