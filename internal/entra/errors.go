package entra

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"callstats/config"
)

// ErrLoginTimeout is wrapped by the LoginError of a login that did not
// answer within the login timeout.
var ErrLoginTimeout = errors.New("login did not answer")

// LoginError is a failed sign-in, in one line: the login URL, what went
// wrong (Entra's AADSTS code when it gave one), and the config key to check.
// It never holds a secret or the answer's body.
type LoginError struct {
	URL    string // the token endpoint (or managed identity endpoint)
	Status int    // the HTTP status, 0 when there was no answer
	Code   string // "invalid_client AADSTS7000215", or ""
	Key    string // the config key to check, "teams.client_secret_env"
	// Temporary says another try may succeed (429, 5xx, a network fault);
	// a refusal of the credentials or a login that does not answer is not.
	Temp bool
	Err  error // what went wrong, when there was no Entra error code
}

func (e *LoginError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "login at %s failed: ", e.URL)
	switch {
	case errors.Is(e.Err, ErrLoginTimeout):
		b.WriteString(e.Err.Error())
	case e.Status != 0:
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Code != "" {
			b.WriteString(": " + e.Code)
		}
	default:
		b.WriteString(oneLine(e.Err))
	}
	fmt.Fprintf(&b, "; check %s", e.Key)
	return b.String()
}

func (e *LoginError) Unwrap() error { return e.Err }

// Temporary reports whether another try may succeed. The Graph client
// retries such a failure and gives up on the others at once.
func (e *LoginError) Temporary() bool { return e.Temp }

// timeoutError is the error of a login that did not answer.
func (c *Credential) timeoutError() error {
	return &LoginError{URL: c.url, Key: keyFor(c.cfg.Kind, ""), Err: fmt.Errorf("%w within %s (teams.login_timeout)", ErrLoginTimeout, c.cfg.LoginTimeout)}
}

var aadCode = regexp.MustCompile(`AADSTS[0-9]+`)

// keyFor names the config key to check when a sign-in of kind fails with
// an AADSTS code ("" for none).
func keyFor(kind, aadsts string) string {
	if k := keyForCode(aadsts); k != "" {
		return k
	}
	if aadsts == "" && kind != config.AuthManagedIdentity && kind != config.AuthWorkloadIdentity {
		return "teams.login_url and teams.login_timeout"
	}
	switch kind {
	case config.AuthCertificate:
		return "teams.certificate_file"
	case config.AuthManagedIdentity:
		return "teams.auth (is a managed identity assigned to this host?) and teams.managed_identity_client_id"
	case config.AuthWorkloadIdentity:
		return "teams.client_id, teams.tenant_id and AZURE_FEDERATED_TOKEN_FILE"
	}
	return "teams.client_id and teams.client_secret_env"
}

// keyForCode names the config key an AADSTS code points at; "" when the
// code says nothing about one.
func keyForCode(aadsts string) string {
	switch aadsts {
	case "AADSTS90002", "AADSTS900023", "AADSTS90013":
		return "teams.tenant_id"
	case "AADSTS700016", "AADSTS7000112", "AADSTS700038":
		return "teams.client_id"
	case "AADSTS7000215", "AADSTS7000222", "AADSTS7000216":
		return "teams.client_secret_env (or teams.client_secret_file)"
	case "AADSTS700027", "AADSTS700024", "AADSTS700023", "AADSTS50012", "AADSTS500133":
		return "teams.certificate_file (is this certificate uploaded to the app registration?)"
	case "AADSTS1002012", "AADSTS70011", "AADSTS500011":
		return "teams.graph_url (the scope)"
	case "AADSTS700211", "AADSTS700212", "AADSTS700213", "AADSTS70021":
		return "teams.client_id (its federated credential) and AZURE_FEDERATED_TOKEN_FILE"
	}
	return ""
}

// oneLine joins the lines of err's message.
func oneLine(err error) string {
	if err == nil {
		return "unknown error"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// isTemporaryStatus reports a status worth another try.
func isTemporaryStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}
