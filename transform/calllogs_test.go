package transform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
)

// logRows returns the raw rows of a call-log sample page of package graph
// (the samples its decoders are tested with).
func logRows(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "extract", "graph", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Value []json.RawMessage }
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return page.Value
}

// pstnSample returns the two rows of the PSTN sample: an inbound call free of
// charge and a charged outbound call to a UK mobile.
func pstnSample(t testing.TB) []graph.PstnCall {
	t.Helper()
	var out []graph.PstnCall
	for _, raw := range logRows(t, "getPstnCalls.json") {
		r, err := graph.DecodePstnCall(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(out) != 2 {
		t.Fatalf("PSTN sample: %d rows, want 2", len(out))
	}
	return out
}

// drSample returns the two rows of the Direct Routing sample: a successful
// inbound call (failureDateTime is Graph's 0001-01-01 sentinel) and an
// outbound call that failed with 486 Busy Here (endDateTime null).
func drSample(t testing.TB) []graph.DirectRoutingCall {
	t.Helper()
	var out []graph.DirectRoutingCall
	for _, raw := range logRows(t, "getDirectRoutingCalls.json") {
		r, err := graph.DecodeDirectRoutingCall(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(out) != 2 {
		t.Fatalf("Direct Routing sample: %d rows, want 2", len(out))
	}
	return out
}

// buildLogs flattens call-log rows with a leak-checked allocator, as build
// does for call records; only the call-log tables may get rows.
func buildLogs(t *testing.T, pstn []graph.PstnCall, dr []graph.DirectRoutingCall) map[Table]table {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	b := NewBuilder(mem)
	for i := range pstn {
		b.AddPstnCall(&pstn[i], ingested)
	}
	for i := range dr {
		b.AddDirectRoutingCall(&dr[i], ingested)
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
		if !slices.Contains(CallLogTables, tn) {
			t.Errorf("call-log rows in %s", tn)
		}
		checkBatch(t, tn, r)
		out[tn] = table{t, r}
	}
	return out
}

// tsAt returns row i of a timestamp column, and false when it is NULL.
func (tb table) tsAt(name string, i int) (time.Time, bool) {
	tb.t.Helper()
	c := tb.col(name).(*array.Timestamp)
	if c.IsNull(i) {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(c.Value(i))).UTC(), true
}

func TestFlattenCallLogsGolden(t *testing.T) {
	tables := buildLogs(t, pstnSample(t), drSample(t))
	golden(t, "flatten_pstn_calls.golden", renderJSONLines(tables[PstnCalls].rec))
	golden(t, "flatten_direct_routing_calls.golden", renderJSONLines(tables[DirectRoutingCalls].rec))
}

// TestCallLogKey: the lake deduplicates these tables by their first column,
// which must be the log row's Graph id, a non-null string.
func TestCallLogKey(t *testing.T) {
	for _, tn := range CallLogTables {
		if !slices.Contains(AllTables, tn) {
			t.Errorf("%s missing from AllTables", tn)
		}
		f := Schema(tn).Field(0)
		if f.Name != "id" || f.Type.ID() != utf8Type.ID() || f.Nullable {
			t.Errorf("%s: first column %s %s nullable=%v, want id utf8 not null", tn, f.Name, f.Type, f.Nullable)
		}
	}
	tables := buildLogs(t, pstnSample(t), drSample(t))
	if got := tables[PstnCalls].strs("id"); !slices.Equal(got, []string{"6d0f2b93-8e41-4c7a-b5d6-1a9e3f70c248", "c4a81e07-2b5d-4f96-8c03-7e1d9a6b52f0"}) {
		t.Errorf("pstn_calls.id %v", got)
	}
	if got := tables[DirectRoutingCalls].strs("id"); !slices.Equal(got, []string{"2e7b5c90-f14a-4d38-9a62-b0c8e3d71f45", "9a03d7e1-6b28-4c5f-8e14-c7f2a09b3d86"}) {
		t.Errorf("direct_routing_calls.id %v", got)
	}
}

func TestPstnCalls(t *testing.T) {
	rows := pstnSample(t)
	pstn := buildLogs(t, rows, nil)[PstnCalls]
	for col, want := range map[string][]string{
		"call_id":             {"b62d0e94-1f73-4a8c-8d25-6e9f0c3a7b18", "e1a93f07-6c2d-4b58-9f14-82d7c0b5a6e3"},
		"user_principal_name": {"jasper.lindqvist@kestrel-bay.example", "tomasz.wierzbicki@kestrel-bay.example"},
		"call_type":           {"user_in", "user_out"},
		"currency":            {"EUR", "EUR"},
		"caller_number":       {"+494060983317", "+4940808871377"},
		"callee_number":       {"+4940808871234", "+447700900418"},
		// null in the source.
		"destination_context": {"<NULL>", "International"},
		"conference_id":       {"<NULL>", "<NULL>"},
		"license_capability":  {"MCOPSTN1", "MCOPSTN2"},
	} {
		if got := pstn.strs(col); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", col, got, want)
		}
	}
	f64s := func(col string) []float64 { return pstn.col(col).(*array.Float64).Float64Values() }
	if got := f64s("duration_s"); !slices.Equal(got, []float64{765, 187}) {
		t.Errorf("duration_s %v", got)
	}
	// A charge of 0 is a charge (a free inbound call), not an absent value.
	if got, c := f64s("charge"), pstn.col("charge"); !slices.Equal(got, []float64{0, 0.38}) || c.NullN() != 0 {
		t.Errorf("charge %v with %d NULLs", got, c.NullN())
	}
	start, _ := pstn.tsAt("start_time", 1)
	end, _ := pstn.tsAt("end_time", 1)
	at, _ := pstn.tsAt("ingested_at", 0)
	if !start.Equal(time.Date(2026, 11, 12, 16, 22, 9, 0, time.UTC)) || !end.Equal(time.Date(2026, 11, 12, 16, 25, 16, 0, time.UTC)) || !at.Equal(ingested) {
		t.Errorf("start %v end %v ingested_at %v", start, end, at)
	}
	if got := PartitionDate(rows[0].StartDateTime); got != "2026-11-12" {
		t.Errorf("partition %s", got)
	}
}

// TestDirectRoutingNulls: a successful call has an end and no failure time
// (Graph's 0001-01-01 sentinel); a failed one has a failure time and no end.
func TestDirectRoutingNulls(t *testing.T) {
	dr := buildLogs(t, nil, drSample(t))[DirectRoutingCalls]
	for _, tc := range []struct {
		col  string
		want []time.Time // zero: NULL
	}{
		{"start_time", []time.Time{time.Date(2026, 11, 12, 8, 31, 44, 0, time.UTC), time.Date(2026, 11, 12, 12, 7, 13, 0, time.UTC)}},
		{"invite_time", []time.Time{time.Date(2026, 11, 12, 8, 31, 39, 0, time.UTC), time.Date(2026, 11, 12, 12, 7, 13, 0, time.UTC)}},
		{"failure_time", []time.Time{{}, time.Date(2026, 11, 12, 12, 7, 21, 0, time.UTC)}},
		{"end_time", []time.Time{time.Date(2026, 11, 12, 8, 44, 2, 0, time.UTC), {}}},
	} {
		for i, want := range tc.want {
			got, ok := dr.tsAt(tc.col, i)
			if ok == want.IsZero() || !got.Equal(want) {
				t.Errorf("%s row %d = %v (set %v), want %v", tc.col, i, got, ok, want)
			}
		}
	}
	success := dr.col("success_flag").(*array.Boolean)
	bypass := dr.col("media_bypass_enabled").(*array.Boolean)
	if success.NullN() != 0 || !success.Value(0) || success.Value(1) || bypass.NullN() != 0 || !bypass.Value(0) || bypass.Value(1) {
		t.Error("success_flag or media_bypass_enabled: want true, false")
	}
	i32s := func(col string) []int32 { return dr.col(col).(*array.Int32).Int32Values() }
	// finalSipCode 0 of the successful call is the source's value, kept.
	if got := i32s("final_sip_code"); !slices.Equal(got, []int32{0, 486}) || dr.col("final_sip_code").NullN() != 0 {
		t.Errorf("final_sip_code %v", got)
	}
	if got := i32s("call_end_sub_reason"); !slices.Equal(got, []int32{540200, 560486}) {
		t.Errorf("call_end_sub_reason %v", got)
	}
	if got := dr.col("duration_s").(*array.Float64).Float64Values(); !slices.Equal(got, []float64{738, 0}) {
		t.Errorf("duration_s %v", got)
	}
	for col, want := range map[string][]string{
		"correlation_id":                    {"81d4f6a3-0c2e-4b97-a5e8-3f9b1d07c264", "47e9c1b0-d35a-4f82-96c7-0b8e2a4f1d39"},
		"call_type":                         {"ByotIn", "ByotOut"},
		"final_sip_code_phrase":             {"BYE", "Busy Here"},
		"trunk_fully_qualified_domain_name": {"sbc01.voice.kestrel-bay.example", "sbc02.voice.kestrel-bay.example"},
		"media_path_location":               {"EUWE", "EUWE"},
		"signaling_location":                {"EUNO", "EUWE"},
	} {
		if got := dr.strs(col); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", col, got, want)
		}
	}
}

// TestCallLogsAbsentValues: a row with nothing but its id and start (a bot's
// row has no user) has NULL in every other column but ingested_at, and empty
// strings are NULL too.
func TestCallLogsAbsentValues(t *testing.T) {
	p, err := graph.DecodePstnCall([]byte(`{"id":"p","startDateTime":"2026-11-12T23:59:59.9999999Z","userId":null,"callType":"ucap_in","currency":""}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := graph.DecodeDirectRoutingCall([]byte(`{"id":"d","startDateTime":"2026-11-12T00:00:00Z","inviteDateTime":"0001-01-01T00:00:00Z","userPrincipalName":""}`))
	if err != nil {
		t.Fatal(err)
	}
	tables := buildLogs(t, []graph.PstnCall{p}, []graph.DirectRoutingCall{d})
	set := map[string]bool{"id": true, "start_time": true, "ingested_at": true}
	for tn, tb := range tables {
		for i, f := range tb.rec.Schema().Fields() {
			isNull := tb.rec.Column(i).IsNull(0)
			want := !set[f.Name] && !(tn == PstnCalls && f.Name == "call_type")
			if isNull != want {
				t.Errorf("%s.%s: NULL %v, want %v", tn, f.Name, isNull, want)
			}
		}
	}
	// Truncated to microseconds, and still on its own day.
	if got, _ := tables[PstnCalls].tsAt("start_time", 0); !got.Equal(time.Date(2026, 11, 12, 23, 59, 59, 999999e3, time.UTC)) {
		t.Errorf("start_time %v", got)
	}
}

// TestCallLogsBuilder: nil rows and rows without an id add nothing; call-log
// rows fill only their own tables, beside call records in one Builder; Records
// resets them.
func TestCallLogsBuilder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem)
	defer b.Release()
	b.AddGraph(decodeRecord(t, "callrecord-peertopeer-pstn.json"), ingested)
	pstn, dr := pstnSample(t), drSample(t)
	for i := range pstn {
		b.AddPstnCall(&pstn[i], ingested)
	}
	b.AddDirectRoutingCall(&dr[1], ingested)
	b.AddPstnCall(nil, ingested)
	b.AddDirectRoutingCall(nil, ingested)
	b.AddPstnCall(&graph.PstnCall{StartDateTime: ingested}, ingested)
	b.AddDirectRoutingCall(&graph.DirectRoutingCall{StartDateTime: ingested}, ingested)
	want := map[Table]int{Calls: 1, Participants: 0, Sessions: 1, Streams: 4, Legs: 0, PstnCalls: 2, DirectRoutingCalls: 1}
	for _, tn := range AllTables {
		if got := b.Rows(tn); got != want[tn] {
			t.Errorf("Rows(%s) = %d, want %d", tn, got, want[tn])
		}
	}
	recs := b.Records()
	for tn, r := range recs {
		if r.NumRows() != int64(want[tn]) {
			t.Errorf("%s batch: %d rows, want %d", tn, r.NumRows(), want[tn])
		}
		r.Release()
	}
	for _, tn := range CallLogTables {
		if b.Rows(tn) != 0 {
			t.Errorf("%s not reset by Records", tn)
		}
	}
}

// FuzzAddCallLogs: whatever row a call-log decoder accepts flattens without
// panic into one row of its table, keyed by its id, without leaks.
func FuzzAddCallLogs(f *testing.F) {
	for _, name := range []string{"getPstnCalls.json", "getDirectRoutingCalls.json"} {
		for _, raw := range logRows(f, name) {
			f.Add([]byte(raw))
		}
	}
	f.Add([]byte(`{"id":"x","startDateTime":"2026-11-12T00:00:00Z","duration":-9223372036854775808,"charge":-0.0,"callerNumber":"","endDateTime":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"id":"y","startDateTime":"9999-12-31T23:59:59.9999999-00:00","finalSipCode":-2147483648,"successfulCall":null,"failureDateTime":"0001-01-01T01:00:00+01:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pstn []graph.PstnCall
		var dr []graph.DirectRoutingCall
		want := map[Table][]string{}
		if r, err := graph.DecodePstnCall(data); err == nil {
			pstn = append(pstn, r)
			want[PstnCalls] = []string{r.ID}
		}
		if r, err := graph.DecodeDirectRoutingCall(data); err == nil {
			dr = append(dr, r)
			want[DirectRoutingCalls] = []string{r.ID}
		}
		tables := buildLogs(t, pstn, dr)
		for _, tn := range CallLogTables {
			var got []string
			if tb, ok := tables[tn]; ok {
				got = tb.strs("id")
			}
			if !slices.Equal(got, want[tn]) {
				t.Errorf("%s.id = %v, want %v", tn, got, want[tn])
			}
		}
	})
}
