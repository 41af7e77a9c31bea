package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const listPath = "/v1.0/communications/callRecords"

// listRecord is a small record starting at start, with participants_v2 ids.
func listRecord(id, start string, participants ...string) []byte {
	var ps []string
	for _, p := range participants {
		ps = append(ps, fmt.Sprintf(`{"id":%q,"identity":{"user":{"id":%q}}}`, p, p))
	}
	return fmt.Appendf(nil, `{"id":%q,"version":1,"type":"peerToPeer","modalities":["audio"],
		"lastModifiedDateTime":"2026-11-13T01:00:00Z","startDateTime":%q,"endDateTime":"2026-11-13T00:30:00Z",
		"joinWebUrl":null,"organizer_v2":null,"sessions":[],"participants_v2":[%s]}`, id, start, strings.Join(ps, ","))
}

func listURL(s *Server, filter string) string {
	return s.URL + listPath + "?$filter=" + url.QueryEscape(filter)
}

func TestListShapeMatchesSample(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	for _, f := range []string{"callrecord-groupcall.json", "callrecord-peertopeer-pstn.json"} {
		raw, err := os.ReadFile("../testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(raw); err != nil {
			t.Fatal(err)
		}
	}
	sample, err := os.ReadFile("../testdata/list-callrecords.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(sample, &want); err != nil {
		t.Fatal(err)
	}
	status, _, m := get(t, listURL(s, "startDateTime ge 2026-11-12T00:00:00Z and startDateTime lt 2026-11-13T00:00:00Z"), token(t, s))
	if status != 200 {
		t.Fatalf("status %d: %s", status, m["error"])
	}
	if got := str(t, m["@odata.context"]); got != s.URL+"/v1.0/$metadata#communications/callRecords" {
		t.Errorf("context %s", got)
	}
	var got []json.RawMessage
	if err := json.Unmarshal(m["value"], &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d items, want the 2 records put", len(got))
	}
	// The sample lists b62d0e94 (09:17), 0d4e7b2a (never put) and 3f8a2c71 (14:00).
	for i, w := range []json.RawMessage{want.Value[0], want.Value[2]} {
		var a, b any
		if err := json.Unmarshal(got[i], &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(w, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("item %d differs from the sample's:\n got %s\nwant %s", i, got[i], w)
		}
	}
}

func TestListPagesWithStableSkipToken(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	for i := range 130 {
		if err := s.Put(listRecord(fmt.Sprintf("r-%03d", i), fmt.Sprintf("2026-11-12T%02d:%02d:00Z", i/60, i%60))); err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, s)
	filter := "startDateTime ge 2026-11-12T00:00:00Z and startDateTime lt 2026-11-13T00:00:00Z"
	link := listURL(s, filter)
	var all []string
	var sizes []int
	for page := 0; link != ""; page++ {
		status, _, m := get(t, link, tok)
		if status != 200 {
			t.Fatalf("page %d: %d %s", page, status, m["error"])
		}
		got := ids(t, m["value"])
		all, sizes = append(all, got...), append(sizes, len(got))
		link = ""
		if next, ok := m["@odata.nextLink"]; ok {
			link = str(t, next)
			u, err := url.Parse(link)
			if err != nil || u.Query().Get("$filter") != filter || u.Query().Get("$skiptoken") == "" {
				t.Fatalf("next link %s does not carry the filter and a skip token", link)
			}
		}
		if page == 0 {
			// A record arriving during the walk that sorts before the
			// position does not shift the pages.
			if err := s.Put(listRecord("early", "2026-11-12T00:00:30Z")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !reflect.DeepEqual(sizes, []int{60, 60, 10}) {
		t.Errorf("page sizes %v, want [60 60 10]", sizes)
	}
	for i, id := range all {
		if want := fmt.Sprintf("r-%03d", i); id != want {
			t.Fatalf("item %d is %s, want %s (sorted by start, none skipped or repeated)", i, id, want)
		}
	}
	status, _, m := get(t, s.URL+listPath+"?$skiptoken=bm90LWEtdG9rZW4", tok)
	if status != 400 || graphErrorCode(t, m) != "BadRequest" {
		t.Errorf("forged skip token: %d", status)
	}
}

func TestListFilter(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	for _, r := range [][]byte{
		listRecord("before", "2026-11-11T23:59:59.9999999Z"),
		listRecord("midnight", "2026-11-12T00:00:00Z", "user-a"),
		listRecord("noon", "2026-11-12T12:00:00+02:00", "user-b"), // 10:00 UTC
		listRecord("next", "2026-11-13T00:00:00Z", "user-a"),
	} {
		if err := s.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put([]byte(`{"id":"no-start"}`)); err != nil {
		t.Fatal(err)
	}
	const d12, d13 = "2026-11-12T00:00:00Z", "2026-11-13T00:00:00Z"
	tests := []struct {
		filter string
		want   []string // nil: 400
	}{
		{"startDateTime ge " + d12 + " and startDateTime lt " + d13, []string{"midnight", "noon"}},
		{"startDateTime gt " + d12, []string{"noon", "next"}},
		{"startDateTime le " + d12, []string{"before", "midnight"}},
		{"startDateTime lt " + d12, []string{"before"}},
		{"startDateTime ge 2026-11-12T11:00:00+01:00 and startDateTime le " + d13, []string{"noon", "next"}},
		{"(startDateTime ge " + d12 + ") and (startDateTime le " + d13 + ")", []string{"midnight", "noon", "next"}},
		{"participants_v2/any(p:p/id eq 'user-a')", []string{"midnight", "next"}},
		{"participants_v2/any(x:x/id eq 'USER-B') and startDateTime ge " + d12, []string{"noon"}},
		{"startDateTime eq " + d12, nil},
		{"startDateTime ge " + d12 + " or startDateTime lt " + d13, nil},
		{"not (startDateTime ge " + d12 + ")", nil},
		{"endDateTime ge " + d12, nil},
		{"type eq 'groupCall'", nil},
		{"startDateTime ge 2026-11-12", nil},
		{"startDateTime ge '" + d12 + "'", nil},
		{"startDateTime ge " + d12 + " and", nil},
		{"(startDateTime ge " + d12, nil},
		{"participants_v2/any(p:p/displayName eq 'x')", nil},
		{"participants_v2/any(p:q/id eq 'x')", nil},
		{"participants_v2/any(p:p/id eq 'x", nil},
		{"", nil},
	}
	tok := token(t, s)
	for _, tt := range tests {
		status, _, m := get(t, listURL(s, tt.filter), tok)
		if tt.want == nil {
			if status != 400 || graphErrorCode(t, m) != "BadRequest" || !strings.Contains(string(m["error"]), "Unsupported filter") {
				t.Errorf("%q: %d %s, want 400 BadRequest Unsupported filter", tt.filter, status, m["error"])
			}
			continue
		}
		if status != 200 {
			t.Errorf("%q: %d %s", tt.filter, status, m["error"])
			continue
		}
		if got := ids(t, m["value"]); !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v, want %v", tt.filter, got, tt.want)
		}
	}
	status, _, m := get(t, s.URL+listPath, tok)
	if got := ids(t, m["value"]); status != 200 || !slices.Equal(got, []string{"before", "midnight", "noon", "next"}) {
		t.Errorf("no filter: %d %v, want every record with a start", status, got)
	}
	for _, q := range []string{"?$top=5", "?$select=id", "?$filter=startDateTime%20ge%20" + d12 + "&$filter=startDateTime%20lt%20" + d13} {
		if status, _, m := get(t, s.URL+listPath+q, tok); status != 400 || graphErrorCode(t, m) != "BadRequest" {
			t.Errorf("%s: %d, want 400", q, status)
		}
	}
}

func TestFailListAfter(t *testing.T) {
	s := NewServer(Options{ListPageSize: 1})
	defer s.Close()
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Put(listRecord(id, "2026-11-12T10:00:00Z")); err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, s)
	s.FailListAfter(1, 503)
	status, _, m := get(t, s.URL+listPath, tok)
	if status != 200 {
		t.Fatalf("first page: %d", status)
	}
	next := str(t, m["@odata.nextLink"])
	for range 3 {
		if status, _, m := get(t, next, tok); status != 503 || graphErrorCode(t, m) != "ServiceNotAvailable" {
			t.Fatalf("after the first page: %d, want 503 ServiceNotAvailable", status)
		}
	}
	if status, _, _ := get(t, s.URL+"/v1.0/communications/callRecords/a", tok); status != 200 {
		t.Errorf("a record GET during list failures: %d", status)
	}
	if st := s.Stats(); st.Failed != 3 {
		t.Errorf("Failed %d, want 3", st.Failed)
	}
	s.FailListAfter(0, 0)
	if status, _, _ := get(t, next, tok); status != 200 {
		t.Errorf("after FailListAfter(0, 0): %d", status)
	}
}

// pstnRow is a minimal pstnCallLogRow.
func pstnRow(id, start string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"callId":"c-%s","startDateTime":%q,"endDateTime":null,"duration":0}`, id, id, start)
}

func logURL(s *Server, fn, from, to string) string {
	return s.URL + listPath + "/" + fn + "(fromDateTime=" + from + ",toDateTime=" + to + ")"
}

func TestCallLogWindows(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	rows := [][]byte{
		pstnRow("before", "2026-11-11T23:59:59Z"),
		pstnRow("first", "2026-11-12T00:00:00Z"),
		pstnRow("last-second", "2026-11-12T23:59:59Z"),
		pstnRow("last-tick", "2026-11-12T23:59:59.9999999Z"),
		pstnRow("next-day", "2026-11-13T00:00:00Z"),
	}
	if err := s.PutPstn(rows...); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDirectRouting(rows...); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	tests := []struct {
		fn, from, to string
		want         []string
	}{
		// PSTN: both ends inclusive.
		{"getPstnCalls", "2026-11-12T00:00:00Z", "2026-11-12T23:59:59Z", []string{"first", "last-second"}},
		{"getPstnCalls", "2026-11-12T00:00:00Z", "2026-11-12T23:59:59.9999999Z", []string{"first", "last-second", "last-tick"}},
		{"getPstnCalls", "2026-11-12T00:00:00Z", "2026-11-13T00:00:00Z", []string{"first", "last-second", "last-tick", "next-day"}},
		{"getPstnCalls", "2026-11-12", "2026-11-13", []string{"first", "last-second", "last-tick", "next-day"}},
		{"microsoft.graph.callRecords.getPstnCalls", "2026-11-13T00:00:00Z", "2026-11-13T00:00:00Z", []string{"next-day"}},
		// Direct Routing: end exclusive.
		{"getDirectRoutingCalls", "2026-11-12T00:00:00Z", "2026-11-13T00:00:00Z", []string{"first", "last-second", "last-tick"}},
		{"getDirectRoutingCalls", "2026-11-11T23:59:59Z", "2026-11-12T00:00:00Z", []string{"before"}},
	}
	for _, tt := range tests {
		status, _, m := get(t, logURL(s, tt.fn, tt.from, tt.to), tok)
		if status != 200 {
			t.Errorf("%s(%s, %s): %d %s", tt.fn, tt.from, tt.to, status, m["error"])
			continue
		}
		if got := ids(t, m["value"]); !slices.Equal(got, tt.want) {
			t.Errorf("%s(%s, %s): %v, want %v", tt.fn, tt.from, tt.to, got, tt.want)
		}
		if got := string(m["@odata.count"]); got != fmt.Sprint(len(tt.want)) {
			t.Errorf("%s: @odata.count %s, want %d", tt.fn, got, len(tt.want))
		}
	}
}

func TestCallLogPaging(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	var rows [][]byte
	for i := range 2500 {
		rows = append(rows, pstnRow(fmt.Sprintf("row-%04d", i), time.Date(2026, 11, 12, 0, 0, i, 0, time.UTC).Format(time.RFC3339)))
	}
	if err := s.PutDirectRouting(rows...); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s)
	link := logURL(s, "getDirectRoutingCalls", "2026-11-12T00:00:00Z", "2026-11-13T00:00:00Z")
	var all []string
	var counts []string
	for link != "" {
		status, _, m := get(t, link, tok)
		if status != 200 {
			t.Fatalf("%s: %d %s", link, status, m["error"])
		}
		if str(t, m["@odata.context"]) != s.URL+"/v1.0/$metadata#Collection(microsoft.graph.callRecords.directRoutingLogRow)" {
			t.Errorf("context %s", m["@odata.context"])
		}
		all, counts = append(all, ids(t, m["value"])...), append(counts, string(m["@odata.count"]))
		link = ""
		if next, ok := m["@odata.nextLink"]; ok {
			link = str(t, next)
		}
	}
	if !slices.Equal(counts, []string{"1000", "1000", "500"}) {
		t.Errorf("@odata.count of the pages %v, want [1000 1000 500]", counts)
	}
	for i, id := range all {
		if want := fmt.Sprintf("row-%04d", i); id != want {
			t.Fatalf("row %d is %s, want %s", i, id, want)
		}
	}
}

func TestCallLogErrors(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	tok := token(t, s)
	for _, path := range []string{
		"getPstnCalls(fromDateTime=2026-08-01T00:00:00Z,toDateTime=2026-10-30T00:00:01Z)",          // 90 days and a second
		"getDirectRoutingCalls(fromDateTime=2026-08-01T00:00:00Z,toDateTime=2026-11-13T00:00:00Z)", // 104 days
		"getPstnCalls(fromDateTime=2026-11-13T00:00:00Z,toDateTime=2026-11-12T00:00:00Z)",
		"getPstnCalls(fromDateTime=2026-11-12T00:00:00Z)",
		"getPstnCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=yesterday)",
		"getPstnCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z,top=5)",
		"getPstnCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z)?$top=5",
		"getPstnCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z)?$skip=-1",
		"getPstnCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z",
		"getSmsLogs(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z)",
	} {
		if status, _, m := get(t, s.URL+listPath+"/"+path, tok); status != 400 || graphErrorCode(t, m) != "BadRequest" {
			t.Errorf("%s: %d, want 400 BadRequest", path, status)
		}
	}
	if status, _, m := get(t, logURL(s, "getPstnCalls", "2026-08-01T00:00:00Z", "2026-10-30T00:00:00Z"), tok); status != 200 {
		t.Errorf("exactly 90 days: %d %s", status, m["error"])
	}
}

func TestFailLogsAfter(t *testing.T) {
	s := NewServer(Options{LogPageSize: 2})
	defer s.Close()
	for i := range 5 {
		if err := s.PutPstn(pstnRow(fmt.Sprint(i), "2026-11-12T10:00:0"+fmt.Sprint(i)+"Z")); err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, s)
	s.FailLogsAfter(2, 500)
	status, _, m := get(t, logURL(s, "getPstnCalls", "2026-11-12", "2026-11-13"), tok)
	if status != 200 {
		t.Fatal(status)
	}
	next := str(t, m["@odata.nextLink"])
	if !strings.HasSuffix(next, "?$skip=2") {
		t.Errorf("next link %s", next)
	}
	status, _, m = get(t, next, tok)
	if status != 200 {
		t.Fatal(status)
	}
	if status, _, m := get(t, str(t, m["@odata.nextLink"]), tok); status != 500 || graphErrorCode(t, m) != "InternalServerError" {
		t.Errorf("third page: %d, want 500", status)
	}
}

func TestPutRowsKeepsJSONAndRejects(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	sample, err := os.ReadFile("../testdata/getPstnCalls.json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(sample, &page); err != nil {
		t.Fatal(err)
	}
	raws := make([][]byte, len(page.Value))
	for i, v := range page.Value {
		raws[i] = v
	}
	if err := s.PutPstn(raws...); err != nil {
		t.Fatal(err)
	}
	_, _, m := get(t, logURL(s, "getPstnCalls", "2026-11-12T00:00:00Z", "2026-11-12T23:59:59Z"), token(t, s))
	var want, got bytes.Buffer
	_ = json.Compact(&want, mustJSON(t, page.Value))
	_ = json.Compact(&got, m["value"])
	if want.String() != got.String() {
		t.Errorf("served rows differ from the rows put:\n got %s\nwant %s", got.String(), want.String())
	}
	for _, bad := range [][]byte{
		[]byte(`[]`),
		[]byte(`{"startDateTime":"2026-11-12T00:00:00Z"}`),
		[]byte(`{"id":"x"}`),
		[]byte(`{"id":"x","startDateTime":"yesterday"}`),
		[]byte(`{"id":"x","startDateTime":"2026-11-12T00:00:00Z"`),
	} {
		if err := s.PutDirectRouting(pstnRow("fine", "2026-11-12T00:00:00Z"), bad); err == nil {
			t.Errorf("PutDirectRouting accepted %s", bad)
		}
	}
	_, _, m = get(t, logURL(s, "getDirectRoutingCalls", "2026-11-12", "2026-11-13"), token(t, s))
	if got := ids(t, m["value"]); len(got) != 0 {
		t.Errorf("a refused Put stored %v", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
