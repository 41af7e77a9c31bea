// Package restcatalogtest is a fake Apache Iceberg REST catalog, in the
// manner of net/http/httptest, for testing the Iceberg lake's rest catalog
// (catalog.go) without a catalog server.
//
// It serves the part of the REST catalog spec (open-api/rest-catalog-open-api.yaml)
// that iceberg-go's REST client uses: GET /v1/config (a warehouse by name,
// answered with a prefix override and the endpoints served), the OAuth2
// client-credentials token endpoint, namespaces, tables (create without
// stage-create, load, exists, list, drop, rename) and table commits. Every
// request but the token request needs a bearer token the server issued.
// Errors have the spec's shape and status codes.
//
// The catalog behind it is iceberg-go's SQL catalog on a SQLite file: the
// table metadata is written by iceberg-go as it would be by a SQL catalog,
// and the fake only translates HTTP to catalog calls. It checks a commit's
// requirements itself (409 CommitFailedException) and applies its updates
// through the catalog, one commit at a time.
package restcatalogtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"

	// The SQL catalog's SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// Options configures a Server. Zero fields take the defaults named.
type Options struct {
	// Dir holds the server's SQLite catalog (catalog.db) and its warehouse
	// (warehouse/), where tables are created. Required.
	Dir string
	// Warehouse is the name of the one warehouse served, which a client may
	// ask for in GET /v1/config (default "callstats").
	Warehouse string
	// ClientID and ClientSecret are the OAuth2 client credentials the token
	// endpoint accepts (defaults "client-1", "secret-1").
	ClientID, ClientSecret string
}

// Stats counts what the server has seen.
type Stats struct {
	TokensIssued int // access tokens issued
	Unauthorized int // 401 answers (bad client credentials, missing or unknown token)
	Commits      int // table commits applied
	Conflicts    int // commits answered 409 CommitFailedException
}

// Server is a running fake REST catalog.
type Server struct {
	// URL is the catalog's base URL (the client appends /v1/...).
	URL string
	// WarehouseDir is the local directory where the server creates tables.
	WarehouseDir string
	// Prefix is the path prefix the server sends in its config overrides.
	Prefix string

	opts Options
	srv  *httptest.Server
	db   *sql.DB
	cat  *sqlcat.Catalog

	commitMu sync.Mutex // one commit at a time: check the requirements, then apply

	mu           sync.Mutex
	tokens       map[string]bool
	stats        Stats
	beforeCommit func(table.Identifier)
}

var warehouseName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// New starts a server. Close it when done.
func New(opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("restcatalogtest: Options.Dir is not set")
	}
	if opts.Warehouse == "" {
		opts.Warehouse = "callstats"
	}
	if !warehouseName.MatchString(opts.Warehouse) {
		return nil, fmt.Errorf("restcatalogtest: warehouse name %q: use a-z, 0-9, _ and -", opts.Warehouse)
	}
	if opts.ClientID == "" {
		opts.ClientID = "client-1"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "secret-1"
	}
	wh, err := filepath.Abs(filepath.Join(opts.Dir, "warehouse"))
	if err != nil {
		return nil, fmt.Errorf("restcatalogtest: %w", err)
	}
	if err := os.MkdirAll(wh, 0o755); err != nil {
		return nil, fmt.Errorf("restcatalogtest: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(opts.Dir, "catalog.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("restcatalogtest: %w", err)
	}
	whURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(wh)}).String()
	cat, err := sqlcat.NewCatalog(opts.Warehouse, db, sqlcat.SQLite, iceberg.Properties{"warehouse": whURL})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("restcatalogtest: %w", err)
	}
	s := &Server{WarehouseDir: wh, Prefix: "catalogs/" + opts.Warehouse, opts: opts, db: db, cat: cat, tokens: map[string]bool{}}
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	return s, nil
}

// Close shuts the server down and closes its catalog.
func (s *Server) Close() {
	s.srv.Close()
	s.cat.Close()
	s.db.Close()
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// BeforeCommit sets a function called with the table's identifier at the
// start of every table commit, before its requirements are checked; tests
// use it to commit a concurrent change first. nil removes it.
func (s *Server) BeforeCommit(f func(table.Identifier)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeCommit = f
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// endpoints are the operations served, as GET /v1/config lists them.
var endpoints = []string{
	"GET /v1/{prefix}/namespaces",
	"POST /v1/{prefix}/namespaces",
	"GET /v1/{prefix}/namespaces/{namespace}",
	"HEAD /v1/{prefix}/namespaces/{namespace}",
	"DELETE /v1/{prefix}/namespaces/{namespace}",
	"POST /v1/{prefix}/namespaces/{namespace}/properties",
	"GET /v1/{prefix}/namespaces/{namespace}/tables",
	"POST /v1/{prefix}/namespaces/{namespace}/tables",
	"GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
	"POST /v1/{prefix}/tables/rename",
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth/tokens", s.token)
	mux.Handle("GET /v1/config", s.authed(s.config))
	p := "/v1/" + s.Prefix
	handlers := map[string]http.HandlerFunc{
		"GET /v1/{prefix}/namespaces":                               s.listNamespaces,
		"POST /v1/{prefix}/namespaces":                              s.createNamespace,
		"GET /v1/{prefix}/namespaces/{namespace}":                   s.loadNamespace,
		"HEAD /v1/{prefix}/namespaces/{namespace}":                  s.namespaceExists,
		"DELETE /v1/{prefix}/namespaces/{namespace}":                s.dropNamespace,
		"POST /v1/{prefix}/namespaces/{namespace}/properties":       s.updateNamespace,
		"GET /v1/{prefix}/namespaces/{namespace}/tables":            s.listTables,
		"POST /v1/{prefix}/namespaces/{namespace}/tables":           s.createTable,
		"GET /v1/{prefix}/namespaces/{namespace}/tables/{table}":    s.loadTable,
		"HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}":   s.tableExists,
		"POST /v1/{prefix}/namespaces/{namespace}/tables/{table}":   s.commitTable,
		"DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}": s.dropTable,
		"POST /v1/{prefix}/tables/rename":                           s.renameTable,
	}
	for _, e := range endpoints {
		method, path, _ := strings.Cut(e, " ")
		mux.Handle(method+" "+strings.Replace(path, "/v1/{prefix}", p, 1), s.authed(handlers[e]))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFoundException", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// authed answers 401 NotAuthorizedException unless the request carries a
// bearer token the server issued.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		ok = ok && s.tokens[tok]
		if !ok {
			s.stats.Unauthorized++
		}
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusUnauthorized, "NotAuthorizedException", "missing or unknown bearer token")
			return
		}
		h(w, r)
	})
}

// token is the OAuth2 token endpoint (client credentials grant only).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q: only client_credentials is served", g))
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.opts.ClientID || secret != s.opts.ClientSecret {
		s.count(func(st *Stats) { st.Unauthorized++ })
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = true
	s.stats.TokensIssued++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":      tok,
		"token_type":        "bearer",
		"expires_in":        3600,
		"issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
	})
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	if wh := r.URL.Query().Get("warehouse"); wh != "" && wh != s.opts.Warehouse {
		writeError(w, http.StatusBadRequest, "BadRequestException", fmt.Sprintf("no warehouse %q (this catalog serves %q)", wh, s.opts.Warehouse))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"defaults":  map[string]string{},
		"overrides": map[string]string{"prefix": s.Prefix},
		"endpoints": endpoints,
	})
}

// namespace decodes the {namespace} path parameter: its levels are joined
// by the unit separator 0x1F (%1F in the path).
func namespace(r *http.Request) table.Identifier {
	return strings.Split(r.PathValue("namespace"), "\x1f")
}

type tableIdent struct {
	Namespace []string `json:"namespace"`
	Name      string   `json:"name"`
}

func (t tableIdent) ident() table.Identifier {
	return append(slices.Clone(t.Namespace), t.Name)
}

func identOf(r *http.Request) table.Identifier {
	return append(namespace(r), r.PathValue("table"))
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var parent table.Identifier
	if p := r.URL.Query().Get("parent"); p != "" {
		parent = strings.Split(p, "\x1f")
	}
	children, err := s.children(r.Context(), parent)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"namespaces": children})
}

// children lists the namespaces one level below parent (the top level
// for none), as the spec's listNamespaces does; the SQL catalog lists every
// namespace below, and parent itself.
func (s *Server) children(ctx context.Context, parent table.Identifier) ([]table.Identifier, error) {
	nss, err := s.cat.ListNamespaces(ctx, parent)
	if err != nil {
		return nil, err
	}
	out := []table.Identifier{}
	for _, ns := range nss {
		if len(ns) <= len(parent) || !slices.Equal(ns[:len(parent)], parent) {
			continue
		}
		child := slices.Clone(ns[:len(parent)+1])
		if !slices.ContainsFunc(out, func(o table.Identifier) bool { return slices.Equal(o, child) }) {
			out = append(out, child)
		}
	}
	return out, nil
}

func (s *Server) createNamespace(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Namespace  []string           `json:"namespace"`
		Properties iceberg.Properties `json:"properties"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if len(req.Namespace) == 0 {
		writeError(w, http.StatusBadRequest, "BadRequestException", "namespace is empty")
		return
	}
	if err := s.cat.CreateNamespace(r.Context(), req.Namespace, req.Properties); err != nil {
		writeCatalogError(w, err)
		return
	}
	props, err := s.cat.LoadNamespaceProperties(r.Context(), req.Namespace)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"namespace": req.Namespace, "properties": props})
}

func (s *Server) loadNamespace(w http.ResponseWriter, r *http.Request) {
	ns := namespace(r)
	props, err := s.cat.LoadNamespaceProperties(r.Context(), ns)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"namespace": ns, "properties": props})
}

func (s *Server) namespaceExists(w http.ResponseWriter, r *http.Request) {
	ok, err := s.cat.CheckNamespaceExists(r.Context(), namespace(r))
	switch {
	case err != nil:
		writeCatalogError(w, err)
	case !ok:
		writeCatalogError(w, catalog.ErrNoSuchNamespace)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) dropNamespace(w http.ResponseWriter, r *http.Request) {
	ns := namespace(r)
	children, err := s.children(r.Context(), ns)
	if err == nil && len(children) > 0 {
		err = fmt.Errorf("%w: namespace %s holds namespace %s", catalog.ErrNamespaceNotEmpty, strings.Join(ns, "."), strings.Join(children[0], "."))
	}
	if err == nil {
		err = s.cat.DropNamespace(r.Context(), ns)
	}
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) updateNamespace(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Removals []string           `json:"removals"`
		Updates  iceberg.Properties `json:"updates"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	for _, k := range req.Removals {
		if _, ok := req.Updates[k]; ok {
			writeError(w, http.StatusUnprocessableEntity, "UnprocessableEntityException", fmt.Sprintf("property %q is both removed and updated", k))
			return
		}
	}
	sum, err := s.cat.UpdateNamespaceProperties(r.Context(), namespace(r), req.Removals, req.Updates)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{
		"updated": nonNil(sum.Updated), "removed": nonNil(sum.Removed), "missing": nonNil(sum.Missing),
	})
}

func (s *Server) listTables(w http.ResponseWriter, r *http.Request) {
	out := []tableIdent{}
	for id, err := range s.cat.ListTables(r.Context(), namespace(r)) {
		if err != nil {
			writeCatalogError(w, err)
			return
		}
		out = append(out, tableIdent{Namespace: catalog.NamespaceFromIdent(id), Name: catalog.TableNameFromIdent(id)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifiers": out})
}

// loadTableResult is the spec's LoadTableResult.
type loadTableResult struct {
	MetadataLocation string             `json:"metadata-location"`
	Metadata         table.Metadata     `json:"metadata"`
	Config           iceberg.Properties `json:"config"`
}

func tableResult(t *table.Table) loadTableResult {
	return loadTableResult{MetadataLocation: t.MetadataLocation(), Metadata: t.Metadata(), Config: iceberg.Properties{}}
}

func (s *Server) createTable(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name          string                        `json:"name"`
		Location      string                        `json:"location"`
		Schema        *iceberg.Schema               `json:"schema"`
		PartitionSpec *iceberg.UnboundPartitionSpec `json:"partition-spec"`
		WriteOrder    *table.UnboundSortOrder       `json:"write-order"`
		StageCreate   bool                          `json:"stage-create"`
		Properties    iceberg.Properties            `json:"properties"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	switch {
	case req.Name == "" || req.Schema == nil:
		writeError(w, http.StatusBadRequest, "BadRequestException", "a table needs a name and a schema")
		return
	case req.StageCreate:
		writeError(w, http.StatusNotAcceptable, "UnsupportedOperationException", "stage-create is not served by this catalog")
		return
	}
	var opts []catalog.CreateTableOpt
	if req.Location != "" {
		opts = append(opts, catalog.WithLocation(req.Location))
	}
	if req.PartitionSpec != nil {
		opts = append(opts, catalog.WithPartitionSpec(&req.PartitionSpec.PartitionSpec))
	}
	if req.WriteOrder != nil {
		opts = append(opts, catalog.WithSortOrder(req.WriteOrder.SortOrder))
	}
	if req.Properties != nil {
		opts = append(opts, catalog.WithProperties(req.Properties))
	}
	t, err := s.cat.CreateTable(r.Context(), append(namespace(r), req.Name), req.Schema, opts...)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tableResult(t))
}

func (s *Server) loadTable(w http.ResponseWriter, r *http.Request) {
	t, err := s.cat.LoadTable(r.Context(), identOf(r))
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tableResult(t))
}

func (s *Server) tableExists(w http.ResponseWriter, r *http.Request) {
	ok, err := s.cat.CheckTableExists(r.Context(), identOf(r))
	switch {
	case err != nil:
		writeCatalogError(w, err)
	case !ok:
		writeCatalogError(w, catalog.ErrNoSuchTable)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) dropTable(w http.ResponseWriter, r *http.Request) {
	var err error
	if r.URL.Query().Get("purgeRequested") == "true" {
		err = s.cat.PurgeTable(r.Context(), identOf(r))
	} else {
		err = s.cat.DropTable(r.Context(), identOf(r))
	}
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) renameTable(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Source      tableIdent `json:"source"`
		Destination tableIdent `json:"destination"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if _, err := s.cat.RenameTable(r.Context(), req.Source.ident(), req.Destination.ident()); err != nil {
		writeCatalogError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// commitTable applies a CommitTableRequest: 409 CommitFailedException when
// a requirement does not hold, 400 when an update cannot apply.
func (s *Server) commitTable(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Requirements table.Requirements `json:"requirements"`
		Updates      table.Updates      `json:"updates"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id := identOf(r)
	s.mu.Lock()
	hook := s.beforeCommit
	s.mu.Unlock()
	if hook != nil {
		hook(id)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	cur, err := s.cat.LoadTable(r.Context(), id)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	for _, q := range req.Requirements {
		if err := q.Validate(cur.Metadata()); err != nil {
			s.count(func(st *Stats) { st.Conflicts++ })
			writeError(w, http.StatusConflict, "CommitFailedException", fmt.Sprintf("table %s: %s: %v", strings.Join(id, "."), q.GetType(), err))
			return
		}
	}
	if _, err := table.UpdateTableMetadata(cur.Metadata(), req.Updates, cur.MetadataLocation()); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", fmt.Sprintf("table %s: %v", strings.Join(id, "."), err))
		return
	}
	meta, loc, err := s.cat.CommitTable(r.Context(), id, req.Requirements, req.Updates)
	if err != nil {
		if errors.Is(err, table.ErrCommitFailed) {
			s.count(func(st *Stats) { st.Conflicts++ })
		}
		writeCatalogError(w, err)
		return
	}
	s.count(func(st *Stats) { st.Commits++ })
	writeJSON(w, http.StatusOK, map[string]any{"metadata-location": loc, "metadata": meta})
}

// writeCatalogError answers with the status and error type the spec gives
// the catalog's error.
func writeCatalogError(w http.ResponseWriter, err error) {
	code, typ := http.StatusInternalServerError, "ServerErrorException"
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		code, typ = http.StatusNotFound, "NoSuchTableException"
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		code, typ = http.StatusNotFound, "NoSuchNamespaceException"
	case errors.Is(err, catalog.ErrTableAlreadyExists), errors.Is(err, catalog.ErrNamespaceAlreadyExists):
		code, typ = http.StatusConflict, "AlreadyExistsException"
	case errors.Is(err, catalog.ErrNamespaceNotEmpty):
		code, typ = http.StatusConflict, "NamespaceNotEmptyException"
	case errors.Is(err, table.ErrCommitFailed):
		code, typ = http.StatusConflict, "CommitFailedException"
	case errors.Is(err, catalog.ErrInvalidIdentifier):
		code, typ = http.StatusBadRequest, "BadRequestException"
	}
	writeError(w, code, typ, err.Error())
}

// writeError writes the spec's IcebergErrorResponse.
func writeError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code}})
}

// writeOAuthError writes the spec's OAuthError (RFC 6749 section 5.2).
func writeOAuthError(w http.ResponseWriter, code int, errCode, desc string) {
	writeJSON(w, code, map[string]string{"error": errCode, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]any{"error": map[string]any{"message": err.Error(), "type": "ServerErrorException", "code": code}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// readJSON decodes the request body, answering 400 BadRequestException if it
// is not the JSON expected.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", "malformed request body: "+err.Error())
		return false
	}
	return true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
