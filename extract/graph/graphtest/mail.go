package graphtest

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits Graph sets on mail.
const (
	maxMailRequest       = 5 << 20   // a sendMail or draft request body (base64 of under 3 MB, and the rest)
	minSessionAttachment = 3 << 20   // smaller attachments go inline, larger ones through a session
	maxSessionAttachment = 150 << 20 // an upload session's largest file
	maxAttachmentChunk   = 4 << 20   // one PUT to an attachment upload session
)

// m365State is what the mail and upload routes keep.
type m365State struct {
	mu          sync.Mutex
	certs       []*x509.Certificate
	assertions  []Assertion
	jtis        map[string]bool
	federated   []federatedCredential
	tokenScopes map[string]string // access token -> scope

	mails      []Mail
	drafts     map[string]*draft         // by message id
	sessions   map[string]*uploadSession // by session id (attachments and drive items)
	files      map[string][]byte         // "drive/path" -> content
	fileChunks map[string]int
	nextID     int

	uploadThrottle throttleAfter // PUTs to upload sessions
}

// Mail is a message the server sent: by sendMail, or a draft sent with
// /send.
type Mail struct {
	Sender      string          // the {user} of the URL
	Message     json.RawMessage // the message as the client gave it, attachments left out
	Subject     string
	To          []string // toRecipients' addresses
	Attachments []Attachment
	ViaDraft    bool // sent as a draft message with /send
}

// Attachment is a file attachment of a sent mail, decoded.
type Attachment struct {
	Name, ContentType string
	Content           []byte
	Chunks            int // upload session PUTs it came in; 0 inline
}

type draft struct {
	sender  string
	message map[string]json.RawMessage
	atts    []Attachment
}

// Mails returns the mail sent so far, oldest first.
func (s *Server) Mails() []Mail {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	return append([]Mail(nil), s.m365.mails...)
}

// routeM365 adds the mail and upload routes.
func (s *Server) routeM365(mux *http.ServeMux) {
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.serveOpenIDConfiguration)
	mux.HandleFunc("POST /v1.0/users/{user}/sendMail", s.graph(s.serveSendMail))
	mux.HandleFunc("POST /v1.0/users/{user}/messages", s.graph(s.serveCreateDraft))
	mux.HandleFunc("POST /v1.0/users/{user}/messages/{id}/attachments/createUploadSession", s.graph(s.serveAttachmentSession))
	mux.HandleFunc("POST /v1.0/users/{user}/messages/{id}/send", s.graph(s.serveSendDraft))
	mux.HandleFunc("DELETE /v1.0/users/{user}/messages/{id}", s.graph(s.serveDeleteDraft))
	mux.HandleFunc("POST /v1.0/drives/{drive}/items/{item...}", s.graph(s.serveDriveSession))
	mux.HandleFunc("PUT /upload/{session}", s.serveUploadChunk)
	mux.HandleFunc("GET /upload/{session}", s.serveUploadStatus)
	mux.HandleFunc("DELETE /upload/{session}", s.serveUploadCancel)
}

// readBody reads a JSON request body of at most limit bytes into v; false
// when it answered an error.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	switch {
	case err != nil:
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The request body could not be read.")
		return false
	case int64(len(b)) > limit:
		s.graphError(w, r, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge",
			fmt.Sprintf("The request body is larger than %d bytes: attach large files with an upload session.", limit))
		return false
	case json.Unmarshal(b, v) != nil:
		s.graphError(w, r, http.StatusBadRequest, "RequestBodyRead", "The request body is not valid JSON.")
		return false
	}
	return true
}

// parseMessage checks a message resource and splits off its inline
// attachments; an error message for a 400 when it is not one Graph takes.
func parseMessage(raw map[string]json.RawMessage) (rest json.RawMessage, subject string, to []string, atts []Attachment, bad string) {
	var m struct {
		Subject      string `json:"subject"`
		Body         *struct{ ContentType, Content string }
		ToRecipients []struct {
			EmailAddress struct{ Address, Name string } `json:"emailAddress"`
		} `json:"toRecipients"`
		Attachments []struct {
			Type         string `json:"@odata.type"`
			Name         string `json:"name"`
			ContentType  string `json:"contentType"`
			ContentBytes string `json:"contentBytes"`
		} `json:"attachments"`
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", nil, nil, "The message is not a message resource: " + err.Error()
	}
	for _, r := range m.ToRecipients {
		if !strings.Contains(r.EmailAddress.Address, "@") {
			return nil, "", nil, nil, "At least one recipient is not valid."
		}
		to = append(to, r.EmailAddress.Address)
	}
	if m.Body == nil || (!strings.EqualFold(m.Body.ContentType, "text") && !strings.EqualFold(m.Body.ContentType, "html")) {
		return nil, "", nil, nil, "The message needs a body with contentType text or html."
	}
	inline := 0
	for _, a := range m.Attachments {
		if a.Type != "#microsoft.graph.fileAttachment" || a.Name == "" {
			return nil, "", nil, nil, "An attachment must be a #microsoft.graph.fileAttachment with a name."
		}
		content, err := base64.StdEncoding.DecodeString(a.ContentBytes)
		if err != nil {
			return nil, "", nil, nil, "The attachment's contentBytes is not base64."
		}
		atts = append(atts, Attachment{Name: a.Name, ContentType: a.ContentType, Content: content})
		inline += len(content)
	}
	if inline >= minSessionAttachment {
		return nil, "", nil, nil, "Inline attachments must be smaller than 3 MB: attach larger files with an upload session."
	}
	delete(raw, "attachments")
	rest, _ = json.Marshal(raw)
	return rest, m.Subject, to, atts, ""
}

// serveSendMail is POST /users/{user}/sendMail: 202 and the mail is sent.
func (s *Server) serveSendMail(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message map[string]json.RawMessage `json:"message"`
	}
	if !s.readBody(w, r, maxMailRequest, &body) {
		return
	}
	if body.Message == nil {
		s.graphError(w, r, http.StatusBadRequest, "ErrorInvalidRequest", "The message is missing.")
		return
	}
	rest, subject, to, atts, bad := parseMessage(body.Message)
	if bad == "" && len(to) == 0 {
		bad = "At least one recipient is required."
	}
	if bad != "" {
		s.graphError(w, r, http.StatusBadRequest, "ErrorInvalidRecipients", bad)
		return
	}
	s.m365.mu.Lock()
	s.m365.mails = append(s.m365.mails, Mail{Sender: r.PathValue("user"), Message: rest, Subject: subject, To: to, Attachments: atts})
	s.m365.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// serveCreateDraft is POST /users/{user}/messages: 201 and the draft.
func (s *Server) serveCreateDraft(w http.ResponseWriter, r *http.Request) {
	var msg map[string]json.RawMessage
	if !s.readBody(w, r, maxMailRequest, &msg) {
		return
	}
	if _, _, _, _, bad := parseMessage(clone(msg)); bad != "" {
		s.graphError(w, r, http.StatusBadRequest, "ErrorInvalidRequest", bad)
		return
	}
	_, _, _, atts, _ := parseMessage(msg)
	s.m365.mu.Lock()
	s.m365.nextID++
	id := fmt.Sprintf("AAMkAD%08d", s.m365.nextID)
	if s.m365.drafts == nil {
		s.m365.drafts = map[string]*draft{}
	}
	s.m365.drafts[id] = &draft{sender: r.PathValue("user"), message: clone(msg), atts: atts}
	s.m365.mu.Unlock()
	out := clone(msg)
	out["id"], _ = json.Marshal(id)
	out["isDraft"] = json.RawMessage("true")
	out["@odata.context"], _ = json.Marshal(s.URL + "/v1.0/$metadata#users('" + r.PathValue("user") + "')/messages/$entity")
	writeJSON(w, http.StatusCreated, out)
}

func clone(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// findDraft returns the user's draft id, or answers 404.
func (s *Server) findDraft(w http.ResponseWriter, r *http.Request) *draft {
	s.m365.mu.Lock()
	d := s.m365.drafts[r.PathValue("id")]
	s.m365.mu.Unlock()
	if d == nil || !strings.EqualFold(d.sender, r.PathValue("user")) {
		s.graphError(w, r, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return nil
	}
	return d
}

// serveAttachmentSession is POST .../messages/{id}/attachments/createUploadSession.
func (s *Server) serveAttachmentSession(w http.ResponseWriter, r *http.Request) {
	d := s.findDraft(w, r)
	if d == nil {
		return
	}
	var body struct {
		AttachmentItem *struct {
			AttachmentType string `json:"attachmentType"`
			Name           string `json:"name"`
			Size           int64  `json:"size"`
			ContentType    string `json:"contentType"`
		} `json:"AttachmentItem"`
	}
	if !s.readBody(w, r, 1<<16, &body) {
		return
	}
	it := body.AttachmentItem
	switch {
	case it == nil || it.AttachmentType != "file" || it.Name == "":
		s.graphError(w, r, http.StatusBadRequest, "ErrorInvalidRequest", "AttachmentItem with attachmentType file and a name is required.")
		return
	case it.Size < minSessionAttachment || it.Size > maxSessionAttachment:
		s.graphError(w, r, http.StatusBadRequest, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
			fmt.Sprintf("An upload session is for attachments of %d to %d bytes; got %d.", minSessionAttachment, maxSessionAttachment, it.Size))
		return
	}
	sess := s.newSession(&uploadSession{kind: attachmentUpload, size: it.Size, name: it.Name, contentType: it.ContentType, draft: d})
	writeJSON(w, http.StatusCreated, map[string]any{
		"@odata.context":     s.URL + "/v1.0/$metadata#microsoft.graph.uploadSession",
		"uploadUrl":          s.URL + "/upload/" + sess + "?authtoken=" + randomHex(16),
		"expirationDateTime": s.opts.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"nextExpectedRanges": []string{"0-"},
	})
}

// serveDeleteDraft is DELETE /users/{user}/messages/{id}: 204.
func (s *Server) serveDeleteDraft(w http.ResponseWriter, r *http.Request) {
	if s.findDraft(w, r) == nil {
		return
	}
	s.m365.mu.Lock()
	delete(s.m365.drafts, r.PathValue("id"))
	s.m365.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Drafts returns how many drafts are left unsent.
func (s *Server) Drafts() int {
	s.m365.mu.Lock()
	defer s.m365.mu.Unlock()
	return len(s.m365.drafts)
}

// serveSendDraft is POST .../messages/{id}/send: 202 and the draft is sent
// with the attachments it has.
func (s *Server) serveSendDraft(w http.ResponseWriter, r *http.Request) {
	d := s.findDraft(w, r)
	if d == nil {
		return
	}
	rest, subject, to, _, _ := parseMessage(clone(d.message))
	if len(to) == 0 {
		s.graphError(w, r, http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is required.")
		return
	}
	s.m365.mu.Lock()
	delete(s.m365.drafts, r.PathValue("id"))
	s.m365.mails = append(s.m365.mails, Mail{Sender: d.sender, Message: rest, Subject: subject, To: to,
		Attachments: append([]Attachment(nil), d.atts...), ViaDraft: true})
	s.m365.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}
