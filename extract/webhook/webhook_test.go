package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"callstats/extract/queue"
)

const (
	testClientState = "kb-callrec-3Jf9qX2mLw7TzR4v"
	testTenant      = "7c1e4f2a-93b5-4d08-a6e1-2f9d8b30c5e7"
	testVerify      = "rc-verify-token-1"
)

var testNow = time.Date(2026, 11, 13, 18, 23, 26, 795_000_000, time.UTC)

// memSink keeps what it is given; err, when set, fails every Append.
type memSink struct {
	mu       sync.Mutex
	entities []queue.Entity
	calls    int
	err      error
}

func (s *memSink) Append(_ context.Context, es []queue.Entity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return s.err
	}
	s.entities = append(s.entities, es...)
	return nil
}

func (s *memSink) got() []queue.Entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]queue.Entity(nil), s.entities...)
}

type fixture struct {
	sink      *memSink
	stats     *Stats
	guard     *Guard
	graph     *Graph
	rc        *RingCentral
	lifecycle []LifecycleEvent
	mu        sync.Mutex
}

func newFixture(t testing.TB, sink Sink) *fixture {
	t.Helper()
	f := &fixture{stats: &Stats{}}
	if sink == nil {
		f.sink = &memSink{}
		sink = f.sink
	}
	f.guard = NewGuard(DefaultMaxBody, 4, "X-Real-IP", f.stats)
	var err error
	f.graph, err = NewGraph(GraphConfig{
		ClientState: testClientState, TenantID: testTenant, Sink: sink, Guard: f.guard,
		Now: func() time.Time { return testNow },
		Lifecycle: func(ev LifecycleEvent) {
			f.mu.Lock()
			f.lifecycle = append(f.lifecycle, ev)
			f.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.rc, err = NewRingCentral(RingCentralConfig{VerificationToken: testVerify, Sink: sink, Guard: f.guard,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func post(h http.Handler, target, contentType, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func sample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + strings.ReplaceAll(name, "/", "-"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGraphValidation proves the handshake: the decoded validationToken,
// and only it, answered 200 text/plain, on both Graph paths; a token that
// is not printable or too long is refused.
func TestGraphValidation(t *testing.T) {
	f := newFixture(t, nil)
	const token = "Validation: Testing client application reachability for subscription Request-Id: 3e1c0e9f-8b0e-4c8c-9a2a-1a2b3c4d5e6f"
	for name, h := range map[string]http.Handler{"notifications": f.graph.Notifications(), "lifecycle": f.graph.Lifecycle()} {
		w := post(h, "/graph/callrecords?validationToken=Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+3e1c0e9f-8b0e-4c8c-9a2a-1a2b3c4d5e6f",
			"text/plain; charset=utf-8", "")
		if w.Code != http.StatusOK || w.Body.String() != token || w.Header().Get("Content-Type") != "text/plain" {
			t.Errorf("%s: %d %q %q", name, w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
	}
	// Markup is echoed as plain text, never as HTML.
	w := post(f.graph.Notifications(), "/?validationToken=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "", "")
	if w.Code != http.StatusOK || w.Body.String() != "<script>alert(1)</script>" || w.Header().Get("Content-Type") != "text/plain" {
		t.Errorf("markup token: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	for _, bad := range []string{"", "a%0Ab", "%00", "%FF%FE", strings.Repeat("x", maxToken+1)} {
		w := post(f.graph.Notifications(), "/?validationToken="+bad, "", "")
		if w.Code != http.StatusBadRequest || strings.Contains(w.Body.String(), bad) && bad != "" {
			t.Errorf("token %.20q: %d %q", bad, w.Code, w.Body.String())
		}
	}
	if got := f.stats.Snapshot(); got.Validations != 3 || got.BadRequests != 5 {
		t.Errorf("counts %+v", got)
	}
	if len(f.sink.got()) != 0 {
		t.Error("a validation queued something")
	}
}

// TestGraphNotifications proves that the samples are queued as entities of
// the queue's shape, and that items with a wrong clientState or tenant are
// dropped and counted, never queued.
func TestGraphNotifications(t *testing.T) {
	f := newFixture(t, nil)
	for _, name := range []string{"graph/notification-created.json", "graph/notification-updated.json"} {
		if w := post(f.graph.Notifications(), "/graph/callrecords", "application/json", sample(t, name)); w.Code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	const id = "3f8a2c71-5be4-4d19-9e06-a1c7d2b84f5e"
	want := []queue.Entity{
		queue.NewEntity(queue.SourceTeams, id, "created", testNow),
		queue.NewEntity(queue.SourceTeams, id, "updated", testNow),
	}
	got := f.sink.got()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("queued %+v\nwant %+v", got, want)
	}
	if got[0].PartitionKey != "2026111318" || got[0].RowKey != id+"-created" {
		t.Errorf("keys %q %q", got[0].PartitionKey, got[0].RowKey)
	}

	item := func(id, clientState, tenant string) string {
		return `{"subscriptionId":"s1","changeType":"created","resource":"communications/callRecords/` + id +
			`","resourceData":{"id":"` + id + `"},"clientState":"` + clientState + `","tenantId":"` + tenant + `"}`
	}
	body := `{"value":[` + item("good-1", testClientState, testTenant) + "," +
		item("bad-state", testClientState+"x", testTenant) + "," +
		item("bad-state-2", "", testTenant) + "," +
		item("bad-tenant", testClientState, "00000000-0000-0000-0000-000000000000") + "," +
		item("good-2", testClientState, strings.ToUpper(testTenant)) + `]}`
	if w := post(f.graph.Notifications(), "/", "application/json", body); w.Code != http.StatusAccepted {
		t.Fatalf("mixed: %d", w.Code)
	}
	got = f.sink.got()[2:]
	if len(got) != 2 || got[0].CallID != "good-1" || got[1].CallID != "good-2" {
		t.Errorf("mixed queued %+v", got)
	}
	if c := f.stats.Snapshot(); c.Dropped != 3 || c.Queued != 4 {
		t.Errorf("counts %+v", c)
	}

	// Nothing from our subscription: refused, nothing handed to the sink.
	calls := f.sink.calls
	body = `{"value":[` + item("evil", "guess", testTenant) + `]}`
	if w := post(f.graph.Notifications(), "/", "application/json", body); w.Code != http.StatusForbidden {
		t.Errorf("all dropped: %d", w.Code)
	}
	if f.sink.calls != calls {
		t.Error("sink called for dropped items")
	}
}

// TestGraphInvalidItems proves that items without a usable call id or
// change type are skipped and counted, and that an id taken from resource
// is used when resourceData has none.
func TestGraphInvalidItems(t *testing.T) {
	f := newFixture(t, nil)
	item := func(resource, id, change string) string {
		return `{"changeType":"` + change + `","resource":"` + resource + `","resourceData":{"id":"` + id +
			`"},"clientState":"` + testClientState + `","tenantId":"` + testTenant + `"}`
	}
	body := `{"value":[` + strings.Join([]string{
		item("communications/callRecords/from-resource", "", "updated"),
		item("communications/callRecords('quoted-id')", "", "created"),
		item("", "a/b", "created"),
		item("", "id-x", "up-dated"),
		item("", "id-y", ""),
		item("", strings.Repeat("a", maxID+1), "created"),
	}, ",") + `]}`
	if w := post(f.graph.Notifications(), "/", "application/json", body); w.Code != http.StatusAccepted {
		t.Fatalf("%d", w.Code)
	}
	got := f.sink.got()
	if len(got) != 2 || got[0].CallID != "from-resource" || got[1].CallID != "quoted-id" {
		t.Errorf("queued %+v", got)
	}
	if c := f.stats.Snapshot(); c.Invalid != 4 {
		t.Errorf("invalid %d, want 4", c.Invalid)
	}
}

// TestGraphAnswersAfterSink proves that a notification is answered only
// once the sink has returned, and 503 (so Graph retries) when it failed.
func TestGraphAnswersAfterSink(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	sink := SinkFunc(func(ctx context.Context, es []queue.Entity) error {
		close(entered)
		<-release
		return nil
	})
	f := newFixture(t, sink)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		done <- post(f.graph.Notifications(), "/", "application/json", sample(t, "graph/notification-created.json"))
	}()
	<-entered
	select {
	case w := <-done:
		t.Fatalf("answered %d before the sink returned", w.Code)
	default:
	}
	close(release)
	if w := <-done; w.Code != http.StatusAccepted {
		t.Errorf("answered %d", w.Code)
	}

	failing := newFixture(t, &memSink{err: errors.New("disk full")})
	w := post(failing.graph.Notifications(), "/", "application/json", sample(t, "graph/notification-created.json"))
	if w.Code != http.StatusServiceUnavailable || failing.stats.Snapshot().SinkErrors != 1 || failing.stats.Snapshot().Queued != 0 {
		t.Errorf("failing sink: %d %+v", w.Code, failing.stats.Snapshot())
	}
}

// TestGraphLifecycle proves that lifecycle notifications reach the
// callback only from the lifecycle path and with the right clientState,
// and queue nothing; change notifications at that path are not queued.
func TestGraphLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	ev := func(event, clientState string) string {
		return `{"subscriptionId":"sub-1","subscriptionExpirationDateTime":"2026-11-14T21:40:00+00:00","lifecycleEvent":"` + event +
			`","clientState":"` + clientState + `","tenantId":"` + testTenant + `"}`
	}
	body := `{"value":[` + ev(ReauthorizationRequired, testClientState) + "," + ev(SubscriptionRemoved, testClientState) + "," +
		ev(SubscriptionRemoved, "wrong") + `]}`
	if w := post(f.graph.Lifecycle(), "/graph/lifecycle", "application/json", body); w.Code != http.StatusAccepted {
		t.Fatalf("%d", w.Code)
	}
	want := []LifecycleEvent{{"sub-1", ReauthorizationRequired}, {"sub-1", SubscriptionRemoved}}
	if len(f.lifecycle) != 2 || f.lifecycle[0] != want[0] || f.lifecycle[1] != want[1] {
		t.Errorf("lifecycle %+v", f.lifecycle)
	}
	// The wrong kind at each path.
	post(f.graph.Notifications(), "/", "application/json", `{"value":[`+ev(SubscriptionRemoved, testClientState)+`]}`)
	post(f.graph.Lifecycle(), "/", "application/json", sample(t, "graph/notification-created.json"))
	if len(f.lifecycle) != 2 || len(f.sink.got()) != 0 {
		t.Errorf("wrong kind accepted: %+v %+v", f.lifecycle, f.sink.got())
	}
	if c := f.stats.Snapshot(); c.Invalid != 2 || c.Dropped != 1 || c.Lifecycle != 2 {
		t.Errorf("counts %+v", c)
	}
}

// TestRingCentral proves the Validation-Token handshake (echoed as a
// header, empty body), the Verification-Token check, and that a
// telephony-session event is queued as CallId = telephonySessionId,
// ChangeType = the party status code.
func TestRingCentral(t *testing.T) {
	f := newFixture(t, nil)
	h := f.rc.Handler()
	w := post(h, "/ringcentral/telephony", "application/json", "", "Validation-Token", "3f9a1c2e-7d4b-4e0a-9c1d-2b3e4f5a6b7c")
	if w.Code != http.StatusOK || w.Header().Get("Validation-Token") != "3f9a1c2e-7d4b-4e0a-9c1d-2b3e4f5a6b7c" || w.Body.Len() != 0 {
		t.Errorf("validation: %d %q %q", w.Code, w.Header().Get("Validation-Token"), w.Body)
	}
	for _, bad := range []string{"", "a\x7fb", strings.Repeat("v", maxValidationHeader+1)} {
		w := post(h, "/", "", "", "Validation-Token", bad)
		if w.Code != http.StatusBadRequest || w.Header().Get("Validation-Token") != "" {
			t.Errorf("validation %.10q: %d", bad, w.Code)
		}
	}

	event := sample(t, "ringcentral/telephony-session-event.json")
	for _, tok := range []string{"", "rc-verify-token-2", testVerify + " "} {
		if w := post(h, "/", "application/json", event, "Verification-Token", tok); w.Code != http.StatusForbidden {
			t.Errorf("verification %q: %d", tok, w.Code)
		}
	}
	if len(f.sink.got()) != 0 {
		t.Fatal("queued without verification")
	}
	if w := post(h, "/", "application/json; charset=UTF-8", event, "Verification-Token", testVerify); w.Code != http.StatusOK {
		t.Fatalf("event: %d %s", w.Code, w.Body)
	}
	want := queue.NewEntity(queue.SourceRingCentral, "s-a7c31b0e55f24c9d8e4b12f0c9a6d1e3", "Disconnected", testNow)
	if got := f.sink.got(); len(got) != 1 || got[0] != want {
		t.Errorf("queued %+v\nwant %+v", got, want)
	}

	other := strings.Replace(event, "/telephony/sessions", "/extension/1/presence", 1)
	if w := post(h, "/", "application/json", other, "Verification-Token", testVerify); w.Code != http.StatusOK {
		t.Errorf("other event: %d", w.Code)
	}
	if c := f.stats.Snapshot(); c.Ignored != 1 || c.Dropped != 3 || c.Queued != 1 || c.Validations != 1 {
		t.Errorf("counts %+v", c)
	}
}

// TestHostileInput proves the guard: only POST (405), bodies over the cap
// (413, declared or streamed), wrong Content-Type and malformed JSON (400),
// each counted, nothing queued, and nothing of the request reflected.
func TestHostileInput(t *testing.T) {
	f := newFixture(t, nil)
	big := `{"value":[` + strings.Repeat(" ", DefaultMaxBody) + `]}`
	for _, tt := range []struct {
		name, method, ctype, body string
		chunked                   bool
		want                      int
	}{
		{"get", http.MethodGet, "application/json", "", false, http.StatusMethodNotAllowed},
		{"put", http.MethodPut, "application/json", "{}", false, http.StatusMethodNotAllowed},
		{"declared too large", http.MethodPost, "application/json", big, false, http.StatusRequestEntityTooLarge},
		{"streamed too large", http.MethodPost, "application/json", big, true, http.StatusRequestEntityTooLarge},
		{"no content type", http.MethodPost, "", `{"value":[]}`, false, http.StatusBadRequest},
		{"html", http.MethodPost, "text/html", `{"value":[]}`, false, http.StatusBadRequest},
		{"malformed", http.MethodPost, "application/json", `{"value":[{"changeType":<script>]}`, false, http.StatusBadRequest},
		{"array", http.MethodPost, "application/json", `[{"value":[]}]`, false, http.StatusBadRequest},
		{"no value", http.MethodPost, "application/json", `{"values":[]}`, false, http.StatusBadRequest},
		{"trailing", http.MethodPost, "application/json", `{"value":[]} {}`, false, http.StatusBadRequest},
		{"wrong types", http.MethodPost, "application/json", `{"value":[{"clientState":1}]}`, false, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/graph/callrecords", strings.NewReader(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			w := httptest.NewRecorder()
			f.graph.Notifications().ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%d, want %d", w.Code, tt.want)
			}
			if strings.Contains(w.Body.String(), "<script>") {
				t.Errorf("request reflected: %q", w.Body)
			}
			if tt.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
		})
	}
	c := f.stats.Snapshot()
	if c.BadMethod != 2 || c.TooLarge != 2 || c.BadRequests != 7 || len(f.sink.got()) != 0 {
		t.Errorf("counts %+v, queued %d", c, len(f.sink.got()))
	}
}

// TestPerIPBound proves that one address has at most the configured number
// of requests in flight (429 beyond), that other addresses are not held
// up, and that the real-IP header is believed from loopback only.
func TestPerIPBound(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	sink := SinkFunc(func(ctx context.Context, es []queue.Entity) error {
		entered.Done()
		<-release
		return nil
	})
	f := newFixture(t, sink) // 4 per address
	h := f.graph.Notifications()
	body := sample(t, "graph/notification-created.json")
	send := func(remote, realIP string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.RemoteAddr = remote
		r.Header.Set("Content-Type", "application/json")
		if realIP != "" {
			r.Header.Set("X-Real-IP", realIP)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	var held sync.WaitGroup
	entered.Add(4)
	for range 4 {
		held.Go(func() {
			if w := send("203.0.113.7:5000", ""); w.Code != http.StatusAccepted {
				t.Errorf("held request: %d", w.Code)
			}
		})
	}
	entered.Wait()
	if w := send("203.0.113.7:5001", ""); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("fifth from one address: %d", w.Code)
	}
	// Behind a loopback proxy the header names the client: still the same one.
	if w := send("127.0.0.1:6000", "203.0.113.7"); w.Code != http.StatusTooManyRequests {
		t.Errorf("via proxy: %d", w.Code)
	}
	// The header from a non-loopback address is not believed: a new address.
	entered.Add(1)
	other := make(chan int)
	go func() { other <- send("198.51.100.9:7000", "203.0.113.7").Code }()
	entered.Wait()
	close(release)
	if code := <-other; code != http.StatusAccepted {
		t.Errorf("other address: %d", code)
	}
	held.Wait()
	if c := f.stats.Snapshot(); c.Busy != 2 {
		t.Errorf("busy %d, want 2", c.Busy)
	}
}

// TestEscaped proves that request text is quoted for logs, control and
// non-ASCII characters escaped and long values cut.
func TestEscaped(t *testing.T) {
	for in, want := range map[string]string{
		"sub-1":                     `"sub-1"`,
		"a\nlevel=ERROR msg=forged": `"a\nlevel=ERROR msg=forged"`,
		"\x1b[31mred":               `"\x1b[31mred"`,
		"é":                         `"\u00e9"`,
		strings.Repeat("x", 70):     `"` + strings.Repeat("x", 64) + `"...`,
	} {
		if got := Escaped(in); got != want {
			t.Errorf("Escaped(%q) = %s, want %s", in, got, want)
		}
	}
}
