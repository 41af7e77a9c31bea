package graphgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"
)

// Update returns a later version of c, as Graph serves it when telemetry
// arrives after the call: the version is one higher, lastModifiedDateTime
// moves on (minutes to hours), a few null stream metrics become set and one
// session side that had no feedback gets some. The id, start and end stay.
// The same call and seed always give the same update. If c.Raw is not a JSON
// object, c is returned unchanged.
func Update(c Call, seed int64) Call {
	root, err := parseTree(c.Raw)
	if err != nil || root.kind != '{' {
		return c
	}
	h := fnv.New64a()
	h.Write([]byte(c.ID))
	r := rng{s: mix(uint64(seed), h.Sum64()^uint64(c.Version))}

	version := c.Version
	if v := root.get("version"); v != nil {
		if n, err := strconv.Atoi(v.str); err == nil && n > version {
			version = n
		}
	}
	version++
	last := c.LastModified
	if v := root.get("lastModifiedDateTime"); v != nil && v.kind == 's' {
		if t, err := time.Parse(time.RFC3339Nano, v.str); err == nil && t.After(last) {
			last = t
		}
	}
	if c.End.After(last) {
		last = c.End
	}
	last = last.Add(time.Duration(r.between(10, 300) * float64(time.Minute))).Truncate(100 * time.Nanosecond)
	root.set("version", &jnode{kind: 'n', str: strconv.Itoa(version)})
	lm := appendTime(nil, last)
	root.set("lastModifiedDateTime", &jnode{kind: 's', str: string(lm[1 : len(lm)-1])})

	sessions := root.get("sessions")
	if sessions != nil && sessions.kind == '[' {
		fillMetrics(&r, sessions)
		addFeedback(&r, sessions)
	}

	c.Version = version
	c.LastModified = last
	c.Raw = root.appendTo(nil)
	return c
}

// metricFills are values later telemetry gives a null metric, per media type.
var metricFills = map[string][]struct {
	key string
	val func(r *rng) *jnode
}{
	"audio": {
		{"averageRoundTripTime", func(r *rng) *jnode { return durNode(r.between(20, 180)) }},
		{"averageJitter", func(r *rng) *jnode { return durNode(r.between(2, 18)) }},
		{"averagePacketLossRate", func(r *rng) *jnode { return numNode(r.skewed(0, 0.03), 4) }},
		{"averageAudioDegradation", func(r *rng) *jnode { return numNode(r.between(0.05, 0.8), 2) }},
	},
	"video": {
		{"averageVideoFrameRate", func(r *rng) *jnode { return numNode(r.between(14, 30), 2) }},
		{"averageRoundTripTime", func(r *rng) *jnode { return durNode(r.between(20, 180)) }},
	},
	"vbss": {
		{"averageVideoFrameRate", func(r *rng) *jnode { return numNode(r.between(2.5, 12), 2) }},
		{"averageRoundTripTime", func(r *rng) *jnode { return durNode(r.between(20, 180)) }},
	},
}

func durNode(ms float64) *jnode {
	b := appendDur(nil, ms)
	return &jnode{kind: 's', str: string(b[1 : len(b)-1])}
}

func numNode(v float64, dec int) *jnode {
	return &jnode{kind: 'n', str: string(appendFixed(nil, v, dec))}
}

// fillMetrics sets one to three null metrics of streams that have them.
func fillMetrics(r *rng, sessions *jnode) {
	type slot struct {
		stream *jnode
		key    string
		val    func(r *rng) *jnode
	}
	var slots []slot
	for _, s := range sessions.kids {
		for _, seg := range s.get("segments").list() {
			for _, m := range seg.get("media").list() {
				label := ""
				if l := m.get("label"); l != nil {
					label = l.str
				}
				kind := "audio"
				switch {
				case strings.Contains(label, "audio"):
				case strings.HasPrefix(label, "applicationsharing"):
					kind = "vbss"
				case strings.Contains(label, "video"):
					kind = "video"
				default:
					continue
				}
				for _, st := range m.get("streams").list() {
					for _, f := range metricFills[kind] {
						if v := st.get(f.key); v != nil && v.kind == 'z' {
							slots = append(slots, slot{st, f.key, f.val})
						}
					}
				}
			}
		}
	}
	for k := 1 + r.n(3); k > 0 && len(slots) > 0; k-- {
		i := r.n(len(slots))
		s := slots[i]
		s.stream.set(s.key, s.val(r))
		slots = append(slots[:i], slots[i+1:]...)
	}
}

// addFeedback rates one session from a client side that gave none.
func addFeedback(r *rng, sessions *jnode) {
	var sides []*jnode
	for _, s := range sessions.kids {
		for _, side := range []string{"caller", "callee"} {
			e := s.get(side)
			if e == nil || e.kind != '{' {
				continue
			}
			if fb := e.get("feedback"); fb != nil && fb.kind == 'z' {
				sides = append(sides, e)
			}
		}
	}
	if len(sides) == 0 {
		return
	}
	e := sides[r.n(len(sides))]
	rating := ratings[r.weighted([]float64{10, 15, 45, 20, 10})]
	tokens := &jnode{kind: '{'}
	tokens.set("@odata.type", &jnode{kind: 's', str: "#microsoft.graph.callRecords.feedbackTokenSet"})
	if rating == "poor" || rating == "fair" {
		tokens.set(badTokens[r.n(len(badTokens))], &jnode{kind: 'n', str: "true"})
		tokens.set("VideoFroze", &jnode{kind: 'n', str: "false"})
	}
	fb := &jnode{kind: '{'}
	fb.set("text", &jnode{kind: 'z'})
	fb.set("rating", &jnode{kind: 's', str: rating})
	fb.set("tokens", tokens)
	e.set("feedback", fb)
}

// jnode is a JSON value that keeps the order of object keys: '{' object,
// '[' array, 's' string, 'n' number or boolean (kept verbatim), 'z' null.
type jnode struct {
	kind byte
	str  string
	keys []string
	kids []*jnode
}

func (n *jnode) get(key string) *jnode {
	if n == nil || n.kind != '{' {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.kids[i]
		}
	}
	return nil
}

func (n *jnode) set(key string, v *jnode) {
	for i, k := range n.keys {
		if k == key {
			n.kids[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.kids = append(n.kids, v)
}

func (n *jnode) list() []*jnode {
	if n == nil || n.kind != '[' {
		return nil
	}
	return n.kids
}

func parseTree(b []byte) (*jnode, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	n, err := parseValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errTrailing
	}
	return n, nil
}

var (
	errTrailing = errors.New("data after the JSON value")
	errKey      = errors.New("object key is not a string")
	errDepth    = errors.New("JSON nested too deeply")
)

// maxDepth bounds the nesting Update accepts (Graph records nest about 8 deep).
const maxDepth = 200

func parseValue(d *json.Decoder, depth int) (*jnode, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &jnode{kind: byte(v)}
		for d.More() {
			if v == '{' {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				key, ok := k.(string)
				if !ok {
					return nil, errKey
				}
				n.keys = append(n.keys, key)
			}
			kid, err := parseValue(d, depth+1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &jnode{kind: 's', str: v}, nil
	case json.Number:
		return &jnode{kind: 'n', str: string(v)}, nil
	case bool:
		return &jnode{kind: 'n', str: strconv.FormatBool(v)}, nil
	default:
		return &jnode{kind: 'z'}, nil
	}
}

func (n *jnode) appendTo(b []byte) []byte {
	switch n.kind {
	case '{':
		b = append(b, '{')
		for i, k := range n.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, k)
			b = append(b, ':')
			b = n.kids[i].appendTo(b)
		}
		return append(b, '}')
	case '[':
		b = append(b, '[')
		for i, k := range n.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = k.appendTo(b)
		}
		return append(b, ']')
	case 's':
		return appendStr(b, n.str)
	case 'n':
		return append(b, n.str...)
	}
	return append(b, "null"...)
}
