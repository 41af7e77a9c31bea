package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
)

const (
	pstnPrefix = "/v1.0/communications/callRecords/getPstnCalls("
	drPrefix   = "/v1.0/communications/callRecords/getDirectRoutingCalls("
)

// logRow is a minimal call log row.
func logRow(id string, start time.Time) []byte {
	return fmt.Appendf(nil, `{"id":%q,"startDateTime":%q,"endDateTime":null,"duration":0}`, id, start.Format(time.RFC3339Nano))
}

// sampleValues returns the rows of a sample page.
func sampleValues(t testing.TB, name string) [][]byte {
	t.Helper()
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(readTestdata(t, name), &page); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(page.Value))
	for i, v := range page.Value {
		out[i] = v
	}
	return out
}

func pstnIDs(t *testing.T, c *Client, from, to time.Time) []string {
	t.Helper()
	var ids []string
	if err := c.PstnCalls(t.Context(), from, to, func(rows []PstnCall) error {
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func drIDs(t *testing.T, c *Client, from, to time.Time) []string {
	t.Helper()
	var ids []string
	if err := c.DirectRoutingCalls(t.Context(), from, to, func(rows []DirectRoutingCall) error {
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestCallLogEnds checks both end conventions: getPstnCalls takes the end
// inclusive (a row at 23:59:59 of the last day is in, the next midnight is
// not), getDirectRoutingCalls exclusive (a row at the end is not in).
func TestCallLogEnds(t *testing.T) {
	e, q := newListEnv(t, graphtest.Options{}, nil)
	day13 := day12.Add(24 * time.Hour)
	rows := [][]byte{
		logRow("before", day12.Add(-time.Second)),
		logRow("first", day12),
		logRow("last-second", day13.Add(-time.Second)),
		logRow("last-tick", day13.Add(-100*time.Nanosecond)),
		logRow("at-end", day13),
	}
	if err := e.srv.PutPstn(rows...); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.PutDirectRouting(rows...); err != nil {
		t.Fatal(err)
	}
	in := []string{"first", "last-second", "last-tick"}
	if got := pstnIDs(t, e.c, day12, day13); !slices.Equal(got, in) {
		t.Errorf("PSTN [12th, 13th): %v, want %v", got, in)
	}
	if got := drIDs(t, e.c, day12, day13); !slices.Equal(got, in) {
		t.Errorf("Direct Routing [12th, 13th): %v, want %v", got, in)
	}
	// Two days: every row once, the one at midnight in the second day only.
	want := []string{"first", "last-second", "last-tick", "at-end"}
	if got := pstnIDs(t, e.c, day12, day13.Add(24*time.Hour)); !slices.Equal(got, want) {
		t.Errorf("PSTN over two days: %v, want %v", got, want)
	}
	pu, _ := q.to(pstnPrefix)
	du, _ := q.to(drPrefix)
	if got, want := pu[0].Path, pstnPrefix+"fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-12T23:59:59.9999999Z)"; got != want {
		t.Errorf("PSTN request %s, want %s", got, want)
	}
	if got, want := du[0].Path, drPrefix+"fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z)"; got != want {
		t.Errorf("Direct Routing request %s, want %s", got, want)
	}
	if got := pu[0].EscapedPath(); strings.Contains(got, "%") {
		t.Errorf("function call sent escaped: %s", got)
	}
}

func TestCallLogPagesAndSplits(t *testing.T) {
	e, q := newListEnv(t, graphtest.Options{}, nil)
	var rows [][]byte
	for i := range 2500 {
		rows = append(rows, logRow(fmt.Sprintf("r-%04d", i), day12.Add(time.Duration(i)*time.Second)))
	}
	start := day12.Add(-95 * 24 * time.Hour)
	rows = append(rows, logRow("long-ago", start.Add(time.Hour)))
	if err := e.srv.PutPstn(rows...); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	n := 0
	err := e.c.PstnCalls(t.Context(), start, day12.Add(24*time.Hour), func(rows []PstnCall) error {
		sizes = append(sizes, len(rows))
		n += len(rows)
		return nil
	})
	if err != nil {
		t.Fatal(err) // the fake answers 400 to a window over 90 days
	}
	if !slices.Equal(sizes, []int{1, 1000, 1000, 500}) || n != 2501 {
		t.Errorf("pages %v: want the old row, then 1000, 1000, 500", sizes)
	}
	us, _ := q.to(pstnPrefix)
	if len(us) != 96+2 {
		t.Errorf("%d requests, want one per day (96) and 2 next pages", len(us))
	}
}

func TestCallLogFailsPartWay(t *testing.T) {
	e, _ := newListEnv(t, graphtest.Options{LogPageSize: 2}, func(c *ClientConfig) { c.MaxAttempts = 2 })
	for i := range 5 {
		if err := e.srv.PutDirectRouting(logRow(fmt.Sprint(i), day12.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.FailLogsAfter(1, 500)
	var seen []string
	err := e.c.DirectRoutingCalls(t.Context(), day12, day12.Add(24*time.Hour), func(rows []DirectRoutingCall) error {
		for _, r := range rows {
			seen = append(seen, r.ID)
		}
		return nil
	})
	if !slices.Equal(seen, []string{"0", "1"}) {
		t.Errorf("fn saw %v, want the first page", seen)
	}
	ie, ok := errors.AsType[*IncompleteError](err)
	if !ok || len(ie.Failed) != 1 || !IsRetryable(err) || !strings.Contains(err.Error(), "reading Direct Routing calls") {
		t.Errorf("err %v: want a retryable IncompleteError", err)
	}
}

func TestCallLogPacing(t *testing.T) {
	e, q := newListEnv(t, graphtest.Options{}, nil)
	if err := e.c.PstnCalls(t.Context(), day12, day12.Add(250*24*time.Hour), func([]PstnCall) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, times := q.to(pstnPrefix)
	if len(times) != 250 {
		t.Fatalf("%d requests, want 250", len(times))
	}
	for i := 0; i+200 < len(times); i++ {
		if d := times[i+200].Sub(times[i]); d < 60*time.Second {
			t.Fatalf("requests %d to %d within %v: more than 200 in 60 s", i, i+200, d)
		}
	}
}

func TestDecodeCallLogSamples(t *testing.T) {
	p := sampleValues(t, "getPstnCalls.json")
	r1, err := DecodePstnCall(p[0])
	if err != nil {
		t.Fatal(err)
	}
	r2, err := DecodePstnCall(p[1])
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 12, 9, 29, 48, 0, time.UTC)
	checks := []struct {
		name      string
		got, want any
	}{
		{"pstn id", r1.ID, "6d0f2b93-8e41-4c7a-b5d6-1a9e3f70c248"},
		{"pstn callId", deref(r1.CallID), "b62d0e94-1f73-4a8c-8d25-6e9f0c3a7b18"},
		{"pstn start", r1.StartDateTime, time.Date(2026, 11, 12, 9, 17, 3, 0, time.UTC)},
		{"pstn end", deref(r1.EndDateTime), end},
		{"pstn duration", deref(r1.Duration), int64(765)},
		{"pstn charge", deref(r1.Charge), 0.0},
		{"pstn callType", deref(r1.CallType), "user_in"},
		{"pstn destinationContext null", r1.DestinationContext == nil, true},
		{"pstn conferenceId null", r1.ConferenceID == nil, true},
		{"pstn callDurationSource", deref(r1.CallDurationSource), "microsoft"},
		{"pstn 2 charge", deref(r2.Charge), 0.38},
		{"pstn 2 destinationContext", deref(r2.DestinationContext), "International"},
		{"pstn 2 license", deref(r2.LicenseCapability), "MCOPSTN2"},
	}
	d := sampleValues(t, "getDirectRoutingCalls.json")
	ok, err := DecodeDirectRoutingCall(d[0])
	if err != nil {
		t.Fatal(err)
	}
	failed, err := DecodeDirectRoutingCall(d[1])
	if err != nil {
		t.Fatal(err)
	}
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"dr correlationId", deref(ok.CorrelationID), "81d4f6a3-0c2e-4b97-a5e8-3f9b1d07c264"},
		{"dr sentinel failureDateTime", ok.FailureDateTime == nil, true},
		{"dr invite", deref(ok.InviteDateTime), time.Date(2026, 11, 12, 8, 31, 39, 0, time.UTC)},
		{"dr end", deref(ok.EndDateTime), time.Date(2026, 11, 12, 8, 44, 2, 0, time.UTC)},
		{"dr successful", deref(ok.SuccessfulCall), true},
		{"dr finalSipCode 0 is a value", deref(ok.FinalSipCode), int32(0)},
		{"dr subreason", deref(ok.CallEndSubReason), int32(540200)},
		{"dr bypass", deref(ok.MediaBypassEnabled), true},
		{"dr failed end null", failed.EndDateTime == nil, true},
		{"dr failed at", deref(failed.FailureDateTime), time.Date(2026, 11, 12, 12, 7, 21, 0, time.UTC)},
		{"dr failed code", deref(failed.FinalSipCode), int32(486)},
		{"dr failed phrase", deref(failed.FinalSipCodePhrase), "Busy Here"},
		{"dr failed duration", deref(failed.Duration), int64(0)},
		{"dr failed successful", deref(failed.SuccessfulCall), false},
	}...)
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}

	// Through the fake and the client, the same rows come out.
	e, _ := newListEnv(t, graphtest.Options{}, nil)
	if err := e.srv.PutPstn(p...); err != nil {
		t.Fatal(err)
	}
	var got []PstnCall
	if err := e.c.PstnCalls(t.Context(), day12, day12.Add(24*time.Hour), func(rows []PstnCall) error {
		got = append(got, rows...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []PstnCall{r1, r2}) {
		t.Errorf("through the client: %+v", got)
	}
}

func TestDecodeRowErrors(t *testing.T) {
	for _, b := range []string{
		`[]`, `{"startDateTime":"2026-11-12T00:00:00Z"}`, `{"id":"x"}`, `{"id":"x","startDateTime":null}`,
		`{"id":"x","startDateTime":"2026-11-12"}`, `{"id":"x","startDateTime":"2026-11-12T00:00:00Z","duration":"long"}`,
	} {
		if _, err := DecodePstnCall([]byte(b)); err == nil {
			t.Errorf("PSTN row %s accepted", b)
		}
		if _, err := DecodeDirectRoutingCall([]byte(b)); err == nil {
			t.Errorf("Direct Routing row %s accepted", b)
		}
	}
	r, err := DecodeDirectRoutingCall([]byte(`{"id":"x","startDateTime":"2026-11-12T01:00:00+01:00","endDateTime":"0001-01-01T00:00:00+00:00","inviteDateTime":"2026-11-12T01:00:00.5+01:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !r.StartDateTime.Equal(day12) || r.EndDateTime != nil || r.InviteDateTime == nil || !r.InviteDateTime.Equal(day12.Add(500*time.Millisecond)) ||
		r.StartDateTime.Location() != time.UTC || r.InviteDateTime.Location() != time.UTC {
		t.Errorf("times not normalised to UTC and sentinel: %+v", r)
	}
}

// TestCallLogsSkipBadRowsAndFollowCapitalNextLink: a row that does not decode
// costs only itself, and "@odata.NextLink" (as the documentation of
// getDirectRoutingCalls writes it) is followed.
func TestCallLogsSkipBadRowsAndFollowCapitalNextLink(t *testing.T) {
	path := drPrefix + "fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z)"
	s, n := stub(t, map[string]string{
		path:         `{"value":[{"id":"a","startDateTime":"2026-11-12T01:00:00Z"},{"id":"b"}],"@odata.NextLink":"{URL}/v1.0/next"}`,
		"/v1.0/next": `{"value":[{"id":"c","startDateTime":"2026-11-12T02:00:00Z"}]}`,
	})
	var ids []string
	err := stubClient(t, s).DirectRoutingCalls(t.Context(), day12, day12.Add(24*time.Hour), func(rows []DirectRoutingCall) error {
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil || !slices.Equal(ids, []string{"a", "c"}) || n.Load() != 2 {
		t.Errorf("rows %v, %d requests, err %v: want a and c in 2 requests", ids, n.Load(), err)
	}
}

// TestGraphgenRowsDecode: what graphgen generates for a week decodes with the
// client's types, and reads back through the fake and the client.
func TestGraphgenRowsDecode(t *testing.T) {
	calls := graphgen.Week(graphgen.Options{Seed: 1})
	pstn, dr := graphgen.PstnRows(calls, 1)
	ids := map[string]bool{}
	for _, c := range calls {
		ids[c.ID] = true
	}
	linked := 0
	for _, b := range pstn {
		r, err := DecodePstnCall(b)
		if err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		if r.CallID != nil && ids[*r.CallID] {
			linked++
		}
		if r.EndDateTime == nil || r.Duration == nil || int64(r.EndDateTime.Sub(r.StartDateTime)/time.Second) != *r.Duration {
			t.Errorf("row %s: end and duration disagree", r.ID)
		}
	}
	if linked == 0 || linked == len(pstn) {
		t.Errorf("%d of %d PSTN rows name a call record: want most, not all", linked, len(pstn))
	}
	var failed, ok int
	for _, b := range dr {
		r, err := DecodeDirectRoutingCall(b)
		if err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		switch {
		case deref(r.SuccessfulCall) == true && r.FailureDateTime == nil && r.EndDateTime != nil:
			ok++
		case deref(r.SuccessfulCall) == false && r.FailureDateTime != nil && r.EndDateTime == nil:
			failed++
		default:
			t.Errorf("row %s: successful %v failure %v end %v", r.ID, deref(r.SuccessfulCall), r.FailureDateTime, r.EndDateTime)
		}
	}
	if ok == 0 || failed == 0 {
		t.Errorf("%d successful and %d failed Direct Routing rows: want both", ok, failed)
	}

	e, _ := newListEnv(t, graphtest.Options{}, nil)
	if err := e.srv.PutPstn(pstn...); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.PutDirectRouting(dr...); err != nil {
		t.Fatal(err)
	}
	week := graphgen.DefaultStart
	nP, nD := 0, 0
	if err := e.c.PstnCalls(t.Context(), week, week.AddDate(0, 0, 7), func(rows []PstnCall) error { nP += len(rows); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DirectRoutingCalls(t.Context(), week, week.AddDate(0, 0, 7), func(rows []DirectRoutingCall) error { nD += len(rows); return nil }); err != nil {
		t.Fatal(err)
	}
	if nP != len(pstn) || nD != len(dr) {
		t.Errorf("read back %d and %d rows, generated %d and %d", nP, nD, len(pstn), len(dr))
	}
}

func FuzzDecodePstnCall(f *testing.F) {
	for _, b := range sampleValues(f, "getPstnCalls.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x","startDateTime":"2026-11-12T00:00:00.1234567+14:00","endDateTime":"0001-01-01T00:00:00Z","charge":1e308}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodePstnCall(b)
		if err != nil {
			return
		}
		checkRow(t, r.ID, r.StartDateTime, r.EndDateTime)
		roundTrip(t, r, DecodePstnCall)
	})
}

func FuzzDecodeDirectRoutingCall(f *testing.F) {
	for _, b := range sampleValues(f, "getDirectRoutingCalls.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x","startDateTime":"2026-11-12T00:00:00Z","failureDateTime":"0001-01-01T00:00:00Z","finalSipCode":2147483648}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeDirectRoutingCall(b)
		if err != nil {
			return
		}
		checkRow(t, r.ID, r.StartDateTime, r.InviteDateTime, r.FailureDateTime, r.EndDateTime)
		roundTrip(t, r, DecodeDirectRoutingCall)
	})
}

// checkRow asserts what a decoded row promises: an id, a UTC start, and
// optional times that are nil or real UTC times.
func checkRow(t *testing.T, id string, start time.Time, opt ...*time.Time) {
	t.Helper()
	if id == "" || start.IsZero() || start.Location() != time.UTC {
		t.Fatalf("accepted id %q start %v", id, start)
	}
	for _, o := range opt {
		if o != nil && (o.IsZero() || o.Location() != time.UTC) {
			t.Fatalf("optional time %v kept", o)
		}
	}
}

// roundTrip asserts that a decoded row encodes, and decodes again to the same.
func roundTrip[T any](t *testing.T, r T, decode func([]byte) (T, error)) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("decoded row does not encode: %v", err)
	}
	again, err := decode(b)
	if err != nil {
		t.Fatalf("encoded row does not decode: %v\n%s", err, b)
	}
	b2, _ := json.Marshal(again)
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip changed the row:\n%s\n%s", b, b2)
	}
}
