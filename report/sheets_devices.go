package report

// The Devices sheet.

import (
	"fmt"
	"strings"
)

func (r *render) devices(s *sheet) {
	if r.noCalls(s) {
		return
	}
	st := r.s
	blocks := []struct {
		title, what, note string
		t                 tally[count]
		pretty            map[string]string
	}{
		{"Platforms", "Session endpoints", "Client platform of each caller and callee of the week's sessions (Microsoft services, such as meeting servers, have none).", st.platforms, platformNames},
		{"Product families", "Session endpoints", "", st.families, familyNames},
		{"Client versions", "Session endpoints", "", st.versions, nil},
		{"Microphones and cameras (capture devices)", "Audio segments", "Devices named in each audio stream's media, once per segment and side.", st.capture, nil},
		{"Speakers and headsets (render devices)", "Audio segments", "", st.render, nil},
	}
	for _, b := range blocks {
		s.section(b.title)
		if b.note != "" {
			s.note(b.note)
		}
		items := sortedBy(b.t, byCount)
		if len(items) == 0 {
			s.note("None reported this week.")
			continue
		}
		var total int64
		for _, it := range items {
			total += it.v.n
		}
		if len(items) > topN {
			s.note(fmt.Sprintf("The %d most common of %s; the other %s account for %.1f%%.", topN,
				groupDigits(int64(len(items))), groupDigits(int64(len(items)-topN)), 100*restShare(items[topN:], total)))
			items = items[:topN]
		}
		rows := make([][]any, len(items))
		for i, it := range items {
			rows[i] = []any{label(b.pretty, it.key), it.v.n, float64(it.v.n) / float64(total)}
		}
		top := s.row
		p := s.table(1, table{cols: []column{{title: strings.Split(b.title, " (")[0], kind: kText},
			{title: b.what, kind: kInt}, {title: "Share", kind: kPct}}, rows: rows})
		r.barChart(s, 5, top, b.title, p, 2, false)
	}
}

func restShare(rest []ranked[count], total int64) float64 {
	var n int64
	for _, r := range rest {
		n += r.v.n
	}
	return float64(n) / float64(total)
}
