package ringcentral

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callstats/extract/ringcentral/rctest"
)

// TestSubscription proves create (after the Validation-Token handshake
// with the address), the event filter and delivery mode sent, renew, a
// subscription RingCentral no longer has (ErrNoSubscription), and that the
// fake then delivers events with the verification token.
func TestSubscription(t *testing.T) {
	e := newEnv(t, rctest.Options{}, nil)
	var (
		mu       sync.Mutex
		verified []string
		echo     = true
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if v := r.Header.Get("Validation-Token"); v != "" {
			if echo {
				w.Header().Set("Validation-Token", v)
			}
			return
		}
		verified = append(verified, r.Header.Get("Verification-Token"))
	}))
	defer rcv.Close()
	ctx := context.Background()
	sub, err := e.c.CreateSubscription(ctx, SubscriptionRequest{Address: rcv.URL + "/ringcentral/telephony", VerificationToken: "vt-1"})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != StatusActive || !sub.ExpirationTime.Equal(e.clock.Now().Add(SubscriptionLifetime)) ||
		sub.DeliveryMode.Address != rcv.URL+"/ringcentral/telephony" {
		t.Errorf("created %+v", sub)
	}
	held := e.srv.Subscriptions()
	if len(held) != 1 || held[0].VerificationToken != "vt-1" || strings.Join(held[0].EventFilters, ",") != TelephonySessionsFilter {
		t.Errorf("fake holds %+v", held)
	}
	if code, err := e.srv.Notify(ctx, sub.ID, "s-1", "Disconnected"); err != nil || code != http.StatusOK {
		t.Fatalf("notify: %d %v", code, err)
	}
	mu.Lock()
	if len(verified) != 1 || verified[0] != "vt-1" {
		t.Errorf("verification tokens %q", verified)
	}
	mu.Unlock()

	e.clock.Add(24 * time.Hour)
	renewed, err := e.c.RenewSubscription(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.ExpirationTime.Equal(e.clock.Now().Add(SubscriptionLifetime)) {
		t.Errorf("renewed to %s", renewed.ExpirationTime)
	}
	e.srv.DeleteSubscription(sub.ID)
	if _, err := e.c.RenewSubscription(ctx, sub.ID); !errors.Is(err, ErrNoSubscription) || IsRetryable(err) {
		t.Errorf("renew deleted: %v", err)
	}

	mu.Lock()
	echo = false
	mu.Unlock()
	_, err = e.c.CreateSubscription(ctx, SubscriptionRequest{Address: rcv.URL + "/x", VerificationToken: "vt-1"})
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.Code != "SUB-525" {
		t.Errorf("create without handshake: %v", err)
	}
}
