package rctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// MaxWebhookLifetime is RingCentral's longest expiresIn for a WebHook
// subscription (ten years).
const MaxWebhookLifetime = 315360000 * time.Second

// validationTimeout is how long RingCentral waits for the receiver's
// answer to the Validation-Token handshake.
const validationTimeout = 3 * time.Second

// Subscription is a webhook subscription the fake holds, its verification
// token included.
type Subscription struct {
	ID                string
	EventFilters      []string
	Address           string
	VerificationToken string
	ExpiresIn         time.Duration
	Expiration        time.Time
	Status            string // "Active", or "Blacklisted" (Blacklist)
}

// subscriptionStore is the fake's subscriptions. The zero value is ready.
type subscriptionStore struct {
	mu      sync.Mutex
	byID    map[string]*Subscription
	created int
	renewed int
}

// SubscriptionStats counts subscriptions created and renewed.
type SubscriptionStats struct{ Created, Renewed int }

// Subscriptions returns the subscriptions the fake holds, sorted by id.
func (s *Server) Subscriptions() []Subscription {
	st := &s.subs
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Subscription, 0, len(st.byID))
	for _, sub := range st.byID {
		out = append(out, *sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SubscriptionStats returns how many subscriptions were created and renewed.
func (s *Server) SubscriptionStats() SubscriptionStats {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	return SubscriptionStats{Created: s.subs.created, Renewed: s.subs.renewed}
}

// Blacklist marks a subscription Blacklisted, as RingCentral does to a
// webhook that failed: it stays, but delivers nothing.
func (s *Server) Blacklist(id string) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	if sub, ok := s.subs.byID[id]; ok {
		sub.Status = "Blacklisted"
	}
}

// DeleteSubscription drops a subscription; a renewal then answers 404.
func (s *Server) DeleteSubscription(id string) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	delete(s.subs.byID, id)
}

// authorized checks the bearer token of a subscription request (not in
// the Heavy group) and answers 401 when it is refused.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	code, msg := s.checkToken(r, s.opts.Now())
	if code != "" {
		s.stats.Unauthorized++
	}
	s.mu.Unlock()
	if code != "" {
		apiError(w, http.StatusUnauthorized, code, msg)
		return false
	}
	return true
}

// serveCreateSubscription is POST /restapi/v1.0/subscription for WebHook
// delivery: it checks the request, does the Validation-Token handshake
// with the address and answers the new subscription.
func (s *Server) serveCreateSubscription(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var req struct {
		EventFilters []string `json:"eventFilters"`
		DeliveryMode struct {
			TransportType     string `json:"transportType"`
			Address           string `json:"address"`
			VerificationToken string `json:"verificationToken"`
		} `json:"deliveryMode"`
		ExpiresIn *int64 `json:"expiresIn"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [body] value is invalid")
		return
	}
	life := 604800 * time.Second // RingCentral's default
	if req.ExpiresIn != nil {
		life = time.Duration(*req.ExpiresIn) * time.Second
	}
	dm := req.DeliveryMode
	switch {
	case len(req.EventFilters) == 0:
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [eventFilters] value is invalid")
		return
	case dm.TransportType != "WebHook":
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [deliveryMode.transportType] value is invalid")
		return
	case life <= 0 || life > MaxWebhookLifetime:
		apiError(w, http.StatusBadRequest, "CMN-101", "Parameter [expiresIn] value is invalid")
		return
	}
	if u, err := url.Parse(dm.Address); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		apiError(w, http.StatusBadRequest, "SUB-505", "WebHook URL is invalid")
		return
	}
	if err := validateWebhook(r.Context(), dm.Address); err != nil {
		apiError(w, http.StatusBadRequest, "SUB-525", fmt.Sprintf("WebHook server response is invalid: %v", err))
		return
	}
	sub := &Subscription{
		ID: uuid(), EventFilters: req.EventFilters, Address: dm.Address, VerificationToken: dm.VerificationToken,
		ExpiresIn: life, Expiration: s.opts.Now().Add(life), Status: "Active",
	}
	st := &s.subs
	st.mu.Lock()
	if st.byID == nil {
		st.byID = map[string]*Subscription{}
	}
	st.byID[sub.ID] = sub
	st.created++
	st.mu.Unlock()
	s.writeSubscription(w, *sub)
}

// serveRenewSubscription is POST /restapi/v1.0/subscription/{id}/renew.
func (s *Server) serveRenewSubscription(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	now := s.opts.Now()
	st := &s.subs
	st.mu.Lock()
	sub, ok := st.byID[id]
	if ok && !now.Before(sub.Expiration) {
		delete(st.byID, id)
		ok = false
	}
	var out Subscription
	if ok {
		sub.Expiration = now.Add(sub.ExpiresIn)
		st.renewed++
		out = *sub
	}
	st.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "SUB-504", fmt.Sprintf("Subscription not found: %s", id))
		return
	}
	s.writeSubscription(w, out)
}

func (s *Server) writeSubscription(w http.ResponseWriter, sub Subscription) {
	filters := make([]string, len(sub.EventFilters))
	for i, f := range sub.EventFilters {
		filters[i] = strings.Replace(f, "/account/~/", "/account/"+s.opts.AccountID+"/", 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri":            s.URL + "/restapi/v1.0/subscription/" + sub.ID,
		"id":             sub.ID,
		"creationTime":   s.opts.Now().UTC().Format(DateFormat),
		"status":         sub.Status,
		"eventFilters":   filters,
		"expirationTime": sub.Expiration.UTC().Format(DateFormat),
		"expiresIn":      int(sub.Expiration.Sub(s.opts.Now()) / time.Second),
		"deliveryMode": map[string]any{
			"transportType": "WebHook",
			"encryption":    false,
			"address":       sub.Address,
		},
	})
}

// validateWebhook does RingCentral's handshake: a POST with a
// Validation-Token header, which must come back in the answer's header
// with 200 within 3 s, the answer at most 1,024 bytes.
func validateWebhook(ctx context.Context, address string) error {
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	token := uuid()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Validation-Token", token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "RingCentral-Webhook/8.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	size := len(body)
	for k, vs := range resp.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("answered %d", resp.StatusCode)
	case resp.Header.Get("Validation-Token") != token:
		return fmt.Errorf("answered Validation-Token %q", resp.Header.Get("Validation-Token"))
	case size > 1024:
		return fmt.Errorf("answer of %d bytes", size)
	}
	return nil
}

// Notify posts a telephony-session event for session (one party per
// status code, in order) to the subscription's address with its
// Verification-Token, shaped as RingCentral sends it, and returns the
// receiver's status.
func (s *Server) Notify(ctx context.Context, subID, session string, codes ...string) (int, error) {
	s.subs.mu.Lock()
	sub, ok := s.subs.byID[subID]
	var snap Subscription
	if ok {
		snap = *sub
	}
	s.subs.mu.Unlock()
	if !ok || snap.Status != "Active" || !s.opts.Now().Before(snap.Expiration) {
		return 0, fmt.Errorf("rctest: no active subscription %s", subID)
	}
	parties := make([]map[string]any, len(codes))
	for i, c := range codes {
		parties[i] = map[string]any{
			"accountId": s.opts.AccountID,
			"id":        fmt.Sprintf("p-%s-%d", session, i+1),
			"direction": "Inbound",
			"status":    map[string]any{"code": c, "rcc": false},
		}
	}
	now := s.opts.Now().UTC()
	event := map[string]any{
		"uuid":           randomHex(8),
		"event":          "/restapi/v1.0/account/" + s.opts.AccountID + "/telephony/sessions",
		"timestamp":      now.Format(DateFormat),
		"subscriptionId": snap.ID,
		"ownerId":        s.opts.OwnerID,
		"body": map[string]any{
			"sequence":           1,
			"sessionId":          randomHex(5),
			"telephonySessionId": session,
			"eventTime":          now.Format(DateFormat),
			"origin":             map[string]any{"type": "Call"},
			"parties":            parties,
		},
	}
	body, err := json.Marshal(event)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, snap.Address, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Verification-Token", snap.VerificationToken)
	req.Header.Set("User-Agent", "RingCentral-Webhook/8.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
