package graphtest

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

// MaxSubscription is how far ahead Graph lets a callRecords subscription
// expire.
const MaxSubscription = 4230 * time.Minute

// validationTimeout is how long Graph waits for the validation answer.
const validationTimeout = 10 * time.Second

// Subscription is a subscription the fake holds, clientState included.
type Subscription struct {
	ID                       string    `json:"id"`
	Resource                 string    `json:"resource"`
	ChangeType               string    `json:"changeType"`
	NotificationURL          string    `json:"notificationUrl"`
	LifecycleNotificationURL string    `json:"lifecycleNotificationUrl,omitempty"`
	ClientState              string    `json:"-"`
	Expiration               time.Time `json:"expirationDateTime"`
}

// subscriptionStore is the fake's subscriptions (POST/PATCH/DELETE/GET
// /v1.0/subscriptions). The zero value is ready.
type subscriptionStore struct {
	mu      sync.Mutex
	byID    map[string]*Subscription
	created int // subscriptions created
	renewed int // PATCHes answered 200
}

// SubscriptionStats counts the subscription requests answered with success.
type SubscriptionStats struct{ Created, Renewed int }

// Subscriptions returns the live subscriptions the fake holds, sorted by
// id; expired ones are gone, as at Graph.
func (s *Server) Subscriptions() []Subscription {
	st := &s.subs
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Subscription, 0, len(st.byID))
	now := s.opts.Now()
	for _, sub := range st.byID {
		if now.Before(sub.Expiration) {
			out = append(out, *sub)
		}
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

// RemoveSubscription drops a subscription as Graph does when it removes
// one; a renewal then answers 404. Send a subscriptionRemoved lifecycle
// notification (Lifecycle) to tell the receiver.
func (s *Server) RemoveSubscription(id string) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	delete(s.subs.byID, id)
}

func (s *Server) subscription(id string) (Subscription, bool) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	sub, ok := s.subs.byID[id]
	if !ok || !s.opts.Now().Before(sub.Expiration) {
		return Subscription{}, false
	}
	return *sub, true
}

// serveCreateSubscription is POST /v1.0/subscriptions: it checks the
// request as Graph does for callRecords, validates the notification and
// lifecycle URLs with the handshake, and answers 201.
func (s *Server) serveCreateSubscription(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ChangeType               string `json:"changeType"`
		Resource                 string `json:"resource"`
		NotificationURL          string `json:"notificationUrl"`
		LifecycleNotificationURL string `json:"lifecycleNotificationUrl"`
		ClientState              string `json:"clientState"`
		ExpirationDateTime       string `json:"expirationDateTime"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		s.graphError(w, r, http.StatusBadRequest, "InvalidRequest", "Could not process subscription creation payload.")
		return
	}
	exp, msg := s.checkExpiration(req.ExpirationDateTime)
	switch {
	case msg != "":
	case req.ChangeType != "created" && req.ChangeType != "updated" && req.ChangeType != "created,updated":
		msg = fmt.Sprintf("Unsupported changeType '%s' for resource communications/callRecords.", req.ChangeType)
	case strings.TrimPrefix(req.Resource, "/") != "communications/callRecords":
		msg = fmt.Sprintf("Resource '%s' is not supported by this fake.", req.Resource)
	case !absoluteURL(req.NotificationURL) || req.LifecycleNotificationURL != "" && !absoluteURL(req.LifecycleNotificationURL):
		msg = "The notification URL must be an absolute URL."
	case len(req.ClientState) > 255:
		msg = "clientState must be at most 255 characters."
	}
	if msg != "" {
		s.graphError(w, r, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	for _, u := range []string{req.NotificationURL, req.LifecycleNotificationURL} {
		if u == "" {
			continue
		}
		if err := validateEndpoint(r.Context(), u); err != nil {
			s.graphError(w, r, http.StatusBadRequest, "ValidationError",
				fmt.Sprintf("Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request: %v", err))
			return
		}
	}
	sub := &Subscription{
		ID: uuid(), Resource: req.Resource, ChangeType: req.ChangeType,
		NotificationURL: req.NotificationURL, LifecycleNotificationURL: req.LifecycleNotificationURL,
		ClientState: req.ClientState, Expiration: exp,
	}
	st := &s.subs
	st.mu.Lock()
	if st.byID == nil {
		st.byID = map[string]*Subscription{}
	}
	st.byID[sub.ID] = sub
	st.created++
	st.mu.Unlock()
	s.writeSubscription(w, http.StatusCreated, *sub)
}

// serveRenewSubscription is PATCH /v1.0/subscriptions/{id}.
func (s *Server) serveRenewSubscription(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req struct {
		ExpirationDateTime string `json:"expirationDateTime"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		s.graphError(w, r, http.StatusBadRequest, "InvalidRequest", "Could not process subscription update payload.")
		return
	}
	exp, msg := s.checkExpiration(req.ExpirationDateTime)
	if msg != "" {
		s.graphError(w, r, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	if _, ok := s.subscription(id); !ok {
		s.graphError(w, r, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The object was not found. Subscription '%s'.", id))
		return
	}
	st := &s.subs
	st.mu.Lock()
	sub := st.byID[id]
	sub.Expiration = exp
	st.renewed++
	out := *sub
	st.mu.Unlock()
	s.writeSubscription(w, http.StatusOK, out)
}

// serveDeleteSubscription is DELETE /v1.0/subscriptions/{id}.
func (s *Server) serveDeleteSubscription(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.subscription(id); !ok {
		s.graphError(w, r, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The object was not found. Subscription '%s'.", id))
		return
	}
	s.RemoveSubscription(id)
	w.WriteHeader(http.StatusNoContent)
}

// serveListSubscriptions is GET /v1.0/subscriptions (one page).
func (s *Server) serveListSubscriptions(w http.ResponseWriter, r *http.Request) {
	live := s.Subscriptions()
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#subscriptions", "value": live})
}

func (s *Server) writeSubscription(w http.ResponseWriter, status int, sub Subscription) {
	writeJSON(w, status, map[string]any{
		"@odata.context":           s.URL + "/v1.0/$metadata#subscriptions/$entity",
		"id":                       sub.ID,
		"resource":                 sub.Resource,
		"changeType":               sub.ChangeType,
		"notificationUrl":          sub.NotificationURL,
		"lifecycleNotificationUrl": nullable(sub.LifecycleNotificationURL),
		"clientState":              nil, // Graph never returns it
		"expirationDateTime":       sub.Expiration.UTC().Format("2006-01-02T15:04:05.0000000Z"),
		"applicationId":            s.opts.ClientID,
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkExpiration parses an expirationDateTime and checks it is in the
// future and at most MaxSubscription ahead of the server's clock.
func (s *Server) checkExpiration(v string) (time.Time, string) {
	exp, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Sprintf("expirationDateTime '%s' is not a date and time.", v)
	}
	now := s.opts.Now()
	switch {
	case !exp.After(now):
		return time.Time{}, "Subscription expiration must be in the future."
	case exp.Sub(now) > MaxSubscription:
		return time.Time{}, fmt.Sprintf("Subscription expiration can only be %d minutes in the future.", int(MaxSubscription/time.Minute))
	}
	return exp.UTC(), ""
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// validateEndpoint does Graph's handshake: POST endpoint?validationToken=T
// with a text/plain body, and expects 200 with exactly T as text/plain
// within 10 s.
func validateEndpoint(ctx context.Context, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	token := "Validation: Testing client application reachability for subscription Request-Id: " + uuid()
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("answered %d", resp.StatusCode)
	case ct != "text/plain" && !strings.HasPrefix(ct, "text/plain;"):
		return fmt.Errorf("answered Content-Type %q", ct)
	case string(body) != token:
		return fmt.Errorf("answered %q, not the validation token", body)
	}
	return nil
}

// Notify posts change notifications for callIDs (one item each, of
// changeType) to the subscription's notificationUrl, shaped as Graph sends
// them, and returns the receiver's status.
func (s *Server) Notify(ctx context.Context, subID, changeType string, callIDs ...string) (int, error) {
	sub, ok := s.subscription(subID)
	if !ok {
		return 0, fmt.Errorf("graphtest: no live subscription %s", subID)
	}
	items := make([]map[string]any, len(callIDs))
	for i, id := range callIDs {
		res := "communications/callRecords/" + id
		items[i] = map[string]any{
			"subscriptionId":                 sub.ID,
			"subscriptionExpirationDateTime": sub.Expiration.Format("2006-01-02T15:04:05-07:00"),
			"changeType":                     changeType,
			"resource":                       res,
			"resourceData":                   map[string]any{"@odata.type": "#Microsoft.Graph.callRecord", "@odata.id": res, "id": id},
			"clientState":                    sub.ClientState,
			"tenantId":                       s.opts.TenantID,
		}
	}
	return postJSON(ctx, sub.NotificationURL, map[string]any{"value": items})
}

// Lifecycle posts a lifecycle notification (reauthorizationRequired,
// subscriptionRemoved, missed) for the subscription to its
// lifecycleNotificationUrl and returns the receiver's status. The
// subscription may already be removed (RemoveSubscription).
func (s *Server) Lifecycle(ctx context.Context, sub Subscription, event string) (int, error) {
	if sub.LifecycleNotificationURL == "" {
		return 0, fmt.Errorf("graphtest: subscription %s has no lifecycleNotificationUrl", sub.ID)
	}
	item := map[string]any{
		"subscriptionId":                 sub.ID,
		"subscriptionExpirationDateTime": sub.Expiration.Format("2006-01-02T15:04:05-07:00"),
		"tenantId":                       s.opts.TenantID,
		"clientState":                    sub.ClientState,
		"lifecycleEvent":                 event,
	}
	return postJSON(ctx, sub.LifecycleNotificationURL, map[string]any{"value": []any{item}})
}

// postJSON POSTs v as JSON to target and returns the answer's status.
func postJSON(ctx context.Context, target string, v any) (int, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
