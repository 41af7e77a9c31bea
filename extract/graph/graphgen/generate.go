// Package graphgen generates realistic, deterministic Microsoft Teams call
// records in the JSON shape of Microsoft Graph v1.0, for `callstats demo`,
// the fake Graph server, tests and benchmarks.
//
// It deliberately does not use the package that parses call records: it is
// an independent producer of JSON, so tests that parse its output test
// something. See README.md for what a generated week contains.
package graphgen

import (
	"io"
	"math"
	"slices"
	"time"
)

// Defaults of Options.
const (
	DefaultTenantID = "7c1e4f2a-93b5-4d08-a6e1-2f9d8b30c5e7"
	DefaultDomain   = "kestrel-bay.example"
	DefaultDays     = 7
	DefaultCalls    = 300
	DefaultUsers    = 40
)

// Administrative units some directory users belong to; participants_v2
// entries of their members carry these ids in administrativeUnitInfos, so
// reports can be scoped to them.
const (
	AdminUnitSales   = "a1f3c8e2-5d74-4b09-8e6a-2c9d0f7b3e15"
	AdminUnitSupport = "d6b20f94-3c1e-4a87-9f52-7e08b4c1a3d6"
)

// DefaultStart is the first day of the default week: Monday 2026-11-09 UTC.
var DefaultStart = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)

// Options choose the generated week. Zero (or negative) fields take their defaults.
type Options struct {
	Seed     int64     // the same seed (and options) always gives the same week
	Start    time.Time // first day; truncated to its UTC midnight (default DefaultStart)
	Days     int       // number of days (default 7)
	Calls    int       // number of call records (default 300)
	Users    int       // people in the tenant directory (default 40, at least 8); four meeting rooms come on top
	TenantID string    // the tenant (default DefaultTenantID)
	Domain   string    // the user principal name domain (default DefaultDomain)
}

// Call is one generated call record.
type Call struct {
	ID           string
	Start, End   time.Time
	Version      int
	LastModified time.Time
	// Raw is the whole record as GET callRecords/{id}?$expand=sessions($expand=segments)
	// would give it without paging: every session with its segments inline,
	// participants_v2 inline, organizer_v2.
	Raw []byte
}

// User is an account of the generated tenant directory.
type User struct {
	ID                  string
	DisplayName         string
	UserPrincipalName   string
	AdministrativeUnits []string // AdminUnitSales and/or AdminUnitSupport, or none
	Room                bool     // a meeting room resource account (Teams Rooms, Surface Hub)
}

func (o Options) withDefaults() Options {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = time.Date(o.Start.UTC().Year(), o.Start.UTC().Month(), o.Start.UTC().Day(), 0, 0, 0, 0, time.UTC)
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.Calls <= 0 {
		o.Calls = DefaultCalls
	}
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	if o.Users < 8 {
		o.Users = 8
	}
	if o.TenantID == "" {
		o.TenantID = DefaultTenantID
	}
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	return o
}

// Directory returns the tenant's accounts as Week generates them for opts:
// the people first, then the meeting rooms.
func Directory(opts Options) []User {
	t := newTenant(opts.withDefaults())
	out := make([]User, 0, len(t.people)+len(t.rooms))
	for _, p := range t.people {
		out = append(out, p.User)
	}
	for _, p := range t.rooms {
		out = append(out, p.User)
	}
	return out
}

// Week generates opts.Calls call records, sorted by start time. The same
// options always give the same records, byte for byte.
func Week(opts Options) []Call {
	g := newGen(opts.withDefaults())
	calls := make([]Call, 0, len(g.plans))
	var buf []byte
	for i := range g.plans {
		var c Call
		buf, c = g.render(buf[:0], &g.plans[i])
		c.Raw = slices.Clone(buf)
		calls = append(calls, c)
	}
	return calls
}

// WriteJSONL writes the records Week(opts) returns, in the same order, one
// compact JSON record per line. It renders one record at a time, so memory
// stays flat however many calls are asked for. It returns the bytes written.
func WriteJSONL(w io.Writer, opts Options) (n int64, err error) {
	g := newGen(opts.withDefaults())
	var buf []byte
	for i := range g.plans {
		buf, _ = g.render(buf[:0], &g.plans[i])
		buf = append(buf, '\n')
		m, err := w.Write(buf)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ---------------------------------------------------------------------------
// The tenant

// person is a directory user, a room or an external contact, with the
// devices they call from.
type person struct {
	User
	tenantID   string
	external   bool
	desktopUA  userAgent
	deskName   string
	deskCPU    cpu
	deskDev    audioDevice
	laptop     bool
	phoneIOS   bool
	phoneModel string
	phoneDev   audioDevice
	deskPhone  int // index+1 into uaIPPhone; 0: none
	site       int
	home       int
	homeShare  float64
	wifiCard   int
	mac        string
	party      *party
}

type tenant struct {
	people    []*person
	rooms     []*person
	sales     []*person
	support   []*person
	contacts  []*person // users of partner tenants
	partners  []string  // partner tenant ids
	autoAtt   *party
	queues    [2]*party // support, sales
	acsSource string    // the ACS resource of the customer portal
}

func newTenant(o Options) *tenant {
	r := rng{s: mix(uint64(o.Seed), 0xd12ec7)}
	t := &tenant{}
	used := map[string]bool{"sum.test": true, "reception": true, "katarzyna.nowak": true}
	name := func() (string, string) {
		for try := 0; ; try++ {
			f, l := firstNames[r.n(len(firstNames))], lastNames[r.n(len(lastNames))]
			local := fold(f) + "." + fold(l)
			if try > 30 { // the name pairs run out in large directories
				local += itoa(try)
			}
			if !used[local] {
				used[local] = true
				return f + " " + l, local
			}
		}
	}
	for i := 0; i < o.Users; i++ {
		var display, local string
		switch i {
		case 3:
			display, local = "=SUM(A1) Test", "sum.test"
		case 7:
			display, local = "+Reception Desk", "reception"
		case 11:
			display, local = `Katarzyna "Kasia" Nowak`, "katarzyna.nowak"
		default:
			display, local = name()
		}
		p := t.newPerson(&r, display, local+"@"+o.Domain, o.TenantID)
		switch i % 4 {
		case 1:
			p.AdministrativeUnits = []string{AdminUnitSales}
		case 2:
			p.AdministrativeUnits = []string{AdminUnitSupport}
		}
		if i == 6 {
			p.AdministrativeUnits = []string{AdminUnitSales, AdminUnitSupport}
		}
		if i == 7 {
			p.deskPhone = 1
		} else if i%4 == 2 && r.chance(0.3) {
			p.deskPhone = 1 + r.n(len(uaIPPhone))
		}
		for _, au := range p.AdministrativeUnits {
			if au == AdminUnitSales {
				t.sales = append(t.sales, p)
			} else {
				t.support = append(t.support, p)
			}
		}
		t.people = append(t.people, p)
	}
	rooms := []struct {
		name, local string
		ua          userAgent
		dev         audioDevice
		site        int
	}{
		{"HH Elbe (4.12)", "room-hh-elbe", uaRoom[0], devRoom[0], 0},
		{"HH Alster (2.03)", "room-hh-alster", uaRoom[1], devRoom[1], 0},
		{"BER Spree Hub", "hub-ber-spree", uaHub[0], devHub, 1},
		{"MUC Isar (1.07)", "room-muc-isar", uaRoom[0], devRoom[0], 2},
	}
	for _, rm := range rooms {
		p := t.newPerson(&r, rm.name, rm.local+"@"+o.Domain, o.TenantID)
		p.Room = true
		p.desktopUA, p.deskDev, p.site, p.homeShare, p.laptop = rm.ua, rm.dev, rm.site, 0, false
		p.deskCPU = cpuRoom
		p.deskName = "KB-MTR-" + string(rune('A'+len(t.rooms)))
		t.rooms = append(t.rooms, p)
	}
	for i := 0; i < 3; i++ {
		t.partners = append(t.partners, r.guid())
	}
	for i := 0; i < 24; i++ {
		display, _ := name()
		p := t.newPerson(&r, display, "", t.partners[i%3])
		p.external = true
		if i%3 == 2 && i%2 == 0 {
			p.desktopUA = uaSfB[0]
		}
		t.contacts = append(t.contacts, p)
	}
	app := func(name string) *party {
		return &party{kind: kindApp, id: r.guid(), name: name, tenant: o.TenantID}
	}
	t.autoAtt = app("Kestrel Bay Main Line")
	t.queues = [2]*party{app("Kestrel Bay Support Queue"), app("Kestrel Bay Sales Queue")}
	t.acsSource = r.guid()
	return t
}

func (t *tenant) newPerson(r *rng, display, upn, tenantID string) *person {
	p := &person{User: User{ID: r.guid(), DisplayName: display, UserPrincipalName: upn}, tenantID: tenantID}
	switch r.weighted([]float64{72, 21, 7}) {
	case 0:
		p.desktopUA = uaWindows[r.weighted([]float64{45, 30, 15, 10})]
		p.deskCPU = cpusWindows[r.n(len(cpusWindows))]
		p.deskDev = devWindows[r.n(len(devWindows))]
		p.deskName = "KB-NB-" + string(appendPadded(nil, uint64(r.rangeInt(100, 999)), 4))
		p.laptop = r.chance(0.9)
	case 1:
		p.desktopUA = uaMac[r.weighted([]float64{70, 30})]
		p.deskCPU = cpusMac[r.n(len(cpusMac))]
		p.deskDev = devMac[r.n(len(devMac))]
		first := fold(display)
		if i := len(first); i > 6 {
			first = first[:6]
		}
		if first == "" {
			first = "kb"
		}
		p.deskName = string(first[0]-'a'+'A') + first[1:] + "s-MacBook-Pro"
		p.laptop = true
	default:
		p.desktopUA = uaLinux[0]
		p.deskCPU = cpuLinux
		p.deskDev = devLinux
		p.deskName = "kb-ws-" + string(appendPadded(nil, uint64(r.rangeInt(1, 99)), 3))
	}
	p.phoneIOS = r.chance(0.55)
	if p.phoneIOS {
		p.phoneModel = iPhoneModels[r.n(len(iPhoneModels))]
		p.phoneDev = devIOS[r.n(len(devIOS))]
	} else {
		p.phoneModel = androidModels[r.n(len(androidModels))]
		p.phoneDev = devAndroid[r.n(len(devAndroid))]
	}
	p.site = r.weighted([]float64{55, 30, 15})
	p.home = r.n(len(homeNets))
	p.homeShare = r.between(0.15, 0.6)
	p.wifiCard = r.n(len(wifiCards))
	p.mac = r.mac()
	return p
}

// ---------------------------------------------------------------------------
// Participants and endpoints of one call

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

func (g *gen) phoneNumber() string {
	r := &g.r
	pl := phonePlans[r.weighted(phoneWeights)]
	b := []byte(pl.prefix)
	for i := 0; i < pl.digits; i++ {
		d := r.n(10)
		if i == 0 && d == 0 {
			d = 3
		}
		b = append(b, byte('0'+d))
	}
	return string(b)
}

var phoneWeights = func() []float64 {
	w := make([]float64, len(phonePlans))
	for i, p := range phonePlans {
		w[i] = p.weight
	}
	return w
}()

// ---------------------------------------------------------------------------
// Endpoints and networks

// clientOf makes the endpoint p calls from in this session.
func (g *gen) clientOf(p *person) *endpoint {
	r := &g.r
	e := &endpoint{who: g.t.partyOf(p)}
	switch {
	case p.Room:
		e.ua, e.dev, e.cpu, e.name = p.desktopUA, p.deskDev, p.deskCPU, p.deskName
		e.net = g.officeNet(p, true)
		return e
	case p.external:
		e.ua, e.dev, e.cpu, e.name = p.desktopUA, p.deskDev, p.deskCPU, p.deskName
		if r.chance(0.2) {
			e.ua = uaWeb[r.n(len(uaWeb))]
			e.name = ""
		}
		e.net = g.externalNet(p)
		return e
	}
	w := []float64{74, 14, 8, 0.8, 0}
	if p.deskPhone > 0 {
		w[4] = 60
	}
	switch r.weighted(w) {
	case 0:
		e.ua, e.dev, e.cpu, e.name = p.desktopUA, p.deskDev, p.deskCPU, p.deskName
		e.net = g.desktopNet(p)
	case 1:
		e.ua, e.dev, e.cpu, e.name = mobileUA(p), p.phoneDev, cpu{cores: 6}, "iPhone"
		if !p.phoneIOS {
			e.cpu.cores, e.name = 8, p.phoneModel
		}
		e.net = g.mobileNet(p)
	case 2:
		e.ua, e.dev, e.cpu = uaWeb[r.n(len(uaWeb))], p.deskDev, p.deskCPU
		e.net = g.desktopNet(p)
	case 3:
		e.ua, e.dev, e.cpu, e.name = uaFuture[0], audioDevice{"Vision Pro Microphone", "Vision Pro Speakers", "Apple: 3.1"}, cpu{"Apple M5", 10, 0}, "Apple-Vision-Pro"
		e.net = g.homeNet(p, false)
	default:
		e.ua, e.dev, e.cpu = uaIPPhone[p.deskPhone-1], devIPPhone[p.deskPhone-1], cpu{cores: 4}
		e.name = "KB-PH-" + string(appendPadded(nil, uint64(r.rangeInt(1, 80)), 3))
		e.net = g.officeNet(p, true)
	}
	return e
}

// guestClient is an anonymous or B2B guest joining from a browser or app.
func (g *gen) guestClient(q *party) *endpoint {
	r := &g.r
	e := &endpoint{who: q}
	switch r.weighted([]float64{65, 20, 10, 5}) {
	case 0:
		e.ua = uaWeb[r.n(len(uaWeb))]
		e.dev = devWindows[r.n(len(devWindows))]
	case 1:
		e.ua, e.dev, e.cpu, e.name = uaWindows[r.n(len(uaWindows))], devWindows[r.n(len(devWindows))], cpusWindows[r.n(len(cpusWindows))], "DESKTOP-"+upperHex(r, 7)
	case 2:
		e.ua = userAgent{"RTCC/2026.40.03.2 Teams/7.19.1 (iOS 19.1; iPhone15,4)", "7.19.1", platIOS, famTeams, false}
		e.dev, e.cpu, e.name = devIOS[0], cpu{cores: 6}, "iPhone"
	default:
		e.ua = uaInterop[0]
		e.dev = audioDevice{"Cisco Room Kit Microphone", "Cisco Room Kit Speaker", ""}
	}
	e.net = g.externalNet(nil)
	return e
}

func (g *gen) acsClient(q *party) *endpoint {
	e := &endpoint{who: q, ua: uaACS[g.r.n(len(uaACS))], dev: devWindows[g.r.n(len(devWindows))]}
	e.net = g.externalNet(nil)
	return e
}

func upperHex(r *rng, n int) string {
	const up = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = up[r.n(len(up))]
	}
	return string(b)
}

func (g *gen) serviceEP(s *service) *endpoint {
	return &endpoint{svc: s, net: netInfo{conn: connWired, ip: s.ip, port: s.port, service: true}}
}

func (g *gen) desktopNet(p *person) netInfo {
	r := &g.r
	if r.chance(p.homeShare) {
		switch r.weighted([]float64{85, 10, 5}) {
		case 0:
			return g.homeNet(p, p.laptop)
		case 1:
			return g.tunnelNet(p)
		default:
			n := g.cellNet(false)
			return n
		}
	}
	return g.officeNet(p, !p.laptop || r.chance(0.55))
}

func (g *gen) mobileNet(p *person) netInfo {
	r := &g.r
	switch r.weighted([]float64{35, 30, 35}) {
	case 0:
		n := g.officeNet(p, false)
		n.mac, n.bssid, n.msDriver, n.msDriverVer, n.vendor, n.vendorVer, n.battery = "02:00:00:00:00:00", "02:00:00:00:00:00", "", "", "", "", 0
		return n
	case 1:
		n := g.homeNet(p, false)
		n.mac, n.bssid, n.msDriver, n.msDriverVer, n.vendor, n.vendorVer, n.battery = "02:00:00:00:00:00", "02:00:00:00:00:00", "", "", "", "", 0
		return n
	}
	return g.cellNet(true)
}

func (g *gen) relay(n *netInfo) {
	r := &g.r
	if r.chance(0.7) {
		n.relay = "52.115." + itoa(60+r.n(3)) + "." + itoa(1+r.n(250))
		n.relayPort = 3478
	}
}

func itoa(v int) string { return string(appendInt(nil, int64(v))) }

func (g *gen) officeNet(p *person, wired bool) netInfo {
	r := &g.r
	s := &sites[p.site]
	n := netInfo{dns: "corp." + g.o.Domain, reflexive: s.reflexive, mac: p.mac, port: 50000 + r.n(200)}
	if wired {
		prefix := s.wired[r.n(len(s.wired))]
		n.conn, n.ip, n.subnet, n.linkSpeed, n.risk = connWired, prefix+itoa(2+r.n(250)), prefix+"0", 1000000000, 0.012
		if r.chance(0.1) {
			n.linkSpeed = 100000000
		}
	} else {
		n.conn, n.ip, n.subnet, n.risk = connWifi, s.wifi+itoa(2+r.n(250)), s.wifi+"0", s.wifiRisk
		n.bssid = s.aps[r.n(len(s.aps))]
		g.wifi(&n, p, s.wifiRisk > 0.1)
	}
	g.relay(&n)
	return n
}

func (g *gen) homeNet(p *person, laptop bool) netInfo {
	r := &g.r
	h := homeNets[p.home]
	n := netInfo{conn: connWifi, dns: h.dns, ip: h.prefix + itoa(20+r.n(200)), subnet: h.prefix + "0", mac: p.mac,
		reflexive: "203.0.113." + itoa(1+r.n(254)), port: 50000 + r.n(200), risk: 0.07}
	n.bssid = p.mac[:9] + upperHex(r, 2) + ":" + upperHex(r, 2) + ":" + upperHex(r, 2)
	g.wifi(&n, p, false)
	if !laptop {
		n.battery = 0
	}
	g.relay(&n)
	return n
}

func (g *gen) wifi(n *netInfo, p *person, congested bool) {
	r := &g.r
	n.wifi = true
	if r.chance(0.75) {
		n.band, n.channel = "frequency50GHz", []int{36, 40, 44, 48, 100, 116, 149}[r.n(7)]
		n.radio = []string{"wifi80211ax", "wifi80211ax", "wifi80211ac"}[r.n(3)]
		n.linkSpeed = []int64{1201000000, 866700000, 573500000}[r.n(3)]
	} else {
		n.band, n.channel, n.radio = "frequency24GHz", []int{1, 6, 11}[r.n(3)], "wifi80211n"
		n.linkSpeed = []int64{72000000, 144400000}[r.n(2)]
	}
	n.signal = 55 + r.n(45)
	if congested {
		n.signal = 18 + r.n(50)
	}
	if p != nil && p.desktopUA.platform == platWindows {
		c := wifiCards[p.wifiCard]
		n.msDriver, n.msDriverVer, n.vendor, n.vendorVer = "Microsoft", "10.0.26100.4061", c.vendor, c.vendorVer
		n.battery = 5 + r.n(96)
	}
}

func (g *gen) tunnelNet(p *person) netInfo {
	r := &g.r
	third := itoa(r.n(8))
	n := netInfo{conn: connTunnel, dns: "corp." + g.o.Domain, ip: "10.200." + third + "." + itoa(2+r.n(250)), subnet: "10.200." + third + ".0",
		mac: p.mac, reflexive: "198.51.100.200", port: 50000 + r.n(200), risk: 0.13}
	g.relay(&n)
	return n
}

func (g *gen) cellNet(phone bool) netInfo {
	r := &g.r
	n := netInfo{conn: connMobile, ip: "100." + itoa(64+r.n(64)) + "." + itoa(r.n(256)) + "." + itoa(1+r.n(254)),
		reflexive: "203.0.113." + itoa(1+r.n(254)), port: 50000 + r.n(200), risk: 0.17}
	if phone {
		n.mac = "02:00:00:00:00:00"
	}
	g.relay(&n)
	return n
}

// externalNet is the network of someone outside the company.
func (g *gen) externalNet(p *person) netInfo {
	r := &g.r
	var n netInfo
	switch r.weighted([]float64{40, 45, 15}) {
	case 0:
		third := itoa(r.n(32))
		n = netInfo{conn: connWired, ip: "172.20." + third + "." + itoa(2+r.n(250)), subnet: "172.20." + third + ".0", linkSpeed: 1000000000, risk: 0.03}
	case 1:
		h := homeNets[r.n(len(homeNets))]
		n = netInfo{conn: connWifi, dns: h.dns, ip: h.prefix + itoa(20+r.n(200)), subnet: h.prefix + "0", risk: 0.08, bssid: r.mac()}
		g.wifi(&n, nil, false)
	default:
		n = g.cellNet(false)
		n.risk = 0.15
	}
	n.mac = r.mac()
	if p != nil {
		n.mac = p.mac
	}
	n.reflexive = "192.0.2." + itoa(1+r.n(254))
	n.port = 50000 + r.n(200)
	g.relay(&n)
	return n
}

// ---------------------------------------------------------------------------
// Sessions

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

// ---------------------------------------------------------------------------
// Writing JSON

const (
	graphMeta = "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords"
)

func (g *gen) write(b []byte, c *Call, typ, join string, mods int) []byte {
	b = append(b, `{"@odata.context":"`+graphMeta+`(sessions(segments()))/$entity","version":`...)
	b = appendInt(b, int64(c.Version))
	b = append(b, `,"type":`...)
	b = appendStr(b, typ)
	b = append(b, `,"modalities":`...)
	b = g.appendMods(b, mods)
	b = append(b, `,"lastModifiedDateTime":`...)
	b = appendTime(b, c.LastModified)
	b = append(b, `,"startDateTime":`...)
	b = appendTime(b, c.Start)
	b = append(b, `,"endDateTime":`...)
	b = appendTime(b, c.End)
	b = append(b, `,"id":`...)
	b = appendStr(b, c.ID)
	b = append(b, `,"joinWebUrl":`...)
	b = appendStrOrNull(b, join)
	b = append(b, `,"organizer_v2@odata.context":"`+graphMeta+`('`...)
	b = append(b, c.ID...)
	b = append(b, `')/organizer_v2/$entity","organizer_v2":`...)
	if g.organizer == nil {
		b = append(b, "null"...)
	} else {
		b = g.appendParty(b, g.organizer)
	}
	b = append(b, `,"participants_v2@odata.context":"`+graphMeta+`('`...)
	b = append(b, c.ID...)
	b = append(b, `')/participants_v2","participants_v2":[`...)
	for i, q := range g.parties {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.appendParty(b, q)
	}
	b = append(b, `],"sessions@odata.context":"`+graphMeta+`('`...)
	b = append(b, c.ID...)
	b = append(b, `')/sessions(segments())","sessions":[`...)
	for i := range g.sessions {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.appendSession(b, c.ID, &g.sessions[i])
	}
	return append(b, "]}"...)
}

func (g *gen) appendMods(b []byte, mods int) []byte {
	b = append(b, '[')
	n := 0
	add := func(s string) {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, s)
		n++
	}
	if mods&modAudio != 0 {
		add("audio")
	}
	if mods&modVideo != 0 {
		add("video")
	}
	if mods&modScreen != 0 {
		add("screenSharing")
	}
	if mods&modVBSS != 0 {
		add("videoBasedScreenSharing")
	}
	return append(b, ']')
}

var identityProps = []string{"application", "applicationInstance", "device", "guest", "encrypted", "onPremises", "phone", "user", "azureCommunicationServicesUser"}

func (g *gen) appendParty(b []byte, q *party) []byte {
	if len(q.js) > 0 {
		return append(b, q.js...)
	}
	start := len(b)
	b = append(b, `{"id":`...)
	b = appendStr(b, q.id)
	b = append(b, `,"identity":{"@odata.type":"#microsoft.graph.communicationsIdentitySet"`...)
	for _, prop := range identityProps {
		b = append(b, ',', '"')
		b = append(b, prop...)
		b = append(b, '"', ':')
		if prop != q.kind {
			b = append(b, "null"...)
			continue
		}
		b = append(b, `{"id":`...)
		b = appendStr(b, q.id)
		b = append(b, `,"displayName":`...)
		b = appendStrOrNull(b, q.name)
		switch q.kind {
		case kindUser, kindApp, kindEnc:
			b = append(b, `,"tenantId":`...)
			b = appendStrOrNull(b, q.tenant)
		}
		if q.kind == kindUser {
			b = append(b, `,"userPrincipalName":`...)
			b = appendStrOrNull(b, q.upn)
		}
		b = append(b, '}')
	}
	b = append(b, `,"assertedIdentity":null,"endpointType":null},"administrativeUnitInfos":[`...)
	for i, au := range q.aus {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendStr(b, au)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	q.js = append(q.js[:0], b[start:]...)
	return b
}

func (g *gen) appendSession(b []byte, callID string, s *session) []byte {
	b = append(b, `{"id":`...)
	b = appendStr(b, s.id)
	b = append(b, `,"modalities":`...)
	b = g.appendMods(b, s.mods)
	b = append(b, `,"startDateTime":`...)
	b = appendTime(b, s.start)
	b = append(b, `,"endDateTime":`...)
	b = appendTime(b, s.end)
	b = append(b, `,"isTest":false,"caller":`...)
	b = g.appendEndpoint(b, s.caller, s.fbCaller)
	b = append(b, `,"callee":`...)
	b = g.appendEndpoint(b, s.callee, s.fbCallee)
	b = append(b, `,"failureInfo":`...)
	b = appendFailure(b, s.fail)
	b = append(b, `,"segments@odata.context":"`+graphMeta+`('`...)
	b = append(b, callID...)
	b = append(b, `')/sessions('`...)
	b = append(b, s.id...)
	b = append(b, `')/segments","segments":[`...)
	for i := range s.segs {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.appendSegment(b, &s.segs[i])
	}
	return append(b, "]}"...)
}

func appendFailure(b []byte, f *failure) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"stage":`...)
	b = appendStr(b, f.stage)
	b = append(b, `,"reason":`...)
	b = appendStr(b, f.reason)
	return append(b, '}')
}

func (g *gen) appendEndpoint(b []byte, e *endpoint, rating int) []byte {
	if len(e.head) == 0 {
		e.head = g.endpointHead(e.head, e)
	}
	b = append(b, e.head...)
	if e.svc != nil {
		return b
	}
	if rating == 0 {
		return append(b, "null}"...)
	}
	b = g.appendFeedback(b, rating)
	return append(b, '}')
}

func (g *gen) endpointHead(b []byte, e *endpoint) []byte {
	if e.svc != nil {
		b = append(b, `{"@odata.type":"#microsoft.graph.callRecords.serviceEndpoint","userAgent":{"@odata.type":"#microsoft.graph.callRecords.serviceUserAgent","headerValue":`...)
		b = appendStr(b, e.svc.header)
		b = append(b, `,"applicationVersion":`...)
		b = appendStr(b, e.svc.version)
		b = append(b, `,"role":`...)
		b = appendStr(b, e.svc.role)
		return append(b, "}}"...)
	}
	b = append(b, `{"@odata.type":"#microsoft.graph.callRecords.participantEndpoint","userAgent":{"@odata.type":"#microsoft.graph.callRecords.clientUserAgent","headerValue":`...)
	b = appendStr(b, e.ua.header)
	b = append(b, `,"applicationVersion":`...)
	b = appendStr(b, e.ua.version)
	b = append(b, `,"platform":`...)
	b = appendStr(b, e.ua.platform)
	b = append(b, `,"productFamily":`...)
	b = appendStr(b, e.ua.family)
	b = append(b, `,"azureADAppId":null,"communicationServiceId":`...)
	if e.ua.acs {
		b = appendStr(b, g.t.acsSource)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"associatedIdentity":`...)
	if q := e.who; q == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"id":`...)
		b = appendStr(b, q.id)
		b = append(b, `,"displayName":`...)
		b = appendStrOrNull(b, q.name)
		b = append(b, `,"tenantId":`...)
		b = appendStrOrNull(b, q.tenant)
		b = append(b, `,"userPrincipalName":`...)
		b = appendStrOrNull(b, q.upn)
		b = append(b, '}')
	}
	b = append(b, `,"name":`...)
	b = appendStrOrNull(b, e.name)
	b = append(b, `,"cpuCoresCount":`...)
	if e.cpu.cores == 0 {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, int64(e.cpu.cores))
	}
	b = append(b, `,"cpuName":`...)
	b = appendStrOrNull(b, e.cpu.name)
	b = append(b, `,"cpuProcessorSpeedInMhz":`...)
	if e.cpu.mhz == 0 {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, int64(e.cpu.mhz))
	}
	return append(b, `,"feedback":`...)
}

func (g *gen) appendFeedback(b []byte, rating int) []byte {
	r := &g.r
	name := ratings[rating-1]
	b = append(b, `{"text":`...)
	text := ""
	if (name == "poor" || name == "fair") && r.chance(0.3) {
		text = feedbackTexts[r.n(len(feedbackTexts))]
	}
	b = appendStrOrNull(b, text)
	b = append(b, `,"rating":`...)
	b = appendStr(b, name)
	b = append(b, `,"tokens":{"@odata.type":"#microsoft.graph.callRecords.feedbackTokenSet"`...)
	if name == "poor" || name == "fair" || name == "good" && r.chance(0.3) {
		n := 2 + r.n(5)
		off := r.n(len(badTokens))
		for i := 0; i < n; i++ {
			tok := badTokens[(off+i*3)%len(badTokens)]
			if i == n-1 && r.chance(0.4) {
				tok = videoTokens[r.n(len(videoTokens))]
			}
			b = append(b, ',', '"')
			b = append(b, tok...)
			b = append(b, `":`...)
			if name != "good" && (i == 0 || r.chance(0.4)) {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		}
	}
	return append(b, "}}"...)
}

func (g *gen) appendSegment(b []byte, s *segment) []byte {
	b = append(b, `{"startDateTime":`...)
	b = appendTime(b, s.start)
	b = append(b, `,"endDateTime":`...)
	b = appendTime(b, s.end)
	b = append(b, `,"id":`...)
	b = appendStr(b, s.id)
	b = append(b, `,"caller":`...)
	b = g.appendEndpoint(b, s.caller, 0)
	b = append(b, `,"callee":`...)
	b = g.appendEndpoint(b, s.callee, 0)
	b = append(b, `,"failureInfo":`...)
	b = appendFailure(b, s.fail)
	b = append(b, `,"media":[`...)
	for i := range s.media {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.appendMedia(b, s, &s.media[i])
	}
	return append(b, "]}"...)
}

var mediaLabels = [...]string{"main-audio", "main-video", "applicationsharing-video"}

const nullDevice = `{"captureDeviceDriver":null,"captureDeviceName":null,"captureNotFunctioningEventRatio":null,"cpuInsufficentEventRatio":null,"deviceClippingEventRatio":null,"deviceGlitchEventRatio":null,"howlingEventCount":null,"initialSignalLevelRootMeanSquare":null,"lowSpeechLevelEventRatio":null,"lowSpeechToNoiseEventRatio":null,"micGlitchRate":null,"receivedNoiseLevel":null,"receivedSignalLevel":null,"renderDeviceDriver":null,"renderDeviceName":null,"renderMuteEventRatio":null,"renderNotFunctioningEventRatio":null,"renderZeroVolumeEventRatio":null,"sentNoiseLevel":null,"sentSignalLevel":null,"speakerGlitchRate":null}`

const serviceDevice = `{"captureDeviceDriver":null,"captureDeviceName":null,"captureNotFunctioningEventRatio":null,"cpuInsufficentEventRatio":null,"deviceClippingEventRatio":null,"deviceGlitchEventRatio":null,"howlingEventCount":0,"initialSignalLevelRootMeanSquare":null,"lowSpeechLevelEventRatio":null,"lowSpeechToNoiseEventRatio":null,"micGlitchRate":null,"receivedNoiseLevel":null,"receivedSignalLevel":null,"renderDeviceDriver":null,"renderDeviceName":null,"renderMuteEventRatio":null,"renderNotFunctioningEventRatio":null,"renderZeroVolumeEventRatio":null,"sentNoiseLevel":null,"sentSignalLevel":null,"speakerGlitchRate":null}`

func (g *gen) appendMedia(b []byte, s *segment, m *media) []byte {
	b = append(b, `{"label":"`...)
	b = append(b, mediaLabels[m.kind]...)
	b = append(b, `","callerNetwork":`...)
	b = g.appendNet(b, s.caller)
	b = append(b, `,"calleeNetwork":`...)
	b = g.appendNet(b, s.callee)
	b = append(b, `,"callerDevice":`...)
	b = g.appendDevice(b, s.caller, m.kind)
	b = append(b, `,"calleeDevice":`...)
	b = g.appendDevice(b, s.callee, m.kind)
	b = append(b, `,"streams":[`...)
	n := 0
	for dir := dirCallerToCallee; dir <= dirCalleeToCaller; dir <<= 1 {
		if m.dirs&dir == 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		from, to := s.caller, s.callee
		if dir == dirCalleeToCaller {
			from, to = to, from
		}
		b = g.appendStream(b, s, m, dir, from, to)
	}
	return append(b, "]}"...)
}

func (g *gen) appendNet(b []byte, e *endpoint) []byte {
	if len(e.netJS) > 0 {
		return append(b, e.netJS...)
	}
	r := &g.r
	n := &e.net
	start := len(b)
	ratio := func(b []byte) []byte {
		if n.service {
			return append(b, "null"...)
		}
		if n.risk > 0.1 && r.chance(0.4) {
			return appendFixed(b, r.skewed(0.001, 0.2), 4)
		}
		return append(b, "0.0"...)
	}
	b = append(b, `{"bandwidthLowEventRatio":`...)
	b = ratio(b)
	b = append(b, `,"basicServiceSetIdentifier":`...)
	b = appendStrOrNull(b, n.bssid)
	b = append(b, `,"connectionType":`...)
	b = appendStr(b, n.conn)
	b = append(b, `,"delayEventRatio":`...)
	b = ratio(b)
	b = append(b, `,"dnsSuffix":`...)
	b = appendStrOrNull(b, n.dns)
	b = append(b, `,"ipAddress":`...)
	b = appendStr(b, n.ip)
	b = append(b, `,"linkSpeed":`...)
	if n.linkSpeed == 0 {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, n.linkSpeed)
	}
	b = append(b, `,"macAddress":`...)
	b = appendStrOrNull(b, n.mac)
	b = append(b, `,"networkTransportProtocol":"udp","port":`...)
	b = appendInt(b, int64(n.port))
	b = append(b, `,"receivedQualityEventRatio":`...)
	b = ratio(b)
	b = append(b, `,"reflexiveIPAddress":`...)
	b = appendStrOrNull(b, n.reflexive)
	b = append(b, `,"relayIPAddress":`...)
	b = appendStrOrNull(b, n.relay)
	b = append(b, `,"relayPort":`...)
	if n.relayPort == 0 {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, int64(n.relayPort))
	}
	b = append(b, `,"sentQualityEventRatio":`...)
	b = ratio(b)
	b = append(b, `,"subnet":`...)
	b = appendStrOrNull(b, n.subnet)
	b = append(b, `,"traceRouteHops":[],"wifiBand":`...)
	if !n.wifi {
		b = append(b, `null,"wifiBatteryCharge":null,"wifiChannel":null,"wifiMicrosoftDriver":null,"wifiMicrosoftDriverVersion":null,"wifiRadioType":null,"wifiSignalStrength":null,"wifiVendorDriver":null,"wifiVendorDriverVersion":null}`...)
	} else {
		b = appendStr(b, n.band)
		b = append(b, `,"wifiBatteryCharge":`...)
		if n.battery == 0 {
			b = append(b, "null"...)
		} else {
			b = appendInt(b, int64(n.battery))
		}
		b = append(b, `,"wifiChannel":`...)
		b = appendInt(b, int64(n.channel))
		b = append(b, `,"wifiMicrosoftDriver":`...)
		b = appendStrOrNull(b, n.msDriver)
		b = append(b, `,"wifiMicrosoftDriverVersion":`...)
		b = appendStrOrNull(b, n.msDriverVer)
		b = append(b, `,"wifiRadioType":`...)
		b = appendStr(b, n.radio)
		b = append(b, `,"wifiSignalStrength":`...)
		b = appendInt(b, int64(n.signal))
		b = append(b, `,"wifiVendorDriver":`...)
		b = appendStrOrNull(b, n.vendor)
		b = append(b, `,"wifiVendorDriverVersion":`...)
		b = appendStrOrNull(b, n.vendorVer)
		b = append(b, '}')
	}
	e.netJS = append(e.netJS[:0], b[start:]...)
	return b
}

func (g *gen) appendDevice(b []byte, e *endpoint, kind int) []byte {
	if kind != mediaAudio {
		return append(b, nullDevice...)
	}
	if e.svc != nil {
		return append(b, serviceDevice...)
	}
	if len(e.devJS) > 0 {
		return append(b, e.devJS...)
	}
	r := &g.r
	start := len(b)
	ratio := func(b []byte, p float64) []byte {
		if r.chance(p) {
			return appendFixed(b, r.skewed(0.001, 0.15), 4)
		}
		return append(b, "0.0"...)
	}
	b = append(b, `{"captureDeviceDriver":`...)
	b = appendStrOrNull(b, e.dev.driver)
	b = append(b, `,"captureDeviceName":`...)
	b = appendStrOrNull(b, e.dev.capture)
	b = append(b, `,"captureNotFunctioningEventRatio":`...)
	b = ratio(b, 0.01)
	b = append(b, `,"cpuInsufficentEventRatio":`...)
	b = ratio(b, 0.04)
	b = append(b, `,"deviceClippingEventRatio":`...)
	b = ratio(b, 0.05)
	b = append(b, `,"deviceGlitchEventRatio":`...)
	b = ratio(b, 0.05)
	b = append(b, `,"howlingEventCount":`...)
	howl := 0
	if r.chance(0.02) {
		howl = 1 + r.n(4)
	}
	b = appendInt(b, int64(howl))
	b = append(b, `,"initialSignalLevelRootMeanSquare":`...)
	b = appendFixed(b, r.between(60, 140), 2)
	b = append(b, `,"lowSpeechLevelEventRatio":`...)
	b = ratio(b, 0.15)
	b = append(b, `,"lowSpeechToNoiseEventRatio":`...)
	b = ratio(b, 0.08)
	b = append(b, `,"micGlitchRate":`...)
	b = appendFixed(b, r.skewed(0, 3), 1)
	b = append(b, `,"receivedNoiseLevel":`...)
	b = appendInt(b, int64(-60-r.n(20)))
	b = append(b, `,"receivedSignalLevel":`...)
	b = appendInt(b, int64(-15-r.n(15)))
	b = append(b, `,"renderDeviceDriver":`...)
	b = appendStrOrNull(b, e.dev.driver)
	b = append(b, `,"renderDeviceName":`...)
	b = appendStrOrNull(b, e.dev.render)
	b = append(b, `,"renderMuteEventRatio":`...)
	b = ratio(b, 0.03)
	b = append(b, `,"renderNotFunctioningEventRatio":`...)
	b = ratio(b, 0.01)
	b = append(b, `,"renderZeroVolumeEventRatio":`...)
	b = ratio(b, 0.02)
	b = append(b, `,"sentNoiseLevel":`...)
	b = appendInt(b, int64(-60-r.n(20)))
	b = append(b, `,"sentSignalLevel":`...)
	b = appendInt(b, int64(-15-r.n(15)))
	b = append(b, `,"speakerGlitchRate":`...)
	b = appendFixed(b, r.skewed(0, 4), 1)
	b = append(b, '}')
	e.devJS = append(e.devJS[:0], b[start:]...)
	return b
}

// ---------------------------------------------------------------------------
// Streams and their quality

var nan = math.NaN()

// stream holds a stream's metrics; NaN (or "") is null. Durations are in ms.
type stream struct {
	audioCodec, videoCodec                     string
	deg, netJit, bw, freeze, jit, loss, conc   float64
	rxfps, rtt, floss, fps, vloss              float64
	fec, bypass                                int8
	lowFR, lowProc, maxNetJit, maxJit, maxLoss float64
	maxConc, maxRTT, pkts, postFEC, rmsFreeze  float64
	legacy                                     bool // an older record without the newer metrics
}

func nullStream() stream {
	return stream{deg: nan, netJit: nan, bw: nan, freeze: nan, jit: nan, loss: nan, conc: nan, rxfps: nan, rtt: nan,
		floss: nan, fps: nan, vloss: nan, lowFR: nan, lowProc: nan, maxNetJit: nan, maxJit: nan, maxLoss: nan,
		maxConc: nan, maxRTT: nan, pkts: nan, postFEC: nan, rmsFreeze: nan}
}

// Audio codecs with their weights; PSTN legs use the narrower set.
var (
	audioCodecs  = []string{"opus", "satin", "satinFullband", "silkWide", "g722", "unknownFutureValue"}
	codecWeights = []float64{36, 27, 10, 14, 10, 3}
	pstnWeights  = []float64{25, 0, 0, 35, 38, 2}
	videoCodecs  = []string{"h264", "av1", "h264s", "h265"}
	vcodecWeight = []float64{60, 22, 10, 8}
)

func (g *gen) appendStream(b []byte, s *segment, m *media, dir int, from, to *endpoint) []byte {
	r := &g.r
	secs := m.end.Sub(m.start).Seconds()
	risk := (from.net.risk + to.net.risk) * 0.95
	if s.trouble {
		risk = 0.6
	}
	poor := r.chance(risk)
	var st stream
	switch {
	case r.chance(0.05):
		st = nullStream()
	case m.kind == mediaAudio:
		st = g.audioStream(poor, secs, from, to)
	default:
		st = g.videoStream(poor, secs, m.kind == mediaVBSS, from, to)
	}
	st.legacy = r.chance(0.015)

	b = append(b, `{"streamId":"`...)
	b = appendPadded(b, r.u64()%10000000000, 10)
	if dir == dirCallerToCallee {
		b = append(b, `","streamDirection":"callerToCallee","startDateTime":`...)
	} else {
		b = append(b, `","streamDirection":"calleeToCaller","startDateTime":`...)
	}
	b = appendTime(b, m.start)
	b = append(b, `,"endDateTime":`...)
	b = appendTime(b, m.end)
	b = append(b, `,"audioCodec":`...)
	b = appendStrOrNull(b, st.audioCodec)
	b = append(b, `,"videoCodec":`...)
	b = appendStrOrNull(b, st.videoCodec)
	b = append(b, `,"averageAudioDegradation":`...)
	b = appendFixed(b, st.deg, 2)
	if !st.legacy {
		b = append(b, `,"averageAudioNetworkJitter":`...)
		b = appendDur(b, st.netJit)
	}
	b = append(b, `,"averageBandwidthEstimate":`...)
	b = appendIntOrNull(b, st.bw)
	if !st.legacy {
		b = append(b, `,"averageFreezeDuration":`...)
		b = appendDur(b, st.freeze)
	}
	b = append(b, `,"averageJitter":`...)
	b = appendDur(b, st.jit)
	b = append(b, `,"averagePacketLossRate":`...)
	b = appendFixed(b, st.loss, 4)
	if !st.legacy {
		b = append(b, `,"averageRatioOfConcealedSamples":`...)
		b = appendFixed(b, st.conc, 4)
	}
	b = append(b, `,"averageReceivedFrameRate":`...)
	b = appendFixed(b, st.rxfps, 2)
	b = append(b, `,"averageRoundTripTime":`...)
	b = appendDur(b, st.rtt)
	b = append(b, `,"averageVideoFrameLossPercentage":`...)
	b = appendFixed(b, st.floss, 2)
	b = append(b, `,"averageVideoFrameRate":`...)
	b = appendFixed(b, st.fps, 2)
	b = append(b, `,"averageVideoPacketLossRate":`...)
	b = appendFixed(b, st.vloss, 4)
	b = append(b, `,"isAudioForwardErrorCorrectionUsed":`...)
	b = appendTri(b, st.fec)
	if !st.legacy {
		b = append(b, `,"lowFrameRateRatio":`...)
		b = appendFixed(b, st.lowFR, 4)
		b = append(b, `,"lowVideoProcessingCapabilityRatio":`...)
		b = appendFixed(b, st.lowProc, 4)
		b = append(b, `,"maxAudioNetworkJitter":`...)
		b = appendDur(b, st.maxNetJit)
	}
	b = append(b, `,"maxJitter":`...)
	b = appendDur(b, st.maxJit)
	b = append(b, `,"maxPacketLossRate":`...)
	b = appendFixed(b, st.maxLoss, 4)
	if !st.legacy {
		b = append(b, `,"maxRatioOfConcealedSamples":`...)
		b = appendFixed(b, st.maxConc, 4)
	}
	b = append(b, `,"maxRoundTripTime":`...)
	b = appendDur(b, st.maxRTT)
	b = append(b, `,"packetUtilization":`...)
	b = appendIntOrNull(b, st.pkts)
	b = append(b, `,"postForwardErrorCorrectionPacketLossRate":`...)
	b = appendFixed(b, st.postFEC, 4)
	if !st.legacy {
		b = append(b, `,"rmsFreezeDuration":`...)
		b = appendDur(b, st.rmsFreeze)
	}
	b = append(b, `,"wasMediaBypassed":`...)
	b = appendTri(b, st.bypass)
	return append(b, '}')
}

// baseRTT is a plausible round trip in ms for the two networks.
func (g *gen) baseRTT(from, to *endpoint) float64 {
	r := &g.r
	rtt := 12.0
	for _, e := range []*endpoint{from, to} {
		switch e.net.conn {
		case connWifi:
			rtt += r.between(4, 30)
		case connMobile:
			rtt += r.between(30, 120)
		case connTunnel:
			rtt += r.between(40, 140)
		default:
			rtt += r.between(1, 12)
		}
	}
	return rtt
}

func (g *gen) audioStream(poor bool, secs float64, from, to *endpoint) stream {
	r := &g.r
	st := nullStream()
	pstn := from.svc == svcMediation || to.svc == svcMediation
	w := codecWeights
	if pstn {
		w = pstnWeights
	}
	st.audioCodec = audioCodecs[r.weighted(w)]
	satin := st.audioCodec == "satin" || st.audioCodec == "satinFullband"

	// Which classification metrics the stream reports: service legs often
	// lack the client-side ones, and once in a while a SATIN stream has only
	// the metrics SATIN is exempt from (so it cannot be classified).
	const jit, loss, rtt, deg, conc = 0, 1, 2, 3, 4
	has := [5]bool{true, true, true, true, true}
	if (from.svc != nil || to.svc != nil) && r.chance(0.4) {
		has[deg], has[conc] = false, false
		has[rtt] = r.chance(0.5)
	}
	if satin && r.chance(0.01) {
		has[jit], has[loss], has[rtt] = false, false, false
	}

	st.jit = r.skewed(1, 22)
	st.loss = r.skewed(0, 0.035)
	st.rtt = g.baseRTT(from, to) * r.between(0.8, 1.6)
	st.deg = r.skewed(0.03, 0.85)
	st.conc = r.skewed(0.0005, 0.045)
	if satin && !poor && r.chance(0.15) {
		// Past the degradation and concealment limits, but SATIN is exempt.
		st.deg, st.conc = r.between(1.02, 1.9), r.between(0.072, 0.14)
	}
	if poor {
		var fails []int
		for m, ok := range has {
			if ok && (!satin || m != deg && m != conc) {
				fails = append(fails, m)
			}
		}
		for k := 1 + r.n(3); k > 0 && len(fails) > 0; k-- {
			switch fails[r.n(len(fails))] {
			case jit:
				st.jit = r.between(31, 110)
			case loss:
				st.loss = r.between(0.101, 0.32)
			case rtt:
				st.rtt = r.between(505, 1600)
			case deg:
				st.deg = r.between(1.01, 3.2)
			case conc:
				st.conc = r.between(0.071, 0.26)
			}
		}
		// Poor streams are usually bad all over.
		st.jit = math.Max(st.jit, r.between(12, 29))
		st.loss = math.Max(st.loss, r.between(0.02, 0.09))
	}
	st.netJit = st.jit * r.between(1.1, 1.7)
	st.maxNetJit = st.netJit * r.between(2, 6)
	st.maxJit = st.jit * r.between(2, 7)
	st.maxLoss = math.Min(1, float64(st.loss*r.between(3, 10))+r.skewed(0, 0.02))
	st.maxConc = math.Min(1, st.conc*r.between(2, 8))
	st.maxRTT = st.rtt * r.between(1.5, 3.5)
	st.postFEC = st.loss * r.between(0.05, 0.4)
	if !has[jit] {
		st.jit, st.maxJit, st.netJit, st.maxNetJit = nan, nan, nan, nan
	}
	if !has[loss] {
		st.loss, st.maxLoss, st.postFEC = nan, nan, nan
	}
	if !has[rtt] {
		st.rtt, st.maxRTT = nan, nan
	}
	if !has[deg] {
		st.deg = nan
	}
	if !has[conc] {
		st.conc, st.maxConc = nan, nan
	}
	st.bw = r.between(300000, 9000000)
	st.pkts = secs * r.between(48, 50)
	st.fec = 1
	if r.chance(0.75) {
		st.fec = 2
	}
	st.bypass = 1
	if pstn && r.chance(0.3) {
		st.bypass = 2
	}
	return st
}

func (g *gen) videoStream(poor bool, secs float64, vbss bool, from, to *endpoint) stream {
	r := &g.r
	st := nullStream()
	st.videoCodec = videoCodecs[r.weighted(vcodecWeight)]
	st.jit = r.skewed(2, 25)
	st.loss = r.skewed(0, 0.03)
	st.rtt = g.baseRTT(from, to) * r.between(0.8, 1.6)
	st.vloss = st.loss * r.between(0.8, 1.3)
	st.postFEC = st.loss * r.between(0, 0.3)
	st.bw = r.between(500000, 6000000)
	st.freeze = r.between(40, 450)
	st.rmsFreeze = st.freeze * r.between(1.1, 1.8)
	st.lowFR = r.skewed(0, 0.25)
	st.lowProc = r.skewed(0, 0.05)
	if vbss {
		switch {
		case r.chance(0.55):
			st.fps = r.between(2.05, 6.95)
		default:
			st.fps = r.between(7, 15)
		}
		if r.chance(0.3) {
			st.floss = r.skewed(0, 10)
		}
	} else {
		st.fps = r.between(12, 30)
		st.floss = r.skewed(0, 7)
		if r.chance(0.25) {
			st.floss = nan
		}
		if r.chance(0.03) {
			// Low frame rate, but the frame-loss rung decides: good.
			st.fps, st.floss = r.between(3, 6.9), r.skewed(0, 5)
		}
	}
	st.rxfps = st.fps * r.between(0.9, 1)
	if vbss {
		st.rxfps = math.Max(st.rxfps, 2.01)
	}
	if r.chance(0.1) {
		st.fps = nan // only the received frame rate is known
	}
	if poor {
		limit := 7.0
		if vbss {
			limit = 2
		}
		switch x := r.f(); {
		case x < 0.3:
			st.floss = r.between(51, 85)
		case x < 0.85:
			st.floss = nan
			st.fps = r.between(limit*0.25, limit*0.98)
			st.rxfps = st.fps * r.between(0.9, 1)
		case x < 0.93:
			st.floss, st.fps, st.rxfps = nan, nan, nan
			st.postFEC = r.between(0.16, 0.35)
		default:
			st.floss, st.fps = nan, nan
			st.rxfps = r.between(limit*0.25, limit*0.98)
		}
		st.jit = math.Max(st.jit, r.between(15, 60))
		st.loss = math.Max(st.loss, r.between(0.03, 0.2))
		st.freeze = r.between(400, 2500)
		st.rmsFreeze = st.freeze * r.between(1.1, 1.8)
		st.lowFR = r.between(0.3, 0.9)
	}
	st.maxJit = st.jit * r.between(2, 7)
	st.maxLoss = math.Min(1, float64(st.loss*r.between(3, 10))+r.skewed(0, 0.02))
	st.maxRTT = st.rtt * r.between(1.5, 3.5)
	st.pkts = secs * r.between(80, 400)
	st.bypass = 1
	return st
}
