package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"callstats/extract/graph/graphgen"
	"callstats/internal/duckdb"
)

// TestGraphgenWeek reports on two generated weeks ingested through the real
// write path, and checks the workbook against two independent computations:
// plain Go over the generated JSON records, and DuckDB over the lake.
func TestGraphgenWeek(t *testing.T) {
	t.Parallel()
	last, this := sharedWeeks[0], sharedWeeks[1]
	dir := sharedGraphLake(t)
	figs, b := generate(t, Options{LakeDir: dir, Week: Week{2026, 46}, Location: berlin, Title: "Kestrel Bay"})

	start := time.Date(2026, 11, 9, 0, 0, 0, 0, berlin)
	t.Run("records", func(t *testing.T) {
		for _, w := range []struct {
			name string
			opts graphgen.Options
			got  Period
			from time.Time
		}{
			{"this week", this, figs.ThisWeek, start},
			{"last week", last, figs.LastWeek, start.AddDate(0, 0, -7)},
		} {
			var calls, meetings int64
			var secs float64
			for _, c := range generatedWeek(w.opts) {
				var rec struct {
					Type  string    `json:"type"`
					Start time.Time `json:"startDateTime"`
					End   time.Time `json:"endDateTime"`
				}
				if err := json.Unmarshal(c.Raw, &rec); err != nil {
					t.Fatal(err)
				}
				if rec.Start.Before(w.from) || !rec.Start.Before(w.from.AddDate(0, 0, 7)) {
					continue
				}
				calls++
				if rec.Type == "groupCall" {
					meetings++
				}
				secs += rec.End.Sub(rec.Start).Seconds()
			}
			g := w.got
			// The lake keeps microseconds of Graph's 100 ns timestamps.
			if g.Calls != calls || g.Meetings != meetings || math.Abs(g.Minutes-secs/60) > 1e-3 {
				t.Errorf("%s: calls %d meetings %d minutes %.4f; the records say %d %d %.4f",
					w.name, g.Calls, g.Meetings, g.Minutes, calls, meetings, secs/60)
			}
		}
		if r := b.row(shSummary, "Measure", "Calls"); r[1] != fmt.Sprint(figs.ThisWeek.Calls) || r[2] != fmt.Sprint(figs.LastWeek.Calls) {
			t.Errorf("Summary calls %v", r)
		}
	})

	t.Run("duckdb", func(t *testing.T) {
		duckdb.Require(t)
		ctx := context.Background()
		tbl := func(name string) string {
			return fmt.Sprintf("read_parquet('%s/%s/*/*.parquet', hive_partitioning=true, union_by_name=true)", dir, name)
		}
		week := func(from time.Time) string {
			return fmt.Sprintf(`WITH wk AS (SELECT call_id FROM %s WHERE start_time >= TIMESTAMPTZ '%s' AND start_time < TIMESTAMPTZ '%s')`,
				tbl("calls"), from.UTC().Format("2006-01-02 15:04:05+00"), from.AddDate(0, 0, 7).UTC().Format("2006-01-02 15:04:05+00"))
		}
		query := func(sql string) []map[string]any {
			t.Helper()
			rows, err := duckdb.Query(ctx, sql)
			if err != nil {
				t.Fatalf("%v\n%s", err, sql)
			}
			return rows
		}
		i := func(v any) int64 {
			n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
			if err != nil {
				t.Fatalf("%v is not an integer", v)
			}
			return n
		}
		f := func(v any) float64 {
			n, err := strconv.ParseFloat(fmt.Sprint(v), 64)
			if err != nil {
				t.Fatalf("%v is not a number", v)
			}
			return n
		}
		for _, w := range []struct {
			name string
			from time.Time
			got  Period
		}{{"this week", start, figs.ThisWeek}, {"last week", start.AddDate(0, 0, -7), figs.LastWeek}} {
			r := query(week(w.from) + fmt.Sprintf(`
				SELECT
				 (SELECT count(*) FROM wk) AS calls,
				 (SELECT count(DISTINCT id) FROM (
				    SELECT caller_id AS id FROM %[1]s JOIN wk USING (call_id) WHERE caller_kind = 'user'
				    UNION ALL SELECT callee_id FROM %[1]s JOIN wk USING (call_id) WHERE callee_kind = 'user'
				    UNION ALL SELECT participant_id FROM %[2]s JOIN wk USING (call_id) WHERE kind = 'user')
				  WHERE id IS NOT NULL) AS users,
				 (SELECT count(*) FILTER (WHERE quality = 'good') FROM %[3]s JOIN wk USING (call_id)) AS good,
				 (SELECT count(*) FILTER (WHERE quality = 'poor') FROM %[3]s JOIN wk USING (call_id)) AS poor,
				 (SELECT count(*) FILTER (WHERE quality = 'unclassified') FROM %[3]s JOIN wk USING (call_id)) AS uncl`,
				tbl("sessions"), tbl("participants"), tbl("streams")))[0]
			g := w.got
			if g.Calls != i(r["calls"]) || g.ActiveUsers != i(r["users"]) || g.GoodStreams != i(r["good"]) ||
				g.PoorStreams != i(r["poor"]) || g.UnclassifiedStreams != i(r["uncl"]) {
				t.Errorf("%s: report %+v; DuckDB %v", w.name, g, r)
			}
		}

		// Devices: session endpoints by platform.
		for _, r := range query(week(start) + fmt.Sprintf(`
			SELECT p, count(*) AS n FROM (
			  SELECT caller_platform AS p FROM %[1]s JOIN wk USING (call_id)
			  UNION ALL SELECT callee_platform FROM %[1]s JOIN wk USING (call_id))
			WHERE p IS NOT NULL GROUP BY p`, tbl("sessions"))) {
			p := label(platformNames, r["p"].(string))
			if row := b.row(shDevices, "Platforms", p); i(row[1]) != i(r["n"]) {
				t.Errorf("platform %s: %v, DuckDB %v", p, row, r["n"])
			}
		}

		// Quality by connection type, at the receiving client (or the sender
		// when the receiver is a service).
		for _, r := range query(week(start) + fmt.Sprintf(`
			SELECT coalesce(CASE
			  WHEN stream_direction = 'calleeToCaller' THEN
			    CASE WHEN caller_platform IS NOT NULL OR callee_platform IS NULL THEN caller_connection_type ELSE callee_connection_type END
			  ELSE
			    CASE WHEN callee_platform IS NOT NULL OR caller_platform IS NULL THEN callee_connection_type ELSE caller_connection_type END
			  END, '') AS conn,
			  count(*) AS n, count(*) FILTER (WHERE quality = 'poor') AS poor
			FROM %s JOIN wk USING (call_id) GROUP BY conn`, tbl("streams"))) {
			name := label(connNames, r["conn"].(string))
			row := b.row(shQuality, "Connection", name)
			if i(row[1]) != i(r["n"]) || i(row[3]) != i(r["poor"]) {
				t.Errorf("connection %s: %v, DuckDB %v", name, row, r)
			}
		}

		// Users: the per-user calls and session time add up, and the top user matches.
		r := query(week(start) + fmt.Sprintf(`,
			per AS (SELECT id, count(DISTINCT call_id) AS calls, sum(coalesce(duration_s, 0)) AS secs FROM (
			  SELECT call_id, caller_id AS id, duration_s FROM %[1]s JOIN wk USING (call_id) WHERE caller_kind = 'user'
			  UNION ALL SELECT call_id, callee_id, duration_s FROM %[1]s JOIN wk USING (call_id) WHERE callee_kind = 'user')
			WHERE id IS NOT NULL GROUP BY id)
			SELECT sum(calls) AS calls, sum(secs) AS secs, max(secs) AS top FROM per`, tbl("sessions")))[0]
		var calls, secs, top float64
		inUsers := false
		for _, row := range b.rows(shUsage) {
			if len(row) > 0 && row[0] == "User" {
				inUsers = true
				continue
			}
			if inUsers && len(row) >= 4 {
				calls += num(t, row[1])
				d := num(t, row[3]) * 86400
				secs += d
				top = math.Max(top, d)
			}
		}
		if calls != f(r["calls"]) || math.Abs(secs-f(r["secs"])) > 1e-3 || math.Abs(top-f(r["top"])) > 1e-6 {
			t.Errorf("Usage users: calls %v secs %v top %v; DuckDB %v", calls, secs, top, r)
		}
	})

	t.Run("formula-like names", func(t *testing.T) {
		// graphgen's directory has "=SUM(A1) Test" and "+Reception Desk".
		for _, name := range []string{"=SUM(A1) Test", "+Reception Desk"} {
			cell := fmt.Sprintf("A%d", rowIndex(b, shUsage, name))
			if f, _ := b.f.GetCellFormula(shUsage, cell); f != "" {
				t.Errorf("%s has a formula %q", name, f)
			}
		}
	})
}
