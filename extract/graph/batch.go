package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"callstats/internal/httpretry"
)

// maxBatchItems is the most requests Graph takes in one JSON $batch.
const maxBatchItems = 20

// batchRequest is the body of POST /v1.0/$batch.
type batchRequest struct {
	Requests []batchRequestItem `json:"requests"`
}

type batchRequestItem struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"` // relative to /v1.0, with a leading slash
}

// batchAnswer is the body of a 200 answer to a $batch: one response per
// request, in any order.
type batchAnswer struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

// postBatch sends the GETs of urls (relative to /v1.0) in one $batch. It
// returns the answer to the $batch itself, and when that is a 200, the
// answer to each request in the order of urls (status 0 for one the $batch
// answer left out). Its error is that of send: no answer to the $batch.
func (c *Client) postBatch(ctx context.Context, urls []string) (answer, []answer, error) {
	req := batchRequest{Requests: make([]batchRequestItem, len(urls))}
	for i, u := range urls {
		req.Requests[i] = batchRequestItem{ID: strconv.Itoa(i + 1), Method: http.MethodGet, URL: u}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return answer{}, nil, fmt.Errorf("encoding a $batch: %v", err)
	}
	a, err := c.send(ctx, http.MethodPost, c.base+"/v1.0/$batch", body)
	if err != nil || a.status != http.StatusOK {
		return a, nil, err
	}
	items, err := decodeBatchAnswer(a.body, len(urls), a.token)
	return a, items, err
}

// decodeBatchAnswer decodes the 200 answer to a $batch of n requests (ids
// "1" to n) into their answers in order, status 0 for one left out. An
// answer that does not decode, or whose responses do not match the requests,
// is a *httpretry.TransientError: the next answer may be sound.
func decodeBatchAnswer(body []byte, n int, tok *oauth2.Token) ([]answer, error) {
	var ba batchAnswer
	if err := json.Unmarshal(body, &ba); err != nil {
		return nil, httpretry.Transient(fmt.Errorf("decoding the answer to a $batch: %w", err))
	}
	items := make([]answer, n)
	for _, r := range ba.Responses {
		i, err := strconv.Atoi(r.ID)
		if err != nil || i < 1 || i > n || items[i-1].status != 0 || r.Status < 100 || r.Status > 599 {
			return nil, httpretry.Transient(fmt.Errorf("the answer to a $batch has a response %q with status %d that matches no request", r.ID, r.Status))
		}
		h := make(http.Header, len(r.Headers))
		for k, v := range r.Headers {
			h.Set(k, v)
		}
		items[i-1] = answer{status: r.Status, header: h, body: r.Body, token: tok}
	}
	return items, nil
}

// relativeURL is the URL of link relative to /v1.0 for a $batch, after the
// same-origin check: a next link that leaves Graph's origin or its v1.0 API
// is refused, so the token never goes elsewhere.
func (c *Client) relativeURL(link string) (string, error) {
	if err := c.checkLink(link); err != nil {
		return "", err
	}
	u, _ := url.Parse(link) // checkLink parsed it
	prefix := strings.TrimRight(c.graphURL.EscapedPath(), "/") + "/v1.0/"
	path, ok := strings.CutPrefix(u.EscapedPath(), prefix)
	if !ok || u.Fragment != "" {
		return "", fmt.Errorf("refusing next link %s: not under %s", link, prefix)
	}
	rel := "/" + path
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	return rel, nil
}

// errNoResponse is an answer to a $batch that left a request out.
var errNoResponse = errors.New("the answer to the $batch has no response for this request")

// itemBody is an item's JSON body, or an error when it is absent: Graph
// sends JSON bodies inline.
func itemBody(b json.RawMessage) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil, errors.New("a response of the $batch has no body")
	}
	return b, nil
}
