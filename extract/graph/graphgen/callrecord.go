package graphgen

// Writing a call record as Graph's JSON.

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
