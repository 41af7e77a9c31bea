package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A setting is one leaf key of Config: a string, int, bool or duration.
type setting struct {
	path  string // dotted YAML path, "teams.tenant_id"
	env   string // "CALLSTATS_TEAMS_TENANT_ID"
	index []int  // field indexes from Config down to the leaf
}

// settings lists every leaf key of Config, found by walking its yaml tags, in
// field order.
func settings() []setting { return walkSettings(reflect.TypeFor[Config](), nil, "") }

func walkSettings(t reflect.Type, index []int, prefix string) []setting {
	var out []setting
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		idx := append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Slice {
			continue // lists are set in the file only
		}
		if st, ok := sectionType(f.Type); ok {
			out = append(out, walkSettings(st, idx, path)...)
			continue
		}
		out = append(out, setting{path: path, env: envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_")), index: idx})
	}
	return out
}

// yamlName is the key a field has in the file, "" when it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name) // as yaml.v3 does
	}
	return name
}

// sectionType reports whether t is a section (a struct or a pointer to one)
// and returns the struct type.
func sectionType(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, t.Kind() == reflect.Struct
}

// field returns the value at index under root, allocating nil sections
// with their defaults on the way (and at the end, when index names a
// section): setting a key enables its section.
func field(root reflect.Value, index []int) reflect.Value {
	v, def := root, reflect.ValueOf(template()).Elem()
	for _, i := range index {
		v, def = enable(v, def)
		v, def = v.Field(i), def.Field(i)
	}
	enable(v, def)
	return v
}

// enable allocates v, when it is a nil section, as a copy of its default
// def, and returns both dereferenced.
func enable(v, def reflect.Value) (reflect.Value, reflect.Value) {
	if v.Kind() != reflect.Pointer {
		return v, def
	}
	if v.IsNil() {
		v.Set(reflect.New(v.Type().Elem()))
		if !def.IsNil() {
			v.Elem().Set(def.Elem())
		}
	}
	if def.IsNil() {
		return v.Elem(), reflect.New(v.Type().Elem()).Elem()
	}
	return v.Elem(), def.Elem()
}

// lookup returns the leaf at index under root, and false when a section on
// the way is nil.
func lookup(root reflect.Value, index []int) (reflect.Value, bool) {
	v := root
	for _, i := range index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

var durationType = reflect.TypeFor[time.Duration]()

// setFromString parses s into the leaf v.
func setFromString(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("must be a duration like 24h or 90m, got %q", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return fmt.Errorf("must be an integer, got %q", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", s)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("keys of type %s cannot be set from the environment", v.Type())
	}
	return nil
}
