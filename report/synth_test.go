package report

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"callstats/transform"
)

// A synthetic lake for the benchmark: n calls in one week, written straight
// from Arrow builders (no JSON), with the lake's layout, schemas, zstd,
// dictionaries and 64Ki-row row groups. About 3 sessions and 8 streams a call
// and 2,000 users, in Europe/Berlin business hours.

// synthWeek is the week the synthetic lake holds.
var synthWeek = Week{2026, 47}

// synthLake returns the directory of a synthetic lake of n calls, building it
// once and caching it in the temp directory across runs.
func synthLake(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("callstats-report-bench-v1-%d", n))
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return filepath.Join(dir, "lake")
	}
	os.RemoveAll(dir)
	tmp, err := os.MkdirTemp(os.TempDir(), "callstats-report-bench-*.tmp")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t0 := time.Now()
	if err := writeSynth(filepath.Join(tmp, "lake"), n); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built a synthetic lake of %d calls in %s (cached in %s)", n, time.Since(t0).Round(time.Millisecond), dir)
	return filepath.Join(dir, "lake")
}

// synthWriter writes one table's rows of one day into one Parquet file.
type synthWriter struct {
	f   *os.File
	fw  *pqarrow.FileWriter
	rb  *array.RecordBuilder
	idx map[string]int
	set []bool // columns given a value in the current row
}

func newSynthWriter(path string, table transform.Table) (*synthWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	sc := transform.Schema(table)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(1<<20))
	fw, err := pqarrow.NewFileWriter(sc, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &synthWriter{f: f, fw: fw, rb: array.NewRecordBuilder(memory.DefaultAllocator, sc), idx: map[string]int{}}
	for i, fl := range sc.Fields() {
		w.idx[fl.Name] = i
	}
	w.set = make([]bool, len(sc.Fields()))
	return w, nil
}

func (w *synthWriter) b(name string) array.Builder {
	i, ok := w.idx[name]
	if !ok {
		panic("no column " + name)
	}
	w.set[i] = true
	return w.rb.Field(i)
}

func (w *synthWriter) str(name, v string) {
	b := w.b(name).(*array.StringBuilder)
	if v == "" {
		b.AppendNull()
	} else {
		b.Append(v)
	}
}

func (w *synthWriter) f64(name string, v float64) { w.b(name).(*array.Float64Builder).Append(v) }
func (w *synthWriter) i32(name string, v int32)   { w.b(name).(*array.Int32Builder).Append(v) }
func (w *synthWriter) i64(name string, v int64)   { w.b(name).(*array.Int64Builder).Append(v) }
func (w *synthWriter) boolean(name string, v bool) {
	w.b(name).(*array.BooleanBuilder).Append(v)
}
func (w *synthWriter) ts(name string, t time.Time) {
	w.b(name).(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
}
func (w *synthWriter) list(name string, vs []string) {
	b := w.b(name).(*array.ListBuilder)
	if vs == nil {
		b.AppendNull()
		return
	}
	b.Append(true)
	for _, v := range vs {
		b.ValueBuilder().(*array.StringBuilder).Append(v)
	}
}

// end finishes a row: every column not given a value is NULL.
func (w *synthWriter) end() error {
	for i, ok := range w.set {
		if !ok {
			w.rb.Field(i).AppendNull()
		}
		w.set[i] = false
	}
	if w.rb.Field(0).Len() >= 64<<10 {
		return w.flush()
	}
	return nil
}

func (w *synthWriter) flush() error {
	if w.rb.Field(0).Len() == 0 {
		return nil
	}
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	return w.fw.Write(rec)
}

func (w *synthWriter) close() error {
	err := w.flush()
	if cerr := w.fw.Close(); err == nil {
		err = cerr
	}
	w.rb.Release()
	return err
}

type synthUser struct {
	id, name, upn, platform, version, subnet, conn, capture, render string
}

func writeSynth(root string, n int) error {
	r := rand.New(rand.NewPCG(1, 2))
	const nUsers = 2000
	platforms := []string{"windows", "windows", "windows", "macOS", "web", "iOS", "android"}
	versions := map[string][]string{
		"windows": {"26301.512.4127.3306", "26288.403.4061.1172"}, "macOS": {"26301.514.4131.8820"},
		"web": {"2026.11.2.19", "2026.11.3.2"}, "iOS": {"7.19.1"}, "android": {"1416/1.0.0.2026183901"},
	}
	conns := []string{"wired", "wired", "wifi", "wifi", "wifi", "mobile", "tunnel"}
	mics := []string{"Jabra Evolve2 75", "Poly Voyager Focus 2", "Logitech Zone Wireless", "EPOS ADAPT 660",
		"Microphone Array (Realtek(R) Audio)", "MacBook Pro Microphone", "AirPods Pro", "iPhone Microphone"}
	users := make([]synthUser, nUsers)
	for i := range users {
		p := platforms[r.IntN(len(platforms))]
		vs := versions[p]
		mic := mics[r.IntN(len(mics))]
		users[i] = synthUser{
			id:       fmt.Sprintf("%08x-1e2d-4c3b-9a8f-%012x", i, i*7919),
			name:     fmt.Sprintf("User %04d", i),
			upn:      fmt.Sprintf("user%04d@kestrel-bay.example", i),
			platform: p, version: vs[r.IntN(len(vs))],
			subnet:  fmt.Sprintf("10.40.%d.0", i%64),
			conn:    conns[r.IntN(len(conns))],
			capture: mic, render: mic,
		}
	}
	start, _ := synthWeek.Range(berlin)
	// Calls per day: weekdays busy, weekends quiet.
	weights := []float64{1, 1, 1, 1, 1, 0.05, 0.05}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	tokens := []string{"DistortedSpeech", "EchoNoise", "LowVolume", "FrozenVideo", "NoAudioHeard"}
	ratings := []string{"excellent", "good", "fair", "poor", "bad", "notRated"}
	callNo := 0
	ingested := start.AddDate(0, 0, 8)
	for d := range 7 {
		nd := int(float64(n) * weights[d] / sum)
		if d == 6 {
			nd = n - callNo
		}
		// Rows of the calls starting on this local day, partitioned by UTC date.
		writers := map[string]map[transform.Table]*synthWriter{}
		get := func(t time.Time, table transform.Table) (*synthWriter, error) {
			date := t.UTC().Format(time.DateOnly)
			m := writers[date]
			if m == nil {
				m = map[transform.Table]*synthWriter{}
				writers[date] = m
			}
			if w := m[table]; w != nil {
				return w, nil
			}
			w, err := newSynthWriter(filepath.Join(root, string(table), "date="+date, fmt.Sprintf("part-%d.parquet", d)), table)
			if err != nil {
				return nil, err
			}
			m[table] = w
			return w, nil
		}
		day := start.AddDate(0, 0, d)
		for range nd {
			callNo++
			st := day.Add(7*time.Hour + time.Duration(r.Int64N(int64(12*time.Hour))))
			dur := time.Duration(60+r.IntN(3600)) * time.Second
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", callNo, r.Int64N(1<<40))
			group := r.IntN(100) < 37
			ctype := "peerToPeer"
			nSess := 2 + r.IntN(2) // 2-3
			if group {
				ctype = "groupCall"
				nSess = 3 + r.IntN(2)
			} else if r.IntN(100) < 3 {
				ctype = "unknown"
			}
			org := &users[r.IntN(nUsers)]
			w, err := get(st, transform.Calls)
			if err != nil {
				return err
			}
			w.str("call_id", id)
			w.str("source", "teams")
			w.str("call_type", ctype)
			w.ts("start_time", st)
			w.ts("end_time", st.Add(dur))
			w.f64("duration_s", dur.Seconds())
			w.str("organizer_id", org.id)
			w.str("organizer_name", org.name)
			w.str("organizer_kind", "user")
			w.i32("participant_count", int32(nSess))
			w.i64("version", 1)
			w.ts("ingested_at", ingested)
			if err := w.end(); err != nil {
				return err
			}
			pw, err := get(st, transform.Participants)
			if err != nil {
				return err
			}
			sw, err := get(st, transform.Sessions)
			if err != nil {
				return err
			}
			tw, err := get(st, transform.Streams)
			if err != nil {
				return err
			}
			for s := range nSess {
				u := org
				if s > 0 {
					u = &users[r.IntN(nUsers)]
				}
				pw.str("call_id", id)
				pw.str("participant_id", u.id)
				pw.str("display_name", u.name)
				pw.str("user_principal_name", u.upn)
				pw.str("kind", "user")
				if err := pw.end(); err != nil {
					return err
				}
				// The session: user to the meeting server, or user to user.
				other := &users[r.IntN(nUsers)]
				sid := fmt.Sprintf("%s-%d", id[:18], s)
				sw.str("call_id", id)
				sw.str("session_id", sid)
				sw.i32("session_seq", int32(s))
				sw.ts("start_time", st)
				sw.ts("end_time", st.Add(dur))
				sw.f64("duration_s", dur.Seconds())
				for _, side := range []string{"caller", "callee"} {
					x := u
					if side == "callee" {
						x = other
					}
					if side == "callee" && group {
						sw.str("callee_kind", "conferencingServer")
						continue
					}
					sw.str(side+"_id", x.id)
					sw.str(side+"_display_name", x.name)
					sw.str(side+"_kind", "user")
					sw.str(side+"_platform", x.platform)
					sw.str(side+"_product_family", "teams")
					sw.str(side+"_app_version", x.version)
					if r.IntN(10) == 0 {
						sw.str(side+"_feedback_rating", ratings[r.IntN(len(ratings))])
						sw.list(side+"_feedback_tokens", []string{tokens[r.IntN(len(tokens))]})
					}
				}
				if err := sw.end(); err != nil {
					return err
				}
				// Streams: audio both ways, video in half the sessions; about 8 a call.
				media := []string{"main-audio", "main-audio"}
				if s == 0 {
					media = append(media, "main-video", "main-video")
				}
				for k, label := range media {
					dir := "callerToCallee"
					if k%2 == 1 {
						dir = "calleeToCaller"
					}
					mt := "audio"
					if label == "main-video" {
						mt = "video"
					}
					q := "good"
					switch x := r.IntN(100); {
					case x < 10:
						q = "poor"
					case x < 15:
						q = "unclassified"
					}
					tw.str("call_id", id)
					tw.str("session_id", sid)
					tw.i32("session_seq", int32(s))
					tw.str("segment_id", sid)
					tw.str("media_label", label)
					tw.str("media_type", mt)
					tw.str("stream_direction", dir)
					tw.str("quality", q)
					if q != "unclassified" {
						tw.boolean("is_poor", q == "poor")
						tw.f64("avg_jitter_ms", float64(r.IntN(60)))
						tw.f64("avg_packet_loss_rate", r.Float64()*0.05)
					}
					for _, side := range []string{"caller", "callee"} {
						x := u
						if side == "callee" {
							x = other
						}
						if side == "callee" && group {
							tw.str("callee_kind", "conferencingServer")
							continue
						}
						tw.str(side+"_id", x.id)
						tw.str(side+"_kind", "user")
						tw.str(side+"_platform", x.platform)
						tw.str(side+"_connection_type", x.conn)
						tw.str(side+"_subnet", x.subnet)
						if mt == "audio" {
							tw.str(side+"_capture_device", x.capture)
							tw.str(side+"_render_device", x.render)
						}
					}
					if err := tw.end(); err != nil {
						return err
					}
				}
			}
		}
		for _, m := range writers {
			for _, w := range m {
				if err := w.close(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sampleHeap records the peak of the Go heap in *peak until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// BenchmarkGenerate1M measures a report over a week of 1,000,000 calls
// (CALLSTATS_BENCH_CALLS overrides the number): seconds per report and the
// peak Go heap during it.
func BenchmarkGenerate1M(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("CALLSTATS_BENCH_CALLS"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := synthLake(b, n)
	out := filepath.Join(b.TempDir(), FileName(synthWeek))
	opts := Options{LakeDir: dir, Week: synthWeek, Location: berlin, Title: "Kestrel Bay"}
	var peak uint64
	var secs float64
	runs := 0
	for b.Loop() {
		stop := sampleHeap(&peak)
		t0 := time.Now()
		f, err := Generate(context.Background(), opts, out)
		secs += time.Since(t0).Seconds()
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if f.ThisWeek.Calls != int64(n) {
			b.Fatalf("report counted %d calls, want %d", f.ThisWeek.Calls, n)
		}
		runs++
	}
	b.ReportMetric(secs/float64(runs), "s/report")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
