package graphgen

// Streams and their quality.

import "math"

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
