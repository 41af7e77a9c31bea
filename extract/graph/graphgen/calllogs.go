package graphgen

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// Numbers of the generated tenant: users' direct numbers are
// +494080887 followed by four digits; these are its service numbers.
const (
	mainLineNumber = "+4940808870100" // the auto attendant's number
	bridgeNumber   = "+4940808879000" // the Audio Conferencing bridge
)

// PstnRows returns the call log rows Graph's getPstnCalls and
// getDirectRoutingCalls would give for calls (as Week returns them), as
// compact JSON objects sorted by startDateTime: pstnCallLogRow rows in pstn,
// directRoutingLogRow rows in directRouting. The same calls and seed always
// give the same bytes.
//
// PSTN records become rows of the user who placed or took the call: user_in,
// user_out, or ucap_in (user fields null) for calls to the auto attendant, and
// conf_in for each dial-in to a meeting; their callId is the call record id
// and their times and duration are the record's, to the second. The users of
// about a quarter of the tenant are on Direct Routing: their calls become
// successful ByotIn / ByotOut rows instead (failureDateTime the sentinel
// 0001-01-01T00:00:00Z). Rows without a call record come on top: an emergency
// call and audio conference dial-outs (conf_out) in pstn, failed attempts
// (SIP 486, 404, 408; endDateTime null) in directRouting.
func PstnRows(calls []Call, seed int64) (pstn, directRouting [][]byte) {
	if len(calls) == 0 {
		return nil, nil
	}
	base := mix(uint64(seed), 0x9571c0de)
	var ps []pstnRow
	var ds []drRow
	var pool []logUser // users seen in PSTN calls, for the rows without a record
	seen := map[string]bool{}
	addUser := func(u logUser) {
		if !seen[u.id] {
			seen[u.id] = true
			pool = append(pool, u)
		}
	}
	for _, c := range calls {
		var rc rawCall
		if json.Unmarshal(c.Raw, &rc) != nil {
			continue
		}
		r := rng{s: mix(base, hash(c.ID))}
		start, end := ceilSecond(c.Start), c.End.UTC().Truncate(time.Second)
		if end.Before(start) {
			end = start
		}
		org := rc.OrganizerV2
		switch {
		case rc.Type == "peerToPeer" && org != nil && org.Identity.Phone != nil:
			caller := org.Identity.Phone.ID
			if rc.has(func(q *rawParty) bool { return q.Identity.ApplicationInstance != nil }) {
				row := newPstnRow(&r, c.ID, "ucap_in", logUser{}, start, end)
				row.CalleeNumber, row.CallerNumber = mainLineNumber, caller
				row.InventoryType = "Service"
				ps = append(ps, row)
				continue
			}
			u, ok := rc.firstUser()
			if !ok {
				continue
			}
			addUser(u)
			if directRouted(base, u) {
				ds = append(ds, newDRRow(&r, "ByotIn", u, caller, u.number(), start, end))
				continue
			}
			row := newPstnRow(&r, c.ID, "user_in", u, start, end)
			row.CalleeNumber, row.CallerNumber = u.number(), caller
			ps = append(ps, row)
		case rc.Type == "peerToPeer" && org != nil && org.Identity.User != nil:
			var callee string
			rc.has(func(q *rawParty) bool {
				if q.Identity.Phone != nil {
					callee = q.Identity.Phone.ID
				}
				return callee != ""
			})
			if callee == "" {
				continue
			}
			u := org.user()
			addUser(u)
			if directRouted(base, u) {
				ds = append(ds, newDRRow(&r, "ByotOut", u, u.number(), callee, start, end))
				continue
			}
			ps = append(ps, outboundRow(&r, c.ID, "user_out", u, u.number(), callee, start, end))
		case rc.Type == "groupCall" && org != nil && org.Identity.User != nil:
			u := org.user()
			conf := confID(&r)
			for i := range rc.ParticipantsV2 {
				q := &rc.ParticipantsV2[i]
				if q.Identity.Phone == nil {
					continue
				}
				addUser(u)
				in := start.Add(time.Duration(r.n(240)) * time.Second)
				out := end.Add(-time.Duration(r.n(90)) * time.Second)
				if out.Before(in) {
					in, out = start, end
				}
				row := newPstnRow(&r, c.ID, "conf_in", u, in, out)
				row.CalleeNumber, row.CallerNumber = bridgeNumber, q.Identity.Phone.ID
				row.ConferenceID, row.LicenseCapability, row.InventoryType = &conf, "MCOMEETADD", "Service"
				ps = append(ps, row)
			}
		}
	}

	// Rows without a call record.
	r := rng{s: base}
	if len(pool) > 0 {
		day := func() time.Time {
			d := calls[r.n(len(calls))].Start.UTC().Truncate(24 * time.Hour)
			return d.Add(7*time.Hour + time.Duration(r.n(10*3600))*time.Second)
		}
		u := pool[r.n(len(pool))]
		at := day()
		em := outboundRow(&r, r.guid(), "user_out", u, u.number(), "112", at, at.Add(time.Duration(r.rangeInt(40, 400))*time.Second))
		em.DestinationName = "Germany - Emergency"
		ps = append(ps, em)
		for range 1 + len(ps)/20 {
			u := pool[r.n(len(pool))]
			at := day()
			row := outboundRow(&r, r.guid(), "conf_out", u, bridgeNumber, phoneNumber(&r), at, at.Add(time.Duration(r.rangeInt(30, 2400))*time.Second))
			conf := confID(&r)
			row.ConferenceID, row.LicenseCapability, row.InventoryType = &conf, "MCOMEETADD", "Service"
			ps = append(ps, row)
		}
		failures := []struct {
			code  int32
			why   string
			typ   string
			delay int // seconds from invite to failure, at most
		}{
			{486, "Busy Here", "ByotOut", 12},
			{404, "Not Found", "ByotOut", 3},
			{408, "Request Timeout", "ByotIn", 32},
		}
		for i := range 3 + len(ds)/5 {
			f := failures[i%len(failures)]
			u := pool[r.n(len(pool))]
			at := day()
			caller, callee := u.number(), phoneNumber(&r)
			if f.typ == "ByotIn" {
				caller, callee = callee, caller
			}
			row := newDRRow(&r, f.typ, u, caller, callee, at, at)
			fail := second(at.Add(time.Duration(1+r.n(f.delay)) * time.Second))
			row.InviteDateTime, row.FailureDateTime, row.EndDateTime = second(at), fail, nil
			row.Duration, row.SuccessfulCall = 0, false
			row.FinalSipCode, row.CallEndSubReason, row.FinalSipCodePhrase = f.code, 560000+f.code, f.why
			ds = append(ds, row)
		}
	}

	slices.SortFunc(ps, func(a, b pstnRow) int { return compareRows(a.StartDateTime, a.ID, b.StartDateTime, b.ID) })
	slices.SortFunc(ds, func(a, b drRow) int { return compareRows(a.StartDateTime, a.ID, b.StartDateTime, b.ID) })
	for _, row := range ps {
		pstn = append(pstn, marshal(row))
	}
	for _, row := range ds {
		directRouting = append(directRouting, marshal(row))
	}
	return pstn, directRouting
}

// pstnRow is a pstnCallLogRow, fields in Graph's order.
type pstnRow struct {
	ID                 string  `json:"id"`
	CallID             string  `json:"callId"`
	UserID             *string `json:"userId"`
	UserPrincipalName  *string `json:"userPrincipalName"`
	UserDisplayName    *string `json:"userDisplayName"`
	StartDateTime      string  `json:"startDateTime"`
	EndDateTime        string  `json:"endDateTime"`
	Duration           int64   `json:"duration"`
	Charge             cents   `json:"charge"`
	CallType           string  `json:"callType"`
	Currency           string  `json:"currency"`
	CalleeNumber       string  `json:"calleeNumber"`
	UsageCountryCode   string  `json:"usageCountryCode"`
	TenantCountryCode  string  `json:"tenantCountryCode"`
	ConnectionCharge   cents   `json:"connectionCharge"`
	CallerNumber       string  `json:"callerNumber"`
	DestinationContext *string `json:"destinationContext"`
	DestinationName    string  `json:"destinationName"`
	ConferenceID       *string `json:"conferenceId"`
	LicenseCapability  string  `json:"licenseCapability"`
	InventoryType      string  `json:"inventoryType"`
	Operator           string  `json:"operator"`
	CallDurationSource string  `json:"callDurationSource"`
}

// drRow is a directRoutingLogRow, fields in Graph's order.
type drRow struct {
	ID                            string  `json:"id"`
	CorrelationID                 string  `json:"correlationId"`
	UserID                        *string `json:"userId"`
	UserPrincipalName             *string `json:"userPrincipalName"`
	UserDisplayName               *string `json:"userDisplayName"`
	StartDateTime                 string  `json:"startDateTime"`
	InviteDateTime                string  `json:"inviteDateTime"`
	FailureDateTime               string  `json:"failureDateTime"`
	EndDateTime                   *string `json:"endDateTime"`
	Duration                      int64   `json:"duration"`
	CallType                      string  `json:"callType"`
	SuccessfulCall                bool    `json:"successfulCall"`
	CallerNumber                  string  `json:"callerNumber"`
	CalleeNumber                  string  `json:"calleeNumber"`
	MediaPathLocation             string  `json:"mediaPathLocation"`
	SignalingLocation             string  `json:"signalingLocation"`
	FinalSipCode                  int32   `json:"finalSipCode"`
	CallEndSubReason              int32   `json:"callEndSubReason"`
	FinalSipCodePhrase            string  `json:"finalSipCodePhrase"`
	TrunkFullyQualifiedDomainName string  `json:"trunkFullyQualifiedDomainName"`
	MediaBypassEnabled            bool    `json:"mediaBypassEnabled"`
}

// cents is an amount of money, written as Graph writes a double: 0.0, 0.38, 1.2.
type cents int64

// MarshalJSON writes c as a decimal with one or two fractional digits.
func (c cents) MarshalJSON() ([]byte, error) {
	b := appendInt(nil, int64(c)/100)
	b = append(b, '.')
	f := int64(c) % 100
	if f%10 == 0 {
		return append(b, byte('0'+f/10)), nil
	}
	return appendPadded(b, uint64(f), 2), nil
}

// logUser is a user a call log row belongs to.
type logUser struct{ id, upn, name string }

// number is the user's direct number, stable per user.
func (u logUser) number() string {
	return "+494080887" + string(appendPadded(nil, 1000+hash(u.id)%9000, 4))
}

// directRouted reports whether the user's number is on the tenant's own SBCs.
func directRouted(base uint64, u logUser) bool { return mix(base, hash(u.id))%4 == 0 }

func newPstnRow(r *rng, callID, typ string, u logUser, start, end time.Time) pstnRow {
	row := pstnRow{
		ID: r.guid(), CallID: callID, StartDateTime: second(start), EndDateTime: second(end),
		Duration: int64(end.Sub(start) / time.Second), CallType: typ, Currency: "EUR",
		UsageCountryCode: "DE", TenantCountryCode: "DE", DestinationName: "Germany",
		LicenseCapability: "MCOPSTN1", InventoryType: "Subscriber", Operator: "Microsoft", CallDurationSource: "microsoft",
	}
	if u.id != "" {
		row.UserID, row.UserPrincipalName, row.UserDisplayName = &u.id, orNil(u.upn), orNil(u.name)
	}
	return row
}

// outboundRow is a row for a call to callee, charged by destination.
func outboundRow(r *rng, callID, typ string, u logUser, caller, callee string, start, end time.Time) pstnRow {
	row := newPstnRow(r, callID, typ, u, start, end)
	row.CallerNumber, row.CalleeNumber = caller, callee
	d := destinationOf(callee)
	ctx := "Domestic"
	if !d.domestic {
		ctx = "International"
		row.LicenseCapability = "MCOPSTN2"
	}
	row.DestinationContext, row.DestinationName = &ctx, d.name
	row.Charge = cents(d.centsPerMinute * ((row.Duration + 59) / 60))
	return row
}

func newDRRow(r *rng, typ string, u logUser, caller, callee string, start, end time.Time) drRow {
	ring := 2 + r.n(5)
	if typ == "ByotOut" {
		ring = 4 + r.n(17) // the callee's phone rings before the 200 OK
	}
	trunk := 1 + r.n(2)
	locations := []string{"EUWE", "EUNO"}
	e := second(end)
	row := drRow{
		ID: r.guid(), CorrelationID: r.guid(), StartDateTime: second(start),
		InviteDateTime: second(start.Add(-time.Duration(ring) * time.Second)), FailureDateTime: "0001-01-01T00:00:00Z",
		EndDateTime: &e, Duration: int64(end.Sub(start) / time.Second), CallType: typ, SuccessfulCall: true,
		CallerNumber: caller, CalleeNumber: callee,
		MediaPathLocation: locations[r.n(2)], SignalingLocation: locations[r.n(2)],
		CallEndSubReason: 540200, FinalSipCodePhrase: "BYE",
		TrunkFullyQualifiedDomainName: "sbc0" + itoa(trunk) + ".voice." + DefaultDomain,
		MediaBypassEnabled:            trunk == 1,
	}
	if u.id != "" {
		row.UserID, row.UserPrincipalName, row.UserDisplayName = &u.id, orNil(u.upn), orNil(u.name)
	}
	return row
}

// destination is where a number rings, as the PSTN log names it.
type destination struct {
	prefix, name   string
	domestic       bool
	centsPerMinute int64
}

// destinations, most specific prefix first (the numbers phoneNumber makes).
var destinations = []destination{
	{"+49151", "Germany - Mobile", true, 0}, {"+49160", "Germany - Mobile", true, 0}, {"+49170", "Germany - Mobile", true, 0},
	{"+49", "Germany", true, 0}, {"+447", "United Kingdom - Mobile", false, 10}, {"+44", "United Kingdom", false, 4},
	{"+31", "Netherlands", false, 4}, {"+45", "Denmark", false, 5}, {"+1", "United States", false, 3},
}

func destinationOf(number string) destination {
	for _, d := range destinations {
		if strings.HasPrefix(number, d.prefix) {
			return d
		}
	}
	return destination{name: "Germany", domestic: true} // short numbers: 112, 110
}

// phoneNumber is an outside number, drawn like the records' phone participants.
func phoneNumber(r *rng) string {
	pl := phonePlans[r.weighted(phoneWeights)]
	b := []byte(pl.prefix)
	for i := 0; i < pl.digits; i++ {
		d := r.n(10)
		if i == 0 && d == 0 {
			d = 3
		}
		b = append(b, byte('0'+d))
	}
	return string(b)
}

// confID is an Audio Conferencing id: nine digits.
func confID(r *rng) string {
	return string(appendPadded(nil, uint64(100000000+r.n(900000000)), 9))
}

// rawCall is what PstnRows reads from a record.
type rawCall struct {
	Type           string     `json:"type"`
	OrganizerV2    *rawParty  `json:"organizer_v2"`
	ParticipantsV2 []rawParty `json:"participants_v2"`
}

type rawParty struct {
	Identity struct {
		User, Phone, ApplicationInstance *rawIdentity
	} `json:"identity"`
}

type rawIdentity struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
}

func (q *rawParty) user() logUser {
	u := q.Identity.User
	return logUser{id: u.ID, upn: u.UserPrincipalName, name: u.DisplayName}
}

// has reports whether a participant satisfies f.
func (c *rawCall) has(f func(*rawParty) bool) bool {
	for i := range c.ParticipantsV2 {
		if f(&c.ParticipantsV2[i]) {
			return true
		}
	}
	return false
}

// firstUser returns the first participant that is a user.
func (c *rawCall) firstUser() (logUser, bool) {
	for i := range c.ParticipantsV2 {
		if c.ParticipantsV2[i].Identity.User != nil {
			return c.ParticipantsV2[i].user(), true
		}
	}
	return logUser{}, false
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// ceilSecond rounds t up to a whole second, in UTC.
func ceilSecond(t time.Time) time.Time {
	s := t.UTC().Truncate(time.Second)
	if s.Before(t) {
		s = s.Add(time.Second)
	}
	return s
}

// second writes t to the second, as the call logs do: 2026-11-12T09:17:03Z.
func second(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func compareRows(aStart, aID, bStart, bID string) int {
	if c := strings.Compare(aStart, bStart); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v) // the row types always marshal
	return b
}
