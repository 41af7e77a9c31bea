package faultproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ItemModes are the modes SetItemMode takes: the ways Graph answers one
// request of a JSON $batch on its own.
var ItemModes = []Mode{HTML200, Truncated, TooManyRequests, ServerError}

// SetItemMode faults requests inside JSON $batch POSTs (a path ending in
// /$batch), as Graph throttles and fails them one by one: the batch is
// forwarded and answered 200, and the response to each of its requests
// whose relative URL match accepts is replaced: 429 with Retry-After
// (TooManyRequests), 500 (ServerError), or a 200 whose body does not decode
// (HTML200: an HTML page; Truncated: the target's JSON cut half-way), sent
// as a JSON string since a $batch carries bodies inline. Every other request
// passes. It replaces the mode SetMode set, and SetMode replaces it.
func (p *Proxy) SetItemMode(m Mode, match func(url string) bool) {
	p.tb.Helper()
	if !isItemMode(m) {
		p.tb.Fatalf("faultproxy: %v is not a mode for the requests of a $batch", m)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.match = Pass, nil
	p.itemMode, p.itemMatch = m, match
}

func isItemMode(m Mode) bool {
	for _, im := range ItemModes {
		if m == im {
			return true
		}
	}
	return false
}

// isBatch says whether r is a JSON $batch.
func isBatch(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/$batch")
}

// batchItem is a response in the answer to a $batch; fields the proxy does
// not touch are kept as they came.
type batchItem struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// faultItems rewrites the responses in body (the answer to the $batch
// request in) to the requests match accepts, as m says. It returns the new
// body and the number of responses faulted.
func faultItems(in, body []byte, m Mode, retryAfter string, match func(string) bool) ([]byte, int, error) {
	var req struct {
		Requests []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, 0, fmt.Errorf("decoding the $batch request: %v", err)
	}
	urls := make(map[string]string, len(req.Requests))
	for _, r := range req.Requests {
		urls[r.ID] = r.URL
	}
	var ans map[string]json.RawMessage
	var items []batchItem
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, 0, fmt.Errorf("decoding the $batch answer: %v", err)
	}
	if err := json.Unmarshal(ans["responses"], &items); err != nil {
		return nil, 0, fmt.Errorf("decoding the $batch responses: %v", err)
	}
	n := 0
	for i, it := range items {
		u, ok := urls[it.ID]
		if !ok || match != nil && !match(u) {
			continue
		}
		n++
		items[i] = faultItem(it, m, retryAfter)
	}
	out, err := json.Marshal(items)
	if err != nil {
		return nil, 0, err
	}
	ans["responses"] = out
	body, err = json.Marshal(ans)
	return body, n, err
}

// faultItem is the response it replaced as m says.
func faultItem(it batchItem, m Mode, retryAfter string) batchItem {
	jsonHeaders := map[string]string{"Content-Type": "application/json"}
	switch m {
	case TooManyRequests:
		return batchItem{ID: it.ID, Status: http.StatusTooManyRequests,
			Headers: map[string]string{"Content-Type": "application/json", "Retry-After": retryAfter},
			Body:    json.RawMessage(`{"error":{"code":"TooManyRequests","message":"faultproxy"}}`)}
	case ServerError:
		return batchItem{ID: it.ID, Status: http.StatusInternalServerError, Headers: jsonHeaders,
			Body: json.RawMessage(`{"error":{"code":"InternalServerError","message":"faultproxy"}}`)}
	case Truncated:
		cut, _ := json.Marshal(string(it.Body[:len(it.Body)/2]))
		return batchItem{ID: it.ID, Status: http.StatusOK, Headers: jsonHeaders, Body: cut}
	default: // HTML200
		return batchItem{ID: it.ID, Status: http.StatusOK, Headers: map[string]string{"Content-Type": "text/html"},
			Body: json.RawMessage(`"<html><body>Service temporarily unavailable</body></html>"`)}
	}
}
