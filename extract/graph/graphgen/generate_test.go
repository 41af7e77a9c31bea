package graphgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"callstats/internal/atomicfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// ---------------------------------------------------------------------------
// An independent reading of the generated JSON (no extract/graph import).

type obj = map[string]any

func decode(t testing.TB, raw []byte) obj {
	t.Helper()
	var m obj
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("record is not valid JSON: %v\n%.300s", err, raw)
	}
	return m
}

func str(m obj, k string) string { s, _ := m[k].(string); return s }

func list(m obj, k string) []any { l, _ := m[k].([]any); return l }

func objs(m obj, k string) []obj {
	var out []obj
	for _, x := range list(m, k) {
		if o, ok := x.(obj); ok {
			out = append(out, o)
		}
	}
	return out
}

func num(m obj, k string) (float64, bool) { v, ok := m[k].(float64); return v, ok }

var (
	guidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timeRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)
	durRe  = regexp.MustCompile(`^PT\d+(\.\d{1,3})?S$`)
	e164Re = regexp.MustCompile(`^\+[1-9]\d{7,14}$`)
)

func parseTime(t testing.TB, m obj, k string) time.Time {
	t.Helper()
	s := str(m, k)
	if !timeRe.MatchString(s) {
		t.Fatalf("%s = %q: want 7 fractional digits and Z", k, s)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ms reads an ISO 8601 duration of seconds in milliseconds; ok is false for null.
func ms(t testing.TB, m obj, k string) (float64, bool) {
	t.Helper()
	v, present := m[k]
	if !present || v == nil {
		return 0, false
	}
	s, _ := v.(string)
	if !durRe.MatchString(s) {
		t.Fatalf("%s = %v: not an ISO 8601 duration", k, v)
	}
	f, err := strconv.ParseFloat(s[2:len(s)-1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return f * 1000, true
}

// mediaType and classify implement DESIGN.md's "Call quality" rules.
func mediaType(label string) string {
	switch {
	case strings.Contains(label, "audio"):
		return "audio"
	case strings.HasPrefix(label, "applicationsharing"):
		return "vbss"
	case strings.Contains(label, "video"):
		return "video"
	}
	return "other"
}

func classify(t testing.TB, label string, s obj) string {
	type metric struct {
		v     float64
		ok    bool
		limit float64
	}
	switch kind := mediaType(label); kind {
	case "audio":
		var ms5 []metric
		if c := str(s, "audioCodec"); c != "satin" && c != "satinFullband" {
			d, ok1 := num(s, "averageAudioDegradation")
			c, ok2 := num(s, "averageRatioOfConcealedSamples")
			ms5 = append(ms5, metric{d, ok1, 1.0}, metric{c, ok2, 0.07})
		}
		rtt, ok3 := ms(t, s, "averageRoundTripTime")
		loss, ok4 := num(s, "averagePacketLossRate")
		jit, ok5 := ms(t, s, "averageJitter")
		ms5 = append(ms5, metric{rtt, ok3, 500}, metric{loss, ok4, 0.1}, metric{jit, ok5, 30})
		seen, poor := false, false
		for _, m := range ms5 {
			if m.ok {
				seen = true
				poor = poor || m.v > m.limit
			}
		}
		switch {
		case !seen:
			return "unclassified"
		case poor:
			return "poor"
		}
		return "good"
	case "video", "vbss":
		fpsLimit := 7.0
		if kind == "vbss" {
			fpsLimit = 2
		}
		if v, ok := num(s, "averageVideoFrameLossPercentage"); ok {
			return map[bool]string{true: "poor", false: "good"}[v > 50]
		}
		fps, ok := num(s, "averageVideoFrameRate")
		if !ok {
			fps, ok = num(s, "averageReceivedFrameRate")
		}
		if ok {
			return map[bool]string{true: "poor", false: "good"}[fps < fpsLimit]
		}
		if v, ok := num(s, "postForwardErrorCorrectionPacketLossRate"); ok {
			return map[bool]string{true: "poor", false: "good"}[v > 0.15]
		}
		return "unclassified"
	}
	return "other"
}

// identityKind returns the one identity set in a communicationsIdentitySet.
func identityKind(t testing.TB, p obj) (string, obj) {
	t.Helper()
	id, _ := p["identity"].(obj)
	kind, who := "", obj(nil)
	for k, v := range id {
		if o, ok := v.(obj); ok && k != "@odata.type" {
			if kind != "" {
				t.Fatalf("participant %v has two identities: %s and %s", p["id"], kind, k)
			}
			kind, who = k, o
		}
	}
	return kind, who
}

// ---------------------------------------------------------------------------

func jsonl(t testing.TB, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := WriteJSONL(&buf, o)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteJSONL returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	small := Options{Seed: 7, Calls: 40}
	tests := []struct {
		name string
		a, b Options
		same bool
	}{
		{"same seed", Options{Seed: 1}, Options{Seed: 1}, true},
		{"same seed, small week", small, small, true},
		{"defaults spelled out", Options{Seed: 3, Calls: 40}, Options{Seed: 3, Days: 7, Calls: 40, Users: 40, TenantID: DefaultTenantID, Domain: DefaultDomain, Start: DefaultStart.Add(5 * time.Hour)}, true},
		{"other seed", small, Options{Seed: 8, Calls: 40}, false},
		{"other tenant", small, Options{Seed: 7, Calls: 40, TenantID: "0b7d2e61-5a3c-4f18-9e20-7c4d1a8b3f90"}, false},
		{"other start", small, Options{Seed: 7, Calls: 40, Start: DefaultStart.AddDate(0, 0, 7)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := jsonl(t, tt.a), jsonl(t, tt.b)
			if got := bytes.Equal(a, b); got != tt.same {
				t.Fatalf("outputs equal = %v, want %v", got, tt.same)
			}
		})
	}
}

func TestWeekAndJSONLAgree(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{Seed: 11}, {Seed: 5, Calls: 25, Users: 9, Days: 3}} {
		var want bytes.Buffer
		calls := Week(o)
		for _, c := range calls {
			want.Write(c.Raw)
			want.WriteByte('\n')
		}
		if got := jsonl(t, o); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("seed %d: WriteJSONL and Week differ (%d vs %d bytes)", o.Seed, len(got), want.Len())
		}
		if n := strings.Count(want.String(), "\n"); n != len(calls) || n != o.withDefaults().Calls {
			t.Fatalf("seed %d: %d lines, %d calls", o.Seed, n, len(calls))
		}
	}
}

// TestWriteJSONLError: a failing writer stops the stream with its error.
func TestWriteJSONLError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	w := &failingWriter{after: 3, err: boom}
	n, err := WriteJSONL(w, Options{Seed: 1, Calls: 30})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if n != w.written+10 || w.calls != 4 {
		t.Fatalf("n = %d after %d writes, writer saw %d bytes", n, w.calls, w.written)
	}
}

type failingWriter struct {
	after, calls int
	written      int64
	err          error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls > w.after {
		return 10, w.err
	}
	w.written += int64(len(p))
	return len(p), nil
}

// checkRecord checks one record's shape and internal consistency and that the
// Call fields agree with it.
func checkRecord(t testing.TB, c Call) obj {
	t.Helper()
	m := decode(t, c.Raw)
	if bytes.ContainsAny(c.Raw, "\n\r") {
		t.Fatalf("call %s: record is not on one line", c.ID)
	}
	if id := str(m, "id"); id != c.ID || !guidRe.MatchString(id) {
		t.Fatalf("id %q, Call.ID %q", id, c.ID)
	}
	if v, _ := num(m, "version"); int(v) != c.Version || v < 1 {
		t.Fatalf("call %s: version %v, Call.Version %d", c.ID, v, c.Version)
	}
	start, end := parseTime(t, m, "startDateTime"), parseTime(t, m, "endDateTime")
	last := parseTime(t, m, "lastModifiedDateTime")
	if !start.Equal(c.Start) || !end.Equal(c.End) || !last.Equal(c.LastModified) {
		t.Fatalf("call %s: times %v %v %v, Call has %v %v %v", c.ID, start, end, last, c.Start, c.End, c.LastModified)
	}
	if !end.After(start) || !last.After(end) {
		t.Fatalf("call %s: start %v end %v lastModified %v", c.ID, start, end, last)
	}
	switch str(m, "type") {
	case "peerToPeer", "groupCall", "unknown":
	default:
		t.Fatalf("call %s: type %q", c.ID, m["type"])
	}
	if _, ok := m["organizer_v2"]; !ok {
		t.Fatalf("call %s: no organizer_v2", c.ID)
	}
	if len(objs(m, "participants_v2")) == 0 {
		t.Fatalf("call %s: no participants_v2", c.ID)
	}
	for _, k := range []string{"organizer", "participants"} {
		if _, ok := m[k]; ok {
			t.Fatalf("call %s: deprecated %s present", c.ID, k)
		}
	}
	sessions := objs(m, "sessions")
	if len(sessions) == 0 {
		t.Fatalf("call %s: no sessions", c.ID)
	}
	first, lastEnd := end, start
	for _, s := range sessions {
		if !guidRe.MatchString(str(s, "id")) {
			t.Fatalf("call %s: session id %q", c.ID, s["id"])
		}
		ss, se := parseTime(t, s, "startDateTime"), parseTime(t, s, "endDateTime")
		if ss.Before(start) || se.After(end) || !se.After(ss) {
			t.Fatalf("call %s session %s: %v..%v outside call %v..%v", c.ID, s["id"], ss, se, start, end)
		}
		first, lastEnd = minTime(first, ss), maxTime(lastEnd, se)
		segs := objs(s, "segments")
		if len(segs) == 0 {
			t.Fatalf("call %s session %s: no segments", c.ID, s["id"])
		}
		for _, g := range segs {
			gs, ge := parseTime(t, g, "startDateTime"), parseTime(t, g, "endDateTime")
			if gs.Before(ss) || ge.After(se) || !ge.After(gs) || !guidRe.MatchString(str(g, "id")) {
				t.Fatalf("call %s session %s: segment %s %v..%v", c.ID, s["id"], g["id"], gs, ge)
			}
			media, ok := g["media"].([]any)
			if !ok {
				t.Fatalf("call %s: segment %s has no media array", c.ID, g["id"])
			}
			for _, x := range media {
				md := x.(obj)
				streams := objs(md, "streams")
				if len(streams) == 0 {
					t.Fatalf("call %s: media %s without streams", c.ID, md["label"])
				}
				for _, side := range []string{"callerNetwork", "calleeNetwork"} {
					n, _ := md[side].(obj)
					if n == nil {
						t.Fatalf("call %s: no %s", c.ID, side)
					}
					if str(n, "connectionType") != "wifi" {
						for k, v := range n {
							if strings.HasPrefix(k, "wifi") && v != nil {
								t.Fatalf("call %s: %s is %s but %s = %v", c.ID, side, n["connectionType"], k, v)
							}
						}
					}
				}
				for _, st := range streams {
					ts, te := parseTime(t, st, "startDateTime"), parseTime(t, st, "endDateTime")
					if ts.Before(gs) || te.After(ge) || te.Before(ts) {
						t.Fatalf("call %s: stream %s %v..%v outside segment %v..%v", c.ID, st["streamId"], ts, te, gs, ge)
					}
					if d := str(st, "streamDirection"); d != "callerToCallee" && d != "calleeToCaller" {
						t.Fatalf("call %s: streamDirection %q", c.ID, d)
					}
					for _, k := range []string{"averageJitter", "maxJitter", "averageRoundTripTime", "maxRoundTripTime", "averageFreezeDuration"} {
						ms(t, st, k)
					}
				}
			}
		}
	}
	if !first.Equal(start) || !lastEnd.Equal(end) {
		t.Fatalf("call %s: sessions span %v..%v, call %v..%v", c.ID, first, lastEnd, start, end)
	}
	return m
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func TestRecordsWellFormed(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{Seed: 1}, {Seed: 99, Start: time.Date(2026, 7, 6, 0, 0, 0, 0, time.UTC), Calls: 120, Users: 200}} {
		calls := weekSeed1()
		if o.Seed != 1 {
			calls = Week(o)
		}
		want := o.Calls
		if want == 0 {
			want = DefaultCalls
		}
		if len(calls) != want {
			t.Fatalf("%d calls, want %d", len(calls), want)
		}
		seen := map[string]bool{}
		for i, c := range calls {
			checkRecord(t, c)
			if seen[c.ID] {
				t.Fatalf("duplicate call id %s", c.ID)
			}
			seen[c.ID] = true
			if i > 0 && c.Start.Before(calls[i-1].Start) {
				t.Fatalf("calls not sorted by start at %d", i)
			}
		}
	}
}

// weekStats is what TestDistribution measures over a generated week.
type weekStats struct {
	calls, sessions, pstn, dupRecords, twoSegments, setupFailed, feedback int
	maxSessions, maxParticipants                                          int
	types, platforms, families, kinds, roles, codecs, ratings             map[string]int
	quality                                                               map[string]map[string]int
	vbssLowGood, videoPoorFrameLoss, videoPoorFrameRate                   int
	satinExempt, weekend, businessHours, adminUnits                       int
	formula                                                               map[byte]int
	phoneOrganizer                                                        int
}

func measure(t testing.TB, calls []Call) weekStats {
	t.Helper()
	w := weekStats{types: map[string]int{}, platforms: map[string]int{}, families: map[string]int{}, kinds: map[string]int{},
		roles: map[string]int{}, codecs: map[string]int{}, ratings: map[string]int{}, formula: map[byte]int{},
		quality: map[string]map[string]int{"audio": {}, "video": {}, "vbss": {}}}
	berlin := time.FixedZone("CET", 3600) // the default week is in November
	for _, c := range calls {
		m := checkRecord(t, c)
		w.calls++
		w.types[str(m, "type")]++
		local := c.Start.In(berlin)
		if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w.weekend++
		} else if h := local.Hour(); h >= 7 && h < 19 {
			w.businessHours++
		}
		if org, _ := m["organizer_v2"].(obj); org != nil {
			if k, who := identityKind(t, org); k == "phone" {
				w.phoneOrganizer++
				if !e164Re.MatchString(str(who, "id")) {
					t.Fatalf("phone organizer %v", who["id"])
				}
			}
		}
		parts := objs(m, "participants_v2")
		w.maxParticipants = max(w.maxParticipants, len(parts))
		for _, p := range parts {
			k, who := identityKind(t, p)
			w.kinds[k]++
			if name := str(who, "displayName"); name != "" && strings.ContainsAny(name[:1], "=+") {
				w.formula[name[0]]++
			}
			if len(list(p, "administrativeUnitInfos")) > 0 {
				w.adminUnits++
			}
		}
		sessions := objs(m, "sessions")
		w.sessions += len(sessions)
		w.maxSessions = max(w.maxSessions, len(sessions))
		ids, dup, pstn := map[string]bool{}, false, false
		for _, s := range sessions {
			dup = dup || ids[str(s, "id")]
			ids[str(s, "id")] = true
			for _, side := range []string{"caller", "callee"} {
				e := s[side].(obj)
				ua := e["userAgent"].(obj)
				if role := str(ua, "role"); role != "" {
					w.roles[role]++
					pstn = pstn || role == "mediationServer"
					continue
				}
				w.platforms[str(ua, "platform")]++
				w.families[str(ua, "productFamily")]++
				if fb, _ := e["feedback"].(obj); fb != nil {
					w.feedback++
					w.ratings[str(fb, "rating")]++
				}
			}
			segs := objs(s, "segments")
			if len(segs) > 1 {
				f, _ := segs[0]["failureInfo"].(obj)
				if str(f, "stage") == "midcall" {
					w.twoSegments++
				}
			}
			if f, _ := s["failureInfo"].(obj); str(f, "stage") == "callSetup" && len(list(segs[0], "media")) == 0 {
				w.setupFailed++
			}
			for _, g := range segs {
				for _, md := range objs(g, "media") {
					label := str(md, "label")
					for _, st := range objs(md, "streams") {
						q := classify(t, label, st)
						kind := mediaType(label)
						w.quality[kind][q]++
						if kind == "audio" {
							w.codecs[str(st, "audioCodec")]++
							c := str(st, "audioCodec")
							d, _ := num(st, "averageAudioDegradation")
							if q == "good" && (c == "satin" || c == "satinFullband") && d > 1 {
								w.satinExempt++
							}
						}
						fps, fpsOK := num(st, "averageVideoFrameRate")
						_, flossOK := num(st, "averageVideoFrameLossPercentage")
						if kind == "vbss" && q == "good" && fpsOK && fps >= 2 && fps < 7 {
							w.vbssLowGood++
						}
						if kind == "video" && q == "poor" {
							if flossOK {
								w.videoPoorFrameLoss++
							} else if fpsOK {
								w.videoPoorFrameRate++
							}
						}
					}
				}
			}
		}
		if dup {
			w.dupRecords++
		}
		if pstn {
			w.pstn++
		}
	}
	return w
}

func TestDistribution(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 42} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			calls := weekSeed1()
			if seed != 1 {
				calls = Week(Options{Seed: seed})
			}
			w := measure(t, calls)
			share := func(n int) float64 { return float64(n) / float64(w.calls) }
			checks := []struct {
				what string
				ok   bool
			}{
				{"a record with more than 60 sessions", w.maxSessions > 60},
				{"a record with more than 130 participants", w.maxParticipants > 130},
				{"records where a session id repeats", w.dupRecords > 0},
				{"PSTN records ~15%", share(w.pstn) >= 0.10 && share(w.pstn) <= 0.22},
				{"inbound PSTN with a phone organizer", w.phoneOrganizer > 0},
				{"peerToPeer ~55%", share(w.types["peerToPeer"]) >= 0.45 && share(w.types["peerToPeer"]) <= 0.65},
				{"groupCall ~40%", share(w.types["groupCall"]) >= 0.30 && share(w.types["groupCall"]) <= 0.50},
				{"a few unknown", w.types["unknown"] > 0 && share(w.types["unknown"]) < 0.08},
				{"feedback on ~10% of sessions", float64(w.feedback)/float64(w.sessions) >= 0.05 && float64(w.feedback)/float64(w.sessions) <= 0.15},
				{"two-segment sessions after a midcall failure", w.twoSegments > 0},
				{"sessions failed at call setup without media", w.setupFailed > 0},
				{"mostly Berlin business hours", share(w.businessHours) >= 0.85},
				{"some weekend calls", w.weekend > 0 && share(w.weekend) < 0.05},
				{"members of administrative units", w.adminUnits > 0},
				{"a display name starting with =", w.formula['='] > 0},
				{"a display name starting with +", w.formula['+'] > 0},
				{"VBSS between 2 and 7 fps, good", w.vbssLowGood > 0},
				{"video poor by frame loss", w.videoPoorFrameLoss > 0},
				{"video poor by frame rate", w.videoPoorFrameRate > 0},
				{"SATIN good only by its exemption", w.satinExempt > 0},
			}
			for _, c := range checks {
				if !c.ok {
					t.Errorf("want %s; stats: %+v", c.what, w)
				}
			}
			for _, p := range []string{"windows", "macOS", "web", "iOS", "android", "ipPhone", "roomSystem", "surfaceHub", "unknown", "unknownFutureValue"} {
				if w.platforms[p] == 0 {
					t.Errorf("no %s endpoint: %v", p, w.platforms)
				}
			}
			if w.platforms["windows"] < w.platforms["macOS"] || w.platforms["unknownFutureValue"] > w.platforms["macOS"]/4 {
				t.Errorf("implausible platform mix: %v", w.platforms)
			}
			for _, f := range []string{"teams", "skypeForBusiness", "azureCommunicationServices", "unknown"} {
				if w.families[f] == 0 {
					t.Errorf("no %s product family: %v", f, w.families)
				}
			}
			if w.families["teams"] < 10*(w.families["skypeForBusiness"]+w.families["azureCommunicationServices"]+w.families["unknown"]) {
				t.Errorf("teams should dominate: %v", w.families)
			}
			for _, k := range []string{"user", "guest", "phone", "applicationInstance", "encrypted"} {
				if w.kinds[k] == 0 {
					t.Errorf("no %s participant: %v", k, w.kinds)
				}
			}
			if w.kinds["user"] < w.kinds["guest"]+w.kinds["phone"]+w.kinds["applicationInstance"]+w.kinds["encrypted"] {
				t.Errorf("users should be most participants: %v", w.kinds)
			}
			for _, r := range []string{"mediationServer", "conferencingAttendant", "conferencingAnnouncementService", "skypeForBusinessAutoAttendant", "skypeForBusinessCallQueues"} {
				if w.roles[r] == 0 {
					t.Errorf("no %s service endpoint: %v", r, w.roles)
				}
			}
			for _, c := range []string{"opus", "satin", "satinFullband", "silkWide", "g722", "unknownFutureValue"} {
				if w.codecs[c] == 0 {
					t.Errorf("no %s audio stream: %v", c, w.codecs)
				}
			}
			for _, r := range ratings {
				if w.ratings[r] == 0 {
					t.Errorf("no %s feedback: %v", r, w.ratings)
				}
			}
			for kind, q := range w.quality {
				total := q["good"] + q["poor"] + q["unclassified"]
				if q["good"] == 0 || q["poor"] == 0 || q["unclassified"] == 0 {
					t.Errorf("%s streams: %v, want good, poor and unclassified", kind, q)
				}
				if u := float64(q["unclassified"]) / float64(total); u < 0.02 || u > 0.10 {
					t.Errorf("%s: %.1f%% unclassified, want ~5%%", kind, 100*u)
				}
			}
			a := w.quality["audio"]
			if poor := float64(a["poor"]) / float64(a["poor"]+a["good"]); poor < 0.08 || poor > 0.15 {
				t.Errorf("%.1f%% of classified audio streams poor, want 8-15%%", 100*poor)
			}
		})
	}
}

// TestSpecialsInSmallWeeks: the paging, transfer and failure cases are in
// every week of 20 calls or more, whatever the seed.
func TestSpecialsInSmallWeeks(t *testing.T) {
	t.Parallel()
	for seed := int64(0); seed < 4; seed++ {
		w := measure(t, Week(Options{Seed: seed, Calls: 20, Days: 2, Users: 8}))
		if w.maxSessions <= 60 || w.maxParticipants <= 130 || w.dupRecords == 0 || w.twoSegments == 0 ||
			w.setupFailed == 0 || w.roles["skypeForBusinessAutoAttendant"] == 0 || w.phoneOrganizer == 0 {
			t.Errorf("seed %d: %+v", seed, w)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	summer := time.Date(2026, 7, 6, 13, 30, 0, 0, time.UTC)
	tests := []struct {
		name       string
		o          Options
		calls      int
		from, to   time.Time
		tenant     string
		domain     string
		directory  int
		localHours [2]int // business hours in local time, checked with the zone below
		zone       *time.Location
	}{
		{"defaults", Options{}, 300, DefaultStart, DefaultStart.AddDate(0, 0, 7), DefaultTenantID, DefaultDomain, 44, [2]int{5, 24}, time.FixedZone("CET", 3600)},
		{"one summer day", Options{Seed: 4, Start: summer, Days: 1, Calls: 30}, 30,
			time.Date(2026, 7, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 7, 0, 0, 0, 0, time.UTC), DefaultTenantID, DefaultDomain, 44, [2]int{5, 24}, time.FixedZone("CEST", 7200)},
		{"own tenant, tiny directory", Options{Seed: 4, Calls: 5, Users: 2, TenantID: "11111111-2222-4333-8444-555555555555", Domain: "example.org"}, 5,
			DefaultStart, DefaultStart.AddDate(0, 0, 7), "11111111-2222-4333-8444-555555555555", "example.org", 12, [2]int{5, 24}, time.FixedZone("CET", 3600)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := Week(tt.o)
			if len(calls) != tt.calls {
				t.Fatalf("%d calls, want %d", len(calls), tt.calls)
			}
			for _, c := range calls {
				if c.Start.Before(tt.from) || !c.Start.Before(tt.to) {
					t.Fatalf("call %s starts %v, outside %v..%v", c.ID, c.Start, tt.from, tt.to)
				}
				if h := c.Start.In(tt.zone).Hour(); h < tt.localHours[0] || h >= tt.localHours[1] {
					t.Fatalf("call %s starts at %v local", c.ID, c.Start.In(tt.zone))
				}
				if !bytes.Contains(c.Raw, []byte(`"tenantId":"`+tt.tenant+`"`)) && bytes.Contains(c.Raw, []byte(`"user":{`)) {
					t.Fatalf("call %s: tenant %s not used", c.ID, tt.tenant)
				}
			}
			dir := Directory(tt.o)
			if len(dir) != tt.directory {
				t.Fatalf("directory of %d, want %d", len(dir), tt.directory)
			}
			for _, u := range dir {
				if !strings.HasSuffix(u.UserPrincipalName, "@"+tt.domain) {
					t.Fatalf("UPN %q not in %s", u.UserPrincipalName, tt.domain)
				}
			}
		})
	}
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	dir := Directory(Options{Seed: 1})
	ids, upns := map[string]bool{}, map[string]bool{}
	var rooms, sales, support int
	names := map[string]bool{}
	upnRe := regexp.MustCompile(`^[a-z0-9.\-]+@kestrel-bay\.example$`)
	for _, u := range dir {
		if !guidRe.MatchString(u.ID) || ids[u.ID] {
			t.Fatalf("bad or duplicate id %q", u.ID)
		}
		if !upnRe.MatchString(u.UserPrincipalName) || upns[u.UserPrincipalName] {
			t.Fatalf("bad or duplicate UPN %q", u.UserPrincipalName)
		}
		ids[u.ID], upns[u.UserPrincipalName], names[u.DisplayName] = true, true, true
		if u.Room {
			rooms++
		}
		for _, au := range u.AdministrativeUnits {
			switch au {
			case AdminUnitSales:
				sales++
			case AdminUnitSupport:
				support++
			default:
				t.Fatalf("unknown administrative unit %q", au)
			}
		}
	}
	if len(dir) != DefaultUsers+4 || rooms != 4 || sales < 5 || support < 5 {
		t.Fatalf("%d accounts, %d rooms, %d in Sales, %d in Support", len(dir), rooms, sales, support)
	}
	for _, n := range []string{"=SUM(A1) Test", "+Reception Desk", `Katarzyna "Kasia" Nowak`} {
		if !names[n] {
			t.Errorf("no user named %s", n)
		}
	}
	// The directory is the one the calls use.
	raw := jsonl(t, Options{Seed: 1})
	for _, u := range dir[:10] {
		if !bytes.Contains(raw, []byte(u.ID)) {
			t.Errorf("user %s (%s) never calls", u.DisplayName, u.ID)
		}
	}
}

// TestUpdate checks later versions of several calls.
func TestUpdate(t *testing.T) {
	t.Parallel()
	calls := Week(Options{Seed: 1, Calls: 40})
	filled := 0
	for _, c := range calls {
		u := Update(c, 9)
		if u.ID != c.ID || !u.Start.Equal(c.Start) || !u.End.Equal(c.End) {
			t.Fatalf("Update changed identity: %s %v %v -> %s %v %v", c.ID, c.Start, c.End, u.ID, u.Start, u.End)
		}
		if u.Version != c.Version+1 || !u.LastModified.After(c.LastModified) {
			t.Fatalf("call %s: version %d -> %d, lastModified %v -> %v", c.ID, c.Version, u.Version, c.LastModified, u.LastModified)
		}
		m := checkRecord(t, u)
		old := decode(t, c.Raw)
		if str(m, "startDateTime") != str(old, "startDateTime") {
			t.Fatalf("call %s: startDateTime rewritten", c.ID)
		}
		changed := nulls(m) < nulls(old) || feedbacks(m) > feedbacks(old)
		if fillable(old) > 0 && !changed {
			t.Fatalf("call %s: no telemetry filled in (nulls %d -> %d, feedback %d -> %d)", c.ID, nulls(old), nulls(m), feedbacks(old), feedbacks(m))
		}
		if changed {
			filled++
		}
		if len(objs(m, "sessions")) != len(objs(old, "sessions")) || len(objs(m, "participants_v2")) != len(objs(old, "participants_v2")) {
			t.Fatalf("call %s: sessions or participants changed", c.ID)
		}
		if !bytes.HasPrefix(u.Raw, []byte(`{"@odata.context":`)) {
			t.Fatalf("call %s: key order lost: %.60s", c.ID, u.Raw)
		}
		if again := Update(c, 9); !bytes.Equal(again.Raw, u.Raw) || !again.LastModified.Equal(u.LastModified) {
			t.Fatalf("call %s: Update is not deterministic", c.ID)
		}
		if other := Update(c, 10); bytes.Equal(other.Raw, u.Raw) {
			t.Fatalf("call %s: seed ignored", c.ID)
		}
		if v3 := Update(u, 9); v3.Version != c.Version+2 || !v3.LastModified.After(u.LastModified) {
			t.Fatalf("call %s: second update gives version %d at %v", c.ID, v3.Version, v3.LastModified)
		}
	}
	if filled < len(calls)*9/10 {
		t.Fatalf("telemetry filled in for %d of %d calls", filled, len(calls))
	}
	bad := Call{ID: "x", Version: 1, Raw: []byte(`{"id":`)}
	if got := Update(bad, 1); got.Version != 1 || !bytes.Equal(got.Raw, bad.Raw) {
		t.Fatalf("Update of a broken record changed it: %+v", got)
	}
}

// nulls counts the null stream metrics of a record.
func nulls(m obj) int {
	n := 0
	for _, s := range objs(m, "sessions") {
		for _, g := range objs(s, "segments") {
			for _, md := range objs(g, "media") {
				for _, st := range objs(md, "streams") {
					for _, v := range st {
						if v == nil {
							n++
						}
					}
				}
			}
		}
	}
	return n
}

// fillable counts what a later version could fill in: null feedback of
// client sides and null headline metrics of streams.
func fillable(m obj) int {
	n := 0
	for _, s := range objs(m, "sessions") {
		for _, side := range []string{"caller", "callee"} {
			if e, _ := s[side].(obj); e != nil {
				if fb, ok := e["feedback"]; ok && fb == nil {
					n++
				}
			}
		}
		for _, g := range objs(s, "segments") {
			for _, md := range objs(g, "media") {
				keys := []string{"averageRoundTripTime", "averageVideoFrameRate"}
				if mediaType(str(md, "label")) == "audio" {
					keys = []string{"averageRoundTripTime", "averageJitter", "averagePacketLossRate", "averageAudioDegradation"}
				}
				for _, st := range objs(md, "streams") {
					for _, k := range keys {
						if v, ok := st[k]; ok && v == nil {
							n++
						}
					}
				}
			}
		}
	}
	return n
}

func feedbacks(m obj) int {
	n := 0
	for _, s := range objs(m, "sessions") {
		for _, side := range []string{"caller", "callee"} {
			if e, _ := s[side].(obj); e != nil && e["feedback"] != nil {
				n++
			}
		}
	}
	return n
}

// TestGolden pins the output: a readable small record, and the digest of the
// default week (any change to the generator shows up here; rerun with -update
// after checking the change is intended).
func TestGolden(t *testing.T) {
	t.Parallel()
	calls := Week(Options{Seed: 1, Calls: 20})
	var small *Call
	for i := range calls {
		if bytes.Count(calls[i].Raw, []byte(`"segments@odata.context"`)) == 1 && bytes.Contains(calls[i].Raw, []byte(`"type":"peerToPeer"`)) {
			small = &calls[i]
			break
		}
	}
	if small == nil {
		t.Fatal("no one-session peerToPeer call among the first 20")
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, small.Raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	sum := sha256.Sum256(jsonl(t, Options{Seed: 1}))
	digest := hex.EncodeToString(sum[:]) + "\n"
	for _, g := range []struct{ file, got string }{
		{"p2p-record.golden.json", pretty.String()},
		{"week-seed1.sha256", digest},
	} {
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := atomicfile.WriteFile(path, []byte(g.got)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if string(want) != g.got {
			t.Errorf("%s differs from the generated output; if the change is intended, rerun with -update", path)
		}
	}
}

func TestAppenders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"fixed zero", string(appendFixed(nil, 0, 4)), "0.0"},
		{"fixed small", string(appendFixed(nil, 0.00081, 4)), "0.0008"},
		{"fixed trims", string(appendFixed(nil, 12.3700001, 2)), "12.37"},
		{"fixed rounds up", string(appendFixed(nil, 0.99996, 4)), "1.0"},
		{"fixed null", string(appendFixed(nil, nan, 2)), "null"},
		{"duration ms", string(appendDur(nil, 16)), `"PT0.016S"`},
		{"duration trims", string(appendDur(nil, 120)), `"PT0.12S"`},
		{"duration whole", string(appendDur(nil, 2000)), `"PT2S"`},
		{"duration long", string(appendDur(nil, 1742.4)), `"PT1.742S"`},
		{"time", string(appendTime(nil, time.Date(2026, 11, 12, 14, 0, 31, 441839200, time.UTC))), `"2026-11-12T14:00:31.4418392Z"`},
		{"time zero fraction", string(appendTime(nil, time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))), `"2026-01-02T02:04:05.0000000Z"`},
		{"string escapes", string(appendStr(nil, "a\"b\\c\n\x01é\u2028")), `"a\"b\\c\n\u0001é\u2028"`},
		{"string invalid utf8", string(appendStr(nil, "a\xffb")), `"a\ufffdb"`},
		{"padded", string(appendPadded(nil, 42, 10)), "0000000042"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	for _, s := range []string{"", "plain", "Ana Lúcia", `=SUM(A1) "x"`, "tab\tnewline\n", "\x00\x1f", "a\xffb\u2029"} {
		var back string
		if err := json.Unmarshal(appendStr(nil, s), &back); err != nil {
			t.Fatalf("appendStr(%q) is not JSON: %v", s, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("appendStr(%q) round-trips to %q", s, back)
		}
	}
}

func TestBerlinOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    time.Time
		want time.Duration
	}{
		{time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), time.Hour},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), 2 * time.Hour},
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), 2 * time.Hour},
		{time.Date(2026, 10, 25, 0, 59, 0, 0, time.UTC), 2 * time.Hour},
		{time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), time.Hour},
		{time.Date(2026, 11, 12, 12, 0, 0, 0, time.UTC), time.Hour},
	}
	for _, tt := range tests {
		if got := berlinOffset(tt.t); got != tt.want {
			t.Errorf("berlinOffset(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

// FuzzWeek: any options give well-formed records, the same from Week and
// WriteJSONL.
func FuzzWeek(f *testing.F) {
	f.Add(int64(1), 20, 8, 7, int64(0))
	f.Add(int64(-5), 3, 1, 1, int64(1_800_000_000))
	f.Add(int64(1<<62), 25, 300, 30, int64(-86400*365))
	f.Fuzz(func(t *testing.T, seed int64, calls, users, days int, startOffset int64) {
		o := Options{Seed: seed, Calls: 1 + abs(calls)%30, Users: abs(users) % 400, Days: abs(days) % 40,
			Start: DefaultStart.Add(time.Duration(startOffset%(86400*365*20)) * time.Second)}
		var buf bytes.Buffer
		if _, err := WriteJSONL(&buf, o); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
		week := Week(o)
		if len(lines) != len(week) || len(week) != o.Calls {
			t.Fatalf("%d lines, %d calls, want %d", len(lines), len(week), o.Calls)
		}
		for i, c := range week {
			if !bytes.Equal(lines[i], c.Raw) {
				t.Fatalf("record %d differs between Week and WriteJSONL", i)
			}
			checkRecord(t, c)
		}
	})
}

func abs(v int) int {
	if v < 0 {
		return -(v + 1)
	}
	return v
}

// FuzzUpdate: Update never panics, and whatever it changes stays valid JSON.
func FuzzUpdate(f *testing.F) {
	seeds := 0
	for _, c := range Week(Options{Seed: 3, Calls: 20}) {
		if len(c.Raw) < 40000 && seeds < 3 {
			f.Add(c.Raw, int64(1))
			seeds++
		}
	}
	for _, name := range []string{"callrecord-peertopeer-pstn.json", "callrecord-sessions-page2.json"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "shared", "samples", "graph", name)); err == nil {
			f.Add(b, int64(2))
		}
	}
	f.Add([]byte(`{"version":"x","sessions":[{"caller":{"feedback":null},"segments":[{"media":[{"label":null,"streams":[{}]}]}]}]}`), int64(3))
	f.Add([]byte(`[1,2]`), int64(4))
	f.Add([]byte(`{"a":1} {"b":2}`), int64(5))
	f.Fuzz(func(t *testing.T, raw []byte, seed int64) {
		in := Call{ID: "c", Version: 1, Raw: raw, End: DefaultStart}
		out := Update(in, seed)
		if bytes.Equal(out.Raw, raw) && out.Version == in.Version {
			return // left alone
		}
		if !json.Valid(out.Raw) {
			t.Fatalf("Update produced invalid JSON: %.200s", out.Raw)
		}
		if !bytes.Contains(out.Raw, []byte(`"version":`+strconv.Itoa(out.Version))) {
			t.Fatalf("version %d not written", out.Version)
		}
	})
}

// BenchmarkWriteJSONL measures generation throughput (MB/s of JSON).
func BenchmarkWriteJSONL(b *testing.B) {
	o := Options{Seed: 1}
	n, err := WriteJSONL(io.Discard, o)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := WriteJSONL(io.Discard, o); err != nil {
			b.Fatal(err)
		}
	}
}
