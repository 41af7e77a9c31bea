package graphgen

import "sync"

// weekSeed1 is Week(Options{Seed: 1}), generated once for the tests that
// only read it (generating it takes seconds under -race). A test that checks
// determinism generates its own second copy.
var weekSeed1 = sync.OnceValue(func() []Call { return Week(Options{Seed: 1}) })

// pstnSeed1 is PstnRows(weekSeed1(), 1), computed once for the tests that
// only read it.
var pstnSeed1 = sync.OnceValues(func() (pstn, directRouting [][]byte) { return PstnRows(weekSeed1(), 1) })
