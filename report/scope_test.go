package report

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"callstats/extract/graph/graphgen"
)

// scopedWeek is an independent computation, from the generated JSON
// records, of a scope's figures: the calls in [from, from+7d) with a
// participant the scope matches, and the distinct matched users in them.
func scopedWeek(t *testing.T, opts graphgen.Options, from time.Time, match func(id, upn string, aus []string) bool) (calls, meetings, users int64, minutes float64) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range generatedWeek(opts) {
		var rec struct {
			Type         string    `json:"type"`
			Start        time.Time `json:"startDateTime"`
			End          time.Time `json:"endDateTime"`
			Participants []struct {
				ID       string `json:"id"`
				Identity map[string]json.RawMessage
				AUs      []struct {
					ID string `json:"id"`
				} `json:"administrativeUnitInfos"`
			} `json:"participants_v2"`
		}
		if err := json.Unmarshal(c.Raw, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Start.Before(from) || !rec.Start.Before(from.AddDate(0, 0, 7)) {
			continue
		}
		in := false
		for _, p := range rec.Participants {
			var u struct {
				UPN string `json:"userPrincipalName"`
			}
			raw, isUser := p.Identity["user"]
			if !isUser || string(raw) == "null" {
				continue
			}
			if err := json.Unmarshal(raw, &u); err != nil {
				t.Fatal(err)
			}
			var aus []string
			for _, a := range p.AUs {
				aus = append(aus, a.ID)
			}
			if match(p.ID, u.UPN, aus) {
				in = true
				seen[p.ID] = true
			}
		}
		if !in {
			continue
		}
		calls++
		if rec.Type == "groupCall" {
			meetings++
		}
		minutes += rec.End.Sub(rec.Start).Minutes()
	}
	return calls, meetings, int64(len(seen)), minutes
}

// TestScopedReport proves that a scoped report counts exactly the calls a
// scoped user took part in and only the scoped users, for scopes by
// administrative unit, by UPN pattern and by explicit user id, as computed
// independently from the generated records; that the scope's name is in
// the sheet titles; and that a scope matching nobody reports no calls.
func TestScopedReport(t *testing.T) {
	t.Parallel()
	last, this := sharedWeeks[0], sharedWeeks[1]
	dir := sharedGraphLake(t)
	start := time.Date(2026, 11, 9, 0, 0, 0, 0, berlin)

	dirUsers := graphgen.Directory(this)
	var sales []graphgen.User
	for _, u := range dirUsers {
		if slices.Contains(u.AdministrativeUnits, graphgen.AdminUnitSales) {
			sales = append(sales, u)
		}
	}
	if len(sales) < 2 {
		t.Fatalf("the generated directory has %d sales users", len(sales))
	}
	one := sales[0]

	tests := []struct {
		scope Scope
		match func(id, upn string, aus []string) bool
	}{
		{Scope{Name: "Sales", AdminUnits: []string{graphgen.AdminUnitSales}},
			func(_, _ string, aus []string) bool { return slices.Contains(aus, graphgen.AdminUnitSales) }},
		{Scope{Name: "Support", AdminUnits: []string{graphgen.AdminUnitSupport}},
			func(_, _ string, aus []string) bool { return slices.Contains(aus, graphgen.AdminUnitSupport) }},
		{Scope{Name: "One person", Users: []string{one.ID}},
			func(id, _ string, _ []string) bool { return id == one.ID }},
		{Scope{Name: "By UPN", UPNPatterns: []string{strings.ToUpper(one.UserPrincipalName[:3]) + "*"}},
			func(_, upn string, _ []string) bool {
				return strings.HasPrefix(strings.ToLower(upn), strings.ToLower(one.UserPrincipalName[:3]))
			}},
		{Scope{Name: "Nobody", UPNDomains: []string{"no-such-domain.example"}},
			func(string, string, []string) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.scope.Name, func(t *testing.T) {
			t.Parallel()
			sc := tt.scope
			figs, b := generate(t, Options{LakeDir: dir, Week: Week{2026, 46}, Location: berlin, Title: "Kestrel Bay", Scope: &sc})
			for _, w := range []struct {
				name string
				opts graphgen.Options
				got  Period
				from time.Time
			}{
				{"this week", this, figs.ThisWeek, start},
				{"last week", last, figs.LastWeek, start.AddDate(0, 0, -7)},
			} {
				calls, meetings, users, minutes := scopedWeek(t, w.opts, w.from, tt.match)
				g := w.got
				if g.Calls != calls || g.Meetings != meetings || g.ActiveUsers != users || math.Abs(g.Minutes-minutes) > 1e-3 {
					t.Errorf("%s: calls %d meetings %d users %d minutes %.3f; the records say %d %d %d %.3f",
						w.name, g.Calls, g.Meetings, g.ActiveUsers, g.Minutes, calls, meetings, users, minutes)
				}
			}
			if sc.Name != "Nobody" && figs.ThisWeek.Calls == 0 {
				t.Errorf("scope %s matched no calls: the test proves nothing", sc.Name)
			}
			if !b.text(shSummary, "Kestrel Bay – "+sc.Name) || !b.text(shUsage, "Kestrel Bay – "+sc.Name) {
				t.Errorf("the scope's name is not in the sheet titles")
			}
		})
	}
}
