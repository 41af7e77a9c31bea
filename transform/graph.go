package transform

import (
	"slices"
	"time"

	"callstats/extract/graph"
)

// sourceTeams is the calls.source value of rows from Microsoft Graph.
const sourceTeams = "teams"

// PartitionDate is the UTC date ("2026-11-12") a call's rows are filed under,
// given the call's start time.
func PartitionDate(start time.Time) string { return start.UTC().Format(time.DateOnly) }

// Zero values standing in for absent parts of a record, so that every field
// read from them is nil and becomes NULL.
var (
	noIdentity  graph.Identity
	noEndpoint  graph.Endpoint
	noUserAgent graph.UserAgent
	noFeedback  graph.Feedback
	noFailure   graph.Failure
	noNetwork   graph.Network
	noDevice    graph.Device
)

// AddGraph appends the rows of one Teams call record (with all pages of sessions
// and participants joined) to every table: one calls row, a participants row per
// participant, a sessions row per session and a streams row per stream. It never
// fails: values the record lacks become NULL. ingestedAt is the calls row's
// ingested_at. A nil record adds nothing.
func (b *Builder) AddGraph(rec *graph.CallRecord, ingestedAt time.Time) {
	if rec == nil {
		return
	}
	parts := rec.AllParticipants()
	b.indexKinds(rec, parts)
	defer clear(b.kinds)

	for i := range parts {
		b.addParticipant(rec.ID, &parts[i])
	}
	var n streamCounts
	for i := range rec.Sessions {
		b.addSession(rec.ID, int32(i), &rec.Sessions[i], &n)
	}
	b.addGraphCall(rec, len(parts), &n, ingestedAt)
}

// streamCounts are a call's stream totals, for its calls row.
type streamCounts struct{ streams, classified, poor int32 }

// indexKinds maps the ids of the call's participants and organizer to their
// identity kinds, so that session endpoints (whose associatedIdentity carries no
// kind) can be given one.
func (b *Builder) indexKinds(rec *graph.CallRecord, parts []graph.Participant) {
	clear(b.kinds)
	put := func(pid string, s *graph.IdentitySet) {
		kind, id := s.Primary()
		if id == nil || kind == "" {
			return
		}
		if id.ID != nil && *id.ID != "" {
			b.kinds[*id.ID] = kind
		}
		if pid != "" {
			b.kinds[pid] = kind
		}
	}
	for i := range parts {
		put(parts[i].ID, &parts[i].Identity)
	}
	if rec.OrganizerV2 != nil {
		put(rec.OrganizerV2.ID, &rec.OrganizerV2.Identity)
	}
	if rec.Organizer != nil {
		put("", rec.Organizer)
	}
}

func (b *Builder) addGraphCall(rec *graph.CallRecord, participants int, n *streamCounts, ingestedAt time.Time) {
	t := &b.calls
	t.callID.addRequired(rec.ID)
	t.source.addRequired(sourceTeams)
	t.callType.add(rec.Type)
	t.modalities.addStrings(rec.Modalities)
	t.startTime.add(rec.StartDateTime)
	t.endTime.add(rec.EndDateTime)
	addDuration(t.durationS, rec.StartDateTime, rec.EndDateTime)

	kind, id := rec.OrganizerIdentity()
	if id == nil {
		id = &noIdentity
	}
	if id.ID != nil && *id.ID != "" {
		t.organizerID.add(*id.ID)
	} else if rec.OrganizerV2 != nil {
		t.organizerID.add(rec.OrganizerV2.ID)
	} else {
		t.organizerID.addNull()
	}
	t.organizerName.addPtr(id.DisplayName)
	t.organizerKind.add(kind)
	t.organizerUPN.addPtr(id.UserPrincipalName)
	t.organizerTenantID.addPtr(id.TenantID)

	t.participantCount.add(int32(participants))
	t.sessionCount.add(int32(len(rec.Sessions)))
	t.streamCount.add(n.streams)
	t.classifiedStreamCount.add(n.classified)
	t.poorStreamCount.add(n.poor)
	t.joinWebURL.addPtr(rec.JoinWebURL)
	t.version.add(rec.Version)
	t.lastModified.add(rec.LastModifiedDateTime)
	t.ingestedAt.addRequired(ingestedAt)

	t.telephonySessionID.addNull()
	t.rcSessionID.addNull()
	t.direction.addNull()
	t.result.addNull()
	t.callerStatus.addNull()
	t.calleeStatus.addNull()
}

func (b *Builder) addParticipant(callID string, p *graph.Participant) {
	t := &b.participants
	kind, id := p.Identity.Primary()
	if id == nil {
		id = &noIdentity
	}
	t.callID.addRequired(callID)
	switch {
	case p.ID != "":
		t.participantID.add(p.ID)
	default:
		t.participantID.addPtr(id.ID)
	}
	t.displayName.addPtr(id.DisplayName)
	t.tenantID.addPtr(id.TenantID)
	t.upn.addPtr(id.UserPrincipalName)
	t.kind.add(kind)
	if p.AdministrativeUnitInfos == nil {
		t.administrativeUnitIDs.addNull()
	} else {
		v := t.administrativeUnitIDs.begin()
		for _, au := range p.AdministrativeUnitInfos {
			if au.ID != "" {
				v.Append(au.ID)
			}
		}
	}
}

func (b *Builder) addSession(callID string, seq int32, s *graph.Session, n *streamCounts) {
	t := &b.sessions
	t.callID.addRequired(callID)
	t.sessionID.add(s.ID)
	t.sessionSeq.add(seq)
	t.startTime.add(s.StartDateTime)
	t.endTime.add(s.EndDateTime)
	addDuration(t.durationS, s.StartDateTime, s.EndDateTime)
	t.modalities.addStrings(s.Modalities)
	t.isTest.addPtr(s.IsTest)
	b.addSessionEndpoint(&t.caller, s.Caller)
	b.addSessionEndpoint(&t.callee, s.Callee)
	f := s.FailureInfo
	if f == nil {
		f = &noFailure
	}
	t.failureStage.addPtr(f.Stage)
	t.failureReason.addPtr(f.Reason)
	t.segmentCount.add(int32(len(s.Segments)))

	for i := range s.Segments {
		b.addSegment(callID, seq, s, &s.Segments[i], n)
	}
}

func (b *Builder) addSessionEndpoint(c *sessionEndpointCols, e *graph.Endpoint) {
	if e == nil {
		e = &noEndpoint
	}
	who := e.Who()
	if who == nil {
		who = &noIdentity
	}
	ua := e.UserAgent
	if ua == nil {
		ua = &noUserAgent
	}
	service := isService(e)
	c.id.addPtr(who.ID)
	c.displayName.addPtr(who.DisplayName)
	c.upn.addPtr(who.UserPrincipalName)
	c.tenantID.addPtr(who.TenantID)
	c.kind.add(b.endpointKind(e, service))
	if service {
		c.platform.addNull()
		c.productFamily.addNull()
	} else {
		c.platform.addPtr(ua.Platform)
		c.productFamily.addPtr(ua.ProductFamily)
	}
	c.userAgent.addPtr(ua.HeaderValue)
	c.appVer.addPtr(ua.ApplicationVersion)
	c.endpointName.addPtr(e.Name)
	c.cpuName.addPtr(e.CPUName)
	c.cpuCores.addPtr(e.CPUCoresCount)

	fb := e.Feedback
	if fb == nil {
		fb = &noFeedback
	}
	c.feedbackRating.addPtr(fb.Rating)
	c.feedbackText.addPtr(fb.Text)
	if fb.Tokens == nil {
		c.feedbackTokens.addNull()
	} else {
		b.tokens = b.tokens[:0]
		for k, v := range fb.Tokens {
			if set, ok := v.(bool); ok && set {
				b.tokens = append(b.tokens, k)
			}
		}
		slices.Sort(b.tokens)
		v := c.feedbackTokens.begin()
		for _, tok := range b.tokens {
			v.Append(tok)
		}
	}
}

// isService reports whether an endpoint is a Microsoft service (a mediation
// server, conferencing attendant...): a serviceEndpoint, or one whose user agent
// names a service role.
func isService(e *graph.Endpoint) bool {
	return e.IsService() || e.UserAgent != nil && e.UserAgent.Role != nil && *e.UserAgent.Role != ""
}

// endpointKind is a service endpoint's role, else the kind of the endpoint's
// deprecated identity set, else the kind of the call participant whose id is the
// endpoint's associatedIdentity id; "" (NULL) when none is known.
func (b *Builder) endpointKind(e *graph.Endpoint, service bool) string {
	if service {
		if e.UserAgent != nil && e.UserAgent.Role != nil {
			return *e.UserAgent.Role
		}
		return ""
	}
	if e.Identity != nil {
		if kind, id := e.Identity.Primary(); id != nil {
			return kind
		}
	}
	if who := e.Who(); who != nil && who.ID != nil {
		return b.kinds[*who.ID]
	}
	return ""
}

// segmentSide is what a stream row says about one side of its segment.
type segmentSide struct {
	e       *graph.Endpoint
	who     *graph.Identity
	ua      *graph.UserAgent
	kind    string
	service bool
}

func (b *Builder) side(seg, session *graph.Endpoint) segmentSide {
	e := seg
	if e == nil {
		e = session // a segment without its own endpoint is the session's
	}
	if e == nil {
		e = &noEndpoint
	}
	s := segmentSide{e: e, who: e.Who(), ua: e.UserAgent, service: isService(e)}
	if s.who == nil {
		s.who = &noIdentity
	}
	if s.ua == nil {
		s.ua = &noUserAgent
	}
	s.kind = b.endpointKind(e, s.service)
	return s
}

func (b *Builder) addSegment(callID string, seq int32, s *graph.Session, g *graph.Segment, n *streamCounts) {
	if len(g.Media) == 0 {
		return
	}
	caller := b.side(g.Caller, s.Caller)
	callee := b.side(g.Callee, s.Callee)
	fail := g.FailureInfo
	if fail == nil {
		fail = &noFailure
	}
	t := &b.streams
	for mi := range g.Media {
		m := &g.Media[mi]
		var label string
		if m.Label != nil {
			label = *m.Label
		}
		mt := MediaTypeOf(label)
		for si := range m.Streams {
			st := &m.Streams[si]
			q := classify(mt, st)
			n.streams++
			switch q {
			case QualityPoor:
				n.poor++
				n.classified++
			case QualityGood:
				n.classified++
			}

			t.callID.addRequired(callID)
			t.sessionID.add(s.ID)
			t.sessionSeq.add(seq)
			t.segmentID.add(g.ID)
			t.segmentStart.add(g.StartDateTime)
			t.segmentEnd.add(g.EndDateTime)
			t.segmentFailureStage.addPtr(fail.Stage)
			t.segmentFailureReason.addPtr(fail.Reason)
			t.mediaLabel.add(label)
			t.mediaType.addRequired(string(mt))
			t.streamID.addPtr(st.StreamID)
			t.streamDirection.addPtr(st.StreamDirection)
			t.startTime.addPtr(st.StartDateTime)
			t.endTime.addPtr(st.EndDateTime)
			t.quality.addRequired(string(q))
			switch q {
			case QualityPoor:
				t.isPoor.add(true)
			case QualityGood:
				t.isPoor.add(false)
			default:
				t.isPoor.addNull()
			}
			t.audioCodec.addPtr(st.AudioCodec)
			t.videoCodec.addPtr(st.VideoCodec)

			addMs(t.avgJitterMs, st.AverageJitter)
			addMs(t.maxJitterMs, st.MaxJitter)
			t.avgPacketLossRate.addPtr(st.AveragePacketLossRate)
			t.maxPacketLossRate.addPtr(st.MaxPacketLossRate)
			addMs(t.avgRoundTripMs, st.AverageRoundTripTime)
			addMs(t.maxRoundTripMs, st.MaxRoundTripTime)
			t.avgAudioDegradation.addPtr(st.AverageAudioDegradation)
			t.avgConcealedRatio.addPtr(st.AverageRatioOfConcealedSamples)
			t.maxConcealedRatio.addPtr(st.MaxRatioOfConcealedSamples)
			addMs(t.avgAudioNetJitterMs, st.AverageAudioNetworkJitter)
			addMs(t.maxAudioNetJitterMs, st.MaxAudioNetworkJitter)
			t.isAudioFECUsed.addPtr(st.IsAudioForwardErrorCorrectionUsed)
			t.avgVideoFrameRate.addPtr(st.AverageVideoFrameRate)
			t.avgReceivedFrameRate.addPtr(st.AverageReceivedFrameRate)
			t.avgVideoFrameLossPct.addPtr(st.AverageVideoFrameLossPercentage)
			t.avgVideoPacketLossRate.addPtr(st.AverageVideoPacketLossRate)
			t.postFECPacketLossRate.addPtr(st.PostForwardErrorCorrectionPacketLossRate)
			t.lowFrameRateRatio.addPtr(st.LowFrameRateRatio)
			addSeconds(t.avgFreezeDurationS, st.AverageFreezeDuration)
			addSeconds(t.rmsFreezeDurationS, st.RMSFreezeDuration)
			t.avgBandwidthEstimateBps.addPtr(st.AverageBandwidthEstimate)
			t.packetUtilization.addPtr(st.PacketUtilization)
			t.wasMediaBypassed.addPtr(st.WasMediaBypassed)

			addStreamSide(&t.caller, &caller, m.CallerNetwork, m.CallerDevice)
			addStreamSide(&t.callee, &callee, m.CalleeNetwork, m.CalleeDevice)
		}
	}
}

func addStreamSide(c *streamSideCols, s *segmentSide, nw *graph.Network, dev *graph.Device) {
	if nw == nil {
		nw = &noNetwork
	}
	if dev == nil {
		dev = &noDevice
	}
	c.id.addPtr(s.who.ID)
	c.kind.add(s.kind)
	if s.service {
		c.platform.addNull()
		c.productFamily.addNull()
	} else {
		c.platform.addPtr(s.ua.Platform)
		c.productFamily.addPtr(s.ua.ProductFamily)
	}
	c.connectionType.addPtr(nw.ConnectionType)
	c.subnet.addPtr(nw.Subnet)
	c.transport.addPtr(nw.NetworkTransportProtocol)
	c.dns.addPtr(nw.DNSSuffix)
	c.linkSpeedBps.addPtr(nw.LinkSpeed)
	c.wifiBand.addPtr(nw.WifiBand)
	c.wifiRadioType.addPtr(nw.WifiRadioType)
	c.wifiSignalStrength.addPtr(nw.WifiSignalStrength)
	c.bandwidthLowEventRatio.addPtr(nw.BandwidthLowEventRatio)
	c.captureDevice.addPtr(dev.CaptureDeviceName)
	c.renderDevice.addPtr(dev.RenderDeviceName)
	c.micGlitchRate.addPtr(dev.MicGlitchRate)
	c.speakerGlitchRate.addPtr(dev.SpeakerGlitchRate)
	c.howlingEventCount.addPtr(dev.HowlingEventCount)
}

// addDuration appends end - start in seconds, or NULL when either is missing.
func addDuration(c f64Col, start, end time.Time) {
	if start.IsZero() || end.IsZero() {
		c.addNull()
		return
	}
	c.add(end.Sub(start).Seconds())
}

func addMs(c f64Col, d *graph.Duration) {
	if d == nil {
		c.addNull()
		return
	}
	c.add(ms(*d))
}

func addSeconds(c f64Col, d *graph.Duration) {
	if d == nil {
		c.addNull()
		return
	}
	c.add(seconds(*d))
}
