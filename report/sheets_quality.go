package report

// The Call quality sheet.

import (
	"fmt"
	"sort"
	"strings"
)

func (r *render) quality(s *sheet) {
	if r.noCalls(s) {
		return
	}
	st := r.s
	all := st.per[cur].streams
	if all.good+all.poor+all.uncl == 0 {
		s.headline("No media streams in this week's calls.")
		r.thresholds(s)
		return
	}
	if rate, ok := all.rate(); ok {
		s.headline(fmt.Sprintf("%.1f%% of classified streams were poor (%s of %s).", rate*100,
			groupDigits(all.poor), groupDigits(all.classified())))
	}
	s.note(fmt.Sprintf("%s streams (%.1f%%) reported no metric their media type is judged by: they are unclassified, shown apart and never counted as good. "+
		"Rates are poor ÷ (good + poor). A stream is attributed to the endpoint that received it, or, when that is a Microsoft service, to the one that sent it.",
		groupDigits(all.uncl), 100*float64(all.uncl)/float64(all.good+all.poor+all.uncl)))

	qcols := func(first string) []column {
		return []column{{title: first, kind: kText}, {title: "Streams", kind: kInt}, {title: "Good", kind: kInt},
			{title: "Poor", kind: kInt}, {title: "Unclassified", kind: kInt}, {title: "Poor rate", kind: kPct, rate: true}}
	}
	qrow := func(name string, q *quality) []any {
		var rate any
		if v, ok := q.rate(); ok {
			rate = v
		}
		return []any{name, q.good + q.poor + q.uncl, q.good, q.poor, q.uncl, rate}
	}
	qtable := func(title, first string, t tally[quality], pretty map[string]string, chart bool) {
		s.section(title)
		items := sortedBy(t, func(a, b *quality) bool { return a.good+a.poor+a.uncl > b.good+b.poor+b.uncl })
		rows := make([][]any, len(items))
		var total quality
		for i, it := range items {
			rows[i] = qrow(label(pretty, it.key), it.v)
			addQuality(&total, it.v)
		}
		top := s.row
		p := s.table(1, table{cols: qcols(first), rows: rows, total: qrow("All", &total)})
		if chart {
			r.barChart(s, 8, top, "Poor-stream rate by "+strings.ToLower(first), p, 6, true)
		}
	}
	qtable("By media type", "Media", st.media, mediaNames, false)
	qtable("By platform", "Platform", st.platformQ, platformNames, true)
	qtable("By connection type", "Connection", st.connQ, connNames, true)

	worst := func(title, first string, rows []ranked[quality], name func(string) string) {
		s.section(title)
		var ok []ranked[quality]
		for _, it := range rows {
			if it.v.classified() >= minStreams && it.v.poor > 0 {
				ok = append(ok, it)
			}
		}
		sort.SliceStable(ok, func(i, j int) bool {
			a, _ := ok[i].v.rate()
			b, _ := ok[j].v.rate()
			if a != b {
				return a > b
			}
			return ok[i].v.poor > ok[j].v.poor
		})
		n := len(ok)
		if n == 0 {
			s.note(fmt.Sprintf("None with at least %d classified streams and a poor one.", minStreams))
			return
		}
		if n > topN {
			ok = ok[:topN]
		}
		if n > len(ok) {
			s.note(fmt.Sprintf("With at least %d classified streams and a poor one: the %d worst of %d.", minStreams, len(ok), n))
		} else {
			s.note(fmt.Sprintf("All %d with at least %d classified streams and a poor one.", n, minStreams))
		}
		out := make([][]any, len(ok))
		for i, it := range ok {
			rate, _ := it.v.rate()
			out[i] = []any{name(it.key), it.v.classified(), it.v.poor, rate}
		}
		s.table(1, table{cols: []column{{title: first, kind: kText}, {title: "Classified streams", kind: kInt},
			{title: "Poor", kind: kInt}, {title: "Poor rate", kind: kPct, rate: true}}, rows: out})
	}
	labels := map[string]string{}
	for _, u := range r.activeUsers() {
		labels[u.id] = u.label
	}
	var users []ranked[quality]
	for id, u := range st.users {
		users = append(users, ranked[quality]{id, &u.streams})
	}
	sort.Slice(users, func(i, j int) bool { return users[i].key < users[j].key })
	worst("Users with the highest poor-stream rate", "User", users, func(id string) string {
		if l, ok := labels[id]; ok {
			return l
		}
		return id
	})
	worst("Subnets with the highest poor-stream rate", "Subnet", sortedBy(st.subnetQ, func(a, b *quality) bool { return false }),
		func(s string) string { return s })

	s.section("Feedback ratings")
	ratings := sortedBy(st.ratings, func(a, b *count) bool { return false })
	sort.SliceStable(ratings, func(i, j int) bool { return ratingOrder(ratings[i].key) < ratingOrder(ratings[j].key) })
	if len(ratings) == 0 {
		s.note("No feedback this week.")
	} else {
		s.note(fmt.Sprintf("Ratings given at the end of %s sessions (by the caller, the callee or both).", groupDigits(st.feedbackSessions)))
		var total int64
		for _, it := range ratings {
			total += it.v.n
		}
		rows := make([][]any, len(ratings))
		for i, it := range ratings {
			rows[i] = []any{label(ratingNames, it.key), it.v.n, float64(it.v.n) / float64(total)}
		}
		s.table(1, table{cols: []column{{title: "Rating", kind: kText}, {title: "Ratings", kind: kInt},
			{title: "Share", kind: kPct}}, rows: rows, total: []any{"All", total, 1.0}})
	}

	s.section("Most reported feedback problems")
	tokens := sortedBy(st.tokens, byCount)
	if len(tokens) == 0 {
		s.note("No feedback problems reported this week.")
	} else {
		if len(tokens) > topN {
			s.note(fmt.Sprintf("The %d most reported of %d.", topN, len(tokens)))
			tokens = tokens[:topN]
		}
		rows := make([][]any, len(tokens))
		for i, it := range tokens {
			rows[i] = []any{splitWords(it.key), it.v.n}
		}
		s.table(1, table{cols: []column{{title: "Feedback token", kind: kText}, {title: "Times reported", kind: kInt}}, rows: rows})
	}
	r.thresholds(s)
}

// thresholds states how streams are classified.
func (r *render) thresholds(s *sheet) {
	s.section("How streams are classified (Microsoft Call Quality Dashboard thresholds)")
	s.note("A value exactly at a limit is within it. Colours of the rates: green below 3%, amber from 3%, red from 10% (this report's bands, not Microsoft's).")
	rows := [][]any{
		{"Audio", "Any reported metric crosses: network degradation > 1.0 or concealed samples > 7% (both not applied to the SATIN codecs), " +
			"round trip > 500 ms, packet loss > 10%, jitter > 30 ms.", "At least one of them reported, none crossed."},
		{"Video", "The first metric reported decides: frame loss > 50%; else frame rate (sent, or received when not reported) < 7 fps; else packet loss after error correction > 15%.",
			"The deciding metric within its limit."},
		{"Screen sharing (VBSS)", "As video, with a frame-rate limit of 2 fps.", "As video."},
		{"Other, or no metric", "Never classified.", "Unclassified: shown apart, never counted as good."},
	}
	// Written by hand: the long texts wrap in merged cells rather than widen
	// the columns the other tables use.
	st := r.st
	head := s.row
	s.text(1, head, "Media", st.header)
	s.text(2, head, "Poor when", st.header)
	s.text(6, head, "Good when", st.header)
	for _, c := range []int{3, 4, 5, 7} {
		s.style(c, head, st.header)
	}
	s.keep(s.f.MergeCell(s.name, cellName(2, head), cellName(5, head)))
	s.keep(s.f.MergeCell(s.name, cellName(6, head), cellName(7, head)))
	s.height(head, 19)
	for i, row := range rows {
		rr := head + 1 + i
		s.text(1, rr, row[0].(string), st.body[kText])
		s.fit(1, float64(len(row[0].(string)))+1)
		s.text(2, rr, row[1].(string), st.def)
		s.text(6, rr, row[2].(string), st.def)
		for _, c := range []int{3, 4, 5, 7} {
			s.style(c, rr, st.def)
		}
		s.keep(s.f.MergeCell(s.name, cellName(2, rr), cellName(5, rr)))
		s.keep(s.f.MergeCell(s.name, cellName(6, rr), cellName(7, rr)))
		lines := max(wrappedLines(row[1].(string), 48), wrappedLines(row[2].(string), 22))
		s.height(rr, float64(lines)*12+6)
	}
	s.row = head + 1 + len(rows)
	s.maxCol = max(s.maxCol, 7)
}
