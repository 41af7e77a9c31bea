package report

// The Telephony sheet.

import (
	"fmt"
	"sort"
)

// hasRingCentral is whether to show RingCentral: its rows are in either
// week, or the lake has its legs table.
func (r *render) hasRingCentral() bool {
	return r.s.rcSeen[cur] || r.s.rcSeen[prev] || r.s.present[tLegs]
}

func (r *render) hasTelephony() bool {
	return r.s.present[tPSTN] || r.s.present[tDirect] || r.hasRingCentral()
}

// noTelephony says why Telephony is empty.
const noTelephony = "No telephony: this lake has no Teams PSTN (pstn_calls) or Direct Routing (direct_routing_calls) table, " +
	"and no RingCentral calls in this week or the week before."

func (r *render) telephony(s *sheet) {
	st := r.s
	if !r.hasTelephony() {
		s.headline(noTelephony)
		return
	}
	mins := []column{{title: "Calls", kind: kInt}, {title: "Minutes", kind: kMinutes}}
	countRows := func(t tally[count], pretty map[string]string) ([][]any, count) {
		var total count
		items := sortedBy(t, byCount)
		rows := make([][]any, len(items))
		for i, it := range items {
			rows[i] = []any{label(pretty, it.key), it.v.n, it.v.secs}
			addCount(&total, it.v)
		}
		return rows, total
	}
	if st.present[tPSTN] {
		s.section("Teams Phone: Calling Plan calls (PSTN)")
		rows, total := countRows(st.pstnDir, nil)
		if total.n == 0 {
			s.note("No PSTN calls this week.")
		} else {
			s.table(1, table{cols: append([]column{{title: "Direction", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			s.row++
			keys := make([]pstnKey, 0, len(st.pstn))
			for k := range st.pstn {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				a, b := st.pstn[keys[i]], st.pstn[keys[j]]
				if a.n != b.n {
					return a.n > b.n
				}
				return keys[i].callType+keys[i].currency < keys[j].callType+keys[j].currency
			})
			out := make([][]any, len(keys))
			for i, k := range keys {
				v := st.pstn[k]
				out[i] = []any{label(nil, k.callType), label(nil, k.currency), v.n, v.secs, v.charge}
			}
			s.table(1, table{cols: []column{{title: "Call type", kind: kText}, {title: "Currency", kind: kCenter},
				{title: "Calls", kind: kInt}, {title: "Minutes", kind: kMinutes}, {title: "Charge", kind: kMoney}}, rows: out})
		}
	}
	if st.present[tDirect] {
		s.section("Teams Phone: Direct Routing")
		rows, total := countRows(st.drDir, nil)
		if total.n == 0 {
			s.note("No Direct Routing calls this week.")
		} else {
			if n := st.drOK[0] + st.drOK[1]; n > 0 {
				s.note(fmt.Sprintf("%s of %s calls succeeded (%.1f%%).", groupDigits(st.drOK[0]), groupDigits(n), 100*float64(st.drOK[0])/float64(n)))
			}
			s.table(1, table{cols: append([]column{{title: "Direction", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			s.row++
			keys := make([]sipKey, 0, len(st.drSIP))
			for k := range st.drSIP {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				a, b := st.drSIP[keys[i]], st.drSIP[keys[j]]
				if a.n != b.n {
					return a.n > b.n
				}
				return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
			})
			if len(keys) > topN {
				s.note(fmt.Sprintf("The %d most frequent outcomes of %d.", topN, len(keys)))
				keys = keys[:topN]
			}
			out := make([][]any, len(keys))
			for i, k := range keys {
				var code any
				if k.hasCode {
					code = k.code
				}
				out[i] = []any{label(map[string]string{"yes": "Yes", "no": "No"}, k.success), code, label(nil, k.phrase), st.drSIP[k].n, st.drSIP[k].secs}
			}
			s.table(1, table{cols: []column{{title: "Succeeded", kind: kCenter}, {title: "SIP code", kind: kInt},
				{title: "Reason", kind: kText}, {title: "Calls", kind: kInt}, {title: "Minutes", kind: kMinutes}}, rows: out})
		}
	}
	if r.hasRingCentral() {
		s.section("RingCentral")
		if st.rcCalls == 0 {
			s.note("No RingCentral calls this week.")
		} else {
			n := func(k string) int64 {
				if v := st.rcResults[k]; v != nil {
					return v.n
				}
				return 0
			}
			s.note(fmt.Sprintf("%s calls: %s missed, %s abandoned, %s to voicemail.", groupDigits(st.rcCalls),
				groupDigits(n("Missed")), groupDigits(n("Abandoned")), groupDigits(n("Voicemail"))))
			rows, total := countRows(st.rcResults, nil)
			s.table(1, table{cols: append([]column{{title: "Result", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			s.row++
			rows, total = countRows(st.rcDirections, nil)
			s.table(1, table{cols: append([]column{{title: "Direction", kind: kText}}, mins...), rows: rows,
				total: []any{"All", total.n, total.secs}})
			if len(st.rcCallerSt)+len(st.rcCalleeSt) > 0 {
				s.row++
				s.note("RingOut calls: the result of the leg to the caller's own phone and of the leg to the called party.")
				keys := map[string]bool{}
				for k := range st.rcCallerSt {
					keys[k] = true
				}
				for k := range st.rcCalleeSt {
					keys[k] = true
				}
				var ks []string
				for k := range keys {
					ks = append(ks, k)
				}
				sort.Strings(ks)
				get := func(t tally[count], k string) int64 {
					if v := t[k]; v != nil {
						return v.n
					}
					return 0
				}
				out := make([][]any, len(ks))
				for i, k := range ks {
					out[i] = []any{k, get(st.rcCallerSt, k), get(st.rcCalleeSt, k)}
				}
				s.table(1, table{cols: []column{{title: "Status", kind: kText}, {title: "Caller leg", kind: kInt},
					{title: "Callee leg", kind: kInt}}, rows: out})
			}
		}
		if len(st.legs) > 0 {
			s.row++
			s.note("Call-log legs by type (a call has one leg per hop: the caller, a queue, a forward, ...).")
			rows, total := countRows(st.legs, nil)
			s.table(1, table{cols: []column{{title: "Leg type", kind: kText}, {title: "Legs", kind: kInt},
				{title: "Minutes", kind: kMinutes}}, rows: rows, total: []any{"All", total.n, total.secs}})
		}
	}
}
