package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PstnCall is a row of the PSTN call log (microsoft.graph.callRecords.pstnCallLogRow):
// one Calling Plan or Operator Connect call of a user, an audio conference or a bot.
// Pointers are nil where Graph sent null or nothing.
//
// CallID is "not guaranteed to be unique" (Graph's documentation) and is not
// documented to be a call record id: match it to call records with care.
type PstnCall struct {
	ID                 string     `json:"id"` // unique row id
	CallID             *string    `json:"callId"`
	UserID             *string    `json:"userId"` // null for bot call types (ucap_in, ucap_out)
	UserPrincipalName  *string    `json:"userPrincipalName"`
	UserDisplayName    *string    `json:"userDisplayName"`
	StartDateTime      time.Time  `json:"startDateTime"` // UTC; the log's window is on it
	EndDateTime        *time.Time `json:"endDateTime"`
	Duration           *int64     `json:"duration"` // connected seconds
	Charge             *float64   `json:"charge"`
	CallType           *string    `json:"callType"` // user_in, user_out, conf_in, ucap_in...
	Currency           *string    `json:"currency"`
	CalleeNumber       *string    `json:"calleeNumber"`
	UsageCountryCode   *string    `json:"usageCountryCode"`
	TenantCountryCode  *string    `json:"tenantCountryCode"`
	ConnectionCharge   *float64   `json:"connectionCharge"`
	CallerNumber       *string    `json:"callerNumber"`
	DestinationContext *string    `json:"destinationContext"`
	DestinationName    *string    `json:"destinationName"`
	ConferenceID       *string    `json:"conferenceId"`
	LicenseCapability  *string    `json:"licenseCapability"`
	InventoryType      *string    `json:"inventoryType"`
	Operator           *string    `json:"operator"`
	CallDurationSource *string    `json:"callDurationSource"` // microsoft or operator
}

// DirectRoutingCall is a row of the Direct Routing call log
// (microsoft.graph.callRecords.directRoutingLogRow): one call through the
// tenant's own session border controller, successful or not. Pointers are nil
// where Graph sent null or nothing, and the times where it sent its "no value"
// sentinel 0001-01-01T00:00:00Z (failureDateTime of a successful call).
//
// Rows carry no call record id: Graph documents that a Direct Routing row
// cannot be used to get a call record.
type DirectRoutingCall struct {
	ID                            string     `json:"id"` // unique row id
	CorrelationID                 *string    `json:"correlationId"`
	UserID                        *string    `json:"userId"` // null for bot call types
	UserPrincipalName             *string    `json:"userPrincipalName"`
	UserDisplayName               *string    `json:"userDisplayName"`
	StartDateTime                 time.Time  `json:"startDateTime"` // UTC; the log's window is on it
	InviteDateTime                *time.Time `json:"inviteDateTime"`
	FailureDateTime               *time.Time `json:"failureDateTime"` // failed calls only
	EndDateTime                   *time.Time `json:"endDateTime"`     // successful calls only
	Duration                      *int64     `json:"duration"`        // seconds
	CallType                      *string    `json:"callType"`        // ByotIn, ByotOut...
	SuccessfulCall                *bool      `json:"successfulCall"`
	CallerNumber                  *string    `json:"callerNumber"`
	CalleeNumber                  *string    `json:"calleeNumber"`
	MediaPathLocation             *string    `json:"mediaPathLocation"`
	SignalingLocation             *string    `json:"signalingLocation"`
	FinalSipCode                  *int32     `json:"finalSipCode"`
	CallEndSubReason              *int32     `json:"callEndSubReason"`
	FinalSipCodePhrase            *string    `json:"finalSipCodePhrase"`
	TrunkFullyQualifiedDomainName *string    `json:"trunkFullyQualifiedDomainName"`
	MediaBypassEnabled            *bool      `json:"mediaBypassEnabled"`
}

// PstnCalls calls fn with each page (up to 1,000 rows) of the PSTN call log
// rows whose startDateTime is in [from, to), from the calling goroutine. The
// window is read in day slices (see List), so it may be longer than the 90 days
// Graph accepts in one request.
// getPstnCalls takes both ends inclusive, so each request ends at the last
// 100 ns tick before the slice's end:
// getPstnCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-12T23:59:59.9999999Z).
// Slices, failures and the *IncompleteError are as for List. Rows are passed
// on as Graph sends them (deduplicate by ID); rows without an id or a
// startDateTime, or that do not decode, are logged and left out. Graph's
// reports can lag the calls by 24 to 48 hours.
func (c *Client) PstnCalls(ctx context.Context, from, to time.Time, fn func([]PstnCall) error) error {
	return c.walkWindow(ctx, "reading PSTN calls", from, to, func(ctx context.Context, a, b time.Time) error {
		u := c.base + "/v1.0/communications/callRecords/getPstnCalls(fromDateTime=" + formatTime(a) +
			",toDateTime=" + formatTime(b.Add(-graphTick)) + ")"
		return walkRows(ctx, c, "PSTN call", u, DecodePstnCall, fn)
	})
}

// DirectRoutingCalls calls fn with each page (up to 1,000 rows) of the Direct
// Routing call log rows whose startDateTime is in [from, to); getDirectRoutingCalls
// takes the end exclusive, so the slice's ends are sent as they are:
// getDirectRoutingCalls(fromDateTime=2026-11-12T00:00:00Z,toDateTime=2026-11-13T00:00:00Z).
// Otherwise as PstnCalls.
func (c *Client) DirectRoutingCalls(ctx context.Context, from, to time.Time, fn func([]DirectRoutingCall) error) error {
	return c.walkWindow(ctx, "reading Direct Routing calls", from, to, func(ctx context.Context, a, b time.Time) error {
		u := c.base + "/v1.0/communications/callRecords/getDirectRoutingCalls(fromDateTime=" + formatTime(a) +
			",toDateTime=" + formatTime(b) + ")"
		return walkRows(ctx, c, "Direct Routing call", u, DecodeDirectRoutingCall, fn)
	})
}

// walkRows walks the pages of a call log function, decoding each row on its
// own so that one bad row costs only itself.
func walkRows[T any](ctx context.Context, c *Client, what, first string, decode func([]byte) (T, error), fn func([]T) error) error {
	return c.walk(ctx, c.logPacer, first, func(values []json.RawMessage) error {
		rows := make([]T, 0, len(values))
		for i, v := range values {
			r, err := decode(v)
			if err != nil {
				c.log.Warn("leaving out a row Graph returned", "row", what, "url", first, "index", i, "error", err)
				continue
			}
			rows = append(rows, r)
		}
		if len(rows) == 0 {
			return nil
		}
		return fn(rows)
	})
}

// DecodePstnCall decodes one pstnCallLogRow and checks that it has an id and
// a start. Times are returned in UTC.
func DecodePstnCall(b []byte) (PstnCall, error) {
	var r PstnCall
	if err := json.Unmarshal(b, &r); err != nil {
		return PstnCall{}, fmt.Errorf("decoding PSTN call row: %w", err)
	}
	if r.ID == "" {
		return PstnCall{}, errors.New("decoding PSTN call row: no id")
	}
	if r.StartDateTime.IsZero() {
		return PstnCall{}, fmt.Errorf("decoding PSTN call row %s: no startDateTime", r.ID)
	}
	var err error
	r.StartDateTime = r.StartDateTime.UTC()
	if r.EndDateTime, err = optionalTime(r.EndDateTime); err == nil {
		err = checkYear(r.StartDateTime)
	}
	if err != nil {
		return PstnCall{}, fmt.Errorf("decoding PSTN call row %s: %w", r.ID, err)
	}
	return r, nil
}

// DecodeDirectRoutingCall decodes one directRoutingLogRow and checks that it
// has an id and a start. Times are returned in UTC; the sentinel
// 0001-01-01T00:00:00Z becomes nil.
func DecodeDirectRoutingCall(b []byte) (DirectRoutingCall, error) {
	var r DirectRoutingCall
	if err := json.Unmarshal(b, &r); err != nil {
		return DirectRoutingCall{}, fmt.Errorf("decoding Direct Routing call row: %w", err)
	}
	if r.ID == "" {
		return DirectRoutingCall{}, errors.New("decoding Direct Routing call row: no id")
	}
	if r.StartDateTime.IsZero() {
		return DirectRoutingCall{}, fmt.Errorf("decoding Direct Routing call row %s: no startDateTime", r.ID)
	}
	r.StartDateTime = r.StartDateTime.UTC()
	err := checkYear(r.StartDateTime)
	for _, t := range []**time.Time{&r.InviteDateTime, &r.FailureDateTime, &r.EndDateTime} {
		if err == nil {
			*t, err = optionalTime(*t)
		}
	}
	if err != nil {
		return DirectRoutingCall{}, fmt.Errorf("decoding Direct Routing call row %s: %w", r.ID, err)
	}
	return r, nil
}

// optionalTime returns t in UTC, or nil for null and for .NET's
// DateTimeOffset.MinValue (0001-01-01T00:00:00Z), which the logs send for
// "no value".
func optionalTime(t *time.Time) (*time.Time, error) {
	if t == nil || t.IsZero() {
		return nil, nil
	}
	u := t.UTC()
	return &u, checkYear(u)
}

// checkYear refuses a UTC time outside the years 1 to 9999, which JSON,
// Parquet and Excel cannot all hold (0000-01-01T00:00:00+01:00 parses).
func checkYear(t time.Time) error {
	if y := t.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("time %s out of range", t.Format(time.RFC3339Nano))
	}
	return nil
}
