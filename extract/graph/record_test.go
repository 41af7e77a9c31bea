package graph

import (
	"bytes"
	"callstats/internal/atomicfile"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// recordSamples are the call record samples (first pages as Graph returns them).
var recordSamples = []string{
	"callrecord-groupcall.json",
	"callrecord-peertopeer-pstn.json",
	"callrecord-archived-v1.json",
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeSample(t *testing.T, name string) *CallRecord {
	t.Helper()
	rec, err := DecodeRecord(readTestdata(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rec
}

// findStream returns the stream with the id, or fails.
func findStream(t *testing.T, rec *CallRecord, id string) Stream {
	t.Helper()
	for _, s := range rec.Sessions {
		for _, seg := range s.Segments {
			for _, m := range seg.Media {
				for _, st := range m.Streams {
					if st.StreamID != nil && *st.StreamID == id {
						return st
					}
				}
			}
		}
	}
	t.Fatalf("no stream %s", id)
	return Stream{}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestDecodeGroupCall(t *testing.T) {
	rec := decodeSample(t, "callrecord-groupcall.json")
	if rec.ID != "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e" || rec.Version != 2 || rec.Type != "groupCall" {
		t.Errorf("id/version/type %s %d %s", rec.ID, rec.Version, rec.Type)
	}
	// 7 fractional digits are kept to the 100 ns.
	if want := time.Date(2026, 11, 12, 14, 0, 31, 441839200, time.UTC); !rec.StartDateTime.Equal(want) {
		t.Errorf("startDateTime %v, want %v", rec.StartDateTime, want)
	}
	if want := time.Date(2026, 11, 12, 16, 4, 17, 552193000, time.UTC); !rec.LastModifiedDateTime.Equal(want) {
		t.Errorf("lastModifiedDateTime %v, want %v", rec.LastModifiedDateTime, want)
	}
	if len(rec.Sessions) != 3 || !strings.Contains(rec.SessionsNextLink, "$skiptoken=") {
		t.Errorf("%d sessions, nextLink %q", len(rec.Sessions), rec.SessionsNextLink)
	}
	if rec.Organizer != nil || rec.Participants != nil || len(rec.ParticipantsV2) != 0 {
		t.Error("deprecated fields or participants_v2 decoded from a record without them")
	}
	kind, org := rec.OrganizerIdentity()
	if kind != "user" || deref(org.DisplayName) != "Henrike Vossberg" || deref(org.UserPrincipalName) != "henrike.vossberg@kestrel-bay.example" {
		t.Errorf("organizer %s %+v", kind, org)
	}

	// Durations become seconds; nulls stay nil.
	poor := findStream(t, rec, "2204958731")
	for name, got := range map[string]any{
		"averageJitter":        deref(poor.AverageJitter),
		"maxJitter":            deref(poor.MaxJitter),
		"averageRoundTripTime": deref(poor.AverageRoundTripTime),
		"maxRoundTripTime":     deref(poor.MaxRoundTripTime),
	} {
		want := map[string]Duration{"averageJitter": 0.047, "maxJitter": 0.312,
			"averageRoundTripTime": 0.538, "maxRoundTripTime": 1.742}[name]
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if deref(poor.AudioCodec) != "opus" || deref(poor.AverageAudioDegradation) != 1.87 || poor.AverageFreezeDuration != nil || poor.VideoCodec != nil {
		t.Errorf("stream 2204958731: %+v", poor)
	}
	empty := findStream(t, rec, "2204958732")
	v := reflect.ValueOf(empty)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		switch name {
		case "StreamID", "StreamDirection", "StartDateTime", "EndDateTime":
			continue
		}
		if !v.Field(i).IsNil() {
			t.Errorf("stream 2204958732 %s = %v, want nil", name, v.Field(i).Elem())
		}
	}

	// Feedback: rating and the open set of tokens, without @odata.type.
	fb := rec.Sessions[1].Caller.Feedback
	if deref(fb.Rating) != "poor" || deref(fb.Text) != "Kept dropping out, others sounded robotic" {
		t.Errorf("feedback %+v", fb)
	}
	if got := fb.TrueTokens(); !reflect.DeepEqual(got, []string{"CallDroppedUnexpectedly", "DistortedSpeech", "VideoFroze"}) {
		t.Errorf("true tokens %v", got)
	}
	if got := rec.Sessions[0].Caller.Feedback.TrueTokens(); got != nil {
		t.Errorf("no tokens set, got %v", got)
	}
	if rec.Sessions[1].Callee.Feedback != nil {
		t.Error("null feedback decoded as a value")
	}

	// A service endpoint callee has a role and no identity.
	callee := rec.Sessions[2].Callee
	if !callee.IsService() || deref(callee.UserAgent.Role) != "conferencingAttendant" || callee.Who() != nil {
		t.Errorf("service callee: service %v role %v who %v", callee.IsService(), deref(callee.UserAgent.Role), callee.Who())
	}
	if caller := rec.Sessions[2].Caller; caller.IsService() || caller.Who() == nil {
		t.Error("participant caller taken for a service")
	}
}

func TestDecodePeerToPeerPSTN(t *testing.T) {
	rec := decodeSample(t, "callrecord-peertopeer-pstn.json")
	if rec.JoinWebURL != nil || rec.SessionsNextLink != "" || rec.Version != 1 {
		t.Errorf("joinWebUrl %v nextLink %q version %d", rec.JoinWebURL, rec.SessionsNextLink, rec.Version)
	}
	kind, org := rec.OrganizerIdentity()
	if kind != "phone" || deref(org.ID) != "+494060983317" || org.DisplayName != nil {
		t.Errorf("organizer %s %+v", kind, org)
	}
	s := rec.Sessions[0]
	if !s.Caller.IsService() || deref(s.Caller.UserAgent.Role) != "mediationServer" {
		t.Errorf("caller %+v", s.Caller)
	}
	if len(s.Segments) != 2 {
		t.Fatalf("%d segments, want 2", len(s.Segments))
	}
	fi := s.Segments[0].FailureInfo
	if fi == nil || deref(fi.Stage) != "midcall" || s.Segments[1].FailureInfo != nil {
		t.Errorf("failure info %+v / %+v", fi, s.Segments[1].FailureInfo)
	}
	if p := deref(s.Segments[1].Callee.UserAgent.Platform); p != "android" {
		t.Errorf("second segment platform %v", p)
	}
	st := findStream(t, rec, "7301946215")
	if st.AverageAudioDegradation != nil || st.MaxAudioNetworkJitter != nil || deref(st.AverageJitter) != Duration(0.008) {
		t.Errorf("stream 7301946215 %+v", st)
	}
	if n := s.Segments[0].Media[0].CallerNetwork; n == nil || deref(n.ConnectionType) != "wired" || n.LinkSpeed != nil {
		t.Errorf("caller network %+v", n)
	}
}

func TestDecodeSessionsAndParticipantsPages(t *testing.T) {
	var sp struct {
		Value    []Session `json:"value"`
		NextLink string    `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(readTestdata(t, "callrecord-sessions-page2.json"), &sp); err != nil {
		t.Fatal(err)
	}
	if len(sp.Value) != 2 || sp.NextLink != "" {
		t.Fatalf("%d sessions, nextLink %q", len(sp.Value), sp.NextLink)
	}
	failed := sp.Value[1]
	if deref(failed.FailureInfo.Stage) != "callSetup" || len(failed.Segments[0].Media) != 0 || failed.Segments[0].Media == nil {
		t.Errorf("failed session %+v", failed.FailureInfo)
	}
	var pp struct {
		Value    []Participant `json:"value"`
		NextLink string        `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(readTestdata(t, "participants-v2-page.json"), &pp); err != nil {
		t.Fatal(err)
	}
	if len(pp.Value) != 2 || !strings.Contains(pp.NextLink, "participants_v2?$skiptoken=") {
		t.Fatalf("%d participants, nextLink %q", len(pp.Value), pp.NextLink)
	}
	p := pp.Value[0]
	if len(p.AdministrativeUnitInfos) != 1 || p.AdministrativeUnitInfos[0].ID != "a1f3c8e2-5d74-4b09-8e6a-2c9d0f7b3e15" {
		t.Errorf("administrativeUnitInfos %+v", p.AdministrativeUnitInfos)
	}
	if !reflect.DeepEqual(p.Identity.Kinds, []string{"user"}) {
		t.Errorf("kinds %v (nulls must not count)", p.Identity.Kinds)
	}
}

func TestDecodeArchivedV1(t *testing.T) {
	rec := decodeSample(t, "callrecord-archived-v1.json")
	kind, org := rec.OrganizerIdentity()
	if kind != "user" || deref(org.DisplayName) != "Ingrid Halvorsen" {
		t.Errorf("organizer from the deprecated field: %s %+v", kind, org)
	}
	ps := rec.AllParticipants()
	if len(ps) != 2 || ps[0].ID != "6e2b9d41-0c57-4a83-9f16-b3d8e7a25c90" || ps[1].ID != "+4940609800" {
		t.Fatalf("participants from the deprecated list: %+v", ps)
	}
	if k, _ := ps[1].Identity.Primary(); k != "phone" {
		t.Errorf("second participant kind %q, want phone", k)
	}
	s := rec.Sessions[0]
	if who := s.Caller.Who(); who == nil || deref(who.DisplayName) != "Ingrid Halvorsen" {
		t.Errorf("caller from the deprecated identity: %+v", who)
	}
	if who := s.Callee.Who(); who == nil || deref(who.ID) != "+4940609800" {
		t.Errorf("callee from the deprecated identity: %+v", who)
	}
}

func TestUnknownFutureValuePassesThrough(t *testing.T) {
	raw := string(readTestdata(t, "callrecord-peertopeer-pstn.json"))
	for _, old := range []string{`"type": "peerToPeer"`, `"streamDirection": "callerToCallee"`, `"platform": "android"`, `"stage": "midcall"`, `"connectionType": "wired"`} {
		if !strings.Contains(raw, old) {
			t.Fatalf("sample lacks %s", old)
		}
		k, _, _ := strings.Cut(old, ":")
		raw = strings.Replace(raw, old, k+`: "unknownFutureValue"`, 1)
	}
	raw = strings.Replace(raw, `"modalities": [
    "audio"
  ]`, `"modalities": ["audio", "unknownFutureValue"]`, 1)
	rec, err := DecodeRecord([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	seg := rec.Sessions[0].Segments[0]
	got := []any{rec.Type, rec.Modalities[1], deref(seg.Media[0].Streams[0].StreamDirection),
		deref(rec.Sessions[0].Segments[1].Callee.UserAgent.Platform), deref(seg.FailureInfo.Stage),
		deref(seg.Media[0].CallerNetwork.ConnectionType)}
	for i, g := range got {
		if g != "unknownFutureValue" {
			t.Errorf("value %d = %v, want unknownFutureValue", i, g)
		}
	}
}

func TestIdentitySet(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		kinds []string
		id    string // primary identity's id
	}{
		{"null", `null`, nil, ""},
		{"all null", `{"user":null,"phone":null,"@odata.type":"x"}`, nil, ""},
		{"user", `{"user":{"id":"u"}}`, []string{"user"}, "u"},
		{"phone", `{"user":null,"phone":{"id":"+49","displayName":null}}`, []string{"phone"}, "+49"},
		{"acs", `{"azureCommunicationServicesUser":{"id":"8:acs:1"}}`, []string{"acsUser"}, "8:acs:1"},
		{"preference order", `{"phone":{"id":"p"},"guest":{"id":"g"},"user":{"id":"u"}}`, []string{"user", "guest", "phone"}, "u"},
		{"unknown kinds sorted after known", `{"zKind":{"id":"z"},"aKind":{"id":"a"},"device":{"id":"d"}}`, []string{"device", "aKind", "zKind"}, "d"},
		{"not identities", `{"assertedIdentity":{"id":"x"},"endpointType":"default","@odata.type":"t"}`, nil, ""},
		{"non-object ignored", `{"user":"u","phone":5}`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // map order must not matter
				var s IdentitySet
				if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(s.Kinds, tt.kinds) {
					t.Fatalf("kinds %v, want %v", s.Kinds, tt.kinds)
				}
				_, id := s.Primary()
				if got := ""; id != nil {
					got = deref(id.ID).(string)
					if got != tt.id {
						t.Fatalf("primary %q, want %q", got, tt.id)
					}
				} else if tt.id != "" {
					t.Fatalf("no primary, want %q", tt.id)
				}
			}
		})
	}
	for _, bad := range []string{`[]`, `{"user":{"id":5}}`, `"x"`} {
		var s IdentitySet
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"PT0.016S", 0.016, false},
		{"PT0.211S", 0.211, false}, // exactly 0.211, not 0.21100000000000002
		{"PT0.12S", 0.12, false},
		{"PT1.742S", 1.742, false},
		{"PT0S", 0, false},
		{"PT1M", 60, false},
		{"PT1H2M3.5S", 3723.5, false},
		{"PT0,5S", 0.5, false},
		{"PT1.5M", 90, false},
		{"P1D", 86400, false},
		{"P1DT1S", 86401, false},
		{"P2W", 1209600, false},
		{"-PT1.5S", -1.5, false},
		{"+PT2S", 2, false},
		{"PT0.1234567S", 0.1234567, false},
		{"", 0, true},
		{"P", 0, true},
		{"PT", 0, true},
		{"P1DT", 0, true},
		{"T1S", 0, true},
		{"PT1", 0, true},
		{"PTS", 0, true},
		{"PT.S", 0, true},
		{"PT1.2.3S", 0, true},
		{"P1Y", 0, true},
		{"P1M", 0, true},
		{"PT1D", 0, true},
		{"P1H", 0, true},
		{"PTT1S", 0, true},
		{"PT-1S", 0, true},
		{"PT1e3S", 0, true},
		{"0.016", 0, true},
		{"PT" + strings.Repeat("9", 400) + "S", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDuration(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var s struct {
		A *Duration `json:"a"`
		B *Duration `json:"b"`
		C *Duration `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":"PT0.016S","b":null,"c":"\u0050T2S"}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.A == nil || *s.A != 0.016 || s.B != nil || s.C == nil || *s.C != 2 {
		t.Errorf("decoded %v %v %v", deref(s.A), deref(s.B), deref(s.C))
	}
	for _, bad := range []string{`{"a":5}`, `{"a":"5S"}`, `{"a":true}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for _, d := range []Duration{0.016, -1.5, 3723.5, 0} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Errorf("%v -> %s -> %v (%v)", d, b, back, err)
		}
	}
	if _, err := json.Marshal(Duration(math.Inf(1))); err == nil {
		t.Error("infinite duration marshalled")
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	for _, tt := range []struct{ name, json string }{
		{"broken", `{"id":"a","startDateTime":`},
		{"not an object", `[1]`},
		{"no id", `{"startDateTime":"2026-11-12T14:00:31Z"}`},
		{"no start", `{"id":"a"}`},
		{"bad time", `{"id":"a","startDateTime":"yesterday"}`},
		{"bad duration", `{"id":"a","startDateTime":"2026-11-12T14:00:31Z","sessions":[{"segments":[{"media":[{"streams":[{"averageJitter":"fast"}]}]}]}]}`},
		{"wrong type", `{"id":"a","startDateTime":"2026-11-12T14:00:31Z","version":"two"}`},
	} {
		if _, err := DecodeRecord([]byte(tt.json)); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// TestDecodeGolden pins the whole decoded form of each sample; run with
// -update after a deliberate change and review the diff.
func TestDecodeGolden(t *testing.T) {
	for _, name := range recordSamples {
		t.Run(name, func(t *testing.T) {
			rec := decodeSample(t, name)
			got, err := json.MarshalIndent(rec, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".json")+".decoded.json")
			if *update {
				if err := atomicfile.WriteFile(path, got); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded %s differs from %s; rerun with -update if intended", name, path)
			}
		})
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, name := range append(recordSamples, "callrecord-sessions-page2.json", "participants-v2-page.json") {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"id":"a","startDateTime":"2026-11-12T14:00:31Z","organizer":{"x":{"id":"1"}},"participants":[{"phone":{}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := DecodeRecord(b)
		if err != nil {
			if rec != nil {
				t.Fatal("record with an error")
			}
			return
		}
		if rec.ID == "" || rec.StartDateTime.IsZero() {
			t.Fatal("accepted a record without id or start")
		}
		rec.OrganizerIdentity()
		for _, p := range rec.AllParticipants() {
			p.Identity.Primary()
		}
		for _, s := range rec.Sessions {
			for _, e := range []*Endpoint{s.Caller, s.Callee} {
				e.Who()
				e.IsService()
				if e != nil {
					e.Feedback.TrueTokens()
				}
			}
		}
		// Whatever decodes must encode again (durations finite, times in range).
		if _, err := json.Marshal(rec); err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT0.016S", "PT1H2M3.5S", "P1DT1S", "-PT1S", "P2W", "PT0,5S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseDuration(s)
		if err != nil {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%q -> %v", s, v)
		}
		b, err := Duration(v).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := back.UnmarshalJSON(b); err != nil || float64(back) != v {
			t.Fatalf("%q -> %v -> %s -> %v (%v)", s, v, b, back, err)
		}
	})
}
