package report

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The rows of each table, added into a scanner's totals.

// notReported labels rows where the source gave no value.
const notReported = "(not reported)"

func isGroupCall(s string) int8 {
	if s == "groupCall" {
		return 1
	}
	return 0
}

func isRingCentral(s string) int8 {
	if s == "ringcentral" {
		return 1
	}
	return 0
}

func isAudio(s string) int8 {
	if s == "audio" {
		return 1
	}
	return 0
}

// Stream directions: the callee receives a callerToCallee stream (and a
// stream without a direction); the caller receives a calleeToCaller one.
const (
	toCallee int8 = iota
	toCaller
	noDirection
)

func streamDirection(s string) int8 {
	switch s {
	case "callerToCallee":
		return toCallee
	case "calleeToCaller":
		return toCaller
	}
	return noDirection
}

// calls reads a file of the calls table.
func (sc *scanner) calls(ctx context.Context, f lakeFile) error {
	fixed := sc.w.dayBucket(f.day)
	keepIDs := fixed == none || sc.scope != nil
	wantCur := fixed != prev
	var sp []colSpec
	if keepIDs {
		sp = append(sp, colSpec{name: "call_id"})
	}
	sp = append(sp, colSpec{name: "start_time"}, colSpec{name: "duration_s"}, colSpec{name: "call_type", dict: true},
		colSpec{name: "source", dict: true})
	if wantCur {
		sp = append(sp, dictCols("organizer_id", "organizer_kind", "organizer_name",
			"direction", "result", "caller_status", "callee_status")...)
	}
	hits := sc.dayHits[f.day]
	if hits == nil {
		hits = &dayCalls{}
		sc.dayHits[f.day] = hits
	}
	s := sc.s
	group := &classes{f: isGroupCall}
	rc := &classes{f: isRingCentral}
	userKind := &classes{f: isUser}
	types := newLookup(s.callTypes)
	sources := newLookup(s.sources)
	users := newLookup(s.users)
	results, dirs := newLookup(s.rcResults), newLookup(s.rcDirections)
	callerSt, calleeSt := newLookup(s.rcCallerSt), newLookup(s.rcCalleeSt)
	loc := sc.w.loc
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		ids, start, dur, typ := c.str("call_id"), c.ts("start_time"), c.f64("duration_s"), c.str("call_type")
		src, orgID, orgKind, orgName := c.str("source"), c.str("organizer_id"), c.str("organizer_kind"), c.str("organizer_name")
		dir, res, cst, est := c.str("direction"), c.str("result"), c.str("caller_status"), c.str("callee_status")
		if c.err != nil {
			return c.err
		}
		group.reset(&typ)
		types.reset(&typ)
		rc.reset(&src)
		sources.reset(&src)
		userKind.reset(&orgKind)
		users.reset(&orgID)
		results.reset(&res)
		dirs.reset(&dir)
		callerSt.reset(&cst)
		calleeSt.reset(&est)
		for i := 0; i < b.n; i++ {
			us, ok := start.value(i)
			if !ok {
				continue
			}
			wk := sc.w.bucket(us)
			if wk == none || sc.outOfScope(&ids, i) {
				continue
			}
			hits.n[wk]++
			if keepIDs && !ids.null(i) {
				sc.ids[strings.Clone(ids.get(i))] = int8(wk)
			}
			secs, _ := dur.value(i)
			meeting := group.at(&typ, i) == 1
			p := &s.per[wk]
			p.calls++
			if rc.at(&src, i) == 1 {
				s.rcSeen[wk] = true
			}
			p.secs += secs
			if meeting {
				p.meetings++
			}
			if wk != cur {
				continue
			}
			t := time.UnixMicro(us).In(loc)
			d := (int(t.Weekday()) + 6) % 7
			day := &s.days[d]
			day.calls.n++
			day.calls.secs += secs
			if meeting {
				day.meetings.n++
				day.meetings.secs += secs
			}
			s.hours[d][t.Hour()]++
			ct := types.atOr(&typ, i, notReported)
			ct.n++
			ct.secs += secs
			so := sources.atOr(&src, i, notReported)
			so.n++
			so.secs += secs
			// The organiser is a user when their identity kind says so, or
			// says nothing (a lake written before organizer_kind existed).
			if meeting && (orgKind.null(i) || userKind.at(&orgKind, i) == 1) {
				if u := users.at(&orgID, i); u != nil {
					u.organised++
					if u.name == "" && !orgName.null(i) {
						u.name = strings.Clone(orgName.get(i))
					}
				}
			}
			if rc.at(&src, i) == 1 {
				s.rcCalls++
				for _, x := range []*count{results.atOr(&res, i, notReported), dirs.atOr(&dir, i, notReported)} {
					x.n++
					x.secs += secs
				}
				if v := callerSt.at(&cst, i); v != nil {
					v.n++
				}
				if v := calleeSt.at(&est, i); v != nil {
					v.n++
				}
			}
		}
		return nil
	})
}

// endpoint is the columns of one side (caller or callee) of a session or
// stream, with their lookups.
type endpoint struct {
	id, kind, platform strs
	family, version    strs
	rating             strs
	tokens             strLists
	conn, subnet       strs
	capture, render    strs

	kindIsUser          *classes
	users               *lookup[userStat]
	platforms, families *lookup[count]
	versions, ratings   *lookup[count]
	tokenCounts         tally[count]
	platQ, connQ        *lookup[quality]
	subnetQ             *lookup[quality]
	captures, renders   *lookup[count]
}

func newEndpoint(s *stats) *endpoint {
	return &endpoint{
		kindIsUser: &classes{f: isUser},
		users:      newLookup(s.users),
		platforms:  newLookup(s.platforms), families: newLookup(s.families),
		versions: newLookup(s.versions), ratings: newLookup(s.ratings),
		tokenCounts: s.tokens,
		platQ:       newLookup(s.platformQ), connQ: newLookup(s.connQ), subnetQ: newLookup(s.subnetQ),
		captures: newLookup(s.capture), renders: newLookup(s.render),
	}
}

// sessionCols reads the session columns of side from c and resets the lookups.
func (e *endpoint) sessionCols(c *cols, side string) {
	e.id, e.kind = c.str(side+"_id"), c.str(side+"_kind")
	e.platform, e.family = c.str(side+"_platform"), c.str(side+"_product_family")
	e.version, e.rating = c.str(side+"_app_version"), c.str(side+"_feedback_rating")
	e.tokens = c.list(side + "_feedback_tokens")
	e.kindIsUser.reset(&e.kind)
	e.users.reset(&e.id)
	e.platforms.reset(&e.platform)
	e.families.reset(&e.family)
	e.versions.reset(&e.version)
	e.ratings.reset(&e.rating)
}

// streamCols reads the stream columns of side from c and resets the lookups.
func (e *endpoint) streamCols(c *cols, side string) {
	e.id, e.kind, e.platform = c.str(side+"_id"), c.str(side+"_kind"), c.str(side+"_platform")
	e.conn, e.subnet = c.str(side+"_connection_type"), c.str(side+"_subnet")
	e.capture, e.render = c.str(side+"_capture_device"), c.str(side+"_render_device")
	e.kindIsUser.reset(&e.kind)
	e.users.reset(&e.id)
	e.platQ.reset(&e.platform)
	e.connQ.reset(&e.conn)
	e.subnetQ.reset(&e.subnet)
	e.captures.reset(&e.capture)
	e.renders.reset(&e.render)
}

// user returns the userStat of row i's endpoint when it is a user, else nil.
func (e *endpoint) user(i int) *userStat {
	if e.kindIsUser.at(&e.kind, i) != 1 {
		return nil
	}
	return e.users.at(&e.id, i)
}

// sessions reads a file of the sessions table.
func (sc *scanner) sessions(ctx context.Context, f lakeFile, p plan) error {
	base := []colSpec{{name: "duration_s"}}
	base = append(base, dictCols("caller_id", "caller_kind", "callee_id", "callee_kind")...)
	var detail []colSpec
	for _, side := range []string{"caller", "callee"} {
		detail = append(detail, dictCols(side+"_platform", side+"_product_family", side+"_app_version",
			side+"_feedback_rating", side+"_feedback_tokens")...)
	}
	sp := specs(p, base, detail)
	if p.wantCur && p.fixed != none && p.scoped == nil {
		sp = append(sp, colSpec{name: "call_id"}) // to count each user's calls
	}
	s := sc.s
	sides := [2]*endpoint{newEndpoint(s), newEndpoint(s)}
	lastID := "\x00"
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		ids, dur := c.str("call_id"), c.f64("duration_s")
		sides[0].sessionCols(&c, "caller")
		sides[1].sessionCols(&c, "callee")
		if c.err != nil {
			return c.err
		}
		for i := 0; i < b.n; i++ {
			wk := p.weekOf(&ids, i)
			if wk == none {
				continue
			}
			secs, _ := dur.value(i)
			if wk == cur {
				// Rows of a call are contiguous in a file: a new id is a new call.
				if id := ids.get(i); id != lastID {
					lastID = id
					sc.callSeq++
				}
			}
			feedback := false
			for _, e := range sides {
				if u := e.user(i); u != nil {
					u.active[wk] = true
					if wk == cur {
						u.secs += secs
						if u.lastCall != sc.callSeq {
							u.lastCall = sc.callSeq
							u.calls++
						}
					}
				}
				if wk != cur {
					continue
				}
				if v := e.platforms.at(&e.platform, i); v != nil {
					v.n++
				}
				if v := e.families.at(&e.family, i); v != nil {
					v.n++
				}
				if v := e.versions.at(&e.version, i); v != nil {
					v.n++
				}
				if v := e.ratings.at(&e.rating, i); v != nil {
					v.n++
					feedback = true
				}
				e.tokens.each(i, func(t string) { e.tokenCounts.get(t).n++ })
			}
			if feedback {
				s.feedbackSessions++
			}
		}
		lastID = strings.Clone(lastID) // the batch's memory is reused
		return nil
	})
}

// streams reads a file of the streams table.
func (sc *scanner) streams(ctx context.Context, f lakeFile, p plan) error {
	base := dictCols("quality")
	var detail []colSpec
	detail = append(detail, dictCols("media_type", "stream_direction")...)
	for _, side := range []string{"caller", "callee"} {
		detail = append(detail, dictCols(side+"_id", side+"_kind", side+"_platform", side+"_connection_type",
			side+"_subnet", side+"_capture_device", side+"_render_device")...)
	}
	sp := specs(p, base, detail)
	s := sc.s
	qc := &classes{f: qualityClass}
	audio := &classes{f: isAudio}
	dirc := &classes{f: streamDirection}
	media := newLookup(s.media)
	sides := [2]*endpoint{newEndpoint(s), newEndpoint(s)}
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		ids, qual, mt, sd := c.str("call_id"), c.str("quality"), c.str("media_type"), c.str("stream_direction")
		sides[0].streamCols(&c, "caller")
		sides[1].streamCols(&c, "callee")
		if c.err != nil {
			return c.err
		}
		qc.reset(&qual)
		audio.reset(&mt)
		dirc.reset(&sd)
		media.reset(&mt)
		caller, callee := sides[0], sides[1]
		for i := 0; i < b.n; i++ {
			wk := p.weekOf(&ids, i)
			if wk == none {
				continue
			}
			q := qc.at(&qual, i)
			s.per[wk].streams.add(q)
			if wk != cur {
				continue
			}
			media.atOr(&mt, i, notReported).add(q)
			// The stream's end: the endpoint that received it, unless that is
			// a service (no platform), then the one that sent it.
			dir := dirc.at(&sd, i)
			recv, send := callee, caller
			if dir == toCaller {
				recv, send = caller, callee
			}
			e := recv
			if e.platform.null(i) && !send.platform.null(i) {
				e = send
			}
			e.platQ.atOr(&e.platform, i, notReported).add(q)
			e.connQ.atOr(&e.conn, i, notReported).add(q)
			if v := e.subnetQ.at(&e.subnet, i); v != nil {
				v.add(q)
			}
			if u := e.user(i); u != nil {
				u.streams.add(q)
			}
			// Devices: once per audio media, from its caller-to-callee stream.
			if dir == toCallee && audio.at(&mt, i) == 1 {
				for _, x := range sides {
					if v := x.captures.at(&x.capture, i); v != nil {
						v.n++
					}
					if v := x.renders.at(&x.render, i); v != nil {
						v.n++
					}
				}
			}
		}
		return nil
	})
}

// participants reads a file of the participants table.
func (sc *scanner) participants(ctx context.Context, f lakeFile, p plan) error {
	sp := specs(p, dictCols("participant_id", "kind"), dictCols("display_name", "user_principal_name"))
	kindIsUser := &classes{f: isUser}
	users := newLookup(sc.s.users)
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		ids, pid, kind, name, upn := c.str("call_id"), c.str("participant_id"), c.str("kind"), c.str("display_name"), c.str("user_principal_name")
		if c.err != nil {
			return c.err
		}
		kindIsUser.reset(&kind)
		users.reset(&pid)
		for i := 0; i < b.n; i++ {
			wk := p.weekOf(&ids, i)
			if wk == none || kindIsUser.at(&kind, i) != 1 {
				continue
			}
			u := users.at(&pid, i)
			if u == nil {
				continue
			}
			u.active[wk] = true
			if wk == cur {
				if u.name == "" && !name.null(i) {
					u.name = strings.Clone(name.get(i))
				}
				if u.upn == "" && !upn.null(i) {
					u.upn = strings.Clone(upn.get(i))
				}
			}
		}
		return nil
	})
}

// pstnCalls reads a file of the pstn_calls table (Teams Calling Plans).
func (sc *scanner) pstnCalls(ctx context.Context, f lakeFile) error {
	sp := []colSpec{{name: "start_time"}, {name: "duration_s"}, {name: "call_type", dict: true},
		{name: "charge"}, {name: "currency", dict: true}}
	sp = sc.userCols(sp)
	s := sc.s
	dirs := newLookup(s.pstnDir)
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		start, dur, typ, charge, currency := c.ts("start_time"), c.f64("duration_s"), c.str("call_type"), c.f64("charge"), c.str("currency")
		if c.err != nil {
			return c.err
		}
		dirs.reset(&typ)
		for i := 0; i < b.n; i++ {
			us, ok := start.value(i)
			if !ok {
				continue
			}
			wk := sc.w.bucket(us)
			if wk == none || !sc.userInScope(&c, i) {
				continue
			}
			secs, _ := dur.value(i)
			s.per[wk].pstnSecs += secs
			if wk != cur {
				continue
			}
			k := pstnKey{callType: typ.get(i), currency: currency.get(i)}
			v := s.pstn[k]
			if v == nil {
				v = &pstnStat{}
				s.pstn[pstnKey{strings.Clone(k.callType), strings.Clone(k.currency)}] = v
			}
			v.n++
			v.secs += secs
			if ch, ok := charge.value(i); ok {
				v.charge += ch
			}
			d := s.pstnDir.get(direction(typ.get(i)))
			d.n++
			d.secs += secs
		}
		return nil
	})
}

// directRouting reads a file of the direct_routing_calls table.
func (sc *scanner) directRouting(ctx context.Context, f lakeFile) error {
	sp := []colSpec{{name: "start_time"}, {name: "duration_s"}, {name: "call_type", dict: true},
		{name: "success_flag"}, {name: "final_sip_code"}, {name: "final_sip_code_phrase", dict: true}}
	sp = sc.userCols(sp)
	s := sc.s
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		start, dur, typ, success, code, phrase := c.ts("start_time"), c.f64("duration_s"), c.str("call_type"),
			c.boolean("success_flag"), c.i64("final_sip_code"), c.str("final_sip_code_phrase")
		if c.err != nil {
			return c.err
		}
		for i := 0; i < b.n; i++ {
			us, ok := start.value(i)
			if !ok {
				continue
			}
			wk := sc.w.bucket(us)
			if wk == none || !sc.userInScope(&c, i) {
				continue
			}
			secs, _ := dur.value(i)
			s.per[wk].pstnSecs += secs
			if wk != cur {
				continue
			}
			k := sipKey{phrase: phrase.get(i)}
			if v, ok := success.value(i); ok {
				if v {
					k.success = "yes"
					s.drOK[0]++
				} else {
					k.success = "no"
					s.drOK[1]++
				}
			}
			k.code, k.hasCode = code.value(i)
			v := s.drSIP[k]
			if v == nil {
				v = &count{}
				k.phrase = strings.Clone(k.phrase)
				s.drSIP[k] = v
			}
			v.n++
			v.secs += secs
			d := s.drDir.get(direction(typ.get(i)))
			d.n++
			d.secs += secs
		}
		return nil
	})
}

// legRows reads a file of the legs table (RingCentral call-log legs).
func (sc *scanner) legRows(ctx context.Context, f lakeFile) error {
	sp := []colSpec{{name: "start_time"}, {name: "duration_s"}, {name: "leg_type", dict: true}}
	if sc.scope != nil {
		sp = append(sp, colSpec{name: "call_id"})
	}
	legs := newLookup(sc.s.legs)
	return f.read(ctx, sp, sc.mem, func(b *batch) error {
		c := cols{b: b, specs: sp}
		start, dur, typ, ids := c.ts("start_time"), c.f64("duration_s"), c.str("leg_type"), c.str("call_id")
		if c.err != nil {
			return c.err
		}
		legs.reset(&typ)
		for i := 0; i < b.n; i++ {
			us, ok := start.value(i)
			if !ok || sc.w.bucket(us) != cur || sc.outOfScope(&ids, i) {
				continue
			}
			secs, _ := dur.value(i)
			v := legs.atOr(&typ, i, notReported)
			v.n++
			v.secs += secs
		}
		return nil
	})
}

// reconRow is one day of one source in the reconcile table.
type reconRow struct {
	week                                        int
	source                                      string
	day                                         time.Time
	listed, notified, missed, recovered, failed int64
	deferred                                    int64
	hasDeferred                                 bool
	// hasNotified and hasMissed are false when the column is NULL: the day
	// had no queue (calls found by listing), so nothing was notified and
	// nothing counts as missed.
	hasNotified, hasMissed bool
	complete               bool
	reconciledAt           int64 // Unix µs; 0 when not recorded
}

// readReconcile reads the reconcile rows of the two weeks' calendar days. A
// (source, day) listed twice keeps the row reconciled last (reconciled_at),
// or, without that, the row read last (files in name order).
func readReconcile(ctx context.Context, files []lakeFile, w *window, mem memory.Allocator) ([]reconRow, error) {
	var first [2]time.Time
	for _, b := range []int{cur, prev} {
		t := time.UnixMicro(w.start[b]).In(w.loc)
		first[b] = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	sp := []colSpec{{name: "source", dict: true}, {name: "day"}, {name: "listed"}, {name: "notified"},
		{name: "missed"}, {name: "recovered"}, {name: "failed"}, {name: "deferred"}, {name: "complete"},
		{name: "reconciled_at"}}
	type key struct {
		source string
		day    time.Time
	}
	rows := map[key]reconRow{}
	for _, f := range files {
		err := f.read(ctx, sp, mem, func(b *batch) error {
			c := cols{b: b, specs: sp}
			src, day := c.str("source"), c.day("day")
			listed, notified, missed := c.i64("listed"), c.i64("notified"), c.i64("missed")
			recovered, failed, deferred, complete := c.i64("recovered"), c.i64("failed"), c.i64("deferred"), c.boolean("complete")
			at := c.ts("reconciled_at")
			if c.err != nil {
				return c.err
			}
			for i := 0; i < b.n; i++ {
				d, ok, err := day.value(i)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				wk := none
				for _, b := range []int{cur, prev} {
					if !d.Before(first[b]) && d.Before(first[b].AddDate(0, 0, 7)) {
						wk = b
					}
				}
				if wk == none {
					continue
				}
				r := reconRow{week: wk, source: strings.Clone(src.get(i)), day: d}
				r.listed, _ = listed.value(i)
				r.notified, r.hasNotified = notified.value(i)
				r.missed, r.hasMissed = missed.value(i)
				r.recovered, _ = recovered.value(i)
				r.failed, _ = failed.value(i)
				r.deferred, r.hasDeferred = deferred.value(i)
				r.complete, _ = complete.value(i)
				r.reconciledAt, _ = at.value(i)
				if old, ok := rows[key{r.source, d}]; ok && old.reconciledAt > r.reconciledAt {
					continue
				}
				rows[key{r.source, d}] = r
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]reconRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].day.Equal(out[j].day) {
			return out[i].day.Before(out[j].day)
		}
		return out[i].source < out[j].source
	})
	return out, nil
}

// userCols adds the telephony logs' user columns to sp when the report is
// scoped.
func (sc *scanner) userCols(sp []colSpec) []colSpec {
	if sc.scope == nil {
		return sp
	}
	return append(sp, colSpec{name: "user_id"}, colSpec{name: "user_principal_name"})
}

// userInScope reports whether row i of a telephony log belongs to the
// scope's users (always true for a tenant-wide report).
func (sc *scanner) userInScope(c *cols, i int) bool {
	if sc.scope == nil {
		return true
	}
	id, upn := c.str("user_id"), c.str("user_principal_name")
	var idv, upnv string
	if !id.null(i) {
		idv = id.get(i)
	}
	if !upn.null(i) {
		upnv = upn.get(i)
	}
	return sc.scope.inUser(sc.scopeDef, idv, upnv)
}
