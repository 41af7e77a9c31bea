// Package graphgen generates realistic, deterministic Microsoft Teams call
// records in the JSON shape of Microsoft Graph v1.0, for `callstats demo`,
// the fake Graph server, tests and benchmarks.
//
// It deliberately does not use the package that parses call records: it is
// an independent producer of JSON, so tests that parse its output test
// something. See README.md for what a generated week contains.
package graphgen

import (
	"io"
	"slices"
	"time"
)

// Defaults of Options.
const (
	DefaultTenantID = "7c1e4f2a-93b5-4d08-a6e1-2f9d8b30c5e7"
	DefaultDomain   = "kestrel-bay.example"
	DefaultDays     = 7
	DefaultCalls    = 300
	DefaultUsers    = 40
)

// Administrative units some directory users belong to; participants_v2
// entries of their members carry these ids in administrativeUnitInfos, so
// reports can be scoped to them.
const (
	AdminUnitSales   = "a1f3c8e2-5d74-4b09-8e6a-2c9d0f7b3e15"
	AdminUnitSupport = "d6b20f94-3c1e-4a87-9f52-7e08b4c1a3d6"
)

// DefaultStart is the first day of the default week: Monday 2026-11-09 UTC.
var DefaultStart = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)

// Options choose the generated week. Zero (or negative) fields take their defaults.
type Options struct {
	Seed     int64     // the same seed (and options) always gives the same week
	Start    time.Time // first day; truncated to its UTC midnight (default DefaultStart)
	Days     int       // number of days (default 7)
	Calls    int       // number of call records (default 300)
	Users    int       // people in the tenant directory (default 40, at least 8); four meeting rooms come on top
	TenantID string    // the tenant (default DefaultTenantID)
	Domain   string    // the user principal name domain (default DefaultDomain)
}

// Call is one generated call record.
type Call struct {
	ID           string
	Start, End   time.Time
	Version      int
	LastModified time.Time
	// Raw is the whole record as GET callRecords/{id}?$expand=sessions($expand=segments)
	// would give it without paging: every session with its segments inline,
	// participants_v2 inline, organizer_v2.
	Raw []byte
}

// User is an account of the generated tenant directory.
type User struct {
	ID                  string
	DisplayName         string
	UserPrincipalName   string
	AdministrativeUnits []string // AdminUnitSales and/or AdminUnitSupport, or none
	Room                bool     // a meeting room resource account (Teams Rooms, Surface Hub)
}

func (o Options) withDefaults() Options {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = time.Date(o.Start.UTC().Year(), o.Start.UTC().Month(), o.Start.UTC().Day(), 0, 0, 0, 0, time.UTC)
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.Calls <= 0 {
		o.Calls = DefaultCalls
	}
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	if o.Users < 8 {
		o.Users = 8
	}
	if o.TenantID == "" {
		o.TenantID = DefaultTenantID
	}
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	return o
}

// Directory returns the tenant's accounts as Week generates them for opts:
// the people first, then the meeting rooms.
func Directory(opts Options) []User {
	t := newTenant(opts.withDefaults())
	out := make([]User, 0, len(t.people)+len(t.rooms))
	for _, p := range t.people {
		out = append(out, p.User)
	}
	for _, p := range t.rooms {
		out = append(out, p.User)
	}
	return out
}

// Week generates opts.Calls call records, sorted by start time. The same
// options always give the same records, byte for byte.
func Week(opts Options) []Call {
	g := newGen(opts.withDefaults())
	calls := make([]Call, 0, len(g.plans))
	var buf []byte
	for i := range g.plans {
		var c Call
		buf, c = g.render(buf[:0], &g.plans[i])
		c.Raw = slices.Clone(buf)
		calls = append(calls, c)
	}
	return calls
}

// WriteJSONL writes the records Week(opts) returns, in the same order, one
// compact JSON record per line. It renders one record at a time, so memory
// stays flat however many calls are asked for. It returns the bytes written.
func WriteJSONL(w io.Writer, opts Options) (n int64, err error) {
	g := newGen(opts.withDefaults())
	var buf []byte
	for i := range g.plans {
		buf, _ = g.render(buf[:0], &g.plans[i])
		buf = append(buf, '\n')
		m, err := w.Write(buf)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
