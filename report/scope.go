package report

import (
	"context"
	"path"
	"slices"
	"strings"
)

// A Scope restricts a report to some people and the calls they took part
// in: every figure counts only those calls, and the per-user figures only
// those people. A user is in the scope when any of the lists matches them;
// a Scope whose lists are all empty matches nobody (use a nil *Scope for
// the whole tenant).
type Scope struct {
	// Name is shown in every sheet title ("Sales").
	Name string
	// AdminUnits are Entra administrative unit ids
	// (participants.administrative_unit_ids).
	AdminUnits []string
	// UPNDomains match the part of a user principal name after the @,
	// ignoring case ("sales.example.com").
	UPNDomains []string
	// UPNPatterns are path.Match globs over the lower-cased user principal
	// name ("*.sales@example.com").
	UPNPatterns []string
	// Users are user ids or user principal names (UPNs ignore case).
	Users []string
	// Extensions are RingCentral extension numbers: a RingCentral call is in
	// the scope when a leg of it is from or to one of them.
	Extensions []string
}

// matchUser reports whether the user with this id, UPN and administrative
// units is in the scope.
func (s *Scope) matchUser(id, upn string, units []string) bool {
	lu := strings.ToLower(upn)
	for _, u := range s.Users {
		if u == id && id != "" || (upn != "" && strings.EqualFold(u, upn)) {
			return true
		}
	}
	for _, au := range units {
		if slices.Contains(s.AdminUnits, au) {
			return true
		}
	}
	if lu == "" {
		return false
	}
	if _, dom, ok := strings.Cut(lu, "@"); ok {
		for _, d := range s.UPNDomains {
			if strings.EqualFold(d, dom) {
				return true
			}
		}
	}
	for _, p := range s.UPNPatterns {
		if ok, _ := path.Match(strings.ToLower(p), lu); ok {
			return true
		}
	}
	return false
}

// scopeSet is a Scope resolved against the lake: the user ids it matched
// and the calls they (or its extensions) took part in.
type scopeSet struct {
	users map[string]bool
	calls map[string]bool
}

// inUser reports whether a user seen with this id and UPN (and no
// administrative units, as in the telephony logs) belongs to the scope.
func (ss *scopeSet) inUser(sc *Scope, id, upn string) bool {
	return (id != "" && ss.users[id]) || sc.matchUser(id, upn, nil)
}

// resolveScope reads the participants and legs files and returns the users
// and calls of sc.
func resolveScope(ctx context.Context, sc *Scope, parts, legs []lakeFile, sc0 *scanner) (*scopeSet, error) {
	ss := &scopeSet{users: map[string]bool{}, calls: map[string]bool{}}
	for _, u := range sc.Users {
		if !strings.Contains(u, "@") {
			ss.users[u] = true
		}
	}
	sp := []colSpec{{name: "call_id"}, {name: "participant_id"}, {name: "user_principal_name"}, {name: "administrative_unit_ids"}}
	for _, f := range parts {
		err := f.read(ctx, sp, sc0.mem, func(b *batch) error {
			c := cols{b: b, specs: sp}
			ids, pid, upn, aus := c.str("call_id"), c.str("participant_id"), c.str("user_principal_name"), c.list("administrative_unit_ids")
			if c.err != nil {
				return c.err
			}
			var units []string
			for i := 0; i < b.n; i++ {
				units = units[:0]
				aus.each(i, func(s string) { units = append(units, s) })
				id, u := "", ""
				if !pid.null(i) {
					id = pid.get(i)
				}
				if !upn.null(i) {
					u = upn.get(i)
				}
				if !sc.matchUser(id, u, units) {
					continue
				}
				if id != "" {
					ss.users[strings.Clone(id)] = true
				}
				if !ids.null(i) {
					ss.calls[strings.Clone(ids.get(i))] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(sc.Extensions) == 0 {
		return ss, nil
	}
	lp := []colSpec{{name: "call_id"}, {name: "from_extension"}, {name: "to_extension"}}
	for _, f := range legs {
		err := f.read(ctx, lp, sc0.mem, func(b *batch) error {
			c := cols{b: b, specs: lp}
			ids, from, to := c.str("call_id"), c.str("from_extension"), c.str("to_extension")
			if c.err != nil {
				return c.err
			}
			for i := 0; i < b.n; i++ {
				if ids.null(i) {
					continue
				}
				if (!from.null(i) && slices.Contains(sc.Extensions, from.get(i))) ||
					(!to.null(i) && slices.Contains(sc.Extensions, to.get(i))) {
					ss.calls[strings.Clone(ids.get(i))] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return ss, nil
}
