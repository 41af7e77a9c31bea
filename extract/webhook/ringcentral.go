package webhook

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"callstats/extract/queue"
)

// maxValidationHeader bounds a RingCentral Validation-Token echoed back
// (RingCentral refuses answers over 1,024 bytes, headers included).
const maxValidationHeader = 512

// RingCentralConfig configures the RingCentral endpoint.
type RingCentralConfig struct {
	// VerificationToken is the subscription's deliveryMode.verificationToken,
	// which RingCentral sends in the Verification-Token header of every
	// webhook.
	VerificationToken string
	Sink              Sink
	Guard             *Guard
	Logger            *slog.Logger     // nil: discard
	Now               func() time.Time // nil: the system clock
}

// RingCentral serves RingCentral's telephony-session webhooks, the
// Validation-Token handshake included.
type RingCentral struct{ cfg RingCentralConfig }

// NewRingCentral checks cfg and returns the endpoint.
func NewRingCentral(cfg RingCentralConfig) (*RingCentral, error) {
	switch {
	case cfg.VerificationToken == "":
		return nil, errors.New("ringcentral webhook: empty verification token")
	case cfg.Sink == nil || cfg.Guard == nil:
		return nil, errors.New("ringcentral webhook: no sink or guard")
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	if cfg.Now == nil {
		cfg.Now = systemNow
	}
	return &RingCentral{cfg: cfg}, nil
}

// Handler is the handler at the subscription's deliveryMode.address.
func (rc *RingCentral) Handler() http.Handler {
	return rc.cfg.Guard.Wrap(http.HandlerFunc(rc.serve))
}

func (rc *RingCentral) serve(w http.ResponseWriter, r *http.Request) {
	guard, stats := rc.cfg.Guard, rc.cfg.Guard.stats
	if vals := r.Header.Values("Validation-Token"); len(vals) > 0 {
		// The handshake when a subscription is created: echo the token as a
		// header, with an empty body.
		if len(vals) != 1 || !printableASCII(vals[0], maxValidationHeader) {
			guard.badRequest(w, "bad validation token")
			return
		}
		stats.Validations.Add(1)
		w.Header().Set("Validation-Token", vals[0])
		w.WriteHeader(http.StatusOK)
		return
	}
	if !secretEqual(r.Header.Get("Verification-Token"), rc.cfg.VerificationToken) {
		stats.Dropped.Add(1)
		rc.cfg.Logger.Debug("ringcentral webhook dropped: wrong verification token")
		http.Error(w, "refused", http.StatusForbidden)
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
	ev, err := DecodeRingCentral(body)
	if err != nil {
		guard.badRequest(w, "malformed event")
		return
	}
	if !ev.IsTelephonySession() {
		stats.Ignored.Add(1)
		rc.cfg.Logger.Debug("ringcentral event ignored: not a telephony session", "event", Escaped(ev.Event))
		w.WriteHeader(http.StatusOK)
		return
	}
	id, now := ev.Body.TelephonySessionID, rc.cfg.Now()
	var entities []queue.Entity
	for _, code := range ev.StatusCodes() {
		if validID(id) && validChange(code) {
			entities = append(entities, queue.NewEntity(queue.SourceRingCentral, id, code, now))
		}
	}
	if len(entities) == 0 {
		stats.Invalid.Add(1)
		rc.cfg.Logger.Debug("ringcentral event without a usable session id or status",
			"uuid", Escaped(ev.UUID), "session", Escaped(id))
		w.WriteHeader(http.StatusOK) // RingCentral does not retry; a 4xx only counts against the webhook
		return
	}
	if err := rc.cfg.Sink.Append(r.Context(), entities); err != nil {
		if r.Context().Err() != nil {
			return // the sender left (the entities may be durable anyway)
		}
		stats.SinkErrors.Add(1)
		rc.cfg.Logger.Error("cannot queue ringcentral event", "session", id, "error", err)
		http.Error(w, "cannot queue", http.StatusServiceUnavailable)
		return
	}
	stats.Queued.Add(int64(len(entities)))
	w.WriteHeader(http.StatusOK)
}

// printableASCII reports whether s is 1 to limit printable ASCII bytes.
func printableASCII(s string, limit int) bool {
	if s == "" || len(s) > limit {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
