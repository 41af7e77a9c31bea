package transform

import (
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/ringcentral"
)

// rcSample returns the records of the sample call-log page: an inbound call
// with a recording, a connected RingOut (two legs) and a busy RingOut (one
// leg).
func rcSample(t testing.TB) []ringcentral.Record {
	t.Helper()
	p, err := ringcentral.DecodePage(readTestdata(t, "call-log-detailed-page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 3 || len(p.Invalid) != 0 {
		t.Fatalf("sample page: %d records, %d invalid", len(p.Records), len(p.Invalid))
	}
	return p.Records
}

// buildRC flattens recs with a leak-checked allocator, as build does for
// Graph records.
func buildRC(t *testing.T, recs ...ringcentral.Record) map[Table]table {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	b := NewBuilder(mem)
	for i := range recs {
		b.AddRingCentral(&recs[i], ingested)
	}
	batches := b.Records()
	b.Release()
	t.Cleanup(func() {
		for _, r := range batches {
			r.Release()
		}
		mem.AssertSize(t, 0)
	})
	out := map[Table]table{}
	for tn, r := range batches {
		if !slices.Contains(RingCentralTables, tn) {
			t.Errorf("RingCentral rows in %s", tn)
		}
		checkBatch(t, tn, r)
		out[tn] = table{t, r}
	}
	return out
}

func TestFlattenRingCentralGolden(t *testing.T) {
	tables := buildRC(t, rcSample(t)...)
	golden(t, "flatten_legs.golden", renderJSONLines(tables[Legs].rec))
	golden(t, "flatten_calls_ringcentral.golden", renderJSONLines(tables[Calls].rec))
}

func TestRingCentralCalls(t *testing.T) {
	recs := rcSample(t)
	calls := buildRC(t, recs...)[Calls]
	if calls.rec.NumRows() != 3 {
		t.Fatalf("%d calls rows, want 3", calls.rec.NumRows())
	}
	for col, want := range map[string][]string{
		"call_id":              {"Zq4dWr1Kx9Ap2Mh", "Tb8eHn3Lc5Vq0Ry", "Kw2pFs7Yd4Gm9Jx"},
		"source":               {"ringcentral", "ringcentral", "ringcentral"},
		"call_type":            {"Voice", "Voice", "Voice"},
		"telephony_session_id": {"s-a7c31b0e55f24c9d8e4b12f0c9a6d1e3", "s-c2e914f07a6d48b3b51e7d20a9c3f846", "s-5f07b3d9e8a14c62a0d18b7e4c2f9a53"},
		"session_id":           {"48213377009", "48212904415", "48212581938"},
		"direction":            {"Inbound", "Outbound", "Outbound"},
		"result":               {"Accepted", "Call connected", "Busy"},
		// RingOut statuses from the legs; the inbound call is no RingOut, and
		// the busy RingOut has no RingOutClientToSubscriber leg.
		"caller_status": {"<NULL>", "Call connected", "Busy"},
		"callee_status": {"<NULL>", "Call connected", "<NULL>"},
	} {
		if got := calls.strs(col); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", col, got, want)
		}
	}
	for _, col := range []string{"organizer_id", "organizer_name", "organizer_kind", "organizer_upn",
		"organizer_tenant_id", "join_web_url", "participant_count", "session_count", "stream_count",
		"classified_stream_count", "poor_stream_count", "version"} {
		if n := calls.col(col).NullN(); n != 3 {
			t.Errorf("%s: %d NULLs, want 3 (no such thing in a call-log record)", col, n)
		}
	}
	if got := string(jsonValue(calls.col("modalities"), 0)); got != `["audio"]` {
		t.Errorf("modalities %s", got)
	}
	ts := func(col string, i int) time.Time {
		return time.UnixMicro(int64(calls.col(col).(*array.Timestamp).Value(i))).UTC()
	}
	start := time.Date(2026, 11, 12, 13, 41, 7, 0, time.UTC)
	if !ts("start_time", 0).Equal(start) || !ts("end_time", 0).Equal(start.Add(284312*time.Millisecond)) {
		t.Errorf("start %v end %v", ts("start_time", 0), ts("end_time", 0))
	}
	if got := calls.col("duration_s").(*array.Float64).Float64Values(); !slices.Equal(got, []float64{284.312, 411.736, 10.874}) {
		t.Errorf("duration_s %v, want durationMs in seconds", got)
	}
	if !ts("last_modified", 0).Equal(time.Date(2026, 11, 12, 13, 49, 26, 541e6, time.UTC)) || !ts("ingested_at", 2).Equal(ingested) {
		t.Errorf("last_modified %v, ingested_at %v", ts("last_modified", 0), ts("ingested_at", 2))
	}
	if got := PartitionDate(recs[0].StartTime); got != "2026-11-12" {
		t.Errorf("partition %s", got)
	}
}

func TestRingCentralLegs(t *testing.T) {
	legs := buildRC(t, rcSample(t)...)[Legs]
	if legs.rec.NumRows() != 4 {
		t.Fatalf("%d legs rows, want 1 + 2 + 1", legs.rec.NumRows())
	}
	for col, want := range map[string][]string{
		"call_id":        {"Zq4dWr1Kx9Ap2Mh", "Tb8eHn3Lc5Vq0Ry", "Tb8eHn3Lc5Vq0Ry", "Kw2pFs7Yd4Gm9Jx"},
		"leg_type":       {"Accept", "RingOutClientToCaller", "RingOutClientToSubscriber", "RingOutClientToCaller"},
		"result":         {"Accepted", "Call connected", "Call connected", "Busy"},
		"from_number":    {"+15085550187", "+17815550100", "+17815550129", "+17815550100"},
		"from_extension": {"<NULL>", "<NULL>", "112", "<NULL>"},
		"to_name":        {"Priya Raghunathan", "Marcus Oyelaran", "BOSTON MA", "Marcus Oyelaran"},
		"recording_id":   {"3318904455", "<NULL>", "<NULL>", "<NULL>"},
		"recording_type": {"Automatic", "<NULL>", "<NULL>", "<NULL>"},
		"party_id":       {"p-a7c31b0e55f24c9d8e4b12f0c9a6d1e3-2", "p-c2e914f07a6d48b3b51e7d20a9c3f846-1", "p-c2e914f07a6d48b3b51e7d20a9c3f846-2", "p-5f07b3d9e8a14c62a0d18b7e4c2f9a53-1"},
	} {
		if got := legs.strs(col); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", col, got, want)
		}
	}
	if got := legs.col("leg_seq").(*array.Int32).Int32Values(); !slices.Equal(got, []int32{0, 0, 1, 0}) {
		t.Errorf("leg_seq %v", got)
	}
	master := legs.col("master").(*array.Boolean)
	if !master.Value(1) || master.Value(2) || master.IsNull(2) {
		t.Error("master of the RingOut legs: want true, false")
	}
	if got := legs.col("duration_s").(*array.Float64).Value(2); got != 398.612 {
		t.Errorf("duration_s %v", got)
	}
}

func TestRingOutStatus(t *testing.T) {
	leg := func(typ, result string) ringcentral.Leg { return ringcentral.Leg{LegType: typ, Result: result} }
	for _, tc := range []struct {
		name           string
		legs           []ringcentral.Leg
		caller, callee string
	}{
		{"connected", []ringcentral.Leg{leg("RingOutClientToCaller", "Call connected"), leg("RingOutClientToSubscriber", "Call connected")}, "Call connected", "Call connected"},
		{"callee busy, one leg", []ringcentral.Leg{leg("RingOutClientToCaller", "Busy")}, "Busy", ""},
		{"caller did not answer", []ringcentral.Leg{leg("RingOutClientToCaller", "No Answer")}, "No Answer", ""},
		{"first leg of a type wins", []ringcentral.Leg{leg("RingOutClientToSubscriber", "No Answer"), leg("RingOutClientToCaller", "Accepted"), leg("RingOutClientToSubscriber", "Call connected")}, "Accepted", "No Answer"},
		{"not a RingOut", []ringcentral.Leg{leg("Accept", "Accepted")}, "", ""},
		{"no legs", nil, "", ""},
	} {
		caller, callee := RingOutStatus(tc.legs)
		if caller != tc.caller || callee != tc.callee {
			t.Errorf("%s: %q, %q; want %q, %q", tc.name, caller, callee, tc.caller, tc.callee)
		}
	}
}

// TestRingCentralInProgress: a call not yet ended has no end and no duration;
// a Fax has no audio modality; a record without legs has no legs rows.
func TestRingCentralInProgress(t *testing.T) {
	start := time.Date(2026, 11, 12, 23, 58, 0, 0, time.UTC)
	recs := []ringcentral.Record{
		{ID: "live", StartTime: start, Duration: 40, Type: "Voice", Result: ringcentral.ResultInProgress, LastModifiedTime: start},
		{ID: "fax", StartTime: start, Duration: 0, Type: "Fax", Result: "Sent"},
	}
	tables := buildRC(t, recs...)
	calls := tables[Calls]
	if !calls.col("end_time").IsNull(0) || !calls.col("duration_s").IsNull(0) {
		t.Error("an In Progress call has an end or a duration")
	}
	if calls.col("end_time").IsNull(1) || calls.col("duration_s").(*array.Float64).Value(1) != 0 {
		t.Error("a 0 s call has no end or no 0 duration")
	}
	if !calls.col("modalities").IsNull(1) || !calls.col("last_modified").IsNull(1) {
		t.Error("a Fax has modalities, or an absent lastModifiedTime is not NULL")
	}
	if got := calls.strs("telephony_session_id"); !slices.Equal(got, []string{"<NULL>", "<NULL>"}) {
		t.Errorf("absent session ids: %v", got)
	}
	if _, ok := tables[Legs]; ok {
		t.Error("legs rows for records without legs")
	}
}

// TestBuilderMixesSources: one builder takes Teams and RingCentral records;
// each source fills its own tables, and nil adds nothing.
func TestBuilderMixesSources(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem)
	defer b.Release()
	b.AddGraph(decodeRecord(t, "callrecord-peertopeer-pstn.json"), ingested)
	recs := rcSample(t)
	for i := range recs {
		b.AddRingCentral(&recs[i], ingested)
	}
	b.AddRingCentral(nil, ingested)
	want := map[Table]int{Calls: 4, Participants: 0, Sessions: 1, Streams: 4, Legs: 4}
	for tn, n := range want {
		if got := b.Rows(tn); got != n {
			t.Errorf("Rows(%s) = %d, want %d", tn, got, n)
		}
	}
	recsOut := b.Records()
	defer func() {
		for _, r := range recsOut {
			r.Release()
		}
	}()
	calls := table{t, recsOut[Calls]}
	if got := calls.strs("source"); !slices.Equal(got, []string{"teams", "ringcentral", "ringcentral", "ringcentral"}) {
		t.Errorf("sources %v", got)
	}
	if got := calls.strs("caller_status"); got[0] != "<NULL>" || got[2] != "Call connected" {
		t.Errorf("caller_status %v", got)
	}
	if b.Rows(Legs) != 0 {
		t.Error("legs not reset by Records")
	}
}

func TestTableLists(t *testing.T) {
	seen := map[Table]bool{}
	for _, tn := range AllTables {
		if seen[tn] || Schema(tn) == nil {
			t.Errorf("%s repeated or without schema", tn)
		}
		seen[tn] = true
	}
	for _, tn := range slices.Concat(GraphTables, RingCentralTables) {
		if !seen[tn] {
			t.Errorf("%s missing from AllTables", tn)
		}
	}
	if len(schemas) != len(AllTables) {
		t.Errorf("%d schemas, %d in AllTables", len(schemas), len(AllTables))
	}
	if !slices.Equal(GraphTables, []Table{Calls, Participants, Sessions, Streams}) {
		t.Errorf("GraphTables changed: %v", GraphTables)
	}
}

// BenchmarkAddRingCentral flattens the sample page's three records, taking
// the batches every 4096 records.
func BenchmarkAddRingCentral(b *testing.B) {
	recs := rcSample(b)
	bl := NewBuilder(memory.NewGoAllocator())
	defer bl.Release()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bl.AddRingCentral(&recs[i%len(recs)], ingested)
		if i%4096 == 4095 {
			for _, r := range bl.Records() {
				r.Release()
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// FuzzAddRingCentral: whatever page the decoder accepts flattens without
// panic into one calls row per record and one legs row per leg, without
// leaks.
func FuzzAddRingCentral(f *testing.F) {
	f.Add(readTestdata(f, "call-log-detailed-page.json"))
	f.Add([]byte(`{"records":[{"id":"x","startTime":"2026-11-12T00:00:00Z","result":"In Progress","legs":[{},{"legType":"RingOutClientToSubscriber","master":false,"recording":{}}]}]}`))
	f.Add([]byte(`{"records":[{"id":"y","startTime":"2026-11-12T00:00:00Z","durationMs":-1,"type":"Fax","extension":{"id":-1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ringcentral.DecodePage(data)
		if err != nil || len(p.Records) == 0 {
			return
		}
		var legs int64
		for _, r := range p.Records {
			legs += int64(len(r.Legs))
		}
		tables := buildRC(t, p.Records...)
		if got := tables[Calls].rec.NumRows(); got != int64(len(p.Records)) {
			t.Errorf("%d calls rows for %d records", got, len(p.Records))
		}
		var got int64
		if tb, ok := tables[Legs]; ok {
			got = tb.rec.NumRows()
		}
		if got != legs {
			t.Errorf("%d legs rows for %d legs", got, legs)
		}
	})
}
