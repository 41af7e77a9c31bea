package graph

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	// goccy/go-json decodes call records about 1.4x faster than encoding/json
	// (bench/pipeline), with the same semantics; arrow-go already depends on it.
	json "github.com/goccy/go-json"
)

// DecodeRecord decodes one call record (as returned by
// callRecords/{id}?$expand=sessions($expand=segments)) and checks that it has
// what every later step relies on: an id and a start time.
func DecodeRecord(b []byte) (*CallRecord, error) {
	var r CallRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding call record: %w", err)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *CallRecord) validate() error {
	if r.ID == "" {
		return fmt.Errorf("decoding call record: no id")
	}
	if r.StartDateTime.IsZero() {
		return fmt.Errorf("decoding call record %s: no startDateTime", r.ID)
	}
	return nil
}

// decodeIdentity decodes an identity from b, a JSON object that has passed
// json.Valid, as json.Unmarshal would (names matched regardless of case, a
// name given twice counts as its last value) without copying b first.
func decodeIdentity(b []byte, id *Identity) error {
	return eachMember(b, func(key, raw []byte) error {
		var f **string
		switch {
		case bytes.EqualFold(key, []byte("id")):
			f = &id.ID
		case bytes.EqualFold(key, []byte("displayName")):
			f = &id.DisplayName
		case bytes.EqualFold(key, []byte("tenantId")):
			f = &id.TenantID
		case bytes.EqualFold(key, []byte("userPrincipalName")):
			f = &id.UserPrincipalName
		default:
			return nil
		}
		if bytes.Equal(raw, []byte("null")) {
			*f = nil
			return nil
		}
		if len(raw) < 2 || raw[0] != '"' {
			return fmt.Errorf("identity %s: %.20q is not a string", key, raw)
		}
		v, err := unquote(raw)
		if err != nil {
			return err
		}
		*f = &v
		return nil
	})
}

// unquote returns the string a JSON string literal stands for.
func unquote(raw []byte) (string, error) {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

var errMalformed = errors.New("malformed object")

// eachMember calls fn with the name (unescaped) and the raw value of each
// member of the JSON object b, in order. b must have passed json.Valid; what
// else it is, eachMember reports as an error rather than reading past it.
func eachMember(b []byte, fn func(key, raw []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errMalformed
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) && b[i] == '"' {
		end := stringEnd(b, i)
		if end > len(b) {
			return errMalformed
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			k, err := unquote(b[i:end])
			if err != nil {
				return err
			}
			key = []byte(k)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errMalformed
		}
		i = skipSpace(b, i+1)
		vend := valueEnd(b, i)
		if vend <= i || vend > len(b) {
			return errMalformed
		}
		if err := fn(key, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return errMalformed
		}
		switch b[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(b, i+1)
		default:
			return errMalformed
		}
	}
	return errMalformed
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string literal starting at
// b[i] (a quote), or past len(b) when it is not closed.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b) + 1
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b) + 1
	}
	j := i
	for j < len(b) && strings.IndexByte(",}] \t\r\n", b[j]) < 0 {
		j++
	}
	return j
}
