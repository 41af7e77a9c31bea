package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// CallRecordsResource is the resource of a call-records subscription.
const CallRecordsResource = "/communications/callRecords"

// MaxSubscriptionLifetime is the longest Graph lets a callRecords
// subscription live: 4,230 minutes.
const MaxSubscriptionLifetime = 4230 * time.Minute

// ErrNoSubscription means Graph answered 404 for a subscription: it
// expired or was removed. The caller creates a new one.
var ErrNoSubscription = errors.New("graph subscription not found (expired or removed)")

// Subscription is a Graph change-notification subscription, as Graph
// answers it (clientState is never read back).
type Subscription struct {
	ID                       string    `json:"id"`
	Resource                 string    `json:"resource"`
	ChangeType               string    `json:"changeType"`
	NotificationURL          string    `json:"notificationUrl"`
	LifecycleNotificationURL string    `json:"lifecycleNotificationUrl"`
	ExpirationDateTime       time.Time `json:"expirationDateTime"`
}

// SubscriptionRequest is what a new call-records subscription is created
// with. Graph validates both URLs (POST ?validationToken=...) before it
// answers, so the receiver must be up.
type SubscriptionRequest struct {
	NotificationURL, LifecycleNotificationURL string
	ClientState                               string // the caller passes secret.Reveal()
	Expiration                                time.Time
}

// CreateSubscription creates a subscription to call records: changeType
// "updated" (a record's first version and every later one).
func (c *Client) CreateSubscription(ctx context.Context, req SubscriptionRequest) (*Subscription, error) {
	body := map[string]string{
		"changeType":         "updated",
		"resource":           CallRecordsResource,
		"notificationUrl":    req.NotificationURL,
		"clientState":        req.ClientState,
		"expirationDateTime": req.Expiration.UTC().Format(time.RFC3339Nano),
	}
	if req.LifecycleNotificationURL != "" {
		body["lifecycleNotificationUrl"] = req.LifecycleNotificationURL
	}
	var sub Subscription
	if err := c.subscriptionCall(ctx, http.MethodPost, c.base+"/v1.0/subscriptions", body, &sub); err != nil {
		return nil, fmt.Errorf("creating graph subscription for %s: %w", req.NotificationURL, err)
	}
	return &sub, nil
}

// RenewSubscription moves the subscription's expiry to exp. A subscription
// Graph no longer has is ErrNoSubscription.
func (c *Client) RenewSubscription(ctx context.Context, id string, exp time.Time) (*Subscription, error) {
	body := map[string]string{"expirationDateTime": exp.UTC().Format(time.RFC3339Nano)}
	var sub Subscription
	if err := c.subscriptionCall(ctx, http.MethodPatch, c.base+"/v1.0/subscriptions/"+url.PathEscape(id), body, &sub); err != nil {
		return nil, fmt.Errorf("renewing graph subscription %s: %w", id, err)
	}
	return &sub, nil
}

// DeleteSubscription deletes a subscription; one Graph no longer has is
// ErrNoSubscription.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	if err := c.subscriptionCall(ctx, http.MethodDelete, c.base+"/v1.0/subscriptions/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("deleting graph subscription %s: %w", id, err)
	}
	return nil
}

// Subscriptions lists the app's subscriptions.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	var all []Subscription
	link := c.base + "/v1.0/subscriptions"
	for pages := 0; link != ""; pages++ {
		if pages >= maxPages {
			return nil, fmt.Errorf("listing graph subscriptions: more than %d pages", maxPages)
		}
		if err := c.checkLink(link); err != nil {
			return nil, fmt.Errorf("listing graph subscriptions: %w", err)
		}
		var page struct {
			Value    []Subscription `json:"value"`
			NextLink string         `json:"@odata.nextLink"`
		}
		if err := c.subscriptionCall(ctx, http.MethodGet, link, nil, &page); err != nil {
			return nil, fmt.Errorf("listing graph subscriptions: %w", err)
		}
		all = append(all, page.Value...)
		if page.NextLink == link {
			return nil, fmt.Errorf("listing graph subscriptions: next link %s points to itself", link)
		}
		link = page.NextLink
	}
	return all, nil
}

// subscriptionCall sends one subscription request through send (the app
// token, the client's progress bounds and byte budget; a 401 is tried once
// more with a new token) and decodes a 2xx answer into out (nil: ignored).
// It does not retry otherwise: the caller's upkeep tries again later. Errors
// are ErrAuth, ErrNoSubscription, *APIError (see IsRetryable) or transient.
func (c *Client) subscriptionCall(ctx context.Context, method, rawURL string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for attempt := 1; ; attempt++ {
		a, err := c.send(ctx, method, rawURL, payload)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		switch st := a.status; {
		case st >= 200 && st < 300:
			if out == nil || st == http.StatusNoContent {
				return nil
			}
			if err := json.Unmarshal(a.body, out); err != nil {
				return fmt.Errorf("decoding answer of %s: %w", rawURL, err)
			}
			return nil
		case st == http.StatusUnauthorized && attempt == 1:
			c.tokens.invalidate(ctx, a.token)
			continue
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrAuth, newAPIError(st, a.header, a.body))
		case st == http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNoSubscription, newAPIError(st, a.header, a.body))
		default:
			return newAPIError(st, a.header, a.body)
		}
	}
}
