package delivery

import (
	"callstats/internal/httpretry"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// uploadChunk is the size of one PUT to an upload session: a multiple of
// 320 KiB (drive sessions require it of every chunk but the last) and
// under the 4 MB an attachment session takes at once.
const uploadChunk = 10 * 320 << 10

// A sessionKind tells attachment upload sessions (Outlook) from drive ones
// (OneDrive, SharePoint): only a drive session answers a GET with where to
// go on.
type sessionKind int

const (
	attachmentSession sessionKind = iota
	driveSession
)

// upload PUTs data to an upload session's URL in chunks with Content-Range
// and returns the answer to the last one. A chunk that fails for a passing
// reason (429 with Retry-After, 5xx, the network) is retried after the
// wait; a drive session is first asked where to go on, so a chunk that
// landed without its answer is not sent again. The URL is pre-authenticated:
// no token is sent.
func (g *graphAPI) upload(ctx context.Context, kind sessionKind, uploadURL string, data []byte) (answer, error) {
	total := len(data)
	offset, failures := 0, 0
	var lastErr error
	for {
		end := min(offset+uploadChunk, total)
		put := request{method: http.MethodPut, url: uploadURL, body: data[offset:end], noAuth: true,
			header: http.Header{
				"Content-Type":  {"application/octet-stream"},
				"Content-Range": {fmt.Sprintf("bytes %d-%d/%d", offset, end-1, total)},
			}}
		a, _, err := g.once(ctx, put)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return answer{}, ctxErr
		}
		var ge *GraphError
		if err == nil && a.status >= 200 && a.status < 300 {
			if end == total {
				return a, nil
			}
			offset = nextOffset(a.body, end)
			failures = 0
			continue
		}
		if err == nil {
			ge = newGraphError(put.method, put.url, a.status, a.body)
			if ge.Permanent() && !(kind == driveSession && a.status == http.StatusRequestedRangeNotSatisfiable) {
				return answer{}, ge
			}
			lastErr = ge
		} else {
			lastErr = err
		}
		if failures++; failures >= graphAttempts {
			return answer{}, fmt.Errorf("upload of %d bytes stopped at byte %d after %d failures: %w", total, offset, failures, lastErr)
		}
		d := backoff(failures)
		if ge != nil {
			if ra, ok := httpretry.ParseRetryAfter(a.header.Get("Retry-After"), time.Now(), maxRetryAfter); ok {
				d = ra
			}
		}
		if err := g.wait(ctx, d); err != nil {
			return answer{}, err
		}
		if kind == driveSession {
			next, err := g.sessionStatus(ctx, uploadURL)
			if err != nil {
				return answer{}, err
			}
			if next >= 0 && next <= total {
				offset = next
			}
		}
	}
}

// sessionStatus asks a drive upload session where the upload goes on: the
// start of its first nextExpectedRanges; -1 when it does not say.
func (g *graphAPI) sessionStatus(ctx context.Context, uploadURL string) (int, error) {
	a, err := g.do(ctx, request{method: http.MethodGet, url: uploadURL, noAuth: true})
	if err != nil {
		return 0, fmt.Errorf("asking the upload session where to go on: %w", err)
	}
	return nextOffset(a.body, -1), nil
}

// nextOffset reads the start of the first of nextExpectedRanges ("123-",
// "123-456" or, for attachments, "123"); def when there is none.
func nextOffset(body []byte, def int) int {
	var s struct {
		NextExpectedRanges []string `json:"nextExpectedRanges"`
	}
	if json.Unmarshal(body, &s) != nil || len(s.NextExpectedRanges) == 0 {
		return def
	}
	start, _, _ := strings.Cut(s.NextExpectedRanges[0], "-")
	n, err := strconv.Atoi(start)
	if err != nil || n < 0 {
		return def
	}
	return n
}

// uploadSessionURL reads the uploadUrl of a createUploadSession answer.
func uploadSessionURL(a answer) (string, error) {
	var s struct {
		UploadURL string `json:"uploadUrl"`
	}
	if err := json.Unmarshal(a.body, &s); err != nil || s.UploadURL == "" {
		return "", errors.New("createUploadSession answered without an uploadUrl")
	}
	return s.UploadURL, nil
}
