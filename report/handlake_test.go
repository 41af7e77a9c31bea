package report

import (
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/transform"
)

// A small hand-made lake with known contents: Teams calls at the edges of
// the week in Europe/Berlin, RingCentral rows, PSTN and Direct Routing logs,
// reconciliation, formula-like display names, and files of an older schema
// that lack some columns. The expectations are computed from this model in
// plain Go, independently of the report's code.

type hUser struct{ id, name, upn string }

var (
	hu1 = &hUser{"u1", "=SUM(A1)", "u1@kb.example"}
	hu2 = &hUser{"u2", "+49 30 123", "u2@kb.example"}
	hu3 = &hUser{"u3", "@team", "u3@kb.example"}
	hu4 = &hUser{"u4", "-minus", "u4@kb.example"}
	hu5 = &hUser{"u5", "Next Week", "u5@kb.example"}
	hu6 = &hUser{"u6", "Also Next", "u6@kb.example"}
	hg1 = &hUser{"g1", "Guest Gina", ""}
)

type hPart struct {
	u    *hUser
	kind string
}

type hSession struct {
	caller, callee         *hUser // nil: a Microsoft service
	callerKind, calleeKind string
	callerPlat, calleePlat string
	version                string
	dur                    float64
	rating                 string
	tokens                 []string
}

type hStream struct {
	seq                      int
	media, dir, quality      string
	callerConn, calleeConn   string
	callerSubnet, calleeNet  string
	callerDevice, calleeDevc string
}

type hCall struct {
	id, source, ctype  string
	start              time.Time
	dur                float64
	org                *hUser
	orgKind            string
	parts              []hPart
	sessions           []hSession
	streams            []hStream
	direction, result  string
	callerSt, calleeSt string
}

func bt(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, berlin) }

// The report week 2026-W47 and the week before, in Berlin.
var (
	hWeek      = Week{2026, 47}
	hStart     = time.Date(2026, 11, 16, 0, 0, 0, 0, berlin)
	hEnd       = time.Date(2026, 11, 23, 0, 0, 0, 0, berlin)
	hPrevStart = time.Date(2026, 11, 9, 0, 0, 0, 0, berlin)
)

func handCalls() []hCall {
	p2p := func(a, b *hUser, ap, bp string, dur float64) hSession {
		return hSession{caller: a, callee: b, callerKind: "user", calleeKind: "user", callerPlat: ap, calleePlat: bp, version: "1.0", dur: dur}
	}
	toServer := func(a *hUser, plat string, dur float64) hSession {
		return hSession{caller: a, callerKind: "user", calleeKind: "conferencingServer", callerPlat: plat, version: "2.0", dur: dur}
	}
	return []hCall{
		// Monday 00:15 in Berlin is Sunday 23:15 UTC: a partition of the week before.
		{id: "c1", source: "teams", ctype: "peerToPeer", start: bt(16, 0, 15), dur: 600, org: hu1, orgKind: "user",
			parts:    []hPart{{hu1, "user"}, {hu2, "user"}},
			sessions: []hSession{p2p(hu1, hu2, "windows", "macOS", 600)},
			streams: []hStream{
				{media: "audio", dir: "callerToCallee", quality: "good", callerConn: "wired", calleeConn: "wifi", callerSubnet: "10.0.2.0", calleeNet: "10.0.1.0", callerDevice: "Jabra", calleeDevc: "AirPods"},
				{media: "audio", dir: "calleeToCaller", quality: "poor", callerConn: "wired", calleeConn: "wifi", callerSubnet: "10.0.2.0", calleeNet: "10.0.1.0", callerDevice: "Jabra", calleeDevc: "AirPods"},
				{media: "video", dir: "callerToCallee", quality: "unclassified", callerConn: "wired", calleeConn: "wifi"},
			}},
		// A meeting; its partition (2026-11-17) is written with an older schema.
		{id: "c2", source: "teams", ctype: "groupCall", start: bt(17, 10, 0), dur: 3600, org: hu3, orgKind: "user",
			parts: []hPart{{hu3, "user"}, {hu1, "user"}, {hu4, "user"}, {hg1, "guest"}},
			sessions: []hSession{
				toServer(hu3, "windows", 3600),
				{caller: hu1, callerKind: "user", calleeKind: "conferencingServer", callerPlat: "web", version: "3.0", dur: 1800,
					rating: "poor", tokens: []string{"DistortedSpeech", "EchoNoise"}},
				toServer(hu4, "iOS", 900),
				{caller: hg1, callerKind: "guest", calleeKind: "conferencingServer", callerPlat: "web", dur: 100},
			},
			streams: []hStream{
				{seq: 0, media: "audio", dir: "callerToCallee", quality: "good", callerConn: "wired"},
				{seq: 0, media: "audio", dir: "calleeToCaller", quality: "good", callerConn: "wired"},
				{seq: 1, media: "audio", dir: "callerToCallee", quality: "poor", callerConn: "wifi"},
				{seq: 2, media: "vbss", dir: "callerToCallee", quality: "good", callerConn: "mobile"},
				{seq: 3, media: "other", dir: "callerToCallee", quality: "unclassified"},
			}},
		// Sunday 23:30 in Berlin: the week's last half hour.
		{id: "c3", source: "teams", ctype: "peerToPeer", start: bt(22, 23, 30), dur: 120, org: hu2, orgKind: "user",
			parts:    []hPart{{hu2, "user"}, {hu4, "user"}},
			sessions: []hSession{p2p(hu2, hu4, "macOS", "android", 120)},
			streams:  []hStream{{media: "audio", dir: "callerToCallee", quality: "good", callerConn: "wifi", calleeConn: "mobile"}}},
		// Monday 00:30 of the next week: in the same UTC partition as c3, not in the report.
		{id: "c4", source: "teams", ctype: "peerToPeer", start: bt(23, 0, 30), dur: 60, org: hu5, orgKind: "user",
			parts:    []hPart{{hu5, "user"}, {hu6, "user"}},
			sessions: []hSession{p2p(hu5, hu6, "windows", "windows", 60)},
			streams:  []hStream{{media: "audio", dir: "callerToCallee", quality: "poor"}}},
		// Old-schema meeting without organizer_kind (2026-11-19 calls file).
		{id: "c7", source: "teams", ctype: "groupCall", start: bt(19, 14, 0), dur: 1800, org: hu2,
			parts:    []hPart{{hu2, "user"}, {hu3, "user"}},
			sessions: []hSession{toServer(hu2, "macOS", 1800), toServer(hu3, "windows", 1500)},
			streams:  []hStream{{seq: 1, media: "audio", dir: "callerToCallee", quality: "good", callerConn: "wired", callerSubnet: "10.0.2.0"}}},
		// The week before: Wednesday, and Sunday 23:30 (same UTC partition as c1).
		{id: "c5", source: "teams", ctype: "peerToPeer", start: bt(11, 12, 0), dur: 300, org: hu1, orgKind: "user",
			parts:    []hPart{{hu1, "user"}, {hu2, "user"}},
			sessions: []hSession{p2p(hu1, hu2, "windows", "macOS", 300)},
			streams: []hStream{{media: "audio", dir: "callerToCallee", quality: "good"},
				{media: "audio", dir: "calleeToCaller", quality: "poor"}}},
		{id: "c6", source: "teams", ctype: "groupCall", start: bt(15, 23, 30), dur: 60, org: hu1, orgKind: "user",
			parts:    []hPart{{hu1, "user"}},
			sessions: []hSession{toServer(hu1, "windows", 60)},
			streams:  []hStream{{media: "audio", dir: "callerToCallee", quality: "good"}}},
		// RingCentral call-log records: calls rows only.
		{id: "r1", source: "ringcentral", ctype: "Voice", start: bt(18, 9, 0), dur: 0, direction: "Inbound", result: "Missed"},
		{id: "r2", source: "ringcentral", ctype: "Voice", start: bt(18, 11, 0), dur: 240, direction: "Outbound", result: "Accepted",
			callerSt: "Call connected", calleeSt: "Busy"},
		{id: "r3", source: "ringcentral", ctype: "Voice", start: bt(20, 16, 0), dur: 30, direction: "Inbound", result: "Abandoned"},
	}
}

// writeHandLake writes the model as a lake and returns its directory.
func writeHandLake(t testing.TB, withTelephony bool) string {
	dir := filepath.Join(t.TempDir(), "lake")
	byDate := map[string][]hCall{}
	for _, c := range handCalls() {
		d := c.start.UTC().Format(time.DateOnly)
		byDate[d] = append(byDate[d], c)
	}
	for date, cs := range byDate {
		var calls, parts, sess, strs []row
		for _, c := range cs {
			r := row{"call_id": c.id, "source": c.source, "call_type": c.ctype, "start_time": c.start,
				"end_time": c.start.Add(time.Duration(c.dur) * time.Second), "duration_s": c.dur,
				"ingested_at": hEnd, "direction": nil, "result": nil}
			if c.org != nil {
				r["organizer_id"], r["organizer_name"] = c.org.id, c.org.name
			}
			if c.orgKind != "" {
				r["organizer_kind"] = c.orgKind
			}
			if c.source == "ringcentral" {
				r["direction"], r["result"] = c.direction, c.result
				if c.callerSt != "" {
					r["caller_status"] = c.callerSt
				}
				if c.calleeSt != "" {
					r["callee_status"] = c.calleeSt
				}
			}
			calls = append(calls, r)
			for _, p := range c.parts {
				pr := row{"call_id": c.id, "participant_id": p.u.id, "display_name": p.u.name, "kind": p.kind}
				if p.u.upn != "" {
					pr["user_principal_name"] = p.u.upn
				}
				parts = append(parts, pr)
			}
			for i, s := range c.sessions {
				sr := row{"call_id": c.id, "session_id": c.id + "-s", "session_seq": i, "duration_s": s.dur,
					"start_time": c.start, "caller_kind": s.callerKind, "callee_kind": s.calleeKind}
				if s.caller != nil {
					sr["caller_id"], sr["caller_display_name"] = s.caller.id, s.caller.name
					sr["caller_platform"], sr["caller_product_family"] = s.callerPlat, "teams"
					if s.version != "" {
						sr["caller_app_version"] = s.version
					}
				}
				if s.callee != nil {
					sr["callee_id"], sr["callee_display_name"] = s.callee.id, s.callee.name
					sr["callee_platform"], sr["callee_product_family"] = s.calleePlat, "teams"
					if s.version != "" {
						sr["callee_app_version"] = s.version
					}
				}
				if s.rating != "" {
					sr["caller_feedback_rating"], sr["caller_feedback_tokens"] = s.rating, s.tokens
				}
				sess = append(sess, sr)
			}
			for _, st := range c.streams {
				s := c.sessions[st.seq]
				mt := st.media
				label := map[string]string{"audio": "main-audio", "video": "main-video", "vbss": "applicationsharing-video", "other": "data"}[mt]
				tr := row{"call_id": c.id, "session_seq": st.seq, "media_label": label, "media_type": mt,
					"stream_direction": st.dir, "quality": st.quality, "caller_kind": s.callerKind, "callee_kind": s.calleeKind}
				if s.caller != nil {
					tr["caller_id"], tr["caller_platform"] = s.caller.id, s.callerPlat
				}
				if s.callee != nil {
					tr["callee_id"], tr["callee_platform"] = s.callee.id, s.calleePlat
				}
				for k, v := range map[string]string{"caller_connection_type": st.callerConn, "callee_connection_type": st.calleeConn,
					"caller_subnet": st.callerSubnet, "callee_subnet": st.calleeNet,
					"caller_capture_device": st.callerDevice, "caller_render_device": st.callerDevice,
					"callee_capture_device": st.calleeDevc, "callee_render_device": st.calleeDevc} {
					if v != "" {
						tr[k] = v
					}
				}
				strs = append(strs, tr)
			}
		}
		callsSc, sessSc, strSc := transform.Schema(transform.Calls), transform.Schema(transform.Sessions), transform.Schema(transform.Streams)
		switch date {
		case "2026-11-17": // an older lake: no app versions, no subnets
			sessSc = without(sessSc, "caller_app_version", "callee_app_version")
			strSc = without(strSc, "caller_subnet", "callee_subnet")
		case "2026-11-19": // no organizer_kind, and none of the RingCentral columns
			callsSc = without(callsSc, "organizer_kind", "direction", "result", "caller_status", "callee_status")
		}
		writeParquet(t, dir, "calls", date, "part-a", callsSc, calls)
		if len(parts) > 0 {
			writeParquet(t, dir, "participants", date, "part-a", transform.Schema(transform.Participants), parts)
			writeParquet(t, dir, "sessions", date, "part-a", sessSc, sess)
			writeParquet(t, dir, "streams", date, "part-a", strSc, strs)
		}
	}
	if !withTelephony {
		return dir
	}
	for _, p := range handPSTN() {
		writeParquet(t, dir, "pstn_calls", p["start_time"].(time.Time).UTC().Format(time.DateOnly), "part-"+p["id"].(string), pstnSchema, []row{p})
	}
	for _, p := range handDirect() {
		writeParquet(t, dir, "direct_routing_calls", p["start_time"].(time.Time).UTC().Format(time.DateOnly), "part-"+p["id"].(string), drSchema, []row{p})
	}
	writeParquet(t, dir, "legs", "2026-11-18", "part-a", schemaOf("call_id", arrow.BinaryTypes.String, "leg_seq", arrow.PrimitiveTypes.Int32,
		"leg_type", arrow.BinaryTypes.String, "result", arrow.BinaryTypes.String, "start_time", transformTS, "duration_s", arrow.PrimitiveTypes.Float64),
		[]row{{"call_id": "r2", "leg_seq": 0, "leg_type": "RingOutClientToCaller", "result": "Call connected", "start_time": bt(18, 11, 0), "duration_s": 240},
			{"call_id": "r2", "leg_seq": 1, "leg_type": "RingOutClientToSubscriber", "result": "Busy", "start_time": bt(18, 11, 0), "duration_s": 5}})
	// Reconciliation: utf8 days in one file, date32 days in others; a later
	// reconciliation of 17 November replaces the first; 22 November incomplete.
	for _, r := range handRecon() {
		sc := reconSchemaDate
		day := r["day"].(time.Time)
		name := "teams"
		if day.Day() <= 18 && day.Month() == time.November && day.Day() >= 16 {
			sc = reconSchemaText
			r = copyRow(r)
			r["day"] = day.Format(time.DateOnly)
		}
		if v, ok := r["version"]; ok {
			name += "-" + v.(string)
		}
		writeParquet(t, dir, "reconcile", day.Format(time.DateOnly), name, sc, []row{r})
	}
	return dir
}

func copyRow(r row) row {
	c := row{}
	for k, v := range r {
		c[k] = v
	}
	return c
}

var transformTS = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

var pstnSchema = schemaOf("id", arrow.BinaryTypes.String, "call_id", arrow.BinaryTypes.String, "user_id", arrow.BinaryTypes.String,
	"user_display_name", arrow.BinaryTypes.String, "start_time", transformTS, "end_time", transformTS,
	"duration_s", arrow.PrimitiveTypes.Float64, "charge", arrow.PrimitiveTypes.Float64, "currency", arrow.BinaryTypes.String,
	"call_type", arrow.BinaryTypes.String, "caller_number", arrow.BinaryTypes.String, "callee_number", arrow.BinaryTypes.String)

var drSchema = schemaOf("id", arrow.BinaryTypes.String, "correlation_id", arrow.BinaryTypes.String, "user_id", arrow.BinaryTypes.String,
	"start_time", transformTS, "end_time", transformTS, "duration_s", arrow.PrimitiveTypes.Float64, "call_type", arrow.BinaryTypes.String,
	"success_flag", arrow.FixedWidthTypes.Boolean, "final_sip_code", arrow.PrimitiveTypes.Int32, "final_sip_code_phrase", arrow.BinaryTypes.String,
	"trunk_fully_qualified_domain_name", arrow.BinaryTypes.String)

// Reconcile schemas: day as a date (and with deferred), or as text (an
// older writer, without deferred).
var (
	reconSchemaDate = schemaOf("source", arrow.BinaryTypes.String, "day", arrow.FixedWidthTypes.Date32,
		"listed", arrow.PrimitiveTypes.Int64, "notified", arrow.PrimitiveTypes.Int64, "missed", arrow.PrimitiveTypes.Int64,
		"recovered", arrow.PrimitiveTypes.Int64, "deferred", arrow.PrimitiveTypes.Int64, "failed", arrow.PrimitiveTypes.Int64,
		"complete", arrow.FixedWidthTypes.Boolean, "reconciled_at", transformTS)
	reconSchemaText = schemaOf("source", arrow.BinaryTypes.String, "day", arrow.BinaryTypes.String,
		"listed", arrow.PrimitiveTypes.Int64, "notified", arrow.PrimitiveTypes.Int64, "missed", arrow.PrimitiveTypes.Int64,
		"recovered", arrow.PrimitiveTypes.Int64, "failed", arrow.PrimitiveTypes.Int64,
		"complete", arrow.FixedWidthTypes.Boolean, "reconciled_at", transformTS)
)

func handPSTN() []row {
	return []row{
		{"id": "p1", "start_time": bt(17, 9, 0), "duration_s": 180.0, "charge": 0.12, "currency": "EUR", "call_type": "user_out"},
		{"id": "p2", "start_time": bt(18, 15, 0), "duration_s": 60.0, "charge": 0.0, "currency": "EUR", "call_type": "user_in"},
		{"id": "p3", "start_time": bt(10, 9, 0), "duration_s": 120.0, "charge": 0.05, "currency": "EUR", "call_type": "user_out"},
		{"id": "p4", "start_time": bt(23, 9, 0), "duration_s": 999.0, "charge": 1.0, "currency": "EUR", "call_type": "user_out"},
	}
}

func handDirect() []row {
	return []row{
		{"id": "d1", "start_time": bt(19, 10, 0), "duration_s": 90.0, "call_type": "ByotOut", "success_flag": true, "final_sip_code": 0, "final_sip_code_phrase": "BYE"},
		{"id": "d2", "start_time": bt(19, 11, 0), "duration_s": 0.0, "call_type": "ByotIn", "success_flag": false, "final_sip_code": 487, "final_sip_code_phrase": "Request Terminated"},
	}
}

func handRecon() []row {
	var out []row
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	at := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC) }
	for d := 9; d <= 22; d++ {
		out = append(out, row{"source": "teams", "day": day(d), "listed": 10 * d, "notified": 10*d - d%3, "missed": d % 3,
			"recovered": d % 3, "deferred": 0, "failed": 0, "complete": d != 22, "reconciled_at": at(d + 1)})
	}
	// 17 November reconciled again later, with one more missed call found.
	out = append(out, row{"source": "teams", "day": day(17), "listed": 171, "notified": 168, "missed": 3,
		"recovered": 2, "failed": 1, "complete": true, "reconciled_at": at(20), "version": "v2"})
	return out
}

// hExpect is the independent computation of a week's figures from the model.
type hExpect struct {
	calls, meetings  int64
	secs             float64
	users            map[string]bool
	good, poor, uncl int64
	pstnSecs         float64
	listed, missed   int64
}

func handExpect(start, end time.Time) hExpect {
	e := hExpect{users: map[string]bool{}}
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	for _, c := range handCalls() {
		if !in(c.start) {
			continue
		}
		e.calls++
		if c.ctype == "groupCall" {
			e.meetings++
		}
		e.secs += c.dur
		for _, p := range c.parts {
			if p.kind == "user" {
				e.users[p.u.id] = true
			}
		}
		for _, s := range c.sessions {
			if s.caller != nil && s.callerKind == "user" {
				e.users[s.caller.id] = true
			}
			if s.callee != nil && s.calleeKind == "user" {
				e.users[s.callee.id] = true
			}
		}
		for _, s := range c.streams {
			switch s.quality {
			case "good":
				e.good++
			case "poor":
				e.poor++
			default:
				e.uncl++
			}
		}
	}
	for _, p := range append(handPSTN(), handDirect()...) {
		if in(p["start_time"].(time.Time)) {
			e.pstnSecs += p["duration_s"].(float64)
		}
	}
	// Reconcile: calendar days of the week; the row reconciled last wins.
	latest := map[time.Time]row{}
	for _, r := range handRecon() {
		d := r["day"].(time.Time)
		if old, ok := latest[d]; !ok || old["reconciled_at"].(time.Time).Before(r["reconciled_at"].(time.Time)) {
			latest[d] = r
		}
	}
	first := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	for d, r := range latest {
		if !d.Before(first) && d.Before(first.AddDate(0, 0, 7)) && r["complete"].(bool) {
			e.listed += int64(r["listed"].(int))
			e.missed += int64(r["missed"].(int))
		}
	}
	return e
}

// handUsers is the expected Usage row of each user of the report week:
// calls with a session of theirs, session seconds, meetings organised.
func handUsers() map[string][3]float64 {
	out := map[string][3]float64{}
	for _, c := range handCalls() {
		if c.start.Before(hStart) || !c.start.Before(hEnd) {
			continue
		}
		seen := map[string]bool{}
		for _, s := range c.sessions {
			for _, x := range []struct {
				u    *hUser
				kind string
			}{{s.caller, s.callerKind}, {s.callee, s.calleeKind}} {
				if x.u == nil || x.kind != "user" {
					continue
				}
				v := out[x.u.name]
				if !seen[x.u.id] {
					v[0]++
					seen[x.u.id] = true
				}
				v[1] += s.dur
				out[x.u.name] = v
			}
		}
		if c.ctype == "groupCall" && c.org != nil && (c.orgKind == "user" || c.orgKind == "") {
			v := out[c.org.name]
			v[2]++
			out[c.org.name] = v
		}
	}
	return out
}

func sortedNames(m map[string][3]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
