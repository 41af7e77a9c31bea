package webhook

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"callstats/extract/queue"
)

// checkEntities fails when an entity could not be read back from the queue
// as itself.
func checkEntities(t *testing.T, es []queue.Entity) {
	t.Helper()
	for _, e := range es {
		if !validID(e.CallID) || !validChange(e.ChangeType) || e.RowKey != e.CallID+"-"+e.ChangeType {
			t.Fatalf("queued a bad entity %+v", e)
		}
		if i := strings.LastIndexByte(e.RowKey, '-'); e.RowKey[:i] != e.CallID {
			t.Fatalf("RowKey %q does not split back to %q", e.RowKey, e.CallID)
		}
	}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzGraph feeds arbitrary bodies to DecodeGraph and to the Graph
// endpoint: no panic, only the documented answers, and only well-formed
// entities queued.
func FuzzGraph(f *testing.F) {
	addSeeds(f, "graph-notification-created.json", "graph-notification-updated.json")
	f.Add([]byte(`{"value":[{"resource":"communications/callRecords('x')","clientState":"` + testClientState + `","tenantId":"` + testTenant + `","changeType":"updated"}]}`))
	f.Add([]byte(`{"value":[{"lifecycleEvent":"subscriptionRemoved","clientState":"` + testClientState + `","tenantId":"` + testTenant + `"}]}`))
	f.Add([]byte(`{"value":null}`))
	f.Add([]byte(`{"value":[]}  `))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := DecodeGraph(body)
		if err == nil {
			for i := range items {
				_ = items[i].CallID()
			}
		}
		fx := newFixture(t, nil)
		for _, h := range []http.Handler{fx.graph.Notifications(), fx.graph.Lifecycle()} {
			w := post(h, "/", "application/json", string(body))
			switch w.Code {
			case http.StatusAccepted, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("answered %d", w.Code)
			}
			if err != nil && w.Code == http.StatusAccepted {
				t.Fatalf("accepted a body DecodeGraph refuses: %v", err)
			}
		}
		checkEntities(t, fx.sink.got())
	})
}

// FuzzRingCentral does the same for RingCentral events.
func FuzzRingCentral(f *testing.F) {
	addSeeds(f, "ringcentral-telephony-session-event.json")
	f.Add([]byte(`{"event":"/restapi/v1.0/account/1/telephony/sessions","body":{"telephonySessionId":"s-1","parties":[{"status":{"code":"Answered"}},{"status":{"code":"Answered"}}]}}`))
	f.Add([]byte(`{"event":"/restapi/v1.0/account//telephony/sessions"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeRingCentral(body)
		if err == nil {
			_ = ev.IsTelephonySession()
			_ = ev.StatusCodes()
		}
		fx := newFixture(t, nil)
		w := post(fx.rc.Handler(), "/", "application/json", string(body), "Verification-Token", testVerify)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("answered %d", w.Code)
		}
		if err != nil && w.Code == http.StatusOK {
			t.Fatalf("accepted a body DecodeRingCentral refuses: %v", err)
		}
		checkEntities(t, fx.sink.got())
	})
}
