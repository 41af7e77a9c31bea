package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ListItem is a call record as the list returns it: no sessions, no participants.
type ListItem struct {
	ID                   string    `json:"id"`
	Version              int64     `json:"version"`
	Type                 string    `json:"type"`
	StartDateTime        time.Time `json:"startDateTime"`
	EndDateTime          time.Time `json:"endDateTime"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime"`
}

// sliceLength is the length of the slices a window is read in. Slices are
// aligned to UTC midnight, so a slice is at most one lake partition and one
// failed slice costs at most one day.
const sliceLength = 24 * time.Hour

// graphTick is the precision of Graph's timestamps (.NET ticks).
const graphTick = 100 * time.Nanosecond

// List calls fn with each page of the call records whose startDateTime is in
// [from, to), in the order Graph returns them (60 a page), from the calling
// goroutine. Graph keeps records 30 days: older ones are not listed.
//
// The window is read in slices of one UTC day, each with its own
// $filter=startDateTime ge … and startDateTime lt … and its own walk of
// @odata.nextLink. A slice that fails (after the client's retries) does not
// stop the walk: List goes on with the next slice and then returns an
// *IncompleteError naming the failed slices, and the caller must treat those
// slices as incomplete (fn may have seen some of their pages; what it saw is
// correct). The other slices were read completely. ErrAuth, the end of ctx,
// and an error from fn stop the walk at once and are returned wrapped: the rest
// of the window is then unread.
//
// Pages can overlap when records arrive during a walk: the caller dedupes by
// ID. Items without an id or a startDateTime are logged and left out.
func (c *Client) List(ctx context.Context, from, to time.Time, fn func([]ListItem) error) error {
	return c.walkWindow(ctx, "listing call records", from, to, func(ctx context.Context, a, b time.Time) error {
		filter := "startDateTime ge " + formatTime(a) + " and startDateTime lt " + formatTime(b)
		first := c.base + "/v1.0/communications/callRecords?$filter=" + queryEscape(filter)
		return c.walk(ctx, c.listPacer, first, func(values []json.RawMessage) error {
			items := make([]ListItem, 0, len(values))
			for i, v := range values {
				it, err := decodeListItem(v)
				if err != nil {
					c.log.Warn("leaving out a call record Graph listed", "slice", a.Format(time.RFC3339), "index", i, "error", err)
					continue
				}
				items = append(items, it)
			}
			if len(items) == 0 {
				return nil
			}
			return fn(items)
		})
	})
}

// decodeListItem decodes one item of the list and checks that it has an id
// and a start.
func decodeListItem(b []byte) (ListItem, error) {
	var it ListItem
	if err := json.Unmarshal(b, &it); err != nil {
		return ListItem{}, fmt.Errorf("decoding listed call record: %w", err)
	}
	if it.ID == "" {
		return ListItem{}, errors.New("decoding listed call record: no id")
	}
	if it.StartDateTime.IsZero() {
		return ListItem{}, fmt.Errorf("decoding listed call record %s: no startDateTime", it.ID)
	}
	it.StartDateTime = it.StartDateTime.UTC()
	it.EndDateTime = it.EndDateTime.UTC()
	it.LastModifiedDateTime = it.LastModifiedDateTime.UTC()
	for _, t := range []time.Time{it.StartDateTime, it.EndDateTime, it.LastModifiedDateTime} {
		if err := checkYear(t); err != nil && !t.IsZero() {
			return ListItem{}, fmt.Errorf("decoding listed call record %s: %w", it.ID, err)
		}
	}
	return it, nil
}

// walk GETs first and the @odata.nextLink after each page (verbatim, on
// Graph's host only), paced in group, and hands each page's values to page.
// An error from page is returned as a *callerError.
func (c *Client) walk(ctx context.Context, group *pacer, first string, page func([]json.RawMessage) error) error {
	pages := 0
	for link := first; link != ""; {
		if err := c.checkLink(link); err != nil {
			return err
		}
		var p struct {
			Value    *[]json.RawMessage `json:"value"`
			NextLink string             `json:"@odata.nextLink"`
		}
		err := c.getIn(ctx, group, link, &pages, func(body []byte) error {
			if err := json.Unmarshal(body, &p); err != nil {
				return fmt.Errorf("decoding page %s: %w", link, err)
			}
			if p.Value == nil {
				return fmt.Errorf("decoding page %s: no value array", link)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := page(*p.Value); err != nil {
			return &callerError{err}
		}
		if p.NextLink == link {
			return fmt.Errorf("next link %s points to itself", link)
		}
		link = p.NextLink
	}
	return nil
}

// formatTime writes t as an OData DateTimeOffset literal in UTC with up to
// seven fractional digits: 2026-11-12T00:00:00Z, 2026-11-12T23:59:59.9999999Z.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.9999999Z07:00")
}

// queryEscape escapes a query value, spaces as %20.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
