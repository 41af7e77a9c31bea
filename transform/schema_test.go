package transform

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"callstats/internal/atomicfile"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := atomicfile.WriteFile(path, got); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update to accept):\n%s", path, lineDiff(want, got))
	}
}

// lineDiff lists the first lines that differ.
func lineDiff(want, got []byte) string {
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(w), len(g)) && n < 5; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
			n++
		}
	}
	return b.String()
}

// renderSchemas writes every table's columns, one per line: name, Arrow type, nullability.
func renderSchemas() []byte {
	var b bytes.Buffer
	for _, tb := range AllTables {
		fmt.Fprintf(&b, "%s\n", tb)
		for _, f := range Schema(tb).Fields() {
			null := "nullable"
			if !f.Nullable {
				null = "not null"
			}
			fmt.Fprintf(&b, "  %-36s %-28s %s\n", f.Name, f.Type, null)
		}
	}
	return b.Bytes()
}

func TestSchemaGolden(t *testing.T) {
	golden(t, "schema.golden", renderSchemas())
}

// TestSchemaContract checks the columns DESIGN.md promises every consumer,
// with their types, and the lake-wide conventions.
func TestSchemaContract(t *testing.T) {
	ts := "timestamp[us, tz=UTC]"
	list := "list<item: utf8, nullable>"
	want := map[Table]map[string]string{
		Calls: {
			"call_id": "utf8", "source": "utf8", "call_type": "utf8", "modalities": list,
			"start_time": ts, "end_time": ts, "duration_s": "float64", "organizer_id": "utf8",
			"organizer_name": "utf8", "participant_count": "int32", "version": "int64",
			"last_modified": ts, "ingested_at": ts,
			"telephony_session_id": "utf8", "session_id": "utf8", "direction": "utf8",
			"result": "utf8", "caller_status": "utf8", "callee_status": "utf8",
		},
		Participants: {
			"call_id": "utf8", "participant_id": "utf8", "display_name": "utf8", "tenant_id": "utf8",
			"user_principal_name": "utf8", "kind": "utf8",
		},
		Sessions: {
			"call_id": "utf8", "session_id": "utf8", "session_seq": "int32", "start_time": ts, "end_time": ts,
			"caller_id": "utf8", "callee_id": "utf8", "caller_platform": "utf8", "caller_product_family": "utf8",
			"callee_platform": "utf8", "callee_product_family": "utf8", "caller_feedback_rating": "utf8",
			"callee_feedback_rating": "utf8", "failure_stage": "utf8", "failure_reason": "utf8",
		},
		Streams: {
			"call_id": "utf8", "session_id": "utf8", "session_seq": "int32", "segment_id": "utf8",
			"media_label": "utf8", "stream_id": "utf8", "stream_direction": "utf8", "avg_jitter_ms": "float64",
			"avg_packet_loss_rate": "float64", "avg_round_trip_ms": "float64", "avg_audio_degradation": "float64",
			"avg_concealed_ratio": "float64", "audio_codec": "utf8", "caller_connection_type": "utf8",
			"callee_connection_type": "utf8", "quality": "utf8",
		},
		Legs: {
			"call_id": "utf8", "leg_seq": "int32", "leg_type": "utf8", "result": "utf8", "direction": "utf8",
			"from_number": "utf8", "to_number": "utf8", "start_time": ts, "duration_s": "float64",
			"recording_id": "utf8",
		},
		PstnCalls: {
			"id": "utf8", "call_id": "utf8", "user_id": "utf8", "user_principal_name": "utf8",
			"user_display_name": "utf8", "start_time": ts, "end_time": ts, "duration_s": "float64",
			"charge": "float64", "currency": "utf8", "call_type": "utf8", "caller_number": "utf8",
			"callee_number": "utf8", "destination_name": "utf8", "destination_context": "utf8",
			"connection_charge": "float64", "usage_country_code": "utf8", "tenant_country_code": "utf8",
			"conference_id": "utf8", "license_capability": "utf8", "inventory_type": "utf8",
			"operator": "utf8", "call_duration_source": "utf8", "ingested_at": ts,
		},
		DirectRoutingCalls: {
			"id": "utf8", "correlation_id": "utf8", "user_id": "utf8", "user_principal_name": "utf8",
			"user_display_name": "utf8", "start_time": ts, "invite_time": ts, "failure_time": ts,
			"end_time": ts, "duration_s": "float64", "call_type": "utf8", "success_flag": "bool",
			"caller_number": "utf8", "callee_number": "utf8", "media_path_location": "utf8",
			"signaling_location": "utf8", "final_sip_code": "int32", "call_end_sub_reason": "int32",
			"final_sip_code_phrase": "utf8", "trunk_fully_qualified_domain_name": "utf8",
			"media_bypass_enabled": "bool", "ingested_at": ts,
		},
	}
	for tb, cols := range want {
		s := Schema(tb)
		if s == nil {
			t.Fatalf("no schema for %s", tb)
		}
		for name, typ := range cols {
			idx := s.FieldIndices(name)
			if len(idx) != 1 {
				t.Errorf("%s.%s: %d columns of that name, want 1", tb, name, len(idx))
				continue
			}
			if got := s.Field(idx[0]).Type.String(); got != typ {
				t.Errorf("%s.%s: type %s, want %s", tb, name, got, typ)
			}
		}
	}
	for _, tb := range AllTables {
		seen := map[string]bool{}
		for _, f := range Schema(tb).Fields() {
			if seen[f.Name] {
				t.Errorf("%s.%s appears twice", tb, f.Name)
			}
			seen[f.Name] = true
			if f.Name != strings.ToLower(f.Name) || strings.ContainsAny(f.Name, " -.") {
				t.Errorf("%s.%s is not snake_case", tb, f.Name)
			}
			if _, ok := f.Type.(*arrow.DictionaryType); ok {
				t.Errorf("%s.%s is a dictionary; enums are plain strings", tb, f.Name)
			}
			if ts, ok := f.Type.(*arrow.TimestampType); ok && (ts.Unit != arrow.Microsecond || ts.TimeZone != "UTC") {
				t.Errorf("%s.%s is %s, want timestamp[us, tz=UTC]", tb, f.Name, ts)
			}
		}
	}
	if Schema("nope") != nil {
		t.Error("Schema of an unknown table is not nil")
	}
}

// docType is how docs/schema.md writes an Arrow type.
func docType(dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.STRING:
		return "string"
	case arrow.FLOAT64:
		return "double"
	case arrow.INT32:
		return "int32"
	case arrow.INT64:
		return "int64"
	case arrow.BOOL:
		return "bool"
	case arrow.TIMESTAMP:
		return "timestamp[us, UTC]"
	case arrow.LIST:
		return "list<" + docType(dt.(*arrow.ListType).Elem()) + ">"
	}
	return dt.String()
}

// TestSchemaDocumented checks that docs/schema.md documents exactly the columns
// of every table, in order, with their types and nullability.
func TestSchemaDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ name, typ, null string }
	doc := map[Table][]col{}
	var cur Table
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			cur = ""
			name := strings.Trim(strings.TrimPrefix(line, "## "), "` ")
			for _, tb := range AllTables {
				if name == string(tb) {
					cur = tb
				}
			}
			continue
		}
		if cur == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 6 {
			t.Errorf("schema.md %s: short row %q", cur, line)
			continue
		}
		doc[cur] = append(doc[cur], col{
			name: strings.Trim(strings.TrimSpace(cells[1]), "`"),
			typ:  strings.Trim(strings.TrimSpace(cells[2]), "`"),
			null: strings.TrimSpace(cells[3]),
		})
	}
	for _, tb := range AllTables {
		fields := Schema(tb).Fields()
		got := doc[tb]
		for i, f := range fields {
			null := "yes"
			if !f.Nullable {
				null = "no"
			}
			w := col{f.Name, docType(f.Type), null}
			if i >= len(got) {
				t.Errorf("schema.md %s: column %d %s not documented", tb, i, f.Name)
				continue
			}
			if got[i] != w {
				t.Errorf("schema.md %s row %d: %+v, want %+v", tb, i, got[i], w)
			}
		}
		for _, extra := range got[min(len(got), len(fields)):] {
			t.Errorf("schema.md %s documents %s, which is not a column", tb, extra.name)
		}
	}
}

// TestUniqueColumnsExist: every column UniqueColumns names is a column of its
// table, so that a renamed column cannot silently get its dictionary back.
func TestUniqueColumnsExist(t *testing.T) {
	for _, tb := range AllTables {
		for _, c := range UniqueColumns(tb) {
			if len(Schema(tb).FieldIndices(c)) != 1 {
				t.Errorf("UniqueColumns(%s) names %q, not a column of the table", tb, c)
			}
		}
	}
}
