package entra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"
)

// azureCredential gets tokens from an azidentity credential: a managed
// identity or a workload identity.
type azureCredential struct {
	cred azcore.TokenCredential
	url  string // where it signs in, for errors
	key  string // the config key to check when it fails
}

// imdsURL is where a VM's managed identity answers when the host sets no
// IDENTITY_ENDPOINT.
const imdsURL = "http://169.254.169.254/metadata/identity/oauth2/token"

func newManagedIdentity(cfg Config) (*azureCredential, error) {
	opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOptions(cfg)}
	if cfg.ManagedIdentityClientID != "" {
		opts.ID = azidentity.ClientID(cfg.ManagedIdentityClientID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("teams.auth: managed identity: %w", err)
	}
	where := imdsURL
	if e := os.Getenv("IDENTITY_ENDPOINT"); e != "" {
		where = e
	} else if e := os.Getenv("MSI_ENDPOINT"); e != "" {
		where = e
	}
	key := "teams.auth (is a managed identity assigned to this host?)"
	if cfg.ManagedIdentityClientID != "" {
		key = "teams.managed_identity_client_id (is that identity assigned to this host?)"
	}
	return &azureCredential{cred: cred, url: where, key: key}, nil
}

func newWorkloadIdentity(cfg Config) (*azureCredential, error) {
	opts := &azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: clientOptions(cfg),
		ClientID:      cfg.ClientID,
		TenantID:      cfg.TenantID,
		// The authority is teams.login_url; instance discovery would ask
		// the public cloud about it, which a national or private one is not.
		DisableInstanceDiscovery: true,
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("teams.auth: workload identity: %w", err)
	}
	return &azureCredential{cred: cred, url: cfg.LoginURL + "/" + cfg.TenantID + "/oauth2/v2.0/token",
		key: "teams.client_id, teams.tenant_id and AZURE_FEDERATED_TOKEN_FILE"}, nil
}

// clientOptions sends azidentity's requests through our HTTP client to
// teams.login_url.
func clientOptions(cfg Config) azcore.ClientOptions {
	return policy.ClientOptions{
		Transport: cfg.HTTPClient,
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.LoginURL + "/", Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
	}
}

var statusRE = regexp.MustCompile(`(?:RESPONSE|status code(?: was)?) ([1-5][0-9][0-9])`)

func (a *azureCredential) fetch(ctx context.Context, scope string) (*oauth2.Token, error) {
	tok, err := a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		le := &LoginError{URL: a.url, Key: a.key, Code: aadCode.FindString(err.Error())}
		if k := keyForCode(le.Code); k != "" {
			le.Key = k
		}
		if m := statusRE.FindStringSubmatch(err.Error()); m != nil {
			fmt.Sscan(m[1], &le.Status)
			le.Temp = isTemporaryStatus(le.Status)
		}
		var afe *azidentity.AuthenticationFailedError
		if le.Status == 0 || !errors.As(err, &afe) {
			le.Status = 0
			le.Err = errors.New(firstLine(err.Error()))
		}
		return nil, le
	}
	return &oauth2.Token{AccessToken: tok.Token, TokenType: "Bearer", Expiry: tok.ExpiresOn}, nil
}

// firstLine is the first non-empty line of s: azidentity's errors run over
// many lines, with the troubleshooting link at the end.
func firstLine(s string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "---") {
			return l
		}
	}
	return s
}
