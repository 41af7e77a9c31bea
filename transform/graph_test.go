package transform

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"callstats/extract/graph"
)

var ingested = time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeRecord(t testing.TB, name string) *graph.CallRecord {
	t.Helper()
	rec, err := graph.DecodeRecord(readTestdata(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rec
}

// groupCall is the sample group call joined with its second sessions page and
// its participants page, as the client hands it over.
func groupCall(t testing.TB) *graph.CallRecord {
	t.Helper()
	rec := decodeRecord(t, "callrecord-groupcall.json")
	var sessions struct{ Value []graph.Session }
	if err := json.Unmarshal(readTestdata(t, "callrecord-sessions-page2.json"), &sessions); err != nil {
		t.Fatal(err)
	}
	rec.Sessions = append(rec.Sessions, sessions.Value...)
	rec.SessionsNextLink = ""
	var parts struct{ Value []graph.Participant }
	if err := json.Unmarshal(readTestdata(t, "participants-v2-page.json"), &parts); err != nil {
		t.Fatal(err)
	}
	rec.ParticipantsV2 = append(rec.ParticipantsV2, parts.Value...)
	return rec
}

// table is a record batch read back by column name, for assertions.
type table struct {
	t   *testing.T
	rec arrow.RecordBatch
}

func (tb table) col(name string) arrow.Array {
	tb.t.Helper()
	idx := tb.rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		tb.t.Fatalf("no column %s", name)
	}
	return tb.rec.Column(idx[0])
}

// str returns the string at row i of a utf8 column, and false when it is NULL.
func (tb table) str(name string, i int) (string, bool) {
	tb.t.Helper()
	c := tb.col(name).(*array.String)
	if c.IsNull(i) {
		return "", false
	}
	return c.Value(i), true
}

func (tb table) strs(name string) []string {
	tb.t.Helper()
	var out []string
	for i := 0; i < int(tb.rec.NumRows()); i++ {
		v, ok := tb.str(name, i)
		if !ok {
			v = "<NULL>"
		}
		out = append(out, v)
	}
	return out
}

func (tb table) rowsWhere(name, value string) []int {
	tb.t.Helper()
	var out []int
	for i, v := range tb.strs(name) {
		if v == value {
			out = append(out, i)
		}
	}
	return out
}

// build flattens recs with a leak-checked allocator and returns the batches,
// released (and the allocator checked) when the test ends.
func build(t *testing.T, recs ...*graph.CallRecord) map[Table]table {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	b := NewBuilder(mem)
	for _, r := range recs {
		b.AddGraph(r, ingested)
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
		checkBatch(t, tn, r)
		out[tn] = table{t, r}
	}
	return out
}

// checkBatch checks what holds for every batch: the table's schema, no NULL in a
// non-nullable column, no empty string standing for an absent value.
func checkBatch(t *testing.T, tn Table, r arrow.RecordBatch) {
	t.Helper()
	if !r.Schema().Equal(Schema(tn)) {
		t.Errorf("%s: batch schema differs from Schema(%s)", tn, tn)
	}
	for i, f := range r.Schema().Fields() {
		c := r.Column(i)
		if c.Len() != int(r.NumRows()) {
			t.Errorf("%s.%s: %d values for %d rows", tn, f.Name, c.Len(), r.NumRows())
		}
		if !f.Nullable && c.NullN() > 0 {
			t.Errorf("%s.%s: %d NULLs in a non-nullable column", tn, f.Name, c.NullN())
		}
		var s *array.String
		switch c := c.(type) {
		case *array.String:
			s = c
		case *array.List:
			s = c.ListValues().(*array.String)
		}
		for j := 0; s != nil && j < s.Len(); j++ {
			if s.IsValid(j) && s.Value(j) == "" {
				t.Errorf("%s.%s: empty string at %d; absent values must be NULL", tn, f.Name, j)
			}
		}
	}
}

// renderJSONLines renders a batch as one JSON object per row, columns in schema
// order, NULL as null, timestamps in RFC 3339 with microseconds.
func renderJSONLines(r arrow.RecordBatch) []byte {
	var b bytes.Buffer
	fields := r.Schema().Fields()
	for row := 0; row < int(r.NumRows()); row++ {
		b.WriteByte('{')
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			name, _ := json.Marshal(f.Name)
			b.Write(name)
			b.WriteByte(':')
			b.Write(jsonValue(r.Column(i), row))
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

func jsonValue(c arrow.Array, i int) []byte {
	if c.IsNull(i) {
		return []byte("null")
	}
	var v any
	switch c := c.(type) {
	case *array.String:
		v = c.Value(i)
	case *array.Float64:
		return strconv.AppendFloat(nil, c.Value(i), 'g', -1, 64)
	case *array.Int32:
		v = c.Value(i)
	case *array.Int64:
		v = c.Value(i)
	case *array.Boolean:
		v = c.Value(i)
	case *array.Timestamp:
		v = time.UnixMicro(int64(c.Value(i))).UTC().Format("2006-01-02T15:04:05.000000Z")
	case *array.List:
		start, end := c.ValueOffsets(i)
		items := make([]json.RawMessage, 0, end-start)
		for j := start; j < end; j++ {
			items = append(items, jsonValue(c.ListValues(), int(j)))
		}
		v = items
	default:
		v = c.ValueStr(i)
	}
	out, _ := json.Marshal(v)
	return out
}

func TestFlattenGolden(t *testing.T) {
	tables := build(t, groupCall(t), decodeRecord(t, "callrecord-peertopeer-pstn.json"))
	for _, tn := range GraphTables {
		tb, ok := tables[tn]
		if !ok {
			t.Errorf("no %s rows", tn)
			continue
		}
		golden(t, "flatten_"+string(tn)+".golden", renderJSONLines(tb.rec))
	}
}

func TestFlattenCounts(t *testing.T) {
	tables := build(t, groupCall(t), decodeRecord(t, "callrecord-peertopeer-pstn.json"))
	for tn, want := range map[Table]int64{
		Calls:        2,
		Participants: 2, // the group call's participants page; the PSTN sample has none
		Sessions:     3 + 2 + 1,
		Streams:      5 + 4 + 1 + 1 + 2*2, // group call sessions 0-4 (the last has no media); PSTN: two segments of two
	} {
		if got := tables[tn].rec.NumRows(); got != want {
			t.Errorf("%s: %d rows, want %d", tn, got, want)
		}
	}
	calls := tables[Calls]
	if got := calls.col("participant_count").(*array.Int32).Value(0); got != 2 {
		t.Errorf("group call participant_count %d, want 2", got)
	}
	// Group call: 2204958731 poor, 2204958732 unclassified (no metrics), the other
	// nine good; PSTN: four good.
	counts := func(col string) []int32 { return calls.col(col).(*array.Int32).Int32Values() }
	if got := counts("session_count"); !slices.Equal(got, []int32{5, 1}) {
		t.Errorf("session_count %v, want [5 1]", got)
	}
	if got := counts("stream_count"); !slices.Equal(got, []int32{11, 4}) {
		t.Errorf("stream_count %v, want [11 4]", got)
	}
	if got := counts("poor_stream_count"); !slices.Equal(got, []int32{1, 0}) {
		t.Errorf("poor_stream_count %v, want [1 0]", got)
	}
	if got := counts("classified_stream_count"); !slices.Equal(got, []int32{10, 4}) {
		t.Errorf("classified_stream_count %v, want [10 4]", got)
	}
}

// TestRepeatedSessionID: a session id that appears twice (page 1 and page 2)
// yields two rows told apart by session_seq, and so do their streams.
func TestRepeatedSessionID(t *testing.T) {
	tables := build(t, groupCall(t))
	const id = "c0a85e37-9b14-4d2a-b6f3-1e7d4c92a0b8"
	sessions := tables[Sessions]
	rows := sessions.rowsWhere("session_id", id)
	if len(rows) != 2 {
		t.Fatalf("%d session rows for %s, want 2", len(rows), id)
	}
	seq := sessions.col("session_seq").(*array.Int32)
	if a, b := seq.Value(rows[0]), seq.Value(rows[1]); a != 2 || b != 3 {
		t.Errorf("session_seq %d and %d, want 2 and 3 (0-based, source order)", a, b)
	}
	for i, want := range []string{"conferencingAttendant", "conferencingAnnouncementService"} {
		if got, _ := sessions.str("callee_kind", rows[i]); got != want {
			t.Errorf("callee_kind of seq %d: %q, want %q", seq.Value(rows[i]), got, want)
		}
		if _, ok := sessions.str("callee_platform", rows[i]); ok {
			t.Errorf("callee_platform of a service endpoint is not NULL")
		}
	}
	all := seq.Int32Values()
	if !slices.Equal(all, []int32{0, 1, 2, 3, 4}) {
		t.Errorf("session_seq %v, want 0..4", all)
	}
	streams := tables[Streams]
	sseq := streams.col("session_seq").(*array.Int32)
	got := map[int32][]string{}
	for _, r := range streams.rowsWhere("session_id", id) {
		sid, _ := streams.str("stream_id", r)
		got[sseq.Value(r)] = append(got[sseq.Value(r)], sid)
	}
	if !slices.Equal(got[2], []string{"4410382967"}) || !slices.Equal(got[3], []string{"4410382971"}) {
		t.Errorf("streams of %s by session_seq: %v", id, got)
	}
}

// TestFailedSessionWithoutMedia: a session that failed at call setup with
// media [] has a sessions row with its failure and no streams rows.
func TestFailedSessionWithoutMedia(t *testing.T) {
	tables := build(t, groupCall(t))
	const id = "8b3f1c5e-d06a-4f27-92b8-e5a74c10d3f9"
	sessions := tables[Sessions]
	rows := sessions.rowsWhere("session_id", id)
	if len(rows) != 1 {
		t.Fatalf("%d session rows for %s, want 1", len(rows), id)
	}
	if got, _ := sessions.str("failure_stage", rows[0]); got != "callSetup" {
		t.Errorf("failure_stage %q, want callSetup", got)
	}
	if got, _ := sessions.str("failure_reason", rows[0]); got != "Media connectivity could not be established (ICE checks timed out)" {
		t.Errorf("failure_reason %q", got)
	}
	if got := sessions.col("segment_count").(*array.Int32).Value(rows[0]); got != 1 {
		t.Errorf("segment_count %d, want 1", got)
	}
	if n := len(tables[Streams].rowsWhere("session_id", id)); n != 0 {
		t.Errorf("%d stream rows for a session without media", n)
	}
	// Sessions that did not fail have NULL failure columns.
	if _, ok := sessions.str("failure_stage", 0); ok {
		t.Error("failure_stage of a session without failureInfo is not NULL")
	}
}

func TestSessionEndpoints(t *testing.T) {
	sessions := build(t, groupCall(t))[Sessions]
	// Session 0: Henrike (a participant, so her kind is known) calls Tomasz.
	for col, want := range map[string]string{
		"caller_id": "5a2e9c14-7d3b-4f81-a06c-3e8b2d1f9a47", "caller_display_name": "Henrike Vossberg",
		"caller_upn": "henrike.vossberg@kestrel-bay.example", "caller_kind": "user", "caller_platform": "windows",
		"caller_product_family": "teams", "caller_app_version": "26301.512.4127.3306", "caller_endpoint_name": "KB-NB-0417",
		"caller_feedback_rating": "good", "callee_platform": "macOS", "callee_feedback_rating": "notRated",
	} {
		if got, _ := sessions.str(col, 0); got != want {
			t.Errorf("session 0 %s = %q, want %q", col, got, want)
		}
	}
	// Session 1: Ana is not on the participants page: her kind is unknown, not guessed.
	if k, ok := sessions.str("caller_kind", 1); ok {
		t.Errorf("caller_kind of an endpoint absent from the participants = %q, want NULL", k)
	}
	if got, _ := sessions.str("caller_feedback_text", 1); got != "Kept dropping out, others sounded robotic" {
		t.Errorf("caller_feedback_text %q", got)
	}
	tokens := sessions.col("caller_feedback_tokens").(*array.List)
	if got := jsonValue(tokens, 1); string(got) != `["CallDroppedUnexpectedly","DistortedSpeech","VideoFroze"]` {
		t.Errorf("caller_feedback_tokens %s", got)
	}
	if got := jsonValue(tokens, 0); string(got) != `[]` { // tokens present, none set
		t.Errorf("caller_feedback_tokens of a rating without tokens: %s, want []", got)
	}
	if !tokens.IsNull(2) { // no feedback at all
		t.Error("caller_feedback_tokens without feedback is not NULL")
	}
}

// TestPSTN: the PSTN record's organizer is a phone, its caller a mediation
// server, and its two segments run on different callee platforms.
func TestPSTN(t *testing.T) {
	tables := build(t, decodeRecord(t, "callrecord-peertopeer-pstn.json"))
	calls := tables[Calls]
	if got, _ := calls.str("organizer_kind", 0); got != "phone" {
		t.Errorf("organizer_kind %q, want phone", got)
	}
	if got, _ := calls.str("organizer_id", 0); got != "+494060983317" {
		t.Errorf("organizer_id %q", got)
	}
	for _, col := range []string{"organizer_name", "organizer_upn", "join_web_url",
		"telephony_session_id", "session_id", "direction", "result", "caller_status", "callee_status"} {
		if v, ok := calls.str(col, 0); ok {
			t.Errorf("calls.%s = %q, want NULL", col, v)
		}
	}
	if got, _ := calls.str("source", 0); got != "teams" {
		t.Errorf("source %q", got)
	}
	if got := calls.col("version").(*array.Int64).Value(0); got != 1 {
		t.Errorf("version %d", got)
	}
	dur := calls.col("duration_s").(*array.Float64).Value(0)
	if want := 765.4283315; dur < want-1e-6 || dur > want+1e-6 {
		t.Errorf("duration_s %v, want %v", dur, want)
	}
	if _, ok := tables[Participants]; ok {
		t.Error("participants rows for a record without participants")
	}

	sessions := tables[Sessions]
	if got, _ := sessions.str("caller_kind", 0); got != "mediationServer" {
		t.Errorf("caller_kind %q, want mediationServer", got)
	}
	for _, col := range []string{"caller_platform", "caller_product_family", "caller_id"} {
		if v, ok := sessions.str(col, 0); ok {
			t.Errorf("sessions.%s of a service endpoint = %q, want NULL", col, v)
		}
	}
	if got, _ := sessions.str("caller_user_agent", 0); got != "Microsoft.PSTNHub.SIPProxy/2026.11.3.2 i.EUWE.4" {
		t.Errorf("caller_user_agent %q", got)
	}

	streams := tables[Streams]
	if got := streams.strs("callee_platform"); !slices.Equal(got, []string{"windows", "windows", "android", "android"}) {
		t.Errorf("callee_platform by stream %v: segment endpoints, not the session's", got)
	}
	if got := streams.strs("callee_connection_type"); !slices.Equal(got, []string{"wired", "wired", "mobile", "mobile"}) {
		t.Errorf("callee_connection_type %v", got)
	}
	if got := streams.strs("segment_failure_stage"); !slices.Equal(got, []string{"midcall", "midcall", "<NULL>", "<NULL>"}) {
		t.Errorf("segment_failure_stage %v", got)
	}
	if got := streams.strs("caller_kind"); !slices.Equal(got, []string{"mediationServer", "mediationServer", "mediationServer", "mediationServer"}) {
		t.Errorf("streams caller_kind %v", got)
	}
	jit := streams.col("avg_jitter_ms").(*array.Float64).Float64Values()
	if !slices.Equal(jit, []float64{11, 8, 17, 13}) {
		t.Errorf("avg_jitter_ms %v, want exact milliseconds", jit)
	}
	if c := streams.col("avg_audio_degradation"); !c.IsNull(1) {
		t.Error("a null metric is not NULL")
	}
	if got := streams.strs("quality"); !slices.Equal(got, []string{"good", "good", "good", "good"}) {
		t.Errorf("quality %v", got)
	}
}

// TestArchivedV1: a payload from before 2026-06-30 with only the deprecated
// organizer, participants and endpoint identity fields.
func TestArchivedV1(t *testing.T) {
	rec := decodeRecord(t, "callrecord-v1-archived.json")
	tables := build(t, rec)
	calls := tables[Calls]
	for col, want := range map[string]string{
		"organizer_id":   "2f9c4e81-7a3d-4b6e-9c05-d18a7e3b6f42",
		"organizer_name": "Marit Solberg",
		"organizer_kind": "user",
	} {
		if got, _ := calls.str(col, 0); got != want {
			t.Errorf("calls.%s = %q, want %q", col, got, want)
		}
	}
	if got := calls.col("participant_count").(*array.Int32).Value(0); got != 3 {
		t.Errorf("participant_count %d, want 3", got)
	}
	parts := tables[Participants]
	if got := parts.strs("kind"); !slices.Equal(got, []string{"user", "guest", "phone"}) {
		t.Errorf("participant kinds %v", got)
	}
	if got := parts.strs("participant_id"); !slices.Equal(got, []string{
		"2f9c4e81-7a3d-4b6e-9c05-d18a7e3b6f42", "b3e81d07-4c2a-4f95-a6d8-07f2c9e41a5b", "+4940609800"}) {
		t.Errorf("participant ids %v", got)
	}
	if got := parts.strs("display_name"); got[2] != "<NULL>" {
		t.Errorf("empty displayName stored as %q, want NULL", got[2])
	}
	if c := parts.col("administrative_unit_ids"); c.NullN() != 3 {
		t.Errorf("administrative_unit_ids: %d NULLs, want 3 (the old list has none)", c.NullN())
	}
	sessions := tables[Sessions]
	for col, want := range map[string]string{
		"caller_id": "2f9c4e81-7a3d-4b6e-9c05-d18a7e3b6f42", "caller_kind": "user",
		"callee_id": "b3e81d07-4c2a-4f95-a6d8-07f2c9e41a5b", "callee_kind": "guest",
		"callee_display_name": "Quentin Ardouin (Guest)", "callee_platform": "web",
	} {
		if got, _ := sessions.str(col, 0); got != want {
			t.Errorf("sessions.%s = %q, want %q", col, got, want)
		}
	}
	// SATINFullband with degradation 2.4 (exempt), jitter exactly 30 ms and RTT
	// exactly 500 ms: good.
	if got, _ := tables[Streams].str("quality", 0); got != "good" {
		t.Errorf("quality %q, want good", got)
	}
}

func TestParticipantsAdministrativeUnits(t *testing.T) {
	parts := build(t, groupCall(t))[Participants]
	c := parts.col("administrative_unit_ids").(*array.List)
	if got := string(jsonValue(c, 0)); got != `["a1f3c8e2-5d74-4b09-8e6a-2c9d0f7b3e15"]` {
		t.Errorf("administrative_unit_ids of row 0: %s", got)
	}
	if got := string(jsonValue(c, 1)); got != `[]` {
		t.Errorf("administrative_unit_ids of row 1: %s, want []", got)
	}
	if got, _ := parts.str("kind", 0); got != "user" {
		t.Errorf("kind %q", got)
	}
}

func TestPartitionDate(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 12, 14, 0, 31, 0, time.UTC), "2026-11-12"},
		{time.Date(2026, 11, 12, 23, 59, 59, 999999999, time.UTC), "2026-11-12"},
		{time.Date(2026, 11, 13, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "2026-11-12"},
		{time.Date(2026, 11, 12, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), "2026-11-13"},
	} {
		if got := PartitionDate(tc.in); got != tc.want {
			t.Errorf("PartitionDate(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// BenchmarkAddGraph flattens the sample group call (5 sessions, 10 streams),
// taking the batches every 4096 records (about 45,000 stream rows) as the lake
// does when it flushes.
func BenchmarkAddGraph(b *testing.B) {
	rec := groupCall(b)
	bl := NewBuilder(memory.NewGoAllocator())
	defer bl.Release()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bl.AddGraph(rec, ingested)
		if i%4096 == 4095 {
			for _, r := range bl.Records() {
				r.Release()
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// FuzzAddGraph: whatever record the decoder accepts flattens without panic,
// into one row per call, participant, session and stream, without leaks.
func FuzzAddGraph(f *testing.F) {
	// The group call (60 KB) is left out: mutating and minimizing it is slow, and
	// the PSTN record has the same structure.
	for _, name := range []string{"callrecord-peertopeer-pstn.json", "callrecord-v1-archived.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"id":"x","startDateTime":"2026-11-12T00:00:00Z","sessions":[{"segments":[{"media":[{"streams":[{}]}]}]}]}`))
	f.Add([]byte(`{"id":"x","startDateTime":"2026-11-12T00:00:00Z","participants":[{"phone":{}}],"organizer":{"user":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := graph.DecodeRecord(data)
		if err != nil {
			return
		}
		want := map[Table]int64{Calls: 1, Participants: int64(len(rec.AllParticipants())), Sessions: int64(len(rec.Sessions))}
		for _, s := range rec.Sessions {
			for _, g := range s.Segments {
				for _, m := range g.Media {
					want[Streams] += int64(len(m.Streams))
				}
			}
		}
		tables := build(t, rec)
		for _, tn := range GraphTables {
			var got int64
			if tb, ok := tables[tn]; ok {
				got = tb.rec.NumRows()
			}
			if got != want[tn] {
				t.Errorf("%s: %d rows, want %d", tn, got, want[tn])
			}
		}
	})
}
