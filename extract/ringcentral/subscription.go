package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"callstats/internal/httpretry"
)

// TelephonySessionsFilter is the event filter of the company's telephony
// sessions.
const TelephonySessionsFilter = "/restapi/v1.0/account/~/telephony/sessions"

// SubscriptionLifetime is the expiresIn callstats asks for: a week, renewed
// before it runs out (RingCentral allows up to ten years for webhooks; a
// short life lets a forgotten subscription die).
const SubscriptionLifetime = 7 * 24 * time.Hour

// ErrNoSubscription means RingCentral answered 404 for a subscription: it
// expired or was deleted. The caller creates a new one.
var ErrNoSubscription = errors.New("ringcentral subscription not found (expired or deleted)")

// StatusActive is the status of a subscription that delivers; any other
// (Blacklisted, Suspended) does not, and the subscription is replaced.
const StatusActive = "Active"

// maxSubscriptionAnswer bounds one subscription answer.
const maxSubscriptionAnswer = 1 << 20

// Subscription is a webhook subscription as RingCentral answers it.
type Subscription struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	EventFilters   []string  `json:"eventFilters"`
	ExpirationTime time.Time `json:"expirationTime"`
	ExpiresIn      int       `json:"expiresIn"`
	DeliveryMode   struct {
		TransportType string `json:"transportType"`
		Address       string `json:"address"`
	} `json:"deliveryMode"`
}

// SubscriptionRequest is what a telephony-session webhook is created with.
// RingCentral checks the address (the Validation-Token handshake) before it
// answers, so the receiver must be up.
type SubscriptionRequest struct {
	Address           string
	VerificationToken string        // the caller passes secret.Reveal()
	ExpiresIn         time.Duration // 0: SubscriptionLifetime
}

// CreateSubscription creates a WebHook subscription to the company's
// telephony sessions.
func (c *Client) CreateSubscription(ctx context.Context, req SubscriptionRequest) (*Subscription, error) {
	life := req.ExpiresIn
	if life <= 0 {
		life = SubscriptionLifetime
	}
	body := map[string]any{
		"eventFilters": []string{TelephonySessionsFilter},
		"deliveryMode": map[string]string{
			"transportType":     "WebHook",
			"address":           req.Address,
			"verificationToken": req.VerificationToken,
		},
		"expiresIn": int(life / time.Second),
	}
	var sub Subscription
	if err := c.subscriptionCall(ctx, c.base+"/restapi/v1.0/subscription", body, &sub); err != nil {
		return nil, fmt.Errorf("creating ringcentral subscription for %s: %w", req.Address, err)
	}
	return &sub, nil
}

// RenewSubscription renews a subscription for its expiresIn again. One
// RingCentral no longer has is ErrNoSubscription.
func (c *Client) RenewSubscription(ctx context.Context, id string) (*Subscription, error) {
	var sub Subscription
	if err := c.subscriptionCall(ctx, c.base+"/restapi/v1.0/subscription/"+url.PathEscape(id)+"/renew", nil, &sub); err != nil {
		return nil, fmt.Errorf("renewing ringcentral subscription %s: %w", id, err)
	}
	return &sub, nil
}

// subscriptionCall POSTs one subscription request through send (the access
// token, progress bounds of a call-log page; a 401 is tried once more with a
// new token), reads the answer within maxSubscriptionAnswer and the byte
// budget, and decodes the 2xx answer into out. Subscription requests are not
// in the Heavy group, so they are not paced with the call log, and not
// retried: the caller's upkeep tries again later.
func (c *Client) subscriptionCall(ctx context.Context, rawURL string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return err
		}
	}
	progress := httpretry.Progress{Timeout: pageTimeout, Stall: c.stall}
	for attempt := 1; ; attempt++ {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			return err
		}
		resp, err := c.send(ctx, http.MethodPost, rawURL, "application/json", tok, payload, progress)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		body, err := httpretry.ReadAll(ctx, resp.Body, maxSubscriptionAnswer, c.budget)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading answer of %s: %w", rawURL, err)
		}
		switch st := resp.StatusCode; {
		case st >= 200 && st < 300:
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("decoding answer of %s: %w", rawURL, err)
			}
			return nil
		case st == http.StatusUnauthorized && attempt == 1:
			c.tokens.invalidate(ctx, tok)
			continue
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrAuth, newAPIError(st, resp.Header, body))
		case st == http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNoSubscription, newAPIError(st, resp.Header, body))
		default:
			return newAPIError(st, resp.Header, body)
		}
	}
}
