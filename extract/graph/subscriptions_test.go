package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callstats/extract/graph/graphtest"
)

// echoReceiver answers Graph's validation handshake (or, with wrong set,
// answers it wrongly) and records the notifications it gets.
type echoReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	wrong bool
	posts []string
}

func newEchoReceiver(t *testing.T) *echoReceiver {
	rcv := &echoReceiver{}
	rcv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		rcv.posts = append(rcv.posts, r.URL.Path)
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			if rcv.wrong {
				tok = "<html>" + tok
			}
			w.Write([]byte(tok))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rcv.srv.Close)
	return rcv
}

// TestSubscriptionLifecycle proves create (with the validation handshake
// of both URLs), renew, list and delete against the fake, and that a
// subscription Graph no longer has is ErrNoSubscription.
func TestSubscriptionLifecycle(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	rcv := newEchoReceiver(t)
	ctx := context.Background()
	now := e.clock.Now()
	sub, err := e.c.CreateSubscription(ctx, SubscriptionRequest{
		NotificationURL: rcv.srv.URL + "/graph/callrecords", LifecycleNotificationURL: rcv.srv.URL + "/graph/lifecycle",
		ClientState: "secret-state", Expiration: now.Add(MaxSubscriptionLifetime),
	})
	if err != nil {
		t.Fatal(err)
	}
	if sub.ID == "" || sub.Resource != CallRecordsResource || sub.ChangeType != "updated" ||
		!sub.ExpirationDateTime.Equal(now.Add(MaxSubscriptionLifetime)) {
		t.Errorf("created %+v", sub)
	}
	if got := strings.Join(rcv.posts, ","); got != "/graph/callrecords,/graph/lifecycle" {
		t.Errorf("handshakes at %s", got)
	}
	held := e.srv.Subscriptions()
	if len(held) != 1 || held[0].ClientState != "secret-state" {
		t.Errorf("fake holds %+v", held)
	}

	e.clock.Add(time.Hour)
	renewed, err := e.c.RenewSubscription(ctx, sub.ID, e.clock.Now().Add(MaxSubscriptionLifetime))
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.ExpirationDateTime.Equal(e.clock.Now().Add(MaxSubscriptionLifetime)) {
		t.Errorf("renewed to %s", renewed.ExpirationDateTime)
	}
	list, err := e.c.Subscriptions(ctx)
	if err != nil || len(list) != 1 || list[0].ID != sub.ID {
		t.Errorf("list %+v, %v", list, err)
	}
	if err := e.c.DeleteSubscription(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.RenewSubscription(ctx, sub.ID, e.clock.Now().Add(time.Hour)); !errors.Is(err, ErrNoSubscription) || IsRetryable(err) {
		t.Errorf("renew after delete: %v", err)
	}
	if err := e.c.DeleteSubscription(ctx, sub.ID); !errors.Is(err, ErrNoSubscription) {
		t.Errorf("delete twice: %v", err)
	}
}

// TestSubscriptionRefused proves that Graph's refusals come back as
// permanent errors: an expiry beyond 4,230 minutes, and a receiver that
// fails the validation handshake.
func TestSubscriptionRefused(t *testing.T) {
	e := newEnv(t, graphtest.Options{}, nil)
	rcv := newEchoReceiver(t)
	ctx := context.Background()
	req := SubscriptionRequest{NotificationURL: rcv.srv.URL + "/n", ClientState: "s",
		Expiration: e.clock.Now().Add(MaxSubscriptionLifetime + time.Minute)}
	_, err := e.c.CreateSubscription(ctx, req)
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.Status != http.StatusBadRequest || IsRetryable(err) {
		t.Errorf("too long: %v", err)
	}
	rcv.mu.Lock()
	rcv.wrong = true
	rcv.mu.Unlock()
	req.Expiration = e.clock.Now().Add(time.Hour)
	if _, err := e.c.CreateSubscription(ctx, req); err == nil || !strings.Contains(err.Error(), "ValidationError") {
		t.Errorf("bad handshake: %v", err)
	}
	if n := len(e.srv.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions after refusals", n)
	}
}
