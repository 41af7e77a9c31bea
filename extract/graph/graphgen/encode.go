package graphgen

import (
	"math"
	"time"
	"unicode/utf8"
)

// rng is a splitmix64 generator. It is written out here rather than taken
// from math/rand so that a seed gives the same week on every Go release.
// Float arithmetic in the generator avoids math.Exp and the like (assembly
// on some architectures) and converts explicitly where a multiply-add could
// be fused, so the output is the same on every platform.
type rng struct{ s uint64 }

// mix derives an independent seed from a and b.
func mix(a, b uint64) uint64 {
	r := rng{s: a ^ (b+0x632be59bd9b4e019)*0x9e3779b97f4a7c15}
	r.u64()
	return r.u64()
}

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// f returns a float in [0, 1).
func (r *rng) f() float64 { return float64(r.u64()>>11) / (1 << 53) }

// n returns an int in [0, k); k must be positive and below 2^32.
func (r *rng) n(k int) int { return int(((r.u64() >> 32) * uint64(k)) >> 32) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.f() < p }

// between returns a float in [lo, hi).
func (r *rng) between(lo, hi float64) float64 { return lo + float64((hi-lo)*r.f()) }

// rangeInt returns an int in [lo, hi].
func (r *rng) rangeInt(lo, hi int) int { return lo + r.n(hi-lo+1) }

// skewed returns a value in [lo, hi) concentrated towards lo (a squared
// uniform), the usual shape of network metrics.
func (r *rng) skewed(lo, hi float64) float64 {
	u := r.f()
	return lo + float64((hi-lo)*u*u)
}

// weighted returns an index drawn with the given weights.
func (r *rng) weighted(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	v := r.f() * total
	for i, x := range w {
		if v < x {
			return i
		}
		v -= x
	}
	return len(w) - 1
}

// guid returns a lowercase version-4 GUID.
func (r *rng) guid() string {
	var b [36]byte
	return string(r.appendGUID(b[:0]))
}

const hexDigits = "0123456789abcdef"

func (r *rng) appendGUID(b []byte) []byte {
	hi, lo := r.u64(), r.u64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// hex returns n random lowercase hex digits.
func (r *rng) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[r.n(16)]
	}
	return string(b)
}

// mac returns a random colon-separated MAC address in upper case.
func (r *rng) mac() string {
	const up = "0123456789ABCDEF"
	b := make([]byte, 0, 17)
	for i := 0; i < 6; i++ {
		if i > 0 {
			b = append(b, ':')
		}
		v := r.n(256)
		if i == 0 {
			v &^= 3 // unicast, globally administered
		}
		b = append(b, up[v>>4], up[v&0xf])
	}
	return string(b)
}

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
