package graphgen

// Endpoints and networks: the device, client and network each participant calls from.

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
