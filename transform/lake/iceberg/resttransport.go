package iceberg

import (
	"fmt"
	"net/http"
	"sync"
)

// refusalRecorder is the REST catalog client's HTTP transport: it remembers
// the first request the catalog or its token endpoint refused (a 4xx or 5xx
// status), so that an error opening the catalog can name it. iceberg-go
// reports an OAuth2 refusal by its error code alone ("invalid_client"),
// without the status or the endpoint.
type refusalRecorder struct {
	next http.RoundTripper

	mu    sync.Mutex
	first string
}

func (r *refusalRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := r.next.RoundTrip(req)
	if err == nil && rsp.StatusCode >= 400 {
		r.mu.Lock()
		if r.first == "" {
			// The path only: a query could carry a secret.
			r.first = fmt.Sprintf("%s %s://%s%s: %s", req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path, rsp.Status)
		}
		r.mu.Unlock()
	}
	return rsp, err
}

// refusal is " (METHOD URL: STATUS)" for the first refused request, or "".
func (r *refusalRecorder) refusal() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first == "" {
		return ""
	}
	return " (" + r.first + ")"
}
