package graphgen

// Participants and endpoints of one call, the plan of the week's calls, and
// rendering a planned call.

import (
	"slices"
	"time"
)

// Identity kinds, as the property names of a communicationsIdentitySet.
const (
	kindUser  = "user"
	kindGuest = "guest"
	kindPhone = "phone"
	kindApp   = "applicationInstance"
	kindEnc   = "encrypted"
	kindACS   = "azureCommunicationServicesUser"
)

// party is a participant of a call (an entry of participants_v2).
type party struct {
	kind   string
	id     string
	name   string // "" is null
	tenant string
	upn    string
	aus    []string
	p      *person // the directory user or contact, if any
	js     []byte  // the rendered participant, cached for the call
}

func (t *tenant) partyOf(p *person) *party {
	if p.party == nil {
		p.party = &party{kind: kindUser, id: p.ID, name: p.DisplayName, tenant: p.tenantID, upn: p.UserPrincipalName, aus: p.AdministrativeUnits, p: p}
	}
	return p.party
}

// endpoint is one side of a session or segment: a client or a service.
type endpoint struct {
	svc   *service
	who   *party
	ua    userAgent
	name  string
	cpu   cpu
	dev   audioDevice
	net   netInfo
	head  []byte // the endpoint JSON up to "feedback":
	netJS []byte
	devJS []byte
}

// netInfo is an endpoint's network during a segment.
type netInfo struct {
	conn, ip, subnet, reflexive, relay, dns, mac, bssid string
	port, relayPort                                     int
	linkSpeed                                           int64
	wifi                                                bool
	band, radio                                         string
	channel, signal, battery                            int // battery 0: null
	msDriver, msDriverVer, vendor, vendorVer            string
	risk                                                float64
	service                                             bool
}

// Modalities as bits.
const (
	modAudio = 1 << iota
	modVideo
	modScreen
	modVBSS
)

// Media kinds and stream directions.
const (
	mediaAudio = iota
	mediaVideo
	mediaVBSS

	dirCallerToCallee = 1
	dirCalleeToCaller = 2
)

type media struct {
	kind       int
	dirs       int
	start, end time.Time
}

type failure struct{ stage, reason string }

type segment struct {
	id             string
	start, end     time.Time
	caller, callee *endpoint
	fail           *failure
	trouble        bool
	media          []media
}

type session struct {
	id             string
	mods           int
	start, end     time.Time
	caller, callee *endpoint
	fail           *failure
	fbCaller       int // feedback rating index + 1; 0: null
	fbCallee       int
	segs           []segment
}

// Feedback ratings.
var ratings = []string{"poor", "fair", "good", "excellent", "notRated"}

type callKind int

const (
	kindP2P callKind = iota
	kindPSTNIn
	kindPSTNOut
	kindMeeting
	kindUnknown
	kindTownHall
	kindWebinar
)

// Forced features of the first plans, so every week has them.
const (
	forceAA = 1 << iota
	forceNetChange
	forceDupAttendant
	forceSetupFail
)

type plan struct {
	idx   int
	kind  callKind
	force int
	start time.Time
	seed  uint64
}

// gen renders the calls of one week.
type gen struct {
	o     Options
	t     *tenant
	plans []plan
	share string // the modality name of screen sharing in the current call

	// per call
	r         rng
	id        string
	parties   []*party
	sessions  []session
	organizer *party
}

func newGen(o Options) *gen {
	g := &gen{o: o, t: newTenant(o)}
	g.plans = makePlans(o)
	return g
}

// makePlans draws the kind and start of every call and sorts them by start.
func makePlans(o Options) []plan {
	base := mix(uint64(o.Seed), 0x91a5)
	ps := make([]plan, o.Calls)
	dayW := make([]float64, o.Days)
	for d := range dayW {
		switch o.Start.AddDate(0, 0, d).Weekday() {
		case time.Saturday:
			dayW[d] = 0.06
		case time.Sunday:
			dayW[d] = 0.03
		case time.Friday:
			dayW[d] = 0.8
		default:
			dayW[d] = 1
		}
	}
	for i := range ps {
		r := rng{s: mix(base, uint64(i))}
		p := plan{idx: i}
		switch {
		case o.Calls >= 20 && i == 0:
			p.kind = kindTownHall
		case o.Calls >= 20 && i == 1:
			p.kind = kindWebinar
		case o.Calls >= 20 && i == 2:
			p.kind, p.force = kindPSTNIn, forceAA|forceNetChange
		case o.Calls >= 20 && i == 3:
			p.kind, p.force = kindMeeting, forceDupAttendant|forceSetupFail
		case o.Calls >= 20 && i == 4:
			p.kind, p.force = kindP2P, forceNetChange
		default:
			p.kind = callKind(r.weighted([]float64{43.5, 7, 6, 40, 3.5}))
		}
		p.start = startTime(&r, o, p.kind, dayW)
		p.seed = r.u64()
		ps[i] = p
	}
	slices.SortStableFunc(ps, func(a, b plan) int { return a.start.Compare(b.start) })
	return ps
}

// hourWeights is the share of calls starting in each local hour.
var hourWeights = []float64{0, 0, 0, 0, 0, 0, 0.04, 0.3, 1.2, 2.2, 2.6, 2.2, 1.0, 1.6, 2.4, 2.2, 1.8, 1.0, 0.4, 0.2, 0.1, 0.05, 0.02, 0.01}

func startTime(r *rng, o Options, k callKind, dayW []float64) time.Time {
	var day, hour, minute int
	var sec float64
	switch k {
	case kindTownHall:
		day, hour = min(2, o.Days-1), 15
		sec = r.between(-120, 60)
	case kindWebinar:
		day, hour = min(3, o.Days-1), 10
		sec = r.between(-300, 30)
	default:
		day = r.weighted(dayW)
		hour = r.weighted(hourWeights)
		if k == kindMeeting {
			minute = []int{0, 0, 0, 30, 30, 15, 45}[r.n(7)]
			sec = r.between(-90, 180)
		} else {
			minute = r.n(60)
			sec = r.between(0, 60)
		}
	}
	date := o.Start.AddDate(0, 0, day)
	local := date.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute + time.Duration(sec*float64(time.Second)))
	utc := local.Add(-berlinOffset(local.Add(-time.Hour)))
	return utc.Truncate(100 * time.Nanosecond)
}

// berlinOffset is the UTC offset of Europe/Berlin at t (EU summer time rule),
// computed here so the generator needs no time zone database.
func berlinOffset(t time.Time) time.Duration {
	y := t.Year()
	lastSunday := func(m time.Month) time.Time {
		d := time.Date(y, m+1, 1, 1, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		return d.AddDate(0, 0, -int(d.Weekday()))
	}
	if !t.Before(lastSunday(time.March)) && t.Before(lastSunday(time.October)) {
		return 2 * time.Hour
	}
	return time.Hour
}

// render appends the record of p to b and returns the call it describes.
func (g *gen) render(b []byte, p *plan) ([]byte, Call) {
	g.r = rng{s: p.seed}
	r := &g.r
	g.id = r.guid()
	g.parties = g.parties[:0]
	g.sessions = g.sessions[:0]
	g.organizer = nil
	g.share = "screenSharing"
	if r.chance(0.3) {
		g.share = "videoBasedScreenSharing"
	}

	typ, join := "peerToPeer", ""
	switch p.kind {
	case kindP2P:
		g.buildP2P(p)
	case kindPSTNIn:
		g.buildPSTNIn(p)
	case kindPSTNOut:
		g.buildPSTNOut(p)
	case kindMeeting:
		typ = "groupCall"
		g.buildMeeting(p, meetingSizes[r.weighted(meetingSizeWeights)])
	case kindTownHall:
		typ = "groupCall"
		g.buildLarge(p, r.rangeInt(76, 90), false)
	case kindWebinar:
		typ = "groupCall"
		g.buildLarge(p, r.rangeInt(135, 150), true)
	case kindUnknown:
		typ = "unknown"
		g.buildUnknown(p)
	}
	if typ == "groupCall" {
		join = g.joinURL()
	}

	c := Call{ID: g.id, Start: p.start, End: p.start}
	mods := 0
	for i := range g.sessions {
		s := &g.sessions[i]
		if s.end.After(c.End) {
			c.End = s.end
		}
		mods |= s.mods
	}
	c.End = c.End.Truncate(100 * time.Nanosecond) // as written, with 7 fractional digits
	c.Version = 1 + r.weighted([]float64{76, 19, 5})
	lm := c.End.Add(time.Duration(r.between(3, 150) * float64(time.Minute)))
	for v := 1; v < c.Version; v++ {
		lm = lm.Add(time.Duration(r.between(15, 420) * float64(time.Minute)))
	}
	c.LastModified = lm.Truncate(100 * time.Nanosecond)
	return g.write(b, &c, typ, join, mods), c
}

func (g *gen) joinURL() string {
	r := &g.r
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	thread := make([]byte, 0, 64)
	for i := 0; i < 64; i++ {
		thread = append(thread, b64[r.n(len(b64))])
	}
	oid := ""
	if g.organizer != nil {
		oid = g.organizer.id
	}
	return "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + string(thread) +
		"%40thread.v2/0?context=%7b%22Tid%22%3a%22" + g.o.TenantID + "%22%2c%22Oid%22%3a%22" + oid + "%22%7d"
}

// addParty adds q to participants_v2 once.
func (g *gen) addParty(q *party) *party {
	for _, x := range g.parties {
		if x == q {
			return q
		}
	}
	g.parties = append(g.parties, q)
	return q
}

func (g *gen) randomPerson() *person {
	return g.t.people[g.r.n(len(g.t.people))]
}

// otherPerson returns a directory person different from the given ones.
func (g *gen) otherPerson(not ...*person) *person {
	for try := 0; ; try++ {
		p := g.randomPerson()
		if try > 50 || !slices.Contains(not, p) {
			return p
		}
	}
}

func (g *gen) phoneNumber() string { return phoneNumber(&g.r) }

var phoneWeights = func() []float64 {
	w := make([]float64, len(phonePlans))
	for i, p := range phonePlans {
		w[i] = p.weight
	}
	return w
}()
