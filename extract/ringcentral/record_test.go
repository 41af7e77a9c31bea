package ringcentral

import (
	"bytes"
	"callstats/internal/atomicfile"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func samplePage(t *testing.T) *Page {
	t.Helper()
	p, err := DecodePage(readTestdata(t, "call-log-detailed-page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Invalid) > 0 {
		t.Fatalf("invalid records in the sample: %+v", p.Invalid)
	}
	return p
}

func TestDecodeSamplePage(t *testing.T) {
	p := samplePage(t)
	if got := ids(p.Records); !slices.Equal(got, []string{"Zq4dWr1Kx9Ap2Mh", "Tb8eHn3Lc5Vq0Ry", "Kw2pFs7Yd4Gm9Jx"}) {
		t.Fatalf("ids %v", got)
	}
	in := p.Records[0]
	if in.Extension == nil || in.Extension.ID != 2718035011 {
		t.Errorf("extension.id (an integer) %+v", in.Extension)
	}
	if in.To.ExtensionID != "2718035011" || in.To.ExtensionNumber != "104" || in.To.Name != "Priya Raghunathan" {
		t.Errorf("to %+v", in.To)
	}
	if in.From.PhoneNumber != "+15085550187" || in.From.Location != "Worcester, MA" || in.From.ExtensionID != "" {
		t.Errorf("from %+v", in.From)
	}
	if in.SessionID != "48213377009" || in.TelephonySessionID != "s-a7c31b0e55f24c9d8e4b12f0c9a6d1e3" {
		t.Errorf("session ids %q %q", in.SessionID, in.TelephonySessionID)
	}
	if !in.StartTime.Equal(time.Date(2026, 11, 12, 13, 41, 7, 0, time.UTC)) ||
		!in.LastModifiedTime.Equal(time.Date(2026, 11, 12, 13, 49, 26, 541e6, time.UTC)) {
		t.Errorf("times %v %v", in.StartTime, in.LastModifiedTime)
	}
	if in.Duration != 284 || in.Seconds() != 284.312 {
		t.Errorf("duration %d, seconds %v", in.Duration, in.Seconds())
	}
	if in.Recording == nil || in.Recording.ID != "3318904455" || in.Recording.Type != "Automatic" ||
		!strings.HasPrefix(in.Recording.ContentURI, "https://media.ringcentral.com/") {
		t.Errorf("recording %+v", in.Recording)
	}
	if got := in.Recordings(); len(got) != 1 || got[0].ID != "3318904455" {
		t.Errorf("Recordings() %+v: the leg repeats the record's recording", got)
	}
	if in.Billing == nil || in.Billing.CostPurchased != 0 {
		t.Errorf("billing %+v", in.Billing)
	}

	ro := p.Records[1]
	if len(ro.Legs) != 2 {
		t.Fatalf("RingOut legs %d", len(ro.Legs))
	}
	l0, l1 := ro.Legs[0], ro.Legs[1]
	if l0.LegType != LegRingOutToCaller || l1.LegType != LegRingOutToSubscriber {
		t.Errorf("leg types %s %s", l0.LegType, l1.LegType)
	}
	if l0.Master == nil || !*l0.Master || l1.Master == nil || *l1.Master {
		t.Errorf("master %v %v", l0.Master, l1.Master)
	}
	if l1.Seconds() != 398.612 || l1.Extension.ID != 2718035019 || l1.PartyID != "p-c2e914f07a6d48b3b51e7d20a9c3f846-2" {
		t.Errorf("leg 1 %+v", l1)
	}
	if ro.Recording != nil || ro.Recordings() != nil {
		t.Error("a record without recording has one")
	}
	busy := p.Records[2]
	if busy.Result != "Busy" || len(busy.Legs) != 1 || busy.Legs[0].LegType != LegRingOutToCaller {
		t.Errorf("busy RingOut %+v", busy)
	}

	if p.Paging.Page != 1 || p.Paging.TotalPages != 2 || p.Paging.PageStart == nil || *p.Paging.PageStart != 0 ||
		*p.Paging.PageEnd != 2 || p.Paging.TotalElements != 5 {
		t.Errorf("paging %+v", p.Paging)
	}
	if !strings.HasSuffix(p.NextPageURI(), "&perPage=3&page=2") {
		t.Errorf("next page %q", p.NextPageURI())
	}
}

func TestDecodePageGolden(t *testing.T) {
	got, err := json.MarshalIndent(samplePage(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", "call-log-detailed-page.decoded.json")
	if *update {
		if err := atomicfile.WriteFile(path, got); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the decoded sample (run go test -update to accept)", path)
	}
}

// TestDecodePageInvalidRecords: records that cannot be used are reported,
// with their position and id, and the others kept.
func TestDecodePageInvalidRecords(t *testing.T) {
	page := `{"records":[
		{"id":"ok1","startTime":"2026-11-12T10:00:00.000Z"},
		{"id":"noStart"},
		{"startTime":"2026-11-12T10:00:00.000Z"},
		{"id":"badType","startTime":"2026-11-12T10:00:00.000Z","duration":"PT5S"},
		{"id":"badExt","startTime":"2026-11-12T10:00:00.000Z","extension":{"id":"2718035011"}},
		[1,2],
		null,
		{"id":"ok2","startTime":"2026-11-12T09:00:00Z","legs":[{"legType":"Accept"}]}
	]}`
	p, err := DecodePage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p.Records); !slices.Equal(got, []string{"ok1", "ok2"}) {
		t.Errorf("kept %v", got)
	}
	var got []string
	for _, inv := range p.Invalid {
		got = append(got, inv.ID)
		if inv.Err == nil {
			t.Errorf("invalid record %d without error", inv.Index)
		}
	}
	if !slices.Equal(got, []string{"noStart", "", "badType", "badExt", "", ""}) {
		t.Errorf("invalid ids %q", got)
	}
	if p.Invalid[0].Index != 1 || p.Invalid[5].Index != 6 {
		t.Errorf("indexes %+v", p.Invalid)
	}
	if p.Records[1].Legs[0].Master != nil {
		t.Error("absent master is not nil")
	}
}

func TestDecodePageErrors(t *testing.T) {
	for _, in := range []string{``, `null`, `[]`, `"x"`, `{"records":{}}`, `{"records":[}`, `{"paging":{"page":"1"}}`} {
		if p, err := DecodePage([]byte(in)); err == nil || p != nil {
			t.Errorf("DecodePage(%q) = %v, %v; want an error", in, p, err)
		}
	}
	p, err := DecodePage([]byte(` {"records":[]} `))
	if err != nil || len(p.Records) != 0 || p.NextPageURI() != "" {
		t.Errorf("empty page: %+v, %v", p, err)
	}
}

func TestRecordingsOfLegs(t *testing.T) {
	a := &Recording{ID: "1", ContentURI: "https://media/1"}
	b := &Recording{ID: "2", ContentURI: "https://media/2"}
	r := Record{Recording: a, Legs: []Leg{{Recording: a}, {Recording: b}, {}, {Recording: &Recording{ID: "3"}}}}
	got := r.Recordings()
	if len(got) != 2 || got[0].ID != "1" || got[1].ID != "2" {
		t.Errorf("Recordings() %+v, want 1 and 2 (each once, with a content URI)", got)
	}
}

// FuzzDecodePage: no input panics; what decodes without error has, in every
// kept record, an id and a start time, and marshals again.
func FuzzDecodePage(f *testing.F) {
	f.Add(readTestdata(f, "call-log-detailed-page.json"))
	f.Add([]byte(`{"records":[{"id":"a","startTime":"2026-11-12T10:00:00Z","extension":{"id":1},"legs":[{"master":true}]}],"navigation":{"nextPage":{"uri":"x"}}}`))
	f.Add([]byte(`{"records":[{"id":"a"},null,1,{"id":"b","startTime":"2026-11-12T10:00:00.000+02:00","durationMs":-5}]}`))
	f.Add(readTestdata(f, "error-429.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePage(b)
		if err != nil {
			if p != nil {
				t.Fatal("page with an error")
			}
			return
		}
		for _, r := range p.Records {
			if r.ID == "" || r.StartTime.IsZero() {
				t.Fatalf("kept a record without id or start: %+v", r)
			}
			r.Seconds()
			r.Recordings()
			for _, l := range r.Legs {
				l.Seconds()
			}
		}
		for _, inv := range p.Invalid {
			if inv.Err == nil {
				t.Fatal("invalid record without error")
			}
		}
		p.NextPageURI()
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("decoded page does not marshal: %v", err)
		}
	})
}
