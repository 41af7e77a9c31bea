package graphtest

import (
	"bytes"
	"callstats/internal/fakeclock"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signJWT signs header and claims with key, as a client does.
func signJWT(t *testing.T, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestClientAssertion proves that the token endpoint takes a client
// assertion only when it is signed by a trusted certificate's key, names it
// by x5t#S256, and has the claims Entra ID checks.
func TestClientAssertion(t *testing.T) {
	clk := fakeclock.New()
	s := NewServer(Options{Now: clk.Now})
	defer s.Close()
	tc, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s.TrustCertificate(tc.Cert)
	sum := sha256.Sum256(tc.Cert.Raw)
	thumb := base64.RawURLEncoding.EncodeToString(sum[:])
	aud := s.URL + "/tenant-1/oauth2/v2.0/token"
	now := clk.Now().Unix()
	header := func() map[string]any { return map[string]any{"alg": "RS256", "typ": "JWT", "x5t#S256": thumb} }
	claims := func() map[string]any {
		return map[string]any{"aud": aud, "iss": "client-1", "sub": "client-1", "jti": fmt.Sprint(time.Now().UnixNano()), "nbf": now, "exp": now + 600}
	}
	tests := []struct {
		name   string
		mod    func(h, c map[string]any)
		key    *rsa.PrivateKey
		status int
		aadsts string
	}{
		{"valid", func(h, c map[string]any) {}, tc.Key, 200, ""},
		{"other key", func(h, c map[string]any) {}, other.Key, 401, "AADSTS700027"},
		{"unknown thumbprint", func(h, c map[string]any) { h["x5t#S256"] = "AAAA" }, tc.Key, 401, "AADSTS700027"},
		{"wrong audience", func(h, c map[string]any) { c["aud"] = "https://login.example.com/token" }, tc.Key, 401, "AADSTS700027"},
		{"wrong issuer", func(h, c map[string]any) { c["iss"] = "client-2" }, tc.Key, 401, "AADSTS700027"},
		{"no jti", func(h, c map[string]any) { delete(c, "jti") }, tc.Key, 401, "AADSTS700027"},
		{"expired", func(h, c map[string]any) { c["nbf"], c["exp"] = now-7200, now-3600 }, tc.Key, 401, "AADSTS700024"},
		{"HS256", func(h, c map[string]any) { h["alg"] = "HS256" }, tc.Key, 401, "AADSTS700027"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, c := header(), claims()
			tt.mod(h, c)
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-1"}, "scope": {s.URL + "/.default"},
				"client_assertion_type": {clientAssertionType}, "client_assertion": {signJWT(t, tt.key, h, c)}}
			status, body := postToken(t, s, "tenant-1", form, nil)
			if status != tt.status || (tt.aadsts != "" && !strings.Contains(fmt.Sprint(body["error_description"]), tt.aadsts)) {
				t.Errorf("status %d %v, want %d %s", status, body, tt.status, tt.aadsts)
			}
			if tt.status == 200 {
				// The same assertion again is a replay.
				if status, _ := postToken(t, s, "tenant-1", form, nil); status != 401 {
					t.Errorf("replayed assertion: %d", status)
				}
			}
		})
	}
	if n := len(s.Assertions()); n != 1 {
		t.Errorf("%d assertions recorded, want 1", n)
	}
}

// TestOutlookScope proves that tokens are issued for the Outlook scope
// too, and ValidToken tells them from Graph's.
func TestOutlookScope(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	form := tokenForm(s)
	form.Set("scope", OutlookScope)
	status, body := postToken(t, s, "tenant-1", form, nil)
	tok, _ := body["access_token"].(string)
	if status != 200 || !s.ValidToken(tok, OutlookScope) || s.ValidToken(tok, s.URL+"/.default") {
		t.Errorf("status %d, token %q", status, tok)
	}
}

// do sends a request with the body and headers to s, returning status,
// headers and body.
func do(t *testing.T, s *Server, method, u string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = s.URL + u
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func bearer(t *testing.T, s *Server) map[string]string {
	_, body := postToken(t, s, "tenant-1", tokenForm(s), nil)
	return map[string]string{"Authorization": "Bearer " + body["access_token"].(string), "Content-Type": "application/json"}
}

// TestMailRoutes proves the mail routes' rules: sendMail takes inline
// attachments under 3 MB only; a draft's attachment upload session takes
// chunks of at most 4 MB in order, without a token, and send delivers it
// with the file reassembled.
func TestMailRoutes(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	auth := bearer(t, s)
	msg := func(att []byte) map[string]any {
		m := map[string]any{"subject": "s", "body": map[string]any{"contentType": "HTML", "content": "<p>x</p>"},
			"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "a@example.com"}}}}
		if att != nil {
			m["attachments"] = []any{map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "f.xlsx",
				"contentBytes": base64.StdEncoding.EncodeToString(att)}}
		}
		return m
	}
	send := func(m map[string]any) int {
		b, _ := json.Marshal(map[string]any{"message": m})
		status, _, _ := do(t, s, "POST", "/v1.0/users/me@example.com/sendMail", b, auth)
		return status
	}
	if st := send(msg([]byte("small"))); st != 202 {
		t.Errorf("small sendMail: %d", st)
	}
	if st := send(msg(make([]byte, 3<<20))); st != 400 && st != 413 {
		t.Errorf("3 MB inline: %d, want a refusal", st)
	}
	if st := send(msg(nil)); st != 202 {
		t.Errorf("no attachment: %d", st)
	}
	if n := len(s.Mails()); n != 2 {
		t.Errorf("%d mails", n)
	}

	b, _ := json.Marshal(msg(nil))
	status, _, body := do(t, s, "POST", "/v1.0/users/me@example.com/messages", b, auth)
	var draft struct{ ID string }
	json.Unmarshal(body, &draft)
	if status != 201 || draft.ID == "" {
		t.Fatalf("draft: %d %s", status, body)
	}
	data := make([]byte, 5<<20)
	rand.Read(data)
	b, _ = json.Marshal(map[string]any{"AttachmentItem": map[string]any{"attachmentType": "file", "name": "big.xlsx", "size": len(data)}})
	status, _, body = do(t, s, "POST", "/v1.0/users/me@example.com/messages/"+draft.ID+"/attachments/createUploadSession", b, auth)
	var sess struct{ UploadURL string }
	json.Unmarshal(body, &sess)
	if status != 201 || sess.UploadURL == "" {
		t.Fatalf("session: %d %s", status, body)
	}
	put := func(from, to int, hdr map[string]string) int {
		h := map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/%d", from, to-1, len(data))}
		for k, v := range hdr {
			h[k] = v
		}
		st, _, _ := do(t, s, "PUT", sess.UploadURL, data[from:to], h)
		return st
	}
	if st := put(0, 1<<20, auth); st != 401 {
		t.Errorf("PUT with a token: %d, want 401", st)
	}
	if st := put(1<<20, 2<<20, nil); st != 416 {
		t.Errorf("PUT out of order: %d, want 416", st)
	}
	if st := put(0, 3<<20, nil); st != 200 {
		t.Errorf("first chunk: %d", st)
	}
	if st := put(3<<20, 5<<20, nil); st != 201 {
		t.Errorf("last chunk: %d", st)
	}
	if st, _, _ := do(t, s, "POST", "/v1.0/users/me@example.com/messages/"+draft.ID+"/send", nil, auth); st != 202 {
		t.Errorf("send: %d", st)
	}
	mails := s.Mails()
	if len(mails) != 3 || !mails[2].ViaDraft || !bytes.Equal(mails[2].Attachments[0].Content, data) || mails[2].Attachments[0].Chunks != 2 {
		t.Errorf("sent draft %+v", mails[len(mails)-1].Attachments)
	}
}

// TestDriveUpload proves the drive upload session's rules: chunks but the
// last are multiples of 320 KiB, a GET says where to go on, a scripted 429
// comes with Retry-After, and the file is reassembled byte-identical.
func TestDriveUpload(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	auth := bearer(t, s)
	status, _, body := do(t, s, "POST", "/v1.0/drives/d1/items/root:/Reports/w.xlsx:/createUploadSession",
		[]byte(`{"item":{"@microsoft.graph.conflictBehavior":"replace"}}`), auth)
	var sess struct{ UploadURL string }
	json.Unmarshal(body, &sess)
	if status != 200 || sess.UploadURL == "" {
		t.Fatalf("session: %d %s", status, body)
	}
	data := make([]byte, 1<<20)
	rand.Read(data)
	put := func(from, to int) (int, http.Header) {
		st, h, _ := do(t, s, "PUT", sess.UploadURL, data[from:to], map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/%d", from, to-1, len(data))})
		return st, h
	}
	if st, _ := put(0, 100000); st != 400 {
		t.Errorf("chunk not a multiple of 320 KiB: %d", st)
	}
	s.ThrottleUploadAfter(1, 1500*time.Millisecond)
	if st, _ := put(0, 320<<10); st != 202 {
		t.Errorf("first chunk: %d", st)
	}
	if st, h := put(320<<10, 640<<10); st != 429 || h.Get("Retry-After") != "2" {
		t.Errorf("throttled chunk: %d Retry-After %q", st, h.Get("Retry-After"))
	}
	_, _, body = do(t, s, "GET", sess.UploadURL, nil, nil)
	if !strings.Contains(string(body), `"nextExpectedRanges":["327680-"]`) {
		t.Errorf("status %s", body)
	}
	if st, _ := put(320<<10, len(data)); st != 201 {
		t.Errorf("last chunk: %d", st)
	}
	if got, ok := s.File("d1", "Reports/w.xlsx"); !ok || !bytes.Equal(got, data) || s.Chunks("d1", "Reports/w.xlsx") != 2 {
		t.Errorf("file: %v, %d bytes", ok, len(got))
	}
}
