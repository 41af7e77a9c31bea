package graphgen

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
