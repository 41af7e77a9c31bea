package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// MaxBatchRequests is the most requests Graph takes in one JSON $batch.
const MaxBatchRequests = 20

// maxBatchBody bounds the body of a $batch request.
const maxBatchBody = 1 << 20

type batchRequest struct {
	Requests []struct {
		ID      string            `json:"id"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"requests"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// ServeBatch answers r, a JSON $batch request (POST {base}/v1.0/$batch), as
// Graph does: each of its requests (at most 20, ids unique, urls relative to
// /v1.0) is served by h as a request of its own, all at once, carrying the
// batch's Authorization and client-request-id headers and its own headers;
// the answer is 200 {"responses":[{id, status, headers, body}]} in the
// order the requests finish, a JSON body inline and any other body as a
// JSON string. A malformed batch is 400 BadRequest. Tests with a fake of
// their own use it to speak $batch.
func ServeBatch(w http.ResponseWriter, r *http.Request, h http.Handler) {
	bad := func(msg string) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": "BadRequest", "message": msg}})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBatchBody+1))
	if err != nil || len(body) > maxBatchBody {
		bad("Unable to read the batch request body.")
		return
	}
	var req batchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		bad("Invalid batch payload format.")
		return
	}
	if n := len(req.Requests); n == 0 || n > MaxBatchRequests {
		bad(fmt.Sprintf("Number of batch request steps exceeds the maximum value of %d or is zero.", MaxBatchRequests))
		return
	}
	items := make([]*http.Request, len(req.Requests))
	seen := map[string]bool{}
	for i, it := range req.Requests {
		switch {
		case it.ID == "" || seen[it.ID]:
			bad(fmt.Sprintf("Request id %q is missing or repeated.", it.ID))
			return
		case it.Method == "" || strings.Contains(it.URL, "://"):
			bad(fmt.Sprintf("Request %s needs a method and a url relative to the version.", it.ID))
			return
		}
		seen[it.ID] = true
		u := it.URL
		if !strings.HasPrefix(u, "/") {
			u = "/" + u
		}
		var rb io.Reader
		if len(it.Body) > 0 {
			rb = bytes.NewReader(it.Body)
		}
		ir, err := http.NewRequestWithContext(r.Context(), strings.ToUpper(it.Method), "/v1.0"+u, rb)
		if err != nil {
			bad(fmt.Sprintf("Request %s has an invalid url.", it.ID))
			return
		}
		ir.Host, ir.RemoteAddr, ir.RequestURI = r.Host, r.RemoteAddr, ir.URL.RequestURI()
		for _, k := range []string{"Authorization", "client-request-id"} {
			if v := r.Header.Get(k); v != "" {
				ir.Header.Set(k, v)
			}
		}
		for k, v := range it.Headers {
			ir.Header.Set(k, v)
		}
		items[i] = ir
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	responses := make([]batchResponse, 0, len(items))
	for i, ir := range items {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, ir)
			resp := batchResponse{ID: req.Requests[i].ID, Status: rec.Code, Headers: map[string]string{}}
			for k, v := range rec.Header() {
				resp.Headers[k] = strings.Join(v, ", ")
			}
			if b := bytes.TrimSpace(rec.Body.Bytes()); json.Valid(b) && len(b) > 0 {
				resp.Body = b
			} else if len(b) > 0 {
				resp.Body = jsonString(string(b))
			}
			mu.Lock()
			responses = append(responses, resp)
			mu.Unlock()
		})
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, map[string]any{"responses": responses})
}

// serveBatch is POST /v1.0/$batch: the envelope's token is checked (401 for
// the whole batch), then FailNextBatch, then each request goes to the
// server's own routes, where it counts, is throttled and fails as a request
// of its own.
func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Batches++
	s.stats.BatchesInFlight++
	s.stats.MaxBatchesInFlight = max(s.stats.MaxBatchesInFlight, s.stats.BatchesInFlight)
	authErr := s.checkToken(r)
	status := 0
	if authErr == "" && s.batchFailN > 0 {
		s.batchFailN--
		status = s.batchFailStatus
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.BatchesInFlight--
		s.mu.Unlock()
	}()
	switch {
	case authErr != "":
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		s.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", authErr)
	case status != 0:
		s.graphError(w, r, status, errorCode(status), "The service is temporarily unable to answer. Retry later.")
	default:
		ServeBatch(w, r, s.handler)
	}
}

// FailNextBatch makes the next n $batch requests answer status as a whole
// (none of their requests is served).
func (s *Server) FailNextBatch(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batchFailN, s.batchFailStatus = n, status
}
