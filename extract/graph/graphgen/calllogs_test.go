package graphgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"callstats/internal/atomicfile"
)

// orderedKeys returns the property names of a JSON object in order.
func orderedKeys(t testing.TB, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// sampleRows returns the value rows of a sample call log page.
func sampleRows(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	return page.Value
}

func TestPstnRowsDeterministic(t *testing.T) {
	t.Parallel()
	calls := weekSeed1()
	p1, d1 := pstnSeed1()
	p2, d2 := PstnRows(Week(Options{Seed: 1}), 1)
	if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(d1, d2) {
		t.Fatal("the same calls and seed gave different rows")
	}
	if p3, _ := PstnRows(calls, 2); reflect.DeepEqual(p1, p3) {
		t.Error("another seed gave the same rows")
	}
	if p, d := PstnRows(nil, 1); p != nil || d != nil {
		t.Errorf("no calls gave %d and %d rows", len(p), len(d))
	}
}

func TestPstnRowsShapeLikeSamples(t *testing.T) {
	t.Parallel()
	pstn, dr := pstnSeed1()
	for _, tt := range []struct {
		name   string
		rows   [][]byte
		sample string
	}{
		{"pstn", pstn, "getPstnCalls.json"},
		{"directRouting", dr, "getDirectRoutingCalls.json"},
	} {
		want := orderedKeys(t, sampleRows(t, tt.sample)[0])
		if len(tt.rows) == 0 {
			t.Fatalf("%s: no rows", tt.name)
		}
		prev := ""
		for _, row := range tt.rows {
			if got := orderedKeys(t, row); !slices.Equal(got, want) {
				t.Fatalf("%s row keys %v, want the sample's %v", tt.name, got, want)
			}
			m := decode(t, row)
			if start := m["startDateTime"].(string); start < prev {
				t.Errorf("%s rows not sorted by start: %s after %s", tt.name, start, prev)
			} else {
				prev = start
			}
		}
	}
}

func TestPstnRowsFollowTheRecords(t *testing.T) {
	t.Parallel()
	calls := weekSeed1()
	byID := map[string]Call{}
	for _, c := range calls {
		byID[c.ID] = c
	}
	pstn, _ := pstnSeed1()
	types := map[string]int{}
	orphans := 0
	for _, row := range pstn {
		m := decode(t, row)
		typ := m["callType"].(string)
		types[typ]++
		start, _ := time.Parse(time.RFC3339, m["startDateTime"].(string))
		end, _ := time.Parse(time.RFC3339, m["endDateTime"].(string))
		if got, want := m["duration"].(float64), end.Sub(start).Seconds(); got != want {
			t.Errorf("row %s: duration %v, times say %v", m["id"], got, want)
		}
		c, ok := byID[m["callId"].(string)]
		if !ok {
			orphans++
			if typ != "conf_out" && m["calleeNumber"] != "112" {
				t.Errorf("row %s (%s) has no call record and is neither an emergency call nor a dial-out", m["id"], typ)
			}
			continue
		}
		if start.Before(c.Start.Truncate(time.Second)) || end.After(c.End) {
			t.Errorf("row %s [%v, %v] outside its record [%v, %v]", m["id"], start, end, c.Start, c.End)
		}
		rec := decode(t, c.Raw)
		org := rec["organizer_v2"].(obj)["identity"].(obj)
		phones := map[string]bool{}
		for _, p := range rec["participants_v2"].([]any) {
			if ph, ok := p.(obj)["identity"].(obj)["phone"].(obj); ok {
				phones[ph["id"].(string)] = true
			}
		}
		switch typ {
		case "user_in", "ucap_in":
			if ph, _ := org["phone"].(obj); ph == nil || ph["id"] != m["callerNumber"] {
				t.Errorf("%s row %s: caller %v is not the record's phone organizer", typ, m["id"], m["callerNumber"])
			}
			if (typ == "ucap_in") != (m["userId"] == nil) {
				t.Errorf("%s row %s: userId %v", typ, m["id"], m["userId"])
			}
		case "user_out":
			if u, _ := org["user"].(obj); u == nil || u["id"] != m["userId"] || !phones[m["calleeNumber"].(string)] {
				t.Errorf("user_out row %s: not placed by the organizer to a phone participant", m["id"])
			}
		case "conf_in":
			if rec["type"] != "groupCall" || !phones[m["callerNumber"].(string)] || m["conferenceId"] == nil {
				t.Errorf("conf_in row %s: not a dial-in of a meeting", m["id"])
			}
		default:
			t.Errorf("row %s of record %s has call type %s", m["id"], c.ID, typ)
		}
	}
	for _, typ := range []string{"user_in", "user_out", "ucap_in", "conf_in", "conf_out"} {
		if types[typ] == 0 {
			t.Errorf("no %s row in the default week (%v)", typ, types)
		}
	}
	if orphans < 2 {
		t.Errorf("%d rows without a call record, want the emergency call and dial-outs", orphans)
	}
}

func TestDirectRoutingRows(t *testing.T) {
	t.Parallel()
	pstn, dr := pstnSeed1()
	onPSTN := map[any]bool{}
	for _, row := range pstn {
		if m := decode(t, row); m["callType"] == "user_in" || m["callType"] == "user_out" {
			onPSTN[m["userId"]] = true
		}
	}
	codes := map[float64]bool{}
	ok := 0
	for _, row := range dr {
		m := decode(t, row)
		if m["successfulCall"] == true {
			ok++
			if m["failureDateTime"] != "0001-01-01T00:00:00Z" || m["endDateTime"] == nil || m["finalSipCode"] != 0.0 {
				t.Errorf("successful row %s: failure %v end %v code %v", m["id"], m["failureDateTime"], m["endDateTime"], m["finalSipCode"])
			}
			if onPSTN[m["userId"]] {
				t.Errorf("user %v has Calling Plan and Direct Routing calls", m["userId"])
			}
			continue
		}
		code := m["finalSipCode"].(float64)
		codes[code] = true
		if m["endDateTime"] != nil || m["duration"] != 0.0 || m["callEndSubReason"] != 560000+code ||
			m["failureDateTime"].(string) <= m["inviteDateTime"].(string) {
			t.Errorf("failed row %s: end %v duration %v subreason %v failure %v invite %v", m["id"],
				m["endDateTime"], m["duration"], m["callEndSubReason"], m["failureDateTime"], m["inviteDateTime"])
		}
	}
	if ok == 0 || !codes[486] || !codes[404] || !codes[408] {
		t.Errorf("%d successful rows, failure codes %v: want some of each", ok, codes)
	}
}

// TestPstnRowsGolden pins the rows of the default week (rerun with -update
// after checking a change is intended).
func TestPstnRowsGolden(t *testing.T) {
	t.Parallel()
	pstn, dr := pstnSeed1()
	h := sha256.New()
	for _, row := range append(pstn, dr...) {
		h.Write(row)
		h.Write([]byte{'\n'})
	}
	got := hex.EncodeToString(h.Sum(nil)) + "\n"
	path := filepath.Join("testdata", "calllogs-seed1.sha256")
	if *update {
		if err := atomicfile.WriteFile(path, []byte(got)); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the generated rows; if the change is intended, rerun with -update", path)
	}
}
