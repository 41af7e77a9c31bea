package graphgen

// Sessions: the sessions and segments each kind of call is built from.

import (
	"math"
	"slices"
	"time"
)

// addSession appends a session of one or two segments between caller and
// callee over [start, end] with the given media modalities.
func (g *gen) addSession(id string, caller, callee *endpoint, start, end time.Time, mods int, dirs [3]int) *session {
	r := &g.r
	if id == "" {
		id = r.guid()
	}
	g.sessions = append(g.sessions, session{id: id, mods: mods, start: start, end: end, caller: caller, callee: callee})
	s := &g.sessions[len(g.sessions)-1]
	seg := segment{id: r.guid(), start: start, end: end, caller: caller, callee: callee}
	seg.trouble = r.chance(max(caller.net.risk, callee.net.risk) * 0.6)
	seg.media = g.mediaFor(start, end, mods, dirs)
	s.segs = append(s.segs[:0], seg)
	return s
}

// mediaFor lays out the media of a segment; dirs holds the stream
// directions for audio, video and screen sharing.
func (g *gen) mediaFor(start, end time.Time, mods int, dirs [3]int) []media {
	r := &g.r
	ms := []media{{kind: mediaAudio, dirs: dirs[0], start: start, end: end}}
	span := end.Sub(start)
	if mods&modVideo != 0 && dirs[1] != 0 {
		vs := start.Add(time.Duration(r.between(0.01, 0.08) * float64(span)))
		ve := end.Add(-time.Duration(r.between(0, 0.02) * float64(span)))
		ms = append(ms, media{kind: mediaVideo, dirs: dirs[1], start: vs, end: ve})
	}
	if mods&(modScreen|modVBSS) != 0 && dirs[2] != 0 {
		a, b := r.between(0.05, 0.4), r.between(0.5, 0.95)
		ms = append(ms, media{kind: mediaVBSS, dirs: dirs[2], start: start.Add(time.Duration(a * float64(span))), end: start.Add(time.Duration(b * float64(span)))})
	}
	return ms
}

// netChange splits the last session's segment: the first part ends with a
// midcall failure when the network drops, the second continues on mobile
// data (a phone keeps its device; a laptop user moves to the phone).
func (g *gen) netChange(s *session, side int, p *person) {
	r := &g.r
	seg0 := s.segs[0]
	cut := seg0.start.Add(time.Duration(r.between(0.2, 0.7) * float64(seg0.end.Sub(seg0.start))))
	gap := time.Duration(r.between(1.5, 6) * float64(time.Second))
	if cut.Add(gap).After(seg0.end) {
		return
	}
	old := seg0.caller
	if side == 1 {
		old = seg0.callee
	}
	nw := &endpoint{who: old.who, ua: old.ua, name: old.name, cpu: old.cpu, dev: old.dev}
	if old.ua.platform != platIOS && old.ua.platform != platAndroid && p != nil {
		nw.ua, nw.dev, nw.cpu, nw.name = mobileUA(p), p.phoneDev, cpu{cores: 6}, "iPhone"
		if !p.phoneIOS {
			nw.cpu.cores, nw.name = 8, p.phoneModel
		}
	}
	nw.net = g.cellNet(true)
	if old.net.conn != connWifi {
		// The first leg was on wifi: that is what was lost.
		if p != nil {
			old.net = g.homeNet(p, false)
		}
	}
	seg1 := segment{id: r.guid(), start: cut.Add(gap), end: seg0.end, caller: seg0.caller, callee: seg0.callee}
	if side == 1 {
		seg1.callee = nw
	} else {
		seg1.caller = nw
	}
	seg1.trouble = r.chance(0.2)
	mods := s.mods
	seg1.media = g.mediaFor(seg1.start, seg1.end, mods&^(modVideo|modScreen|modVBSS), [3]int{3, 0, 0})
	s.segs[0].end = cut
	s.segs[0].fail = &failure{"midcall", midcallFailure}
	for i := range s.segs[0].media {
		m := &s.segs[0].media[i]
		if m.end.After(cut) {
			m.end = cut
		}
		if !m.start.Before(cut) {
			m.start = seg0.start
		}
	}
	s.segs = append(s.segs, seg1)
}

// setupFail turns the last session into one that failed at call setup.
func (g *gen) setupFail(s *session) {
	f := &failure{"callSetup", setupFailures[g.r.n(len(setupFailures))]}
	s.fail = f
	s.mods = modAudio
	s.segs = s.segs[:1]
	s.segs[0].fail = f
	s.segs[0].media = nil
	s.segs[0].trouble = false
}

// feedback gives some sessions a rating from one of their client sides.
func (g *gen) feedback(s *session, p float64) {
	r := &g.r
	if !r.chance(p) || s.fail != nil && s.fail.stage == "callSetup" {
		return
	}
	trouble := false
	for _, sg := range s.segs {
		trouble = trouble || sg.trouble || sg.fail != nil
	}
	w := []float64{3, 10, 45, 25, 17}
	if trouble {
		w = []float64{45, 30, 15, 0, 10}
	}
	rating := 1 + r.weighted(w)
	switch {
	case s.caller.svc == nil && (s.callee.svc != nil || r.chance(0.5)):
		s.fbCaller = rating
	case s.callee.svc == nil:
		s.fbCallee = rating
	}
}

func dur(minutes float64) time.Duration { return time.Duration(minutes * float64(time.Minute)) }

// lognormal returns median*e^(sigma*N(0,1)), clamped to [lo, hi].
func (r *rng) lognormal(median, sigma, lo, hi float64) float64 {
	z := 0.0
	for i := 0; i < 12; i++ {
		z += r.f()
	}
	v := median * exp(sigma*(z-6))
	return math.Max(lo, math.Min(hi, v))
}

// exp is e^x for |x| < 700, computed with basic operations only so that it
// gives the same bits everywhere (math.Exp has per-architecture assembly).
func exp(x float64) float64 {
	k := math.Floor(float64(x/math.Ln2) + 0.5)
	r := x - float64(k*math.Ln2)
	sum, term := 1.0, 1.0
	for i := 1; i <= 14; i++ {
		term = float64(term*r) / float64(i)
		sum += term
	}
	return math.Ldexp(sum, int(k))
}

// callMods draws the modalities of a call: audio, maybe video, maybe sharing.
func (g *gen) callMods(video, share float64) int {
	m := modAudio
	if g.r.chance(video) {
		m |= modVideo
	}
	if g.r.chance(share) {
		if g.share == "screenSharing" {
			m |= modScreen
		} else {
			m |= modVBSS
		}
	}
	return m
}

func (g *gen) buildP2P(p *plan) {
	r := &g.r
	a := g.randomPerson()
	var bp *person
	switch r.weighted([]float64{88, 12}) {
	case 0:
		bp = g.otherPerson(a)
	default:
		bp = g.t.contacts[r.n(len(g.t.contacts))]
	}
	g.organizer = g.addParty(g.t.partyOf(a))
	g.addParty(g.t.partyOf(bp))
	start := p.start
	length := dur(r.lognormal(4, 0.9, 0.25, 95))
	caller := g.clientOf(a)
	if r.chance(0.04) && !bp.external {
		// Not answered: the caller reaches the callee's voicemail.
		g.addSession("", caller, g.serviceEP(svcVoicemail), start, start.Add(dur(r.between(0.3, 1.2))), modAudio, [3]int{3, 0, 0})
		return
	}
	mods := g.callMods(0.22, 0.12)
	vdirs := 3
	if r.chance(0.2) {
		vdirs = 1 + r.n(2)
	}
	s := g.addSession("", caller, g.clientOf(bp), start, start.Add(length), mods, [3]int{3, vdirs, 1 + r.n(2)})
	switch {
	case p.force&forceNetChange != 0 || r.chance(0.05) && length > 2*time.Minute:
		side := r.n(2)
		who := a
		if side == 1 {
			who = bp
		}
		g.netChange(s, side, who)
	case r.chance(0.03):
		s.end = s.start.Add(dur(r.between(0.1, 0.5)))
		s.segs[0].end = s.end
		g.setupFail(s)
	}
	g.feedback(s, 0.1)
}

func (g *gen) buildPSTNIn(p *plan) {
	r := &g.r
	number := &party{kind: kindPhone, id: g.phoneNumber()}
	g.organizer = g.addParty(number)
	t := p.start
	ms := func() *endpoint { return g.serviceEP(svcMediation) }
	if p.force&forceAA != 0 || r.chance(0.4) {
		// Through the auto attendant: the transferred session keeps its id.
		g.addParty(g.t.autoAtt)
		sid := r.guid()
		aaEnd := t.Add(time.Duration(r.between(12, 45) * float64(time.Second)))
		g.addSession(sid, ms(), g.serviceEP(svcAutoAtt), t, aaEnd, modAudio, [3]int{3, 0, 0})
		t = aaEnd
		var agent *person
		if p.force&forceAA != 0 || r.chance(0.7) {
			qi := 0
			pool := g.t.support
			if r.chance(0.3) {
				qi, pool = 1, g.t.sales
			}
			g.addParty(g.t.queues[qi])
			qEnd := t.Add(time.Duration(r.lognormal(40, 0.8, 5, 400) * float64(time.Second)))
			g.addSession(sid, ms(), g.serviceEP(svcQueue), t, qEnd, modAudio, [3]int{3, 0, 0})
			t = qEnd
			if p.force&forceAA == 0 && r.chance(0.12) {
				return // the caller gave up in the queue
			}
			agent = pool[r.n(len(pool))]
			sid = r.guid()
		} else {
			agent = g.randomPerson()
		}
		g.addParty(g.t.partyOf(agent))
		s := g.addSession(sid, ms(), g.clientOf(agent), t, t.Add(dur(r.lognormal(4, 0.8, 0.3, 60))), modAudio, [3]int{3, 0, 0})
		if p.force&forceNetChange != 0 {
			g.netChange(s, 1, agent)
		}
		g.feedback(s, 0.1)
		return
	}
	callee := g.randomPerson()
	g.addParty(g.t.partyOf(callee))
	length := dur(r.lognormal(3.5, 0.8, 0.2, 70))
	s := g.addSession("", ms(), g.clientOf(callee), t, t.Add(length), modAudio, [3]int{3, 0, 0})
	if p.force&forceNetChange != 0 || r.chance(0.06) && length > 2*time.Minute {
		g.netChange(s, 1, callee)
	}
	g.feedback(s, 0.1)
}

func (g *gen) buildPSTNOut(p *plan) {
	r := &g.r
	caller := g.randomPerson()
	g.organizer = g.addParty(g.t.partyOf(caller))
	g.addParty(&party{kind: kindPhone, id: g.phoneNumber()})
	length := dur(r.lognormal(3, 0.9, 0.15, 60))
	s := g.addSession("", g.clientOf(caller), g.serviceEP(svcMediation), p.start, p.start.Add(length), modAudio, [3]int{3, 0, 0})
	if r.chance(0.03) {
		s.end = s.start.Add(dur(r.between(0.1, 0.4)))
		s.segs[0].end = s.end
		g.setupFail(s)
	}
	g.feedback(s, 0.1)
}

func (g *gen) buildUnknown(p *plan) {
	r := &g.r
	a := g.randomPerson()
	q := g.addParty(g.t.partyOf(a))
	if r.chance(0.5) {
		g.organizer = q
	}
	svc := svcBot
	if r.chance(0.4) {
		svc = svcFuture
	}
	g.addSession("", g.clientOf(a), g.serviceEP(svc), p.start, p.start.Add(dur(r.lognormal(2, 0.8, 0.2, 30))), modAudio, [3]int{3, 0, 0})
}

// attendee is a meeting participant and how they connect.
type attendee struct {
	q      *party
	p      *person // nil for guests, phones, ACS users
	camera bool
}

func (g *gen) attendeeClient(a attendee) *endpoint {
	switch {
	case a.p != nil:
		return g.clientOf(a.p)
	case a.q.kind == kindACS:
		return g.acsClient(a.q)
	case a.q.kind == kindPhone:
		return g.serviceEP(svcMediation)
	}
	return g.guestClient(a.q)
}

// externalAttendee makes a participant from outside the directory.
func (g *gen) externalAttendee(webinar bool) attendee {
	r := &g.r
	w := []float64{35, 30, 6, 4, 0}
	if webinar {
		w[4] = 10
	}
	switch r.weighted(w) {
	case 0:
		c := g.t.contacts[r.n(len(g.t.contacts))]
		return attendee{q: g.t.partyOf(c), p: c}
	case 1:
		return attendee{q: &party{kind: kindGuest, id: r.guid(), name: g.guestName()}}
	case 2:
		return attendee{q: &party{kind: kindPhone, id: g.phoneNumber()}}
	case 3:
		return attendee{q: &party{kind: kindEnc, id: r.hex(40), tenant: g.t.partners[r.n(len(g.t.partners))]}}
	default:
		return attendee{q: &party{kind: kindACS, id: "8:acs:" + g.t.acsSource + "_" + r.guid(), name: g.guestName()}}
	}
}

func (g *gen) guestName() string {
	r := &g.r
	f, l := firstNames[r.n(len(firstNames))], lastNames[r.n(len(lastNames))]
	switch r.weighted([]float64{60, 15, 10, 10, 5}) {
	case 0:
		return f + " " + l
	case 1:
		return f
	case 2:
		return f + " " + l + " (Extern)"
	case 3:
		return fold(f) + " " + fold(l)
	}
	return "iPhone von " + f
}

// Meeting sizes: mostly small.
var (
	meetingSizes       = []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	meetingSizeWeights = []float64{22, 20, 16, 12, 9, 7, 5, 4, 3, 2}
)

func (g *gen) buildMeeting(p *plan, size int) {
	r := &g.r
	org := g.randomPerson()
	if r.chance(0.3) {
		if pool := [][]*person{g.t.sales, g.t.support}[r.n(2)]; len(pool) > 0 {
			org = pool[r.n(len(pool))]
		}
	}
	g.organizer = g.addParty(g.t.partyOf(org))
	mods := g.callMods(0.55, 0.5)
	atts := []attendee{{q: g.organizer, p: org, camera: mods&modVideo != 0 && r.chance(0.6)}}
	used := []*person{org}
	if r.chance(0.25) {
		room := g.t.rooms[r.n(len(g.t.rooms))]
		atts = append(atts, attendee{q: g.t.partyOf(room), p: room, camera: mods&modVideo != 0})
		used = append(used, room)
	}
	for len(atts) < size {
		var a attendee
		switch x := r.f(); {
		case x < 0.8:
			pp := g.otherPerson(used...)
			used = append(used, pp)
			a = attendee{q: g.t.partyOf(pp), p: pp}
		default:
			a = g.externalAttendee(false)
		}
		if g.hasParty(a.q) {
			continue
		}
		a.camera = mods&modVideo != 0 && a.q.kind != kindPhone && r.chance(0.5)
		atts = append(atts, a)
	}
	for _, a := range atts {
		g.addParty(a.q)
	}
	length := dur([]float64{30, 30, 60, 45, 15, 25, 50, 90}[r.n(8)] * r.between(0.7, 1.15))
	g.meetingSessions(p, atts, mods, p.start, length, 0.12)
}

func (g *gen) hasParty(q *party) bool {
	return slices.Contains(g.parties, q)
}

// buildLarge makes a town hall (mostly the tenant) or a customer webinar
// (mostly outside people).
func (g *gen) buildLarge(p *plan, size int, webinar bool) {
	r := &g.r
	org := g.t.people[0]
	if webinar && len(g.t.sales) > 0 {
		org = g.t.sales[0]
	}
	g.organizer = g.addParty(g.t.partyOf(org))
	mods := modAudio | modVideo | modScreen
	if g.share != "screenSharing" {
		mods = modAudio | modVideo | modVBSS
	}
	atts := []attendee{{q: g.organizer, p: org, camera: true}}
	internal := len(g.t.people)
	if webinar {
		internal = min(internal, 12)
	}
	for _, pp := range g.t.people {
		if len(atts) >= min(internal, size-8) {
			break
		}
		if pp == org {
			continue
		}
		atts = append(atts, attendee{q: g.t.partyOf(pp), p: pp, camera: len(atts) < 4})
	}
	if !webinar {
		for _, room := range g.t.rooms {
			atts = append(atts, attendee{q: g.t.partyOf(room), p: room})
		}
	}
	for len(atts) < size {
		a := g.externalAttendee(webinar)
		if g.hasParty(a.q) || slices.ContainsFunc(atts, func(x attendee) bool { return x.q == a.q }) {
			// A contact already in: make a fresh guest instead.
			a = attendee{q: &party{kind: kindGuest, id: r.guid(), name: g.guestName()}}
		}
		atts = append(atts, a)
	}
	for _, a := range atts {
		g.addParty(a.q)
	}
	length := dur(r.between(55, 85))
	g.meetingSessions(p, atts, mods, p.start, length, 0.05)
}

// meetingSessions adds every attendee's sessions to the conference: the
// organizer (first) opens it, the others join and leave around its span.
// Presenter is the organizer; viewers receive the share with prob. view.
func (g *gen) meetingSessions(p *plan, atts []attendee, mods int, start time.Time, length time.Duration, feedback float64) {
	r := &g.r
	end := start.Add(length)
	escalated := len(atts) <= 5 && r.chance(0.2) && atts[1].p != nil
	attendantDone := false
	for i, a := range atts {
		if i == 0 && escalated {
			continue // the organizer's side is in the escalated session
		}
		js, je := start, end
		if i > 0 {
			js = start.Add(time.Duration(r.skewed(0, 0.12) * float64(length)))
			if r.chance(0.1) {
				js = start.Add(time.Duration(r.between(0.1, 0.4) * float64(length)))
			}
			je = end.Add(-time.Duration(r.skewed(0, 0.08) * float64(length)))
			if r.chance(0.1) {
				je = js.Add(time.Duration(r.between(0.3, 0.8) * float64(je.Sub(js))))
			}
		}
		if !je.After(js.Add(20 * time.Second)) {
			je = js.Add(20 * time.Second)
		}
		caller := g.attendeeClient(a)
		if p.force&forceSetupFail != 0 && i == 1 || r.chance(0.015) && a.p != nil {
			// A first join attempt that failed.
			fe := js.Add(time.Duration(r.between(8, 30) * float64(time.Second)))
			if fe.Before(je) {
				s := g.addSession("", caller, g.serviceEP(svcMCU), js, fe, modAudio, [3]int{3, 0, 0})
				g.setupFail(s)
				js = fe.Add(time.Duration(r.between(2, 10) * float64(time.Second)))
				caller = g.attendeeClient(a)
			}
		}
		sm := modAudio
		vd, sd := 0, 0
		if mods&modVideo != 0 && a.q.kind != kindPhone {
			sm |= modVideo
			vd = dirCalleeToCaller
			if a.camera {
				vd |= dirCallerToCallee
			}
		}
		if mods&(modScreen|modVBSS) != 0 && a.q.kind != kindPhone {
			if i == 0 {
				sm |= mods & (modScreen | modVBSS)
				sd = dirCallerToCallee
			} else if r.chance(0.5) {
				sm |= mods & (modScreen | modVBSS)
				sd = dirCalleeToCaller
			}
		}
		var callee *endpoint
		if i == 1 && escalated {
			// A 1:1 call escalated into a meeting: the first session is
			// between the two clients.
			caller = g.clientOf(atts[0].p)
			callee = g.clientOf(a.p)
			js = start
		} else {
			callee = g.serviceEP(svcMCU)
		}
		// Someone who drops out and rejoins has two sessions.
		if r.chance(0.06) && je.Sub(js) > 4*time.Minute {
			cut := js.Add(time.Duration(r.between(0.2, 0.6) * float64(je.Sub(js))))
			s := g.addSession("", caller, callee, js, cut, sm, [3]int{3, vd, sd})
			s.fail = &failure{"midcall", midcallFailure}
			s.segs[0].fail = s.fail
			g.feedback(s, feedback/3)
			js = cut.Add(time.Duration(r.between(5, 40) * float64(time.Second)))
			caller = g.attendeeClient(a)
		}
		s := g.addSession("", caller, callee, js, je, sm, [3]int{3, vd, sd})
		if a.p != nil && (r.chance(0.03) && je.Sub(js) > 3*time.Minute) {
			g.netChange(s, 0, a.p)
		}
		g.feedback(s, feedback)
		// The conferencing attendant greets some joiners; once in a while the
		// session continues with the announcement service under the same id.
		if !attendantDone && i > 0 && (p.force&forceDupAttendant != 0 || r.chance(0.15)) {
			attendantDone = true
			at := js.Add(time.Duration(r.between(5, 40) * float64(time.Second)))
			ae := at.Add(time.Duration(r.between(4, 9) * float64(time.Second)))
			if ae.Before(je) {
				as := g.addSession("", g.attendeeClient(a), g.serviceEP(svcAttendant), at, ae, modAudio, [3]int{dirCalleeToCaller, 0, 0})
				if p.force&forceDupAttendant != 0 || r.chance(0.5) {
					g.addSession(as.id, as.caller, g.serviceEP(svcAnnouncement), at, ae, modAudio, [3]int{dirCallerToCallee, 0, 0})
				}
			}
		}
	}
}
