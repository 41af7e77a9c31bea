package report

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/transform/lake"
	"callstats/transform/lake/iceberg"
)

// Aggregation: one pass over the partitions that can hold the report week
// and the week before it, adding every row into per-worker totals that are
// merged at the end. Files are read by a few workers in parallel.

// Table names the report reads. The first four are written by ingest; the
// others come from reconciliation and the telephony sources, and a lake
// without them still makes a report.
const (
	tCalls        = "calls"
	tParticipants = "participants"
	tSessions     = "sessions"
	tStreams      = "streams"
	tLegs         = "legs"
	tReconcile    = "reconcile"
	tPSTN         = "pstn_calls"
	tDirect       = "direct_routing_calls"
)

// Weeks a row can belong to.
const (
	none = -1
	cur  = 0 // the report week
	prev = 1 // the week before it
)

// window holds the two weeks in Unix microseconds.
type window struct {
	loc        *time.Location
	start, end [2]int64
}

func (w *window) bucket(us int64) int {
	switch {
	case us >= w.start[cur] && us < w.end[cur]:
		return cur
	case us >= w.start[prev] && us < w.end[prev]:
		return prev
	}
	return none
}

// dayBucket is the week a UTC partition day lies in entirely, or none.
func (w *window) dayBucket(day time.Time) int {
	if day.IsZero() {
		return none
	}
	s, e := day.UnixMicro(), day.AddDate(0, 0, 1).UnixMicro()
	for _, b := range []int{cur, prev} {
		if s >= w.start[b] && e <= w.end[b] {
			return b
		}
	}
	return none
}

// period is what the summary needs of one week.
type period struct {
	calls, meetings int64
	secs            float64
	pstnSecs        float64
	streams         quality
}

func (p *period) add(o *period) {
	p.calls += o.calls
	p.meetings += o.meetings
	p.secs += o.secs
	p.pstnSecs += o.pstnSecs
	addQuality(&p.streams, &o.streams)
}

// userStat is one user's totals.
type userStat struct {
	active    [2]bool // seen in the week (cur) or the week before (prev)
	name, upn string
	calls     int64   // report week: calls with a session of theirs
	organised int64   // report week: meetings they organised
	secs      float64 // report week: length of their sessions
	streams   quality // report week: streams at their end
	lastCall  int64   // worker-local sequence number of the last call counted
}

func addUser(d, s *userStat) {
	d.active[cur] = d.active[cur] || s.active[cur]
	d.active[prev] = d.active[prev] || s.active[prev]
	d.name = pickName(d.name, s.name)
	d.upn = pickName(d.upn, s.upn)
	d.calls += s.calls
	d.organised += s.organised
	d.secs += s.secs
	addQuality(&d.streams, &s.streams)
}

// pickName keeps a name deterministically when two workers saw different ones.
func pickName(a, b string) string {
	if a == "" || (b != "" && b < a) {
		return b
	}
	return a
}

// pstnKey groups Teams PSTN calls.
type pstnKey struct{ callType, currency string }

type pstnStat struct {
	count
	charge float64
}

// sipKey groups Direct Routing calls by outcome.
type sipKey struct {
	success string // "yes", "no" or ""
	code    int64
	hasCode bool
	phrase  string
}

// stats is everything the workbook shows, as totals.
type stats struct {
	per [2]period

	days  [7]struct{ calls, meetings count }
	hours [7][24]int64

	callTypes, sources tally[count]
	users              tally[userStat]

	platforms, families, versions tally[count]
	capture, render               tally[count]

	media, platformQ, connQ, subnetQ tally[quality]
	ratings, tokens                  tally[count]
	feedbackSessions                 int64

	rcCalls                 int64   // report week
	rcSeen                  [2]bool // RingCentral rows in either week
	rcResults, rcDirections tally[count]
	rcCallerSt, rcCalleeSt  tally[count]
	legs                    tally[count]

	pstn    map[pstnKey]*pstnStat
	pstnDir tally[count]
	drSIP   map[sipKey]*count
	drDir   tally[count]
	drOK    [2]int64 // successful, failed

	present map[string]bool // tables that exist in the lake
}

func newStats() *stats {
	return &stats{
		callTypes: tally[count]{}, sources: tally[count]{}, users: tally[userStat]{},
		platforms: tally[count]{}, families: tally[count]{}, versions: tally[count]{},
		capture: tally[count]{}, render: tally[count]{},
		media: tally[quality]{}, platformQ: tally[quality]{}, connQ: tally[quality]{}, subnetQ: tally[quality]{},
		ratings: tally[count]{}, tokens: tally[count]{},
		rcResults: tally[count]{}, rcDirections: tally[count]{}, rcCallerSt: tally[count]{}, rcCalleeSt: tally[count]{},
		legs: tally[count]{},
		pstn: map[pstnKey]*pstnStat{}, pstnDir: tally[count]{}, drSIP: map[sipKey]*count{}, drDir: tally[count]{},
		present: map[string]bool{},
	}
}

func (s *stats) merge(o *stats) {
	for b := range s.per {
		s.per[b].add(&o.per[b])
	}
	for d := range s.days {
		addCount(&s.days[d].calls, &o.days[d].calls)
		addCount(&s.days[d].meetings, &o.days[d].meetings)
		for h := range s.hours[d] {
			s.hours[d][h] += o.hours[d][h]
		}
	}
	for _, p := range [][2]tally[count]{
		{s.callTypes, o.callTypes}, {s.sources, o.sources}, {s.platforms, o.platforms},
		{s.families, o.families}, {s.versions, o.versions}, {s.capture, o.capture}, {s.render, o.render},
		{s.ratings, o.ratings}, {s.tokens, o.tokens}, {s.rcResults, o.rcResults},
		{s.rcDirections, o.rcDirections}, {s.rcCallerSt, o.rcCallerSt}, {s.rcCalleeSt, o.rcCalleeSt},
		{s.legs, o.legs}, {s.pstnDir, o.pstnDir}, {s.drDir, o.drDir},
	} {
		p[0].merge(p[1], addCount)
	}
	for _, p := range [][2]tally[quality]{
		{s.media, o.media}, {s.platformQ, o.platformQ}, {s.connQ, o.connQ}, {s.subnetQ, o.subnetQ},
	} {
		p[0].merge(p[1], addQuality)
	}
	s.users.merge(o.users, addUser)
	s.feedbackSessions += o.feedbackSessions
	s.rcCalls += o.rcCalls
	s.rcSeen[cur] = s.rcSeen[cur] || o.rcSeen[cur]
	s.rcSeen[prev] = s.rcSeen[prev] || o.rcSeen[prev]
	for k, v := range o.pstn {
		if d, ok := s.pstn[k]; ok {
			addCount(&d.count, &v.count)
			d.charge += v.charge
		} else {
			s.pstn[k] = v
		}
	}
	for k, v := range o.drSIP {
		if d, ok := s.drSIP[k]; ok {
			addCount(d, v)
		} else {
			s.drSIP[k] = v
		}
	}
	s.drOK[0] += o.drOK[0]
	s.drOK[1] += o.drOK[1]
}

// dayCalls counts the calls of one partition day by week.
type dayCalls struct{ n [2]int64 }

// scanner is one worker: its totals and its scratch state.
type scanner struct {
	w   *window
	s   *stats
	mem memory.Allocator

	// Calls phase: ids of in-week calls of partitions that straddle a week
	// boundary, and per partition day the calls in each week.
	ids     map[string]int8
	dayHits map[time.Time]*dayCalls

	callSeq int64 // sequence number of the call being read (sessions)

	// scope, when set, restricts every row to the calls of scopeDef.
	scope    *scopeSet
	scopeDef *Scope
}

// outOfScope reports whether row i's call is outside the scope (always
// false for a tenant-wide report).
func (sc *scanner) outOfScope(ids *strs, i int) bool {
	return sc.scope != nil && (ids.null(i) || !sc.scope.calls[ids.get(i)])
}

// plan says how the rows of a file of a per-call table are placed in weeks.
type plan struct {
	fixed int // the week of every row; none means by call id
	// ids maps call ids to weeks when fixed is none.
	ids map[string]int8
	// wantCur is whether the file can hold rows of the report week (its
	// detail columns are read only then).
	wantCur bool
	// scoped, when not nil, holds the only calls whose rows count.
	scoped map[string]bool
}

// runPool runs fn over jobs with one scanner per worker.
func runPool[J any](ctx context.Context, scanners []*scanner, jobs []J, fn func(context.Context, *scanner, J) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan J)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, sc := range scanners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := fn(ctx, sc, j); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// workers is how many files are read at once.
func workers() int { return max(1, min(runtime.GOMAXPROCS(0), 4)) }

// lakeData is what aggregating the lake gave.
type lakeData struct {
	s     *stats
	recon []reconRow
}

// aggregate reads the lake for the two weeks of w.
func aggregate(ctx context.Context, dir string, w *window, mem memory.Allocator) (*lakeData, error) {
	return aggregateScope(ctx, dir, nil, w, mem, nil)
}

// aggregateScope is aggregate restricted to scope (nil: the whole tenant),
// reading the Iceberg tables of ice instead of the plain lake in dir when
// ice is set.
func aggregateScope(ctx context.Context, dir string, ice *iceberg.View, w *window, mem memory.Allocator, scope *Scope) (*lakeData, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	list := func(ctx context.Context, table string, from, to time.Time) ([]lakeFile, bool, error) {
		return listIceberg(ctx, ice, table, from, to)
	}
	if ice == nil {
		// The lake's read lock, for the whole read: an ingest committing
		// meanwhile never removes a file listed here. (A view of Iceberg
		// tables is a snapshot already.)
		release, err := lake.ReadLock(ctx, dir)
		if err != nil {
			return nil, err
		}
		defer release()
		list = func(ctx context.Context, table string, from, to time.Time) ([]lakeFile, bool, error) {
			return listFiles(ctx, dir, table, from, to)
		}
	}
	// Partitions: every UTC day that can hold a call starting in either week,
	// and one more day each side.
	from := midnight(time.UnixMicro(w.start[prev]).UTC()).AddDate(0, 0, -1)
	to := midnight(time.UnixMicro(w.end[cur]-1).UTC()).AddDate(0, 0, 1)
	files := map[string][]lakeFile{}
	present := map[string]bool{}
	for _, t := range []string{tCalls, tParticipants, tSessions, tStreams, tLegs, tReconcile, tPSTN, tDirect} {
		fs, ok, err := list(ctx, t, from, to)
		if err != nil {
			return nil, err
		}
		files[t], present[t] = fs, ok
	}

	scanners := make([]*scanner, workers())
	for i := range scanners {
		scanners[i] = &scanner{w: w, s: newStats(), mem: mem, ids: map[string]int8{}, dayHits: map[time.Time]*dayCalls{}}
	}
	var ss *scopeSet
	if scope != nil {
		var err error
		if ss, err = resolveScope(ctx, scope, files[tParticipants], files[tLegs], scanners[0]); err != nil {
			return nil, err
		}
		for _, sc := range scanners {
			sc.scope, sc.scopeDef = ss, scope
		}
	}

	// Phase 1: calls and the tables that place their rows by their own times.
	type job struct {
		table string
		f     lakeFile
	}
	var jobs []job
	for _, t := range []string{tCalls, tPSTN, tDirect, tLegs} {
		for _, f := range files[t] {
			jobs = append(jobs, job{t, f})
		}
	}
	err := runPool(ctx, scanners, jobs, func(ctx context.Context, sc *scanner, j job) error {
		switch j.table {
		case tCalls:
			return sc.calls(ctx, j.f)
		case tPSTN:
			return sc.pstnCalls(ctx, j.f)
		case tDirect:
			return sc.directRouting(ctx, j.f)
		default:
			return sc.legRows(ctx, j.f)
		}
	})
	if err != nil {
		return nil, err
	}
	ids := scanners[0].ids
	hits := scanners[0].dayHits
	for _, sc := range scanners[1:] {
		for k, v := range sc.ids {
			ids[k] = v
		}
		for d, h := range sc.dayHits {
			if x, ok := hits[d]; ok {
				x.n[cur] += h.n[cur]
				x.n[prev] += h.n[prev]
			} else {
				hits[d] = h
			}
		}
		sc.ids, sc.dayHits = nil, nil
	}
	scanners[0].ids, scanners[0].dayHits = nil, nil

	// Phase 2: the tables whose rows belong to a call.
	type job2 struct {
		table string
		f     lakeFile
		p     plan
	}
	var jobs2 []job2
	for _, t := range []string{tStreams, tSessions, tParticipants} {
		for _, f := range files[t] {
			p, ok := planFor(w, f, ids, hits)
			if ss != nil {
				p.scoped = ss.calls
			}
			if ok {
				jobs2 = append(jobs2, job2{t, f, p})
			}
		}
	}
	err = runPool(ctx, scanners, jobs2, func(ctx context.Context, sc *scanner, j job2) error {
		switch j.table {
		case tStreams:
			return sc.streams(ctx, j.f, j.p)
		case tSessions:
			return sc.sessions(ctx, j.f, j.p)
		default:
			return sc.participants(ctx, j.f, j.p)
		}
	})
	if err != nil {
		return nil, err
	}
	s := scanners[0].s
	for _, sc := range scanners[1:] {
		s.merge(sc.s)
	}
	s.present = present
	if ss != nil {
		for id := range s.users {
			if !ss.users[id] {
				delete(s.users, id)
			}
		}
	}

	recon, err := readReconcile(ctx, files[tReconcile], w, mem)
	if err != nil {
		return nil, err
	}
	return &lakeData{s: s, recon: recon}, nil
}

// planFor decides how to place the rows of a file of a per-call table, from
// what the calls of its partition day were; false means it holds no row of
// either week and need not be read.
func planFor(w *window, f lakeFile, ids map[string]int8, hits map[time.Time]*dayCalls) (plan, bool) {
	if f.day.IsZero() {
		return plan{fixed: none, ids: ids, wantCur: true}, true
	}
	h := hits[f.day]
	if h == nil || h.n[cur]+h.n[prev] == 0 {
		return plan{}, false
	}
	if b := w.dayBucket(f.day); b != none {
		return plan{fixed: b, wantCur: b == cur}, true
	}
	switch {
	case h.n[prev] == 0:
		return plan{fixed: none, ids: ids, wantCur: true}, true
	case h.n[cur] == 0:
		return plan{fixed: none, ids: ids, wantCur: false}, true
	}
	return plan{fixed: none, ids: ids, wantCur: true}, true
}

// weekOf returns the week of row i of a per-call table under plan p.
func (p *plan) weekOf(ids *strs, i int) int {
	if p.scoped != nil && (ids.null(i) || !p.scoped[ids.get(i)]) {
		return none
	}
	if p.fixed != none {
		return p.fixed
	}
	if ids.null(i) {
		return none
	}
	if b, ok := p.ids[ids.get(i)]; ok {
		return int(b)
	}
	return none
}

// specs builds a column list: base columns always, detail columns when the
// report week's rows are wanted, and call_id when rows are placed by call.
func specs(p plan, base, detail []colSpec) []colSpec {
	var out []colSpec
	if p.fixed == none || p.scoped != nil {
		out = append(out, colSpec{name: "call_id"})
	}
	out = append(out, base...)
	if p.wantCur {
		out = append(out, detail...)
	}
	return out
}

func dictCols(names ...string) []colSpec {
	out := make([]colSpec, len(names))
	for i, n := range names {
		out[i] = colSpec{name: n, dict: true}
	}
	return out
}

// cols gives the accessors of a batch by name, remembering the first error.
type cols struct {
	b     *batch
	specs []colSpec
	err   error
}

func (c *cols) index(name string) int {
	for i, s := range c.specs {
		if s.name == name {
			return i
		}
	}
	return -1
}

// missing is an all-NULL column for names not in the projection.
func (c *cols) at(name string) (*batch, int) {
	if i := c.index(name); i >= 0 {
		return c.b, i
	}
	return &batch{cols: []arrow.Array{nil}, file: c.b.file}, 0
}

func (c *cols) str(name string) strs {
	b, i := c.at(name)
	v, err := newStrs(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) f64(name string) floats {
	b, i := c.at(name)
	v, err := newFloats(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) i64(name string) ints {
	b, i := c.at(name)
	v, err := newInts(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) ts(name string) times {
	b, i := c.at(name)
	v, err := newTimes(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) boolean(name string) bools {
	b, i := c.at(name)
	v, err := newBools(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) list(name string) strLists {
	b, i := c.at(name)
	v, err := newStrLists(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) day(name string) days {
	b, i := c.at(name)
	v, err := newDays(b, i, name)
	c.keep(err)
	return v
}

func (c *cols) keep(err error) {
	if c.err == nil {
		c.err = err
	}
}

// isUser classifies identity kinds: 1 for user, 0 otherwise.
func isUser(s string) int8 {
	if s == "user" {
		return 1
	}
	return 0
}

// direction of a telephony call type ("user_in", "ByotOut", ...):
// Outbound when it says out, Inbound when it says in.
func direction(callType string) string {
	l := strings.ToLower(callType)
	switch {
	case strings.Contains(l, "out"):
		return "Outbound"
	case strings.Contains(l, "in"):
		return "Inbound"
	case l == "":
		return "(not reported)"
	}
	return "Other"
}
