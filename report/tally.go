package report

import (
	"sort"
	"strings"
)

// Grouping helpers: a tally maps a key to its running totals; a lookup
// resolves the rows of a string column to tally entries, once per distinct
// dictionary value of a batch rather than once per row.

// tally maps keys to totals of type V.
type tally[V any] map[string]*V

// get returns the totals of key s, creating them; s may point into a batch.
func (t tally[V]) get(s string) *V {
	if v, ok := t[s]; ok {
		return v
	}
	v := new(V)
	t[strings.Clone(s)] = v
	return v
}

// merge adds o's entries into t with add.
func (t tally[V]) merge(o tally[V], add func(dst, src *V)) {
	for k, v := range o {
		if d, ok := t[k]; ok {
			add(d, v)
		} else {
			t[k] = v
		}
	}
}

// lookup resolves a string column's rows to entries of a tally.
type lookup[V any] struct {
	t     tally[V]
	cache []*V
	nullV *V // the fallback entry of atOr (one fallback key per lookup)
}

func newLookup[V any](t tally[V]) *lookup[V] { return &lookup[V]{t: t} }

// reset prepares the lookup for a new batch of column s.
func (l *lookup[V]) reset(s *strs) {
	n := s.dictLen()
	if cap(l.cache) < n {
		l.cache = make([]*V, n)
		return
	}
	l.cache = l.cache[:n]
	clear(l.cache)
}

// at returns the entry of row i, or nil when the row is NULL.
func (l *lookup[V]) at(s *strs, i int) *V {
	if s.null(i) {
		return nil
	}
	if s.idx != nil {
		k := s.code(i)
		if v := l.cache[k]; v != nil {
			return v
		}
		v := l.t.get(s.dictValue(k))
		l.cache[k] = v
		return v
	}
	return l.t.get(s.get(i))
}

// atOr is at, with the entry of key fallback for a NULL row.
func (l *lookup[V]) atOr(s *strs, i int, fallback string) *V {
	if v := l.at(s, i); v != nil {
		return v
	}
	if l.nullV == nil {
		l.nullV = l.t.get(fallback)
	}
	return l.nullV
}

// classes maps a string column's rows to small codes by a function of the
// value, computed once per dictionary value.
type classes struct {
	f     func(string) int8
	cache []int8 // code+1; 0 = not yet computed
}

func (c *classes) reset(s *strs) {
	n := s.dictLen()
	if cap(c.cache) < n {
		c.cache = make([]int8, n)
		return
	}
	c.cache = c.cache[:n]
	clear(c.cache)
}

// at returns the code of row i; a NULL row has the code of "".
func (c *classes) at(s *strs, i int) int8 {
	if s.null(i) {
		return c.f("")
	}
	if s.idx != nil {
		k := s.code(i)
		if v := c.cache[k]; v != 0 {
			return v - 1
		}
		v := c.f(s.dictValue(k))
		c.cache[k] = v + 1
		return v
	}
	return c.f(s.get(i))
}

// count is a number of things and the seconds they lasted.
type count struct {
	n    int64
	secs float64
}

func addCount(d, s *count) { d.n += s.n; d.secs += s.secs }

// quality counts streams by CQD class.
type quality struct{ good, poor, uncl int64 }

func addQuality(d, s *quality) { d.good += s.good; d.poor += s.poor; d.uncl += s.uncl }

// add counts one stream of class q.
func (q *quality) add(c int8) {
	switch c {
	case qGood:
		q.good++
	case qPoor:
		q.poor++
	default:
		q.uncl++
	}
}

func (q quality) classified() int64 { return q.good + q.poor }

// rate is poor / (good + poor), and whether any stream was classified.
func (q quality) rate() (float64, bool) {
	if q.classified() == 0 {
		return 0, false
	}
	return float64(q.poor) / float64(q.classified()), true
}

// Stream classes.
const (
	qGood int8 = iota
	qPoor
	qUnclassified
)

func qualityClass(s string) int8 {
	switch s {
	case "good":
		return qGood
	case "poor":
		return qPoor
	}
	return qUnclassified
}

// ranked is a key with its totals, for sorted output.
type ranked[V any] struct {
	key string
	v   *V
}

// sortedBy returns t's entries ordered by less, ties by key.
func sortedBy[V any](t tally[V], less func(a, b *V) bool) []ranked[V] {
	out := make([]ranked[V], 0, len(t))
	for k, v := range t {
		out = append(out, ranked[V]{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if less(a.v, b.v) {
			return true
		}
		if less(b.v, a.v) {
			return false
		}
		return a.key < b.key
	})
	return out
}

// byCount orders counts most first.
func byCount(a, b *count) bool { return a.n > b.n }
