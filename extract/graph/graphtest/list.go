package graphtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxLogWindow is the longest window getPstnCalls and getDirectRoutingCalls
// accept (Graph: "cannot be more than a date range of 90 days").
const maxLogWindow = 90 * 24 * time.Hour

// FailListAfter makes the list (GET callRecords) answer status with a Graph
// error body once it has served pages more pages, on every request until it
// is called again; status 0 turns it off. A client walking the list then gets
// its first pages and fails part-way, after its retries run out.
func (s *Server) FailListAfter(pages int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listFail = failAfter{on: status != 0, pages: pages, status: status}
}

// FailLogsAfter is FailListAfter for the pages of getPstnCalls and
// getDirectRoutingCalls (counted together).
func (s *Server) FailLogsAfter(pages int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logFail = failAfter{on: status != 0, pages: pages, status: status}
}

// PutPstn adds or replaces (by id) rows of the PSTN call log, each a
// pstnCallLogRow as Graph shapes it. A row needs a string id and a
// startDateTime in RFC 3339; getPstnCalls serves the rows whose
// startDateTime is in its window, both ends inclusive. Nothing is stored if
// any row is refused.
func (s *Server) PutPstn(raw ...[]byte) error {
	return s.putRows(s.pstnRows, "PutPstn", raw)
}

// PutDirectRouting is PutPstn for directRoutingLogRow rows, which
// getDirectRoutingCalls serves with the window's end exclusive.
func (s *Server) PutDirectRouting(raw ...[]byte) error {
	return s.putRows(s.drRows, "PutDirectRouting", raw)
}

// failAfter is a scripted failure: after pages more pages, answer status.
type failAfter struct {
	on            bool
	pages, status int
}

// take returns the status to fail this request with, or 0 to serve it. The
// caller holds s.mu.
func (f *failAfter) take() int {
	switch {
	case !f.on:
		return 0
	case f.pages > 0:
		f.pages--
		return 0
	}
	return f.status
}

// failScripted answers a scripted failure of the list or the logs, and
// reports whether it did.
func (s *Server) failScripted(w http.ResponseWriter, r *http.Request, f *failAfter) bool {
	s.mu.Lock()
	status := f.take()
	if status != 0 {
		s.stats.Failed++
	}
	s.mu.Unlock()
	if status == 0 {
		return false
	}
	s.graphError(w, r, status, errorCode(status), "The service is temporarily unable to answer. Retry later.")
	return true
}

// logRow is a stored row of a call log.
type logRow struct {
	id    string
	start time.Time
	raw   json.RawMessage // compacted
}

func (s *Server) putRows(m map[string]logRow, op string, raws [][]byte) error {
	rows := make([]logRow, 0, len(raws))
	for i, b := range raws {
		var head struct {
			ID    *string `json:"id"`
			Start *string `json:"startDateTime"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return fmt.Errorf("graphtest: %s: row %d: %w", op, i, err)
		}
		if head.ID == nil || *head.ID == "" {
			return fmt.Errorf("graphtest: %s: row %d: no id", op, i)
		}
		if head.Start == nil {
			return fmt.Errorf("graphtest: %s: row %s: no startDateTime", op, *head.ID)
		}
		start, err := time.Parse(time.RFC3339Nano, *head.Start)
		if err != nil {
			return fmt.Errorf("graphtest: %s: row %s: startDateTime: %w", op, *head.ID, err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			return fmt.Errorf("graphtest: %s: row %s: %w", op, *head.ID, err)
		}
		rows = append(rows, logRow{id: *head.ID, start: start, raw: c.Bytes()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		m[strings.ToLower(r.id)] = r
	}
	return nil
}

// ---------------------------------------------------------------------------
// The list: GET callRecords[?$filter=...][&$skiptoken=...]

// listFields are the properties of a listed call record, in Graph's order.
var listFields = []string{"id", "version", "type", "modalities", "lastModifiedDateTime",
	"startDateTime", "endDateTime", "joinWebUrl", "organizer_v2"}

// listEntry is a record as the list sees it.
type listEntry struct {
	id    string
	start time.Time
	rec   *record
}

// hasParticipant reports whether a participants_v2 entry has the id.
func (e *listEntry) hasParticipant(id string) bool {
	for _, p := range e.rec.participants {
		var v struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(p, &v) == nil && strings.EqualFold(v.ID, id) {
			return true
		}
	}
	return false
}

// listEntries returns the records with a valid startDateTime, sorted by it
// (then by id).
func (s *Server) listEntries() []listEntry {
	s.mu.Lock()
	out := make([]listEntry, 0, len(s.records))
	for _, rec := range s.records {
		out = append(out, listEntry{id: rec.id, rec: rec})
	}
	s.mu.Unlock()
	kept := out[:0]
	for _, e := range out {
		for _, f := range e.rec.fields {
			if f.name != "startDateTime" {
				continue
			}
			var v string
			if json.Unmarshal(f.value, &v) != nil {
				break
			}
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				e.start = t
				kept = append(kept, e)
			}
			break
		}
	}
	slices.SortFunc(kept, func(a, b listEntry) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.id), strings.ToLower(b.id))
	})
	return kept
}

// serveList is GET callRecords with an optional $filter, in pages of
// ListPageSize sorted by startDateTime, continued by an opaque $skiptoken
// that marks the last item served (so records put during a walk do not shift
// the pages).
func (s *Server) serveList(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The query string is malformed.")
		return
	}
	for k, v := range q {
		if k != "$filter" && k != "$skiptoken" {
			s.graphError(w, r, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Query option '%s' is not supported.", k))
			return
		}
		if len(v) > 1 {
			s.graphError(w, r, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Query option '%s' was specified more than once, but it must be specified at most once.", k))
			return
		}
	}
	match := func(*listEntry) bool { return true }
	_, hasFilter := q["$filter"]
	filter := q.Get("$filter")
	if hasFilter {
		if match, err = parseFilter(filter); err != nil {
			s.graphError(w, r, http.StatusBadRequest, "BadRequest", "Unsupported filter: "+err.Error())
			return
		}
	}
	after, ok := parseListToken(q.Get("$skiptoken"))
	if !ok {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The $skiptoken is not valid.")
		return
	}
	if s.failScripted(w, r, &s.listFail) {
		return
	}

	var page []listEntry
	more := false
	for _, e := range s.listEntries() {
		if after != nil && !after.before(&e) || !match(&e) {
			continue
		}
		if len(page) == s.opts.ListPageSize {
			more = true
			break
		}
		page = append(page, e)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	writeField(&b, "@odata.context", jsonString(s.URL+"/v1.0/$metadata#communications/callRecords"))
	if more {
		last := page[len(page)-1]
		link := s.URL + "/v1.0/communications/callRecords?"
		if hasFilter {
			link += "$filter=" + url.QueryEscape(filter) + "&"
		}
		writeField(&b, "@odata.nextLink", jsonString(link+"$skiptoken="+listToken(last.start, last.id)))
	}
	b.WriteString(`,"value":[`)
	for i, e := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		item := bytes.NewBuffer([]byte{'{'})
		for _, name := range listFields {
			for _, f := range e.rec.fields {
				if f.name == name {
					writeField(item, f.name, f.value)
					break
				}
			}
		}
		item.WriteByte('}')
		b.Write(item.Bytes())
	}
	b.WriteString("]}")
	writeRaw(w, r, b.Bytes())
}

// listPos is the last item a list page served.
type listPos struct {
	start time.Time
	id    string // lower case
}

// before reports whether p sorts before e, i.e. e is still to be served.
func (p *listPos) before(e *listEntry) bool {
	if c := p.start.Compare(e.start); c != 0 {
		return c < 0
	}
	return p.id < strings.ToLower(e.id)
}

func listToken(start time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("callRecords|" + start.UTC().Format(time.RFC3339Nano) + "|" + strings.ToLower(id)))
}

// parseListToken returns the position a skip token marks (nil: the first page).
func parseListToken(tok string) (*listPos, bool) {
	if tok == "" {
		return nil, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || parts[0] != "callRecords" || parts[2] == "" {
		return nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return nil, false
	}
	return &listPos{start: t, id: parts[2]}, true
}

// ---------------------------------------------------------------------------
// $filter on the list: what Graph documents for callRecords, and nothing else.
//
//	filter := term ("and" term)*
//	term   := "(" filter ")"
//	        | "startDateTime" ("ge" | "gt" | "le" | "lt") DateTimeOffset
//	        | "participants_v2/any(" v ":" v "/id eq '" id "')"

type filterToken struct {
	kind byte // 'w' a word, 'q' a quoted string, or the punctuation ( ) : ,
	text string
}

func tokenizeFilter(s string) ([]filterToken, error) {
	var toks []filterToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ':' || c == ',':
			toks = append(toks, filterToken{kind: c, text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, errors.New("unterminated string literal")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, filterToken{kind: 'q', text: b.String()})
			i = j + 1
		default:
			// A word; one that starts with a digit is a literal and may hold
			// colons (2026-11-12T00:00:00Z).
			literal := c >= '0' && c <= '9'
			j := i
			for j < len(s) && !strings.ContainsRune(" \t()',", rune(s[j])) && (s[j] != ':' || literal) {
				j++
			}
			toks = append(toks, filterToken{kind: 'w', text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

type filterParser struct {
	toks []filterToken
	pos  int
}

func (p *filterParser) next() filterToken {
	if p.pos >= len(p.toks) {
		return filterToken{}
	}
	p.pos++
	return p.toks[p.pos-1]
}

func (p *filterParser) peek() filterToken {
	if p.pos >= len(p.toks) {
		return filterToken{}
	}
	return p.toks[p.pos]
}

// parseFilter returns the predicate of a $filter, or why it is not supported.
func parseFilter(s string) (func(*listEntry) bool, error) {
	toks, err := tokenizeFilter(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("the filter is empty")
	}
	p := &filterParser{toks: toks}
	pred, err := p.conjunction()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		if t.text == "or" || t.text == "not" {
			return nil, fmt.Errorf("operator '%s' is not supported; terms can only be combined with 'and'", t.text)
		}
		return nil, fmt.Errorf("unexpected '%s'", t.text)
	}
	return pred, nil
}

func (p *filterParser) conjunction() (func(*listEntry) bool, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == 'w' && t.text == "and"; t = p.peek() {
		p.next()
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(e *listEntry) bool { return l(e) && right(e) }
	}
	return left, nil
}

func (p *filterParser) term() (func(*listEntry) bool, error) {
	t := p.next()
	switch {
	case t.kind == '(':
		pred, err := p.conjunction()
		if err != nil {
			return nil, err
		}
		if p.next().kind != ')' {
			return nil, errors.New("missing ')'")
		}
		return pred, nil
	case t.kind == 'w' && t.text == "startDateTime":
		op, lit := p.next(), p.next()
		if op.kind != 'w' || lit.kind != 'w' {
			return nil, errors.New("startDateTime must be compared with a DateTimeOffset, e.g. startDateTime ge 2026-11-12T00:00:00Z")
		}
		at, err := time.Parse(time.RFC3339Nano, lit.text)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not a DateTimeOffset", lit.text)
		}
		switch op.text {
		case "ge":
			return func(e *listEntry) bool { return !e.start.Before(at) }, nil
		case "gt":
			return func(e *listEntry) bool { return e.start.After(at) }, nil
		case "le":
			return func(e *listEntry) bool { return !e.start.After(at) }, nil
		case "lt":
			return func(e *listEntry) bool { return e.start.Before(at) }, nil
		}
		return nil, fmt.Errorf("operator '%s' is not supported on startDateTime (only ge, gt, le, lt)", op.text)
	case t.kind == 'w' && t.text == "participants_v2/any":
		// (v:v/id eq 'id')
		open, v, colon, prop, eq, id, closing := p.next(), p.next(), p.next(), p.next(), p.next(), p.next(), p.next()
		if open.kind != '(' || v.kind != 'w' || colon.kind != ':' || prop.kind != 'w' || prop.text != v.text+"/id" ||
			eq.kind != 'w' || eq.text != "eq" || id.kind != 'q' || closing.kind != ')' {
			return nil, errors.New("participants_v2 can only be filtered as participants_v2/any(p:p/id eq '<id>')")
		}
		return func(e *listEntry) bool { return e.hasParticipant(id.text) }, nil
	case t.kind == 0:
		return nil, errors.New("unexpected end of the filter")
	}
	return nil, fmt.Errorf("filtering on '%s' is not supported (only startDateTime and participants_v2/any(p:p/id eq '<id>'))", t.text)
}

// ---------------------------------------------------------------------------
// The call log functions: GET callRecords/getPstnCalls(fromDateTime=…,toDateTime=…)[?$skip=n]

// logKind is one of the two call log functions.
type logKind struct {
	rowType   string // the OData type of its rows
	inclusive bool   // toDateTime is inclusive
	pstn      bool   // PSTN rows, else Direct Routing rows
}

var (
	pstnLog = logKind{rowType: "pstnCallLogRow", inclusive: true, pstn: true}
	drLog   = logKind{rowType: "directRoutingLogRow"}
)

// serveRecordOrFunction answers callRecords/{id}: a function call if the
// segment has parentheses, else a record.
func (s *Server) serveRecordOrFunction(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("id")
	name, args, isCall := strings.Cut(seg, "(")
	if !isCall {
		s.serveRecord(w, r)
		return
	}
	switch strings.TrimPrefix(name, "microsoft.graph.callRecords.") {
	case "getPstnCalls":
		s.serveCallLog(w, r, pstnLog, args)
	case "getDirectRoutingCalls":
		s.serveCallLog(w, r, drLog, args)
	default:
		s.serveUnknown(w, r)
	}
}

// serveCallLog answers a call log function: the rows whose startDateTime is
// in the window, sorted by it, LogPageSize a page with @odata.count (the rows
// in this page) and an @odata.nextLink that adds $skip.
func (s *Server) serveCallLog(w http.ResponseWriter, r *http.Request, kind logKind, args string) {
	args, ok := strings.CutSuffix(args, ")")
	if !ok {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "Bad Request - Error in query syntax.")
		return
	}
	from, to, err := parseLogArgs(args)
	if err != nil {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	switch {
	case to.Before(from):
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "fromDateTime must not be later than toDateTime.")
		return
	case to.Sub(from) > maxLogWindow:
		s.graphError(w, r, http.StatusBadRequest, "BadRequest",
			"The fromDateTime and toDateTime values cannot be more than a date range of 90 days.")
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The query string is malformed.")
		return
	}
	skip := 0
	for k, v := range q {
		if k != "$skip" || len(v) > 1 {
			s.graphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Query option '%s' is not supported.", k))
			return
		}
		if skip, err = strconv.Atoi(v[0]); err != nil || skip < 0 {
			s.graphError(w, r, http.StatusBadRequest, "BadRequest", "The $skip value must be a non-negative integer.")
			return
		}
	}
	if s.failScripted(w, r, &s.logFail) {
		return
	}

	s.mu.Lock()
	src := s.drRows
	if kind.pstn {
		src = s.pstnRows
	}
	var rows []logRow
	for _, row := range src {
		if row.start.Before(from) || row.start.After(to) || !kind.inclusive && row.start.Equal(to) {
			continue
		}
		rows = append(rows, row)
	}
	s.mu.Unlock()
	slices.SortFunc(rows, func(a, b logRow) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.id), strings.ToLower(b.id))
	})
	page := rows[min(skip, len(rows)):min(skip+s.opts.LogPageSize, len(rows))]

	var b bytes.Buffer
	b.WriteByte('{')
	writeField(&b, "@odata.context", jsonString(s.URL+"/v1.0/$metadata#Collection(microsoft.graph.callRecords."+kind.rowType+")"))
	writeField(&b, "@odata.count", []byte(strconv.Itoa(len(page))))
	b.WriteString(`,"value":[`)
	for i, row := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(row.raw)
	}
	b.WriteByte(']')
	if next := skip + s.opts.LogPageSize; next < len(rows) {
		p := r.URL.EscapedPath()
		link := s.URL + "/v1.0/communications/callRecords/" + p[strings.LastIndexByte(p, '/')+1:] + "?$skip=" + strconv.Itoa(next)
		writeField(&b, "@odata.nextLink", jsonString(link))
	}
	b.WriteByte('}')
	writeRaw(w, r, b.Bytes())
}

// parseLogArgs reads fromDateTime=…,toDateTime=…: DateTimeOffset literals
// (2026-11-12T00:00:00Z) or dates (2026-11-12, as midnight UTC), as Graph's
// documentation writes them.
func parseLogArgs(args string) (from, to time.Time, err error) {
	seen := map[string]bool{}
	for a := range strings.SplitSeq(args, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(a), "=")
		if !ok || k != "fromDateTime" && k != "toDateTime" || seen[k] {
			return from, to, fmt.Errorf("The function parameters must be fromDateTime and toDateTime, once each: '%s'.", args)
		}
		seen[k] = true
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return from, to, fmt.Errorf("The parameter '%s' has an invalid value '%s': not a DateTimeOffset.", k, v)
			}
		}
		if k == "fromDateTime" {
			from = t
		} else {
			to = t
		}
	}
	if !seen["fromDateTime"] || !seen["toDateTime"] {
		return from, to, fmt.Errorf("The function parameters must be fromDateTime and toDateTime, once each: '%s'.", args)
	}
	return from, to, nil
}
