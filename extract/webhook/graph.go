package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"callstats/extract/queue"
)

// Graph lifecycle events (lifecycleEvent of a lifecycle notification).
const (
	ReauthorizationRequired = "reauthorizationRequired"
	SubscriptionRemoved     = "subscriptionRemoved"
	Missed                  = "missed"
)

// maxClientState is Graph's limit on a subscription's clientState.
const maxClientState = 255

// LifecycleEvent is a Graph lifecycle notification that passed the checks.
type LifecycleEvent struct {
	SubscriptionID string
	Event          string // ReauthorizationRequired, SubscriptionRemoved, Missed or another
}

// GraphConfig configures the Graph endpoints.
type GraphConfig struct {
	// ClientState is the subscription's secret, which every notification
	// must carry; TenantID the tenant GUID notifications must come from.
	ClientState, TenantID string
	Sink                  Sink
	Guard                 *Guard
	// Lifecycle receives each lifecycle notification that passed the
	// checks, before the request is answered; it must not block. Nil: they
	// are only logged.
	Lifecycle func(LifecycleEvent)
	Logger    *slog.Logger     // nil: discard
	Now       func() time.Time // nil: the system clock
}

// Graph serves Graph's change notifications (Notifications) and lifecycle
// notifications (Lifecycle), validation handshakes included.
type Graph struct {
	cfg    GraphConfig
	tenant string // lower case
}

// NewGraph checks cfg and returns the endpoints.
func NewGraph(cfg GraphConfig) (*Graph, error) {
	switch {
	case cfg.ClientState == "":
		return nil, errors.New("graph webhook: empty clientState")
	case len(cfg.ClientState) > maxClientState:
		return nil, fmt.Errorf("graph webhook: clientState is longer than %d characters", maxClientState)
	case !isGUID(cfg.TenantID):
		return nil, fmt.Errorf("graph webhook: tenant %q is not a tenant GUID (notifications carry the GUID, not a domain)", cfg.TenantID)
	case cfg.Sink == nil || cfg.Guard == nil:
		return nil, errors.New("graph webhook: no sink or guard")
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	if cfg.Now == nil {
		cfg.Now = systemNow
	}
	return &Graph{cfg: cfg, tenant: strings.ToLower(cfg.TenantID)}, nil
}

// Notifications is the handler at the subscription's notificationUrl.
func (g *Graph) Notifications() http.Handler {
	return g.cfg.Guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, false) }))
}

// Lifecycle is the handler at the subscription's lifecycleNotificationUrl.
func (g *Graph) Lifecycle() http.Handler {
	return g.cfg.Guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, true) }))
}

func (g *Graph) serve(w http.ResponseWriter, r *http.Request, lifecycle bool) {
	guard, stats := g.cfg.Guard, g.cfg.Guard.stats
	if q := r.URL.Query(); q.Has("validationToken") {
		tok := q.Get("validationToken")
		if !printable(tok, maxToken) {
			guard.badRequest(w, "bad validation token")
			return
		}
		stats.Validations.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(tok))
		return
	}
	if !isJSON(r) {
		guard.badRequest(w, "Content-Type must be application/json")
		return
	}
	body, ok := guard.readBody(w, r)
	if !ok {
		return
	}
	items, err := DecodeGraph(body)
	if err != nil {
		guard.badRequest(w, "malformed notification")
		return
	}

	now := g.cfg.Now()
	var (
		entities         []queue.Entity
		events           []LifecycleEvent
		dropped, invalid int
	)
	for i := range items {
		n := &items[i]
		if !secretEqual(n.ClientState, g.cfg.ClientState) || !secretEqual(strings.ToLower(n.TenantID), g.tenant) {
			dropped++
			g.cfg.Logger.Debug("graph notification dropped: wrong clientState or tenant",
				"subscription", Escaped(n.SubscriptionID))
			continue
		}
		if lifecycle {
			if n.LifecycleEvent == "" || n.ChangeType != "" {
				invalid++
				continue
			}
			events = append(events, LifecycleEvent{SubscriptionID: n.SubscriptionID, Event: n.LifecycleEvent})
			continue
		}
		id := n.CallID()
		if n.LifecycleEvent != "" || !validID(id) || !validChange(n.ChangeType) {
			invalid++
			g.cfg.Logger.Debug("graph notification without a usable call id or change type",
				"subscription", Escaped(n.SubscriptionID), "id", Escaped(id), "changeType", Escaped(n.ChangeType))
			continue
		}
		entities = append(entities, queue.NewEntity(queue.SourceTeams, id, n.ChangeType, now))
	}
	stats.Dropped.Add(int64(dropped))
	stats.Invalid.Add(int64(invalid))

	if len(entities) > 0 {
		if err := g.cfg.Sink.Append(r.Context(), entities); err != nil {
			if r.Context().Err() != nil {
				return // the sender left; it retries (the entities may be durable anyway)
			}
			stats.SinkErrors.Add(1)
			g.cfg.Logger.Error("cannot queue graph notifications; Graph will retry", "entities", len(entities), "error", err)
			w.Header().Set("Retry-After", "10")
			http.Error(w, "cannot queue", http.StatusServiceUnavailable)
			return
		}
		stats.Queued.Add(int64(len(entities)))
	}
	for _, ev := range events {
		stats.Lifecycle.Add(1)
		g.cfg.Logger.Info("graph lifecycle notification", "subscription", Escaped(ev.SubscriptionID), "event", Escaped(ev.Event))
		if g.cfg.Lifecycle != nil {
			g.cfg.Lifecycle(ev)
		}
	}
	if dropped > 0 && len(entities)+len(events) == 0 {
		// Nothing came from our subscription: refuse, so a real Graph
		// delivery after a clientState change is retried, not lost.
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// isGUID reports whether s is a GUID, 8-4-4-4-12 hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
