package graphtest

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Limits Graph sets on drive uploads.
const (
	driveChunkUnit = 320 << 10 // every chunk but the last is a multiple of it
	maxDriveChunk  = 60 << 20
)

type uploadKind int

const (
	attachmentUpload uploadKind = iota
	driveUpload
)

// uploadSession is an attachment or drive upload in progress.
type uploadSession struct {
	kind        uploadKind
	size        int64
	name        string
	contentType string
	draft       *draft // attachmentUpload
	drive, path string // driveUpload
	data        []byte
	chunks      int
}

// throttleAfter answers 429 to one request after a number of others.
type throttleAfter struct {
	armed      bool
	after      int
	retryAfter time.Duration
}

// ThrottleUploadAfter makes one PUT to an upload session answer 429 with
// Retry-After (whole seconds, rounded up) after n more PUTs have been
// accepted: a client must wait, ask the session where to go on
// (nextExpectedRanges) and resume.
func (s *Server) ThrottleUploadAfter(n int, retryAfter time.Duration) {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	s.m365.uploadThrottle = throttleAfter{armed: true, after: n, retryAfter: retryAfter}
}

// File returns the content of the drive item at path (as uploaded, below
// the root) and whether there is one.
func (s *Server) File(drive, itemPath string) ([]byte, bool) {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	b, ok := s.m365.files[drive+"/"+itemPath]
	return b, ok
}

// Chunks returns how many PUTs the last completed upload of the drive item
// at path took.
func (s *Server) Chunks(drive, itemPath string) int {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	return s.m365.fileChunks[drive+"/"+itemPath]
}

func (s *Server) newSession(u *uploadSession) string {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	if s.m365.sessions == nil {
		s.m365.sessions = map[string]*uploadSession{}
	}
	id := randomHex(12)
	s.m365.sessions[id] = u
	return id
}

// serveDriveSession is POST /drives/{drive}/items/root:/{path}:/createUploadSession.
func (s *Server) serveDriveSession(w http.ResponseWriter, r *http.Request) {
	item := r.PathValue("item")
	p, ok := strings.CutPrefix(item, "root:/")
	if ok {
		p, ok = strings.CutSuffix(p, ":/createUploadSession")
	}
	if !ok || p == "" || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		s.graphError(w, r, http.StatusBadRequest, "invalidRequest", fmt.Sprintf("Resource not found for the segment '%s'.", item))
		return
	}
	var body struct {
		Item map[string]any `json:"item"`
	}
	if r.ContentLength != 0 && !s.readBody(w, r, 1<<16, &body) {
		return
	}
	if b := body.Item["@microsoft.graph.conflictBehavior"]; b != nil && b != "replace" && b != "fail" && b != "rename" {
		s.graphError(w, r, http.StatusBadRequest, "invalidRequest", "conflictBehavior must be replace, fail or rename.")
		return
	}
	drive := r.PathValue("drive")
	if body.Item["@microsoft.graph.conflictBehavior"] == "fail" {
		if _, exists := s.File(drive, p); exists {
			s.graphError(w, r, http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
			return
		}
	}
	sess := s.newSession(&uploadSession{kind: driveUpload, size: -1, drive: drive, path: p, name: path.Base(p)})
	writeJSON(w, http.StatusOK, map[string]any{
		"uploadUrl":          s.URL + "/upload/" + sess + "?tempauth=" + randomHex(16),
		"expirationDateTime": s.opts.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"nextExpectedRanges": []string{"0-"},
	})
}

// session returns the session of the request or answers 404.
func (s *Server) session(w http.ResponseWriter, r *http.Request) *uploadSession {
	s.m365.mu.Lock()
	u := s.m365.sessions[r.PathValue("session")]
	s.m365.mu.Unlock()
	if u == nil {
		s.graphError(w, r, http.StatusNotFound, "itemNotFound", "The upload session was not found or has expired.")
	}
	return u
}

// nextRanges is the session's nextExpectedRanges: "{start}" for an
// attachment, "{start}-" for a drive item.
func (u *uploadSession) nextRanges() []string {
	if u.kind == attachmentUpload {
		return []string{strconv.Itoa(len(u.data))}
	}
	return []string{strconv.Itoa(len(u.data)) + "-"}
}

// serveUploadStatus is GET on an upload URL: where to go on.
func (s *Server) serveUploadStatus(w http.ResponseWriter, r *http.Request) {
	u := s.session(w, r)
	if u == nil {
		return
	}
	s.m365.mu.Lock()
	next := u.nextRanges()
	s.m365.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"expirationDateTime": s.opts.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"nextExpectedRanges": next,
	})
}

// serveUploadCancel is DELETE on an upload URL.
func (s *Server) serveUploadCancel(w http.ResponseWriter, r *http.Request) {
	s.m365.mu.Lock()
	delete(s.m365.sessions, r.PathValue("session"))
	s.m365.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveUploadChunk is PUT on an upload URL with Content-Range
// "bytes {first}-{last}/{total}". The URL is pre-authenticated: a request
// with an Authorization header is refused, as Graph documents. A chunk must
// start where the session expects; drive chunks but the last are
// multiples of 320 KiB.
func (s *Server) serveUploadChunk(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.graphError(w, r, http.StatusUnauthorized, "unauthenticated", "The upload URL is pre-authenticated: send no Authorization header.")
		return
	}
	u := s.session(w, r)
	if u == nil {
		return
	}
	s.m365.mu.Lock()
	if t := &s.m365.uploadThrottle; t.armed {
		if t.after == 0 {
			t.armed = false
			s.m365.mu.Unlock()
			s.mu.Lock()
			s.stats.Throttled++
			s.mu.Unlock()
			if t.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(t.retryAfter.Seconds()))))
			}
			io.Copy(io.Discard, r.Body)
			s.graphError(w, r, http.StatusTooManyRequests, "activityLimitReached", "The request has been throttled.")
			return
		}
		t.after--
	}
	s.m365.mu.Unlock()

	first, last, total, ok := parseContentRange(r.Header.Get("Content-Range"))
	maxChunk := int64(maxDriveChunk)
	if u.kind == attachmentUpload {
		maxChunk = maxAttachmentChunk
	}
	if !ok || last-first+1 > maxChunk || (u.kind == attachmentUpload && total != u.size) || r.ContentLength != last-first+1 {
		s.graphError(w, r, http.StatusBadRequest, "invalidRange", "Content-Range must be 'bytes first-last/total' matching Content-Length, the session's size and the chunk limit.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxChunk+1))
	if err != nil || int64(len(body)) != last-first+1 {
		s.graphError(w, r, http.StatusBadRequest, "invalidRequest", "The body does not match Content-Range.")
		return
	}
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	if u.size < 0 {
		u.size = total
	}
	switch {
	case total != u.size:
		s.graphError(w, r, http.StatusBadRequest, "invalidRange", "The total size changed during the upload.")
		return
	case first != int64(len(u.data)):
		s.graphError(w, r, http.StatusRequestedRangeNotSatisfiable, "invalidRange",
			fmt.Sprintf("The fragment starts at %d, the session expects %s.", first, u.nextRanges()[0]))
		return
	case u.kind == driveUpload && last+1 < total && (last-first+1)%driveChunkUnit != 0:
		s.graphError(w, r, http.StatusBadRequest, "invalidRange", "Fragments other than the last must be a multiple of 320 KiB.")
		return
	}
	u.data = append(u.data, body...)
	u.chunks++
	if int64(len(u.data)) < u.size {
		status := http.StatusAccepted
		if u.kind == attachmentUpload {
			status = http.StatusOK
		}
		writeJSON(w, status, map[string]any{
			"expirationDateTime": s.opts.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			"nextExpectedRanges": u.nextRanges(),
		})
		return
	}
	delete(s.m365.sessions, r.PathValue("session"))
	if u.kind == attachmentUpload {
		u.draft.atts = append(u.draft.atts, Attachment{Name: u.name, ContentType: u.contentType, Content: u.data, Chunks: u.chunks})
		w.Header().Set("Location", s.URL+"/v1.0/users('"+u.draft.sender+"')/messages/attachments/"+randomHex(8))
		w.WriteHeader(http.StatusCreated)
		return
	}
	key := u.drive + "/" + u.path
	if s.m365.files == nil {
		s.m365.files, s.m365.fileChunks = map[string][]byte{}, map[string]int{}
	}
	s.m365.files[key], s.m365.fileChunks[key] = u.data, u.chunks
	writeJSON(w, http.StatusCreated, map[string]any{
		"id":     "01" + strings.ToUpper(randomHex(16)),
		"name":   u.name,
		"size":   len(u.data),
		"webUrl": s.URL + "/sites/reports/" + (&url.URL{Path: u.drive + "/" + u.path}).EscapedPath(),
		"file":   map[string]any{"mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	})
}

// parseContentRange reads "bytes first-last/total".
func parseContentRange(h string) (first, last, total int64, ok bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, 0, 0, false
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, false
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	total, err3 = strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || last >= total {
		return 0, 0, 0, false
	}
	return first, last, total, true
}
