package ringcentral

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"callstats/internal/httpretry"
)

// Window is a span [From, To) of call start times.
type Window struct{ From, To time.Time }

// String is the window in the format of dateFrom and dateTo.
func (w Window) String() string {
	return w.From.UTC().Format(dateFormat) + ".." + w.To.UTC().Format(dateFormat)
}

// Windows returns the spans of the call log a run at now reads: the UTC day
// of each of days (the days the queued sessions name) and the lookback
// [now-lookback, now), which is re-read on every run because records change
// after the call while the log filters on start time. Spans are cut at now,
// merged where they overlap or touch, and sorted; they are in UTC.
func Windows(days []time.Time, now time.Time, lookback time.Duration) []Window {
	now = now.UTC()
	ws := make([]Window, 0, len(days)+1)
	for _, d := range days {
		d = d.UTC()
		from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		ws = append(ws, Window{from, from.AddDate(0, 0, 1)})
	}
	if lookback > 0 {
		ws = append(ws, Window{now.Add(-lookback), now})
	}
	out := ws[:0]
	for _, w := range ws {
		if w.To.After(now) {
			w.To = now
		}
		if w.From.Before(w.To) {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	merged := out[:0]
	for _, w := range out {
		if n := len(merged); n > 0 && !w.From.After(merged[n-1].To) {
			if w.To.After(merged[n-1].To) {
				merged[n-1].To = w.To
			}
			continue
		}
		merged = append(merged, w)
	}
	return merged
}

// CallLog walks the company call log (Detailed view) for the calls that
// started in [from, to), newest first, perPage records a page, following
// navigation.nextPage, and calls fn with each page's records. dateFrom and
// dateTo are always sent, in UTC. A window longer than a day is walked one
// day (24 h from from) at a time.
//
// Pages are numbered, not a cursor: a call that arrives during the walk
// shifts the later pages, so records repeat. CallLog therefore dedupes by
// record id over the whole walk, with a map of id to lastModifiedTime (memory
// stays bounded, about 100 bytes per id; no record is kept). fn gets a record
// the first time its id appears, and again only when a later page carries it
// with a newer lastModifiedTime (it changed during the walk); a copy that is
// not newer is dropped. So fn may see an id twice, the later copy newer: keep
// the copy with the latest lastModifiedTime, as the lake does. A record that
// arrives during the walk on a page already read is not seen; the next run's
// lookback reads it.
//
// fn's slice is new for each call and may be kept. CallLog stops at the first
// error from fn and returns it. Errors name the span; see ErrAuth, APIError
// and IsRetryable.
func (c *Client) CallLog(ctx context.Context, from, to time.Time, fn func([]Record) error) error {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return fmt.Errorf("reading call log %s: empty window", Window{from, to})
	}
	seen := make(map[string]int64)
	for start := from; start.Before(to); {
		end := start.Add(daySpan)
		if end.After(to) {
			end = to
		}
		if err := c.walk(ctx, start, end, seen, fn); err != nil {
			return fmt.Errorf("reading call log %s: %w", Window{start, end}, err)
		}
		start = end
	}
	return nil
}

// walk reads the pages of one span.
func (c *Client) walk(ctx context.Context, from, to time.Time, seen map[string]int64, fn func([]Record) error) error {
	q := url.Values{}
	q.Set("view", "Detailed")
	q.Set("dateFrom", from.Format(dateFormat))
	q.Set("dateTo", to.Format(dateFormat))
	q.Set("perPage", strconv.Itoa(c.perPage))
	q.Set("page", "1")
	link := c.base + "/restapi/v1.0/account/~/call-log?" + q.Encode()
	for pages := 1; ; pages++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if pages > maxPages {
			return fmt.Errorf("more than %d pages", maxPages)
		}
		page, err := c.page(ctx, link)
		if err != nil {
			return err
		}
		for _, inv := range page.Invalid {
			c.log.Warn("skipping a call-log record that cannot be read",
				"page", link, "index", inv.Index, "id", inv.ID, "error", inv.Err)
		}
		fresh := page.Records[:0] // filtered in place: fresh never overtakes the range
		for _, r := range page.Records {
			lm := r.LastModifiedTime.UnixMicro()
			if old, ok := seen[r.ID]; ok && lm <= old {
				continue
			}
			seen[r.ID] = lm
			fresh = append(fresh, r)
		}
		if len(fresh) > 0 {
			if err := fn(fresh); err != nil {
				return err
			}
		}
		next := page.NextPageURI()
		if next == "" || len(page.Records)+len(page.Invalid) == 0 {
			return nil
		}
		if link, err = c.nextLink(next, link, q); err != nil {
			return err
		}
	}
}

// page GETs and decodes one call-log page. A page that cannot be read or
// decoded (cut, stalled, too large, HTML, truncated JSON) is retried.
func (c *Client) page(ctx context.Context, link string) (*Page, error) {
	var p *Page
	progress := httpretry.Progress{Timeout: pageTimeout, Stall: c.stall}
	err := c.get(ctx, link, "application/json", progress, func(resp *http.Response) (bool, error) {
		body, err := httpretry.ReadAll(ctx, resp.Body, maxBodyBytes, c.budget)
		if err != nil {
			return false, fmt.Errorf("reading page %s: %w", link, err)
		}
		if p, err = DecodePage(body); err != nil {
			return false, httpretry.Transient(fmt.Errorf("page %s: %w", link, err))
		}
		return false, nil
	})
	return p, err
}

// nextLink checks navigation.nextPage: it must stay on the server's origin,
// scheme, host and port (the token goes with it), and not point to the current page. A
// link without view, dateFrom or dateTo gets the walk's own, since the log
// would otherwise default to the last 24 hours.
func (c *Client) nextLink(next, current string, walk url.Values) (string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("next page %q: %v", next, err) // %v: a *url.Error is a net.Error, but this is permanent
	}
	if !httpretry.SameOrigin(u, c.server) {
		return "", fmt.Errorf("refusing next page on %s: not the server %s", httpretry.Origin(u), httpretry.Origin(c.server))
	}
	q := u.Query()
	fixed := false
	for _, k := range []string{"view", "dateFrom", "dateTo"} {
		if q.Get(k) == "" {
			q.Set(k, walk.Get(k))
			fixed = true
		}
	}
	if fixed {
		u.RawQuery = q.Encode()
		next = u.String()
	}
	if next == current {
		return "", fmt.Errorf("next page %s is the current page", next)
	}
	return next, nil
}
