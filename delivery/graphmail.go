package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"callstats/config"
)

// inlineLimit is the largest workbook sent as an inline attachment of
// sendMail; a larger one goes through a draft and an attachment upload
// session (Graph takes inline attachments under 3 MB).
const inlineLimit = 3<<20 - 1

// graphMailer sends through Graph as one mailbox: sendMail, or for a large
// workbook a draft, an attachment upload session and send.
type graphMailer struct {
	api    *graphAPI
	sender string // the mailbox's UPN or id
	attach bool
}

// message is the Graph message resource of one recipient's mail.
func (m *graphMailer) message(r config.Recipient, wb Workbook) (map[string]any, error) {
	body, err := htmlBody(r.Name, wb, m.attach)
	if err != nil {
		return nil, err
	}
	to := map[string]any{"address": r.Address}
	if r.Name != "" {
		to["name"] = r.Name
	}
	return map[string]any{
		"subject":      subject(wb),
		"body":         map[string]any{"contentType": "HTML", "content": body},
		"toRecipients": []any{map[string]any{"emailAddress": to}},
	}, nil
}

func (m *graphMailer) send(ctx context.Context, r config.Recipient, wb Workbook) error {
	msg, err := m.message(r, wb)
	if err != nil {
		return err
	}
	var data []byte
	if m.attach {
		if data, err = os.ReadFile(wb.Path); err != nil {
			return fmt.Errorf("reading workbook: %w", err)
		}
	}
	name := filepath.Base(wb.Path)
	if len(data) > inlineLimit {
		return m.sendLarge(ctx, msg, name, data)
	}
	if m.attach {
		msg["attachments"] = []any{map[string]any{
			"@odata.type":  "#microsoft.graph.fileAttachment",
			"name":         name,
			"contentType":  string(xlsxType),
			"contentBytes": base64.StdEncoding.EncodeToString(data),
		}}
	}
	body, err := json.Marshal(map[string]any{"message": msg, "saveToSentItems": true})
	if err != nil {
		return err
	}
	_, err = m.api.do(ctx, request{method: http.MethodPost, url: m.userURL("/sendMail"), body: body})
	return err
}

// sendLarge sends msg with a workbook too large to go inline: it creates a
// draft, attaches the workbook through an upload session, and sends the
// draft. A draft left by a failure is deleted.
func (m *graphMailer) sendLarge(ctx context.Context, msg map[string]any, name string, data []byte) (err error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	a, err := m.api.do(ctx, request{method: http.MethodPost, url: m.userURL("/messages"), body: body})
	if err != nil {
		return fmt.Errorf("creating the draft: %w", err)
	}
	var draft struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &draft); err != nil || draft.ID == "" {
		return fmt.Errorf("creating the draft: the answer has no message id")
	}
	msgURL := m.userURL("/messages/" + url.PathEscape(draft.ID))
	defer func() {
		if err != nil { // best effort: the draft would sit in the mailbox
			_, _ = m.api.do(context.WithoutCancel(ctx), request{method: http.MethodDelete, url: msgURL})
		}
	}()
	session, err := json.Marshal(map[string]any{"AttachmentItem": map[string]any{
		"attachmentType": "file", "name": name, "size": len(data), "contentType": string(xlsxType),
	}})
	if err != nil {
		return err
	}
	a, err = m.api.do(ctx, request{method: http.MethodPost, url: msgURL + "/attachments/createUploadSession", body: session})
	if err != nil {
		return fmt.Errorf("creating the attachment upload session: %w", err)
	}
	uploadURL, err := uploadSessionURL(a)
	if err != nil {
		return err
	}
	if _, err := m.api.upload(ctx, attachmentSession, uploadURL, data); err != nil {
		return fmt.Errorf("uploading the attachment: %w", err)
	}
	if _, err := m.api.do(ctx, request{method: http.MethodPost, url: msgURL + "/send"}); err != nil {
		return fmt.Errorf("sending the draft: %w", err)
	}
	return nil
}

// userURL is the URL of path under the sender's mailbox.
func (m *graphMailer) userURL(path string) string {
	return m.api.base + "/users/" + url.PathEscape(m.sender) + path
}
