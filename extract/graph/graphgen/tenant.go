package graphgen

// The tenant: its people, rooms, sites and external contacts.

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
