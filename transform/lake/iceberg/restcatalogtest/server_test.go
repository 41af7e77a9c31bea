package restcatalogtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
)

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// do sends a request to the server and decodes the JSON answer (if any)
// into a map.
func do(t *testing.T, method, u, token, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, u, b)
		}
	}
	return rsp.StatusCode, m
}

func tokenRequest(id, secret, grant string) string {
	return url.Values{"grant_type": {grant}, "client_id": {id}, "client_secret": {secret}, "scope": {"catalog"}}.Encode()
}

const form = "application/x-www-form-urlencoded"

func TestTokenEndpoint(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct {
		name, body string
		code       int
		oauthError string // the OAuthError's error, or "" for a token
	}{
		{"client credentials", tokenRequest("client-1", "secret-1", "client_credentials"), 200, ""},
		{"wrong secret", tokenRequest("client-1", "nope", "client_credentials"), 401, "invalid_client"},
		{"unknown client", tokenRequest("client-2", "secret-1", "client_credentials"), 401, "invalid_client"},
		{"other grant", tokenRequest("client-1", "secret-1", "password"), 400, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m := do(t, "POST", s.URL+"/v1/oauth/tokens", "", form, tc.body)
			if code != tc.code {
				t.Fatalf("status %d, want %d (%v)", code, tc.code, m)
			}
			if tc.oauthError != "" {
				if m["error"] != tc.oauthError || m["error_description"] == "" {
					t.Errorf("answer %v, want an OAuthError %q with a description", m, tc.oauthError)
				}
				return
			}
			if tok, _ := m["access_token"].(string); tok == "" || m["token_type"] != "bearer" || m["expires_in"] == nil {
				t.Errorf("answer %v, want a bearer access token with expires_in", m)
			}
		})
	}
	if st := s.Stats(); st.TokensIssued != 1 || st.Unauthorized != 2 {
		t.Errorf("stats %+v, want 1 token issued and 2 refusals", st)
	}
}

// token gets a token with the default credentials.
func token(t *testing.T, s *Server) string {
	t.Helper()
	code, m := do(t, "POST", s.URL+"/v1/oauth/tokens", "", form, tokenRequest("client-1", "secret-1", "client_credentials"))
	if code != 200 {
		t.Fatalf("token: %d %v", code, m)
	}
	return m["access_token"].(string)
}

// wantError checks an IcebergErrorResponse.
func wantError(t *testing.T, what string, code int, m map[string]any, gotCode int, typ string) {
	t.Helper()
	e, _ := m["error"].(map[string]any)
	if gotCode != code || e == nil || e["type"] != typ || e["code"] != float64(code) || e["message"] == "" {
		t.Errorf("%s: %d %v, want %d with error type %s, code and message", what, gotCode, m, code, typ)
	}
}

func TestBearerTokenRequired(t *testing.T) {
	s := newServer(t)
	ns := s.URL + "/v1/" + s.Prefix + "/namespaces"
	for _, tc := range []struct{ method, url, token string }{
		{"GET", s.URL + "/v1/config", ""},
		{"GET", s.URL + "/v1/config", "forged"},
		{"GET", ns, ""},
		{"POST", ns, ""},
		{"HEAD", ns + "/callstats", ""},
		{"POST", ns + "/callstats/tables/calls", ""},
	} {
		code, m := do(t, tc.method, tc.url, tc.token, "application/json", `{}`)
		if tc.method == "HEAD" {
			if code != 401 {
				t.Errorf("%s %s: %d, want 401", tc.method, tc.url, code)
			}
			continue
		}
		wantError(t, tc.method+" "+tc.url, 401, m, code, "NotAuthorizedException")
	}
	if st := s.Stats(); st.Unauthorized != 6 {
		t.Errorf("%d requests refused, want 6", st.Unauthorized)
	}
}

func TestConfig(t *testing.T) {
	s := newServer(t)
	tok := token(t, s)
	for _, q := range []string{"", "?warehouse=callstats"} {
		code, m := do(t, "GET", s.URL+"/v1/config"+q, tok, "", "")
		over, _ := m["overrides"].(map[string]any)
		eps, _ := m["endpoints"].([]any)
		if code != 200 || over["prefix"] != s.Prefix || m["defaults"] == nil || !slices.Contains(eps, any("POST /v1/{prefix}/namespaces/{namespace}/tables/{table}")) {
			t.Errorf("config%s: %d %v", q, code, m)
		}
	}
	code, m := do(t, "GET", s.URL+"/v1/config?warehouse=other", tok, "", "")
	wantError(t, "config of an unknown warehouse", 400, m, code, "BadRequestException")
}

// client opens iceberg-go's REST catalog client on the server.
func client(t *testing.T, s *Server) *rest.Catalog {
	t.Helper()
	cat, err := rest.NewCatalog(context.Background(), "test", s.URL, rest.WithCredential("client-1:secret-1"), rest.WithWarehouseLocation("callstats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}

func TestNamespaces(t *testing.T) {
	s := newServer(t)
	cat := client(t, s)
	ctx := context.Background()
	ns := table.Identifier{"callstats"}
	if ok, err := cat.CheckNamespaceExists(ctx, ns); err != nil || ok {
		t.Fatalf("exists before create: %v %v", ok, err)
	}
	if err := cat.CreateNamespace(ctx, ns, iceberg.Properties{"owner": "etl"}); err != nil {
		t.Fatal(err)
	}
	if err := cat.CreateNamespace(ctx, ns, nil); !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		t.Errorf("create twice: %v, want already exists", err)
	}
	if ok, err := cat.CheckNamespaceExists(ctx, ns); err != nil || !ok {
		t.Errorf("exists after create: %v %v", ok, err)
	}
	if err := cat.CreateNamespace(ctx, table.Identifier{"callstats", "archive"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := cat.ListNamespaces(ctx, nil); err != nil || len(got) != 1 || got[0][0] != "callstats" {
		t.Errorf("top-level namespaces %v %v", got, err)
	}
	if got, err := cat.ListNamespaces(ctx, ns); err != nil || len(got) != 1 || !slices.Equal(got[0], table.Identifier{"callstats", "archive"}) {
		t.Errorf("namespaces under callstats %v %v", got, err)
	}
	sum, err := cat.UpdateNamespaceProperties(ctx, ns, []string{"owner", "absent"}, iceberg.Properties{"team": "data"})
	if err != nil || !slices.Equal(sum.Updated, []string{"team"}) || !slices.Equal(sum.Removed, []string{"owner"}) || !slices.Equal(sum.Missing, []string{"absent"}) {
		t.Errorf("update properties: %+v %v", sum, err)
	}
	props, err := cat.LoadNamespaceProperties(ctx, ns)
	if err != nil || props["team"] != "data" || props["owner"] != "" {
		t.Errorf("properties %v %v", props, err)
	}
	if _, err := cat.LoadNamespaceProperties(ctx, table.Identifier{"absent"}); !errors.Is(err, catalog.ErrNoSuchNamespace) {
		t.Errorf("load an absent namespace: %v", err)
	}
	if err := cat.DropNamespace(ctx, ns); !errors.Is(err, catalog.ErrNamespaceNotEmpty) {
		t.Errorf("drop a namespace holding another: %v", err)
	}
	tok := token(t, s)
	code, m := do(t, "POST", s.URL+"/v1/"+s.Prefix+"/namespaces/callstats/properties", tok, "application/json", `{"removals":["a"],"updates":{"a":"1"}}`)
	wantError(t, "a key both removed and updated", 422, m, code, "UnprocessableEntityException")
	code, m = do(t, "GET", s.URL+"/v1/"+s.Prefix+"/namespaces/absent", tok, "", "")
	wantError(t, "an absent namespace", 404, m, code, "NoSuchNamespaceException")
}

var schema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "call_id", Type: iceberg.PrimitiveTypes.String, Required: true},
	iceberg.NestedField{ID: 2, Name: "start", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
)

func TestTables(t *testing.T) {
	s := newServer(t)
	cat := client(t, s)
	ctx := context.Background()
	ns := table.Identifier{"callstats"}
	if err := cat.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	calls := table.Identifier{"callstats", "calls"}
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{2}, FieldID: 1000, Name: "start_day", Transform: iceberg.DayTransform{}})
	tb, err := cat.CreateTable(ctx, calls, schema, catalog.WithPartitionSpec(&spec), catalog.WithProperties(iceberg.Properties{"format-version": "2"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tb.MetadataLocation(), "file://"+s.WarehouseDir+"/callstats.db/calls/metadata/") {
		t.Errorf("metadata at %s, not in the warehouse %s", tb.MetadataLocation(), s.WarehouseDir)
	}
	if sp := tb.Spec(); sp.NumFields() != 1 || sp.Field(0).Name != "start_day" || tb.Schema().Field(0).Name != "call_id" {
		t.Errorf("spec %v, schema %v", tb.Spec(), tb.Schema())
	}
	if _, err := cat.CreateTable(ctx, calls, schema); !errors.Is(err, catalog.ErrTableAlreadyExists) {
		t.Errorf("create twice: %v, want already exists", err)
	}
	if _, err := cat.CreateTable(ctx, table.Identifier{"absent", "calls"}, schema); !errors.Is(err, catalog.ErrNoSuchNamespace) {
		t.Errorf("create in an absent namespace: %v", err)
	}
	if ok, err := cat.CheckTableExists(ctx, calls); err != nil || !ok {
		t.Errorf("exists: %v %v", ok, err)
	}
	if ok, err := cat.CheckTableExists(ctx, table.Identifier{"callstats", "absent"}); err != nil || ok {
		t.Errorf("absent exists: %v %v", ok, err)
	}
	loaded, err := cat.LoadTable(ctx, calls)
	if err != nil || loaded.Metadata().TableUUID() != tb.Metadata().TableUUID() {
		t.Fatalf("load: %v", err)
	}
	if _, err := cat.LoadTable(ctx, table.Identifier{"callstats", "absent"}); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("load an absent table: %v", err)
	}
	var names []string
	for id, err := range cat.ListTables(ctx, ns) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.Join(id, "."))
	}
	if !slices.Equal(names, []string{"callstats.calls"}) {
		t.Errorf("tables %v", names)
	}
	renamed := table.Identifier{"callstats", "calls_old"}
	if _, err := cat.RenameTable(ctx, calls, renamed); err != nil {
		t.Fatal(err)
	}
	if ok, _ := cat.CheckTableExists(ctx, calls); ok {
		t.Error("the table is still there under its old name")
	}
	if err := cat.DropTable(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	if err := cat.DropTable(ctx, renamed); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("drop twice: %v", err)
	}
	tok := token(t, s)
	code, m := do(t, "GET", s.URL+"/v1/"+s.Prefix+"/namespaces/callstats/tables/absent", tok, "", "")
	wantError(t, "an absent table", 404, m, code, "NoSuchTableException")
	code, m = do(t, "POST", s.URL+"/v1/"+s.Prefix+"/namespaces/callstats/tables", tok, "application/json", `{"name":"x","schema":`+mustJSON(t, schema)+`,"stage-create":true}`)
	wantError(t, "stage-create", 406, m, code, "UnsupportedOperationException")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCommitRequirements: a commit applies when its requirements hold; a
// stale assert-ref-snapshot-id or another table's uuid is 409
// CommitFailedException (table.ErrCommitFailed to iceberg-go) and changes
// nothing; an update that cannot apply is 400.
func TestCommitRequirements(t *testing.T) {
	s := newServer(t)
	cat := client(t, s)
	ctx := context.Background()
	if err := cat.CreateNamespace(ctx, table.Identifier{"callstats"}, nil); err != nil {
		t.Fatal(err)
	}
	id := table.Identifier{"callstats", "calls"}
	tb, err := cat.CreateTable(ctx, id, schema)
	if err != nil {
		t.Fatal(err)
	}
	// No snapshot yet: main must not exist.
	meta, loc, err := cat.CommitTable(ctx, id,
		[]table.Requirement{table.AssertTableUUID(tb.Metadata().TableUUID()), table.AssertRefSnapshotID(table.MainBranch, nil)},
		[]table.Update{table.NewSetPropertiesUpdate(iceberg.Properties{"a": "1"})})
	if err != nil || meta.Properties()["a"] != "1" || loc == tb.MetadataLocation() {
		t.Fatalf("commit: %v (properties %v, location %s)", err, meta.Properties(), loc)
	}
	stale := int64(42)
	_, _, err = cat.CommitTable(ctx, id,
		[]table.Requirement{table.AssertRefSnapshotID(table.MainBranch, &stale)},
		[]table.Update{table.NewSetPropertiesUpdate(iceberg.Properties{"a": "2"})})
	if !errors.Is(err, table.ErrCommitFailed) || !strings.Contains(err.Error(), "CommitFailedException") {
		t.Errorf("stale ref: %v, want CommitFailedException", err)
	}
	_, _, err = cat.CommitTable(ctx, id, nil, []table.Update{table.NewSetCurrentSchemaUpdate(99)})
	if !errors.Is(err, rest.ErrBadRequest) {
		t.Errorf("an update that cannot apply: %v, want 400", err)
	}
	tok := token(t, s)
	code, m := do(t, "POST", s.URL+"/v1/"+s.Prefix+"/namespaces/callstats/tables/calls", tok, "application/json",
		`{"requirements":[{"type":"assert-table-uuid","uuid":"00000000-0000-0000-0000-000000000001"}],"updates":[{"action":"set-properties","updates":{"a":"3"}}]}`)
	wantError(t, "another table's uuid", 409, m, code, "CommitFailedException")
	code, m = do(t, "POST", s.URL+"/v1/"+s.Prefix+"/namespaces/callstats/tables/absent", tok, "application/json", `{"requirements":[],"updates":[]}`)
	wantError(t, "commit to an absent table", 404, m, code, "NoSuchTableException")
	got, err := cat.LoadTable(ctx, id)
	if err != nil || got.Properties()["a"] != "1" {
		t.Errorf("after the refused commits: properties %v %v, want a=1", got.Properties(), err)
	}
	if st := s.Stats(); st.Commits != 1 || st.Conflicts != 2 {
		t.Errorf("stats %+v, want 1 commit and 2 conflicts", st)
	}
}
