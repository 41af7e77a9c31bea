package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// literalSecretKeys are keys that would put a secret in the file.
var literalSecretKeys = []string{"client_secret", "jwt", "password", "secret", "token"}

// decodeFile decodes data over c, which holds the defaults. Before the strict yaml.v3 decode (which
// refuses unknown keys), the document is walked against Config's yaml tags
// so that every unknown key, literal secret and mistyped value is reported
// at once as "<file>:<line>: <key>: <problem>".
func decodeFile(c *Config, name string, data []byte) error {
	if name == "" {
		name = "config"
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults and environment only
		}
		return syntaxError(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("%s:%d: a config file holds one YAML document, found another", name, extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return syntaxError(name, data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root.ShortTag() == "!!null" {
		return nil
	}
	ck := &fileChecker{name: name}
	ck.mapping(root, reflect.TypeFor[Config](), nil, "")
	if len(ck.errs) > 0 {
		return errors.Join(ck.errs...)
	}
	// Sections present in the file are enabled with their defaults before
	// the file's keys are decoded over them; again after, because yaml.v3
	// sets a section written as null ("teams:" alone) to nil, and such a
	// section must be enabled so its missing keys are reported rather than
	// the source silently disabled.
	rv := reflect.ValueOf(c).Elem()
	for _, idx := range ck.present {
		field(rv, idx)
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, idx := range ck.present {
		field(rv, idx)
	}
	return nil
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

type fileChecker struct {
	name    string
	errs    []error
	present [][]int // field indexes of sections present in the file
	visits  int     // mappings walked, bounded against alias bombs
}

// maxVisits bounds the mappings walked: nested merges of aliases can
// otherwise make a small file take exponential time.
const maxVisits = 10000

func (ck *fileChecker) errorf(n *yaml.Node, key, format string, args ...any) {
	ck.errs = append(ck.errs, fmt.Errorf("%s:%d: %s: %s", ck.name, n.Line, key, fmt.Sprintf(format, args...)))
}

// mapping checks the mapping node n that decodes into struct type t. When n
// is an alias, its problems are reported on the alias's line, where the value
// is used, not on the anchor's.
func (ck *fileChecker) mapping(n *yaml.Node, t reflect.Type, index []int, prefix string) {
	at := n
	n = deref(n)
	if ck.visits++; ck.visits > maxVisits {
		if ck.visits == maxVisits+1 {
			ck.errorf(at, "(top level)", "too many aliases and merge keys")
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		key := prefix
		if key == "" {
			key = "(top level)"
		}
		ck.errorf(at, key, "must be a mapping of keys to values")
		return
	}
	fields := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, raw := n.Content[i], n.Content[i+1]
		v := deref(raw)
		if k.ShortTag() == "!!merge" {
			ck.merge(raw, t, index, prefix)
			continue
		}
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		if line, dup := seen[k.Value]; dup {
			ck.errorf(k, path, "set twice (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		j := slices.IndexFunc(fields, func(f yamlField) bool { return f.name == k.Value })
		if j < 0 {
			ck.unknown(k, path, fields)
			continue
		}
		f := t.Field(fields[j].index)
		idx := append(slices.Clone(index), fields[j].index)
		if st, ok := sectionType(f.Type); ok {
			if f.Type.Kind() == reflect.Pointer {
				ck.present = append(ck.present, idx)
			}
			if v.ShortTag() != "!!null" {
				ck.mapping(raw, st, idx, path)
			}
			continue
		}
		if f.Type.Kind() == reflect.Slice {
			ck.list(k, v, f.Type, idx, path)
			continue
		}
		ck.leaf(k, v, f.Type, path)
	}
}

// list checks a list value: of sections (each checked as a mapping, named
// key[i]) or of single values.
func (ck *fileChecker) list(k, v *yaml.Node, t reflect.Type, index []int, path string) {
	if v.ShortTag() == "!!null" {
		return
	}
	if v.Kind != yaml.SequenceNode {
		ck.errorf(k, path, "must be a list")
		return
	}
	for i, raw := range v.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if st, ok := sectionType(t.Elem()); ok {
			ck.mapping(raw, st, nil, p)
			continue
		}
		ck.leaf(raw, deref(raw), t.Elem(), p)
	}
}

// merge checks the value of a "<<" merge key: a mapping or a list of them.
func (ck *fileChecker) merge(v *yaml.Node, t reflect.Type, index []int, prefix string) {
	if d := deref(v); d.Kind == yaml.SequenceNode {
		for _, m := range d.Content {
			ck.mapping(m, t, index, prefix)
		}
		return
	}
	ck.mapping(v, t, index, prefix)
}

// A yamlField is a field of a section struct that has a key in the file.
type yamlField struct {
	name  string
	index int
}

func yamlFields(t reflect.Type) []yamlField {
	var fields []yamlField
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields = append(fields, yamlField{name, i})
		}
	}
	return fields
}

// unknown reports a key the section does not have, with a helpful hint.
func (ck *fileChecker) unknown(k *yaml.Node, path string, fields []yamlField) {
	if slices.Contains(literalSecretKeys, k.Value) {
		hint := "the matching *_env or *_file key"
		for _, f := range fields {
			if f.name == k.Value+"_env" {
				hint = fmt.Sprintf("%s_env (the name of an environment variable) or %s_file (a file path)", k.Value, k.Value)
			}
		}
		ck.errorf(k, path, "secrets must not be written in the config file; say where the secret is with %s", hint)
		return
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	msg := "unknown key"
	if m := closest(k.Value, names); m != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", m)
	} else {
		msg += fmt.Sprintf(" (known here: %s)", strings.Join(names, ", "))
	}
	ck.errorf(k, path, "%s", msg)
}

// leaf checks that the value v fits the key's type, as yaml.v3 would decode it.
func (ck *fileChecker) leaf(k, v *yaml.Node, t reflect.Type, path string) {
	if v.ShortTag() == "!!null" {
		return // leaves the zero value: the default applies
	}
	if v.Kind != yaml.ScalarNode {
		ck.errorf(k, path, "must be a single value, not a list or mapping")
		return
	}
	switch {
	case t == durationType:
		if _, err := time.ParseDuration(v.Value); err != nil || v.ShortTag() != "!!str" {
			ck.errorf(k, path, "must be a duration like 24h or 90m, got %q", v.Value)
		}
	case t.Kind() == reflect.String:
	case t.Kind() == reflect.Int:
		if v.ShortTag() != "!!int" {
			ck.errorf(k, path, "must be an integer, got %q", v.Value)
		}
	case t.Kind() == reflect.Bool:
		if v.ShortTag() != "!!bool" {
			ck.errorf(k, path, "must be true or false, got %q", v.Value)
		}
	default:
		ck.errorf(k, path, "keys of type %s are not supported", t)
	}
}

// yamlSyntaxRE matches yaml.v3's syntax errors.
var yamlSyntaxRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// maxSyntaxScan bounds the lines syntaxError re-parses.
const maxSyntaxScan = 2000

// syntaxError reports the YAML syntax error err as "<file>:<line>: yaml:
// <problem>", with the line the problem is on. yaml.v3 reports the line
// where the enclosing construct starts (a tab on line 6 of a mapping that
// starts on line 1 is "line 1"), so the line is found again: it is the
// first line, from the one yaml.v3 names on, at which the file cut after
// that line fails with the same problem. When no such line is found the
// error is returned as yaml.v3 gave it.
func syntaxError(name string, data []byte, err error) error {
	m := yamlSyntaxRE.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	from, _ := strconv.Atoi(m[1])
	lines := bytes.SplitAfter(data, []byte("\n"))
	for n := max(from, 1); n <= len(lines) && n < from+maxSyntaxScan; n++ {
		perr := parseAll(bytes.Join(lines[:n], nil))
		if perr == nil {
			continue
		}
		if pm := yamlSyntaxRE.FindStringSubmatch(perr.Error()); pm != nil && pm[2] == m[2] {
			return fmt.Errorf("%s:%d: yaml: %s", name, n, m[2])
		}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// parseAll parses every document in data and returns the first error.
func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
